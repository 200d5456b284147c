"""Phrase matching for free-text answers that survives inflection, word order, case and typos.

A rubric phrase such as ``"reduce|decrease|smaller batch size"`` is a bag of words, each with
alternatives (``a|b``). It matches a sentence when every word (or one of its alternatives)
occurs in the sentence, in any order, close together (a window a little wider than the phrase).
Words are compared after stemming, so "sharing", "shared" and "shares" are one word, and
misspellings are accepted by edit distance ("Deapth" ~ "depth", "Smantic" ~ "semantic").
A small thesaurus (picture = image, chop = remove, "close to each other" = nearby) and
non-native comparatives ("more small" = smaller) are applied to answers and phrases alike.

Libraries, and why:
- snowballstemmer: the Snowball (Porter2) English stemmer, pure Python, the one NLTK and Sphinx
  use; well kept and without NLTK's data downloads (this grader runs offline).
- rapidfuzz: a maintained C++ implementation of Indel and Damerau-Levenshtein similarity, fast
  enough to compare every answer word with every rubric word of a question.
Tokenising and sentence splitting are two regular expressions: answers are short English prose,
comma lists and bullet lists, where punkt-style models add little and need data files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz.distance import DamerauLevenshtein, Indel

_STEMMER = snowballstemmer.stemmer("english")

#: Function words dropped before matching. Negations, quantifiers and comparatives are kept:
#: "no parameters" and "fewer parameters" must stay different.
STOPWORDS = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "from", "by", "with", "into", "onto",
    "as", "is", "are", "was", "were", "be", "been", "being", "am", "it", "its", "it's", "this",
    "that", "these", "those", "there", "here", "and", "or", "but", "so", "then", "than", "also",
    "just", "very", "really", "i", "we", "you", "they", "he", "she", "them", "us", "our", "your",
    "their", "my", "me", "do", "does", "did", "doing", "done", "has", "have", "had", "having",
    "can", "could", "would", "should", "will", "shall", "may", "might", "must", "which", "who",
    "whom", "whose", "what", "when", "where", "why", "how", "if", "while", "about", "such", "up",
    "down", "out", "over", "under", "again", "further", "once", "because", "since", "like", "e",
    "g", "eg", "ie", "etc", "i.e",
})
NEGATIONS = frozenset({
    "no", "not", "never", "without", "none", "nothing", "cannot", "cant", "dont", "doesnt", "doesn",
    "isnt", "arent", "wont", "nor", "neither",
})
_ABBREVIATIONS = {
    "params": "parameters", "param": "parameter", "convnet": "cnn", "convnets": "cnn",
    "imgs": "images", "img": "image", "nn": "network", "fc": "dense", "bn": "batchnorm",
    "res": "resolution", "grad": "gradient", "grads": "gradients", "prec": "precision",
    "bs": "batch",  # lecture-note shorthand for the batch size ("bs 64 -> 16")
    "conv2d": "conv",  # Keras' layer: "swap every Dense(n) for a Conv2D(n, 1x1)"
}

#: Words students use for the rubric's words, across all questions (a small thesaurus, applied to
#: the answer and the rubric alike, so every phrase that names one word of a class names all):
#: "picture" is "image", "chop off the head" is "remove", "knowledge" of where things are is
#: "information".
_SYNONYMS = {
    **dict.fromkeys(("picture", "photo", "pic", "photograph"), "image"),
    **dict.fromkeys(("pictures", "photos", "pics", "photographs"), "images"),
    **dict.fromkeys(("chop", "delete", "strip", "ditch"), "remove"),
    **dict.fromkeys(("chops", "deletes", "strips", "ditches"), "removes"),
    **dict.fromkeys(("chopped", "deleted", "stripped", "ditched"), "removed"),
    **dict.fromkeys(("chopping", "deleting", "stripping", "ditching"), "removing"),
    "knowledge": "information", "info": "information",
    **dict.fromkeys(("squash", "squashes", "squashed", "squashing", "squeezed",
                     "squeezing", "shrunk", "shrank", "squish", "squishes", "squished",
                     "squishing"), "shrinks"),
    # slang and plain words for cutting something down: "nuke the batch size", "halve the filters"
    # (and the non-native "diminish", from diminuir / diminuer)
    **dict.fromkeys(("slash", "nuke", "trim", "halve", "lessen", "diminish"), "reduce"),
    **dict.fromkeys(("slashes", "nukes", "trims", "halves", "lessens", "diminishes"), "reduces"),
    **dict.fromkeys(("slashed", "nuked", "trimmed", "halved", "lessened", "diminished"), "reduced"),
    **dict.fromkeys(("slashing", "nuking", "trimming", "halving", "lessening", "diminishing"), "reducing"),
    # what slide-deck and video explanations call a kernel
    **dict.fromkeys(("stencil", "template"), "filter"),
    **dict.fromkeys(("stencils", "templates"), "filters"),
    # a feature that "wiggles by a pixel" has moved by a pixel
    **dict.fromkeys(("wiggle", "jiggle", "nudge"), "move"),
    **dict.fromkeys(("wiggles", "jiggles", "nudges"), "moves"),
    **dict.fromkeys(("wiggled", "jiggled", "nudged"), "moved"),
    **dict.fromkeys(("wiggling", "jiggling", "nudging"), "moving"),
}
#: Non-native comparatives: "more small" is "smaller", "more quick" is "quicker".
_COMPARATIVES = {
    "small": "smaller", "big": "bigger", "large": "larger", "low": "lower", "high": "higher",
    "fast": "faster", "quick": "faster", "cheap": "cheaper", "few": "fewer", "little": "less",
    "easy": "easier", "deep": "deeper", "light": "lighter", "short": "shorter",
}

_NT_FORMS = frozenset({
    "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "cant", "cannot", "wont",
    "hasnt", "havent", "couldnt", "shouldnt",
})
_FUZZY_INDEL = 0.88  # normalised Indel similarity for a typo (insertions/deletions/replacements)
_MIN_FUZZY_LEN = 4


@dataclass(frozen=True)
class Token:
    word: str  # normalised surface form
    stem: str
    start: int  # character offsets in the original sentence
    end: int


_NEARBY = re.compile(r"\b(?:close|next|near|beside)\s+(?:to\s+)?(?:each\s+other|one\s+another)\b")
#: "non-linear", "non linear" are one word, "nonlinear" (padded: offsets stay valid)
_NON = re.compile(r"\bnon[- ](?=linear)")


def normalise(text: str) -> str:
    """Lower case, with "×" as "x" and "1 x 1" as "1x1"; keeps the length (offsets stay valid)."""
    text = text.lower().replace("×", "x").replace("’", "'").replace("`", "'")
    text = re.sub(r"\b([23])[- ]d\b", r"\1d ", text)  # "2-D", "2 D" -> "2d" (same length)
    # "pixels close to each other" are nearby pixels (padded: offsets stay valid)
    text = _NEARBY.sub(lambda m: "nearby".ljust(len(m.group())), text)
    text = _NON.sub(lambda m: " non", text)
    # whole numbers: "512 x 512" is "512x512" (matching one digit each side made it "512x5  12")
    return re.sub(r"(\d+)(\s*)[x*](\s*)(\d+)",
                  lambda m: f"{m.group(1)}x{m.group(4)}" + " " * (len(m.group(0)) - len(m.group(1))
                                                                 - len(m.group(4)) - 1), text)


def normalise_word(word: str) -> str:
    """One word: abbreviations expanded, "n't" as "not", British spellings as American."""
    if word.endswith("n't") or word in _NT_FORMS:
        return "not"
    word = word.removesuffix("'s").replace("'", "")
    word = _ABBREVIATIONS.get(word, word)
    word = _SYNONYMS.get(word, word)
    word = re.sub(r"(?<=[a-z]{3})our", "or", word)  # neighbour -> neighbor
    return re.sub(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations)$", r"iz\1", word)  # normalise


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


#: An arrow between two numbers states a change: "batch 64 -> 16", "| channels | 64 → 32 |".
_ARROW = re.compile(r"\s*(?:->|-->|→|=>|⇒)\s*")


def _changes(tokens: list[Token], text: str) -> list[Token]:
    """"batch 64 -> 16" says "reduce the batch" (and "16 -> 64" "increase" it): a word for the
    change is put before the thing changed (the word before the first number), on its offsets,
    so that the rubric's phrases read the remedy a table row or a lecture note writes as numbers."""
    out = list(tokens)
    for i in range(len(tokens) - 1, 0, -1):
        a, b = tokens[i - 1], tokens[i]
        if not (a.word.isdigit() and b.word.isdigit() and len(a.word) <= 7 and len(b.word) <= 7
                and _ARROW.fullmatch(text[a.end:b.start]) and int(a.word) != int(b.word)):
            continue
        around = text[max(0, a.start - 2):a.start] + text[b.end:b.end + 2]
        if "^" in around or text[a.start - 1:a.start] == ".":
            continue  # "10^8 -> 10^4", "0.5 -> 0.25": only whole numbers compare
        word = "reduce" if int(b.word) < int(a.word) else "increase"
        at = i - 1
        # the thing changed: the words before the number, back to a break ("| filters per conv |
        # 256 -> 64": the cell before the value's own)
        k, crossed = i - 1, False
        while k > 0 and i - 1 - k < 4 and not tokens[k - 1].word.isdigit():
            gap = text[tokens[k - 1].end:tokens[k].start]
            if _CHANGE_BREAK.search(gap):
                if crossed or k < i - 1:
                    break
                crossed = True
            k -= 1
            at = k
        thing = tokens[at]
        out.insert(at, Token(word, stem(word), thing.start, thing.end))
    return out


_CHANGE_BREAK = re.compile(r"[,;:|(.]|\b(?:and|or)\b")


def tokenize(sentence: str) -> list[Token]:
    """Content tokens of a sentence with their character offsets in it (stopwords dropped)."""
    tokens: list[Token] = []
    text = normalise(sentence)
    for m in _WORD.finditer(text):
        word = normalise_word(m.group())
        if word in STOPWORDS or not word:
            continue
        if tokens and tokens[-1].word == "more" and word in _COMPARATIVES:
            more = tokens.pop()  # "more small" -> "smaller", one token over both words
            word = _COMPARATIVES[word]
            tokens.append(Token(word, stem(word), more.start, m.end()))
            continue
        tokens.append(Token(word, stem(word), m.start(), m.end()))
    return _changes(tokens, text) if ">" in text or "→" in text or "⇒" in text else tokens


#: "i.e." and "e.g." end no sentence: "a conv whose window is 7x7, i.e. the whole map" is one claim
_SENTENCE_END = re.compile(r"(?<=[.!?;])(?<!\bi\.e\.)(?<!\be\.g\.)(?<!\bvs\.)(?<!\bcf\.)\s+(?=\S)", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•>]+|\(?\d{1,2}[.):]|\(?[a-h][.)])\s*")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of an answer, bullets and numbering removed, in order."""
    out: list[str] = []
    for line in _unwrap(text):
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


#: A wrapped line may start with a number or an acronym ("262,144 pixels.", "CNN does"), and a
#: line that ends on an article or preposition ("... summarises a") always goes on.
_CONTINUES = re.compile(r"\d|[A-Z][A-Za-z]*[A-Z]")
_OPEN_END = re.compile(r"\b(?:a|an|the|of|to|for|with|by|from|into|and|or|than|is|are|each|every|all)$",
                       re.I)


def _unwrap(text: str) -> list[str]:
    """Join lines that a paragraph was merely wrapped at (markdown soft breaks).

    A line continues the previous one when that one is long (wrapped prose), does not end a
    sentence, and this one is not a bullet and starts in lower case. Short lines (comment-style
    lists: "reduce batch size" / "use fp16") stay separate items.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        prev = lines[-1] if lines else ""
        if (line and prev and len(prev) >= 50 and prev[-1] not in ".!?;:" and not _BULLET.match(raw)
                and (line[0].islower() or line[0] in "(\"'" or _CONTINUES.match(line)
                     or _OPEN_END.search(prev))):
            lines[-1] = f"{prev} {line}"
        else:
            lines.append(line)
    return lines


#: Real words a letter apart that answers use side by side: "halve the width and the height"
#: says nothing about weights.
_DISTINCT_WORDS = frozenset({"height", "heights", "weight", "weights", "eight", "light", "right"})


@lru_cache(maxsize=200_000)
def word_similarity(a: str, b: str) -> float:
    """1.0 for the same word or stem, the typo similarity (0.88..1) for a misspelling, else 0."""
    if a == b or stem(a) == stem(b):
        return 1.0
    if a.isdigit() or b.isdigit() or (a in _DISTINCT_WORDS and b in _DISTINCT_WORDS):
        return 0.0
    # compare the words and their stems: "wieghts" is one swap from "weights", not from "weight"
    return max(_typo_similarity(a, b), _typo_similarity(stem(a), stem(b)))


def _typo_similarity(a: str, b: str) -> float:
    if min(len(a), len(b)) < _MIN_FUZZY_LEN or max(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 3:
        return 0.0
    indel = Indel.normalized_similarity(a, b)
    if indel >= _FUZZY_INDEL:
        return round(indel, 3)
    # a swap of two letters ("wieght", "fetaure") counts once in Damerau-Levenshtein
    if min(len(a), len(b)) >= 6 and DamerauLevenshtein.distance(a, b) == 1:
        return 0.9
    return 0.0


@dataclass(frozen=True)
class Phrase:
    """A compiled rubric phrase: a bag of words, each a tuple of alternatives."""

    text: str
    words: tuple[tuple[str, ...], ...]
    ordered: bool = False  # "^fewer layer": the words must occur in this order

    @property
    def negated(self) -> bool:
        return any(alt in NEGATIONS for alts in self.words for alt in alts)


def compile_phrase(text: str) -> Phrase:
    """`"reduce|decrease batch size"` -> Phrase(words=(("reduce", "decrease"), ("batch",), ("size",))).

    A leading `^` keeps the word order: `"^fewer|less layer"` matches "fewer layers" but not
    "each layer does less".
    """
    ordered = text.startswith("^")
    words: list[tuple[str, ...]] = []
    for raw in _NEARBY.sub("nearby", text.removeprefix("^").lower()).split():
        alts = [normalise_word(w) for alt in raw.split("|") for w in _WORD.findall(normalise(alt))]
        alts = [a for a in alts if a and a not in STOPWORDS]
        if alts:  # a word whose alternatives are all stopwords ("the", "has|have") is dropped
            words.append(tuple(dict.fromkeys(alts)))
    if not words:
        raise ValueError(f"phrase {text!r} has no content words (only stopwords)")
    return Phrase(text=text, words=tuple(words), ordered=ordered)


#: Head nouns students leave out: "only convolutions" for "only convolutional layers", "chop off
#: the dense head" for "remove the dense layers". Only "layer": in "smaller model|network" the
#: noun is what is made smaller, and without it "smaller size" would match any size.
HEAD_NOUNS = frozenset({"layer", "layers"})


def without_head_nouns(phrase: Phrase) -> Phrase | None:
    """The phrase without its head-noun words, when it has three or more words and at least two
    others remain; None when nothing would be dropped."""
    kept = tuple(alts for alts in phrase.words if not all(a in HEAD_NOUNS for a in alts))
    if len(phrase.words) < 3 or len(kept) < 2 or len(kept) == len(phrase.words):
        return None
    return Phrase(text=phrase.text, words=kept, ordered=phrase.ordered)


@dataclass
class PhraseMatch:
    phrase: Phrase
    score: float  # mean word similarity, 0.88..1
    start: int  # token positions (inclusive)
    end: int
    text: str  # the words of the sentence that matched, as the student wrote them


def find_phrase(phrase: Phrase, tokens: list[Token], sentence: str, *, slack: int | None = None,
                guard_negation: bool = True) -> PhraseMatch | None:
    """Best occurrence of `phrase` among `tokens` (one sentence), or None.

    Every phrase word must match a distinct token; the tokens must lie within a window of
    len(phrase) + slack tokens (slack defaults to max(3, len(phrase))). A phrase without a
    negation is rejected where a negation stands just before it ("no need to reduce ...").
    """
    k = len(phrase.words)
    limit = k + (slack if slack is not None else max(3, k))
    hits: list[list[tuple[int, float]]] = []
    for alts in phrase.words:
        found = []
        for j, tok in enumerate(tokens):
            best = max(_alt_similarity(alt, tok.word) for alt in alts)
            if best > 0:
                found.append((j, best))
        if not found:
            return None
        hits.append(found)
    best_match: tuple[float, int, int, list[int]] | None = None
    for choice in _windows(hits, limit):
        positions = [p for p, _ in choice]
        if len(set(positions)) < k or (phrase.ordered and positions != sorted(positions)):
            continue
        start, end = min(positions), max(positions)
        score = sum(s for _, s in choice) / k
        if phrase.negated and _crosses_clause(tokens, sentence, start, end):
            continue  # "cannot take any size, the input size is fixed" is not "not fixed input size"
        if guard_negation and not phrase.negated and (
                _negated_before(tokens, sentence, start) or _rejected_after(tokens, sentence, end)
                or any(is_negation(tokens[j].word) for j in range(start, end + 1) if j not in positions)
                or _BREAK_INSIDE.search(sentence[tokens[start].end:tokens[end].start])):
            continue  # "the image size does not help, so I would reduce ...": two clauses, not one
        key = (score, -(end - start))
        if best_match is None or key > (best_match[0], -(best_match[2] - best_match[1])):
            best_match = (score, start, end, positions)
    if best_match is None:
        return None
    score, start, end, _ = best_match
    return PhraseMatch(phrase, round(score, 3), start, end, _span_text(tokens, sentence, start, end))


def _alt_similarity(alt: str, word: str) -> float:
    """Like word_similarity, but the rubric word "not" stands for any negation ("never", "dosent")."""
    if alt == "not" and is_negation(word):
        return 1.0
    return word_similarity(alt, word)


def _windows(hits: list[list[tuple[int, float]]], limit: int):
    """Every choice of one hit per phrase word whose positions fit in `limit` tokens."""
    budget = [5000]  # a long sentence repeating a word many times must not explode

    def extend(i: int, chosen: list[tuple[int, float]], lo: int, hi: int):
        budget[0] -= 1
        if budget[0] < 0:
            return
        if i == len(hits):
            yield list(chosen)
            return
        for pos, sim in hits[i]:
            nlo, nhi = min(lo, pos), max(hi, pos)
            if nhi - nlo + 1 > limit:
                continue
            chosen.append((pos, sim))
            yield from extend(i + 1, chosen, nlo, nhi)
            chosen.pop()

    yield from extend(0, [], 10**9, -1)


#: Real words a typo away from a negation: "another process" is not "neither process".
#: Real words a typo away from a negation: "renting several GPUs" ("arent"), "pixel annotation"
#: ("nothing"), "ever" ("never") negate nothing.
_NEAR_NEGATIONS = frozenset({"another", "either", "noting", "nether", "ever", "rent", "rents", "rented",
                             "renting", "annotate", "annotates", "annotated", "annotating",
                             "annotation", "annotations", "annotator", "annotators", "neither's"})


def is_negation(word: str) -> bool:
    """A negation, misspelt ones included ("dosent", "doesnot")."""
    if word in NEGATIONS:
        return True
    return word not in _NEAR_NEGATIONS and any(len(n) >= 5 and word_similarity(word, n) > 0
                                               for n in NEGATIONS)


def _negated_before(tokens: list[Token], sentence: str, start: int) -> bool:
    """A negation among the two tokens before `start`, in the same clause (no , ; : between);
    a negated verb reaches one further ("cannot take images of any size")."""
    for k in (3, 2, 1):
        if start - k < 0:
            continue
        t = tokens[start - k]
        if k == 3 and t.word not in _VERB_NEGATIONS:
            continue
        if is_negation(t.word) and not _NEW_CLAUSE.search(sentence[t.end:tokens[start].start]):
            return True
    return False


#: A break no phrase's words reach across: a new clause that says something else.
#: (" | " too: the border of two table cells, "| smaller batch | fewer images' activations |")
_BREAK_INSIDE = re.compile(r"[;]|\s\|\s|\b(?:but|whereas|while|although|however)\b", re.I)
#: Where a negation's reach ends: "no weights, so it is cheaper" negates the weights only.
_NEW_CLAUSE = re.compile(r"[,;:]|\s[-–—]+\s|\b(?:so|because|since|but|which|thus|hence|therefore|while)\b",
                         re.I)


_VERB_NEGATIONS = frozenset({"not", "never", "cannot"})


def negated_span(tokens: list[Token], sentence: str, lo: int, hi: int) -> bool:
    """Is the text at character offsets lo..hi (a regex hit) negated or rejected, as phrases are?"""
    inside = [i for i, t in enumerate(tokens) if t.end > lo and t.start < hi]
    if not inside:
        return False
    return _negated_before(tokens, sentence, inside[0]) or _rejected_after(tokens, sentence, inside[-1])


def _crosses_clause(tokens: list[Token], sentence: str, start: int, end: int) -> bool:
    # a spaced dash too: "some authors allow it and others don't - one removes the dense head"
    return bool(re.search(r"[,;:]|\s[-–—]+\s", sentence[tokens[start].end:tokens[end].start]))


#: After a negation, words that reject what came before: "float16 does not help", "is not possible".
_REJECTING = frozenset({
    "help", "work", "true", "possibl", "use", "effect", "solv", "fix", "save", "reduc", "matter",
    "recommend", "good", "idea", "option", "appli", "relev", "necessari", "need", "give", "provid",
    "realli", "problem",
})


def _no_matter(tokens: list[Token], i: int) -> bool:
    """"no matter how big the image" is not a rejection ("does not matter" is)."""
    return tokens[i].word == "no" and i + 1 < len(tokens) and tokens[i + 1].word == "matter"


_RELATIVE = re.compile(r"\b(?:you|we|i|they|u)\b", re.I)


def _rejected_after(tokens: list[Token], sentence: str, end: int) -> bool:
    """The clause after a match rejects it: a negation then a word like help/work/possible."""
    for i in range(end + 1, min(len(tokens), end + 5)):
        if re.search(r"[,;:]|\b(?:but|so)\b", sentence[tokens[i - 1].end:tokens[i].start]):
            return False  # "acts like a relu so you don't need one": a new clause's negation
        if is_negation(tokens[i].word) and not _no_matter(tokens, i):
            if _RELATIVE.search(sentence[tokens[end].end:tokens[i].start]):
                return False  # "delete the tensors you don't need": whose need, not a rejection
            nxt = tokens[i + 1:i + 3]
            if any(t.stem in _REJECTING for t in nxt):
                return True
    return False


_DENIAL = re.compile(
    r"\b(?:not|isn'?t|is\s+never)\s+true\b|\bis\s+(?:a\s+|the\s+)?(?:myth|false|wrong|incorrect|bad\s+idea)\b|"
    # a label that says what follows is wrong: "### Myth: data augmentation saves memory"
    # (at the start only: in "That's wrong: a dense layer ..." what follows is the correction)
    r"^\W*(?:myth|misconception|(?:common\s+)?mistake|wrong|false|incorrect|not\s+true)\s*:|"
    # a belief the student held and gives up: "I used to think ...", "at first I thought ..."
    r"\b(?:i\s+)?(?:used\s+to|at\s+first|first|originally|initially)\s+(?:i\s+)?(?:think|thought|believe|believed)\b|"
    r"\b(?:myth|misconception|wrong|false|incorrect|mistake)\s+(?:that|to\s+(?:say|think|believe))\b|"
    r"\b(?:some(?:\s+people)?|others|people|many|students?|one\s+might|you\s+might|"
    r"(?:many\s+|some\s+)?(?:tutorials?|blogs?|books?|articles?|websites?|sources|posts?))\s+"
    r"(?:wrongly\s+|often\s+|sometimes\s+|still\s+)?(?:think|believe|claim|say|suggest|recommend|"
    r"propose|state|write|assume|expect|imagine)\b|"
    r"\b(?:which|this|that)\s+is\s+(?:misleading|wrong|false|incorrect|not\s+(?:true|correct|right))\b|"
    r"\bnot\s+the\s+case\b|\bcontrary\s+to\b|"
    # what others write, reported to be examined: "one sometimes reads that pooling ..."
    r"\b(?:one|you)\s+(?:often\s+|sometimes\s+|may\s+|might\s+)?(?:reads?|hears?)\s+that\b|"
    # "..., which is a common misconception", "a popular myth is that ..."
    r"\b(?:common|popular|widespread|frequent|classic)\s+(?:misconception|myth|mistake|misunderstanding)\b|"
    r"\b(?:is|was)\s+(?:a\s+)?(?:misconception|mistake|misunderstanding)\b",
    re.I,
)


def denied(sentence: str) -> bool:
    """The sentence states something only to deny it ("it is not true that...", "a myth")."""
    return bool(_DENIAL.search(normalise(sentence)))


#: Where a denial's reach ends: the student's own correction after it ("... is a common mistake:
#: it has no parameters at all", "some people think X, but Y"). Commas do not end it: "it is not
#: true that pooling, unlike a conv, reduces the parameters" denies all of it.
_DENIAL_BREAK = re.compile(r"[:;]|\s[-–—]+\s|\b(?:but|however|instead|in fact|actually)\b", re.I)


#: Markers that deny what follows them, not what came before: in "the pixels stay together,
#: contrary to the MLP where they are lost" the student's claim is the first clause.
_FORWARD_DENIAL = re.compile(r"\bcontrary\s+to\b", re.I)


def denial_start(sentence: str) -> int:
    """Offset where the sentence's denial starts covering it (0: from its start)."""
    m = _DENIAL.search(normalise(sentence))
    if m is None or not _FORWARD_DENIAL.match(m.group()):
        return 0
    return m.start()


def denial_end(sentence: str) -> int | None:
    """Offset where the sentence's denial stops covering it (its length: all of it); None when
    nothing in it is denied."""
    m = _DENIAL.search(normalise(sentence))
    if m is None:
        return None
    brk = _DENIAL_BREAK.search(sentence, m.end())
    return brk.start() if brk else len(sentence)


def _span_text(tokens: list[Token], sentence: str, start: int, end: int) -> str:
    return sentence[tokens[start].start:tokens[end].end]


def near_miss(phrase: Phrase, tokens: list[Token], sentence: str) -> bool:
    """All but one word of a phrase of three or more words occur close together (for confidence)."""
    k = len(phrase.words)
    if k < 3:
        return False
    for skip in range(k):
        part = Phrase(phrase.text, phrase.words[:skip] + phrase.words[skip + 1:])
        if find_phrase(part, tokens, sentence, slack=2):
            return True
    return False
