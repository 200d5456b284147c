"""What an answer's sentences are: statements or bare terms, and what each part is about.

Two readings a TA does without thinking, and a bag-of-words matcher does not:

- Is it a statement? "weight sharing, translation invariance, receptive fields" names terms and
  explains nothing; "the kernels are shared, so there are fewer weights" says something. A part
  is *bare* when it has no verb and no word that relates things (because, so, ->, =, fewer ...).
  Comma lists are judged chunk by chunk. A list of "- reduce the batch size" items is statements
  (imperatives); "batch size, fp16, pooling" is not.
- What is it about? In "GoogLeNet captures multi-scale features ... ResNet adds skip
  connections", the words after a name belong to that name until the next one; a sentence that
  names nothing continues the previous one ("It also uses ReLU"). A name after "than", "unlike",
  "compared to" is a comparison, not a new subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.textmatch import Phrase, Token


#: Verbs that make a chunk a statement, matched with their inflections (not by stem: "separable"
#: must not be "separate"). Words that are nouns as often as verbs in these answers ("skip",
#: "pool", "output", "shift", "label", "squeeze") are left out: "skip connections" is a term.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VERB_BASES = _words("""
    use reduce decrease increase lower raise make add remove cut shrink distribute train learn
    detect recognize recognise find share keep lose preserve retain exploit capture combine build
    assemble need require take give provide allow help prevent avoid replace convert turn apply
    compute store save free clear inhibit suppress dampen damp normalize normalise compete
    specialize specialise connect look see slide scan process handle produce predict classify
    recover restore stack introduce invent propose recalibrate rescale multiply pick select choose
    contain consist mean cause lead result become get go put feed switch try enable offload
    accumulate quantize prune move appear exist matter depend ignore treat throw discard lack fire
    respond push place call run buy wait check monitor cover match equal belong know understand
    work jump mix split halve limit kill destroy ruin hurt blur shrink fall
    """)
_IRREGULAR = _words("""is are was were be been am has have had can could will would should must does do
    did lost kept made took taken gave given built found led got gone went threw thrown chose
    chosen ran bought understood knew known held fed shrunk shrank seen saw""")


def _inflections(base: str) -> set[str]:
    forms = {base, base + "s", base + "es", base + "ed", base + "d", base + "ing"}
    if base.endswith("e"):
        forms |= {base[:-1] + "ing"}
    if base.endswith("y"):
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    if re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwy]", base):  # stop -> stopped, cut -> cutting
        forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return forms


_VERBS = frozenset(f for b in _VERB_BASES for f in _inflections(b)) | frozenset(_IRREGULAR)
_MARKER = re.compile(r"->|=>|→|=|\b(?:because|since|so|therefore|thus|which|whereas|while|hence)\b",
                     re.I)
_RELATIONS = re.compile(
    r"\b(?:unlike|than|instead|fewer|less|smaller|lower|more|larger|bigger|higher|no|not|without|"
    r"only|just|purely|solely|exclusively|per|each|every|any|anywhere|wherever|down)\b",
    re.I)  # "bs down", "FCN: just convs"
_CHUNK_SPLIT = re.compile(r"\s*[,/|]\s*|\s+(?:and|or|&)\s+|\s*\+\s*")
_HEADER = re.compile(r"^\s*[\w\s-]{1,30}:\s*")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]*")
LIST_MIN_CHUNKS = 3
LIST_BARE_SHARE = 0.75


_NEGATED_VERBS = frozenset({"cannot", "dont", "doesnt", "cant", "wont", "isnt", "arent", "didnt"})
#: A verb form after a quantity word is a noun: "less compute", "more use", "no change".
_QUANTIFIERS = frozenset({"less", "more", "fewer", "no", "much", "lower", "higher", "extra"})


def _has_verb(words: list[str]) -> bool:
    for i, w in enumerate(words):
        lw = w.lower()
        if lw.endswith("n't") or lw in _NEGATED_VERBS:
            return True  # doesn't, can't
        if lw.endswith("ing") and (i > 0 or len(words) == 1):
            continue  # "weight sharing", "upsampling" are terms; "reducing the batch" an action
        if lw in _VERBS and not (i > 0 and words[i - 1].lower() in _QUANTIFIERS):
            return True
    return False


def is_bare_chunk(chunk: str, *, in_list: bool = False) -> bool:
    """A term with no verb: "translation invariance", "fp16", "skip connections". Alone (a bullet),
    a relation word makes it a statement ("fewer filters"); inside a list of terms it does not."""
    words = _WORDS.findall(chunk)
    if (in_list and words and words[0].lower().endswith("ed")
            and len(_WORDS.findall(re.sub(r"\([^)]*\)", " ", chunk))) >= 3):  # "(float16)" names no noun
        # a participle before a compound noun, among terms, is an adjective: "specialised feature
        # maps", "stacked conv layers" name things as "weight sharing" does ("mixed precision",
        # "reduced batch" may be what the student did: kept as statements)
        words = words[1:]
    if not words or _MARKER.search(chunk) or _has_verb(words):
        return False
    if len(words) >= 4 and any(w.lower() in ("the", "a", "an") for w in words[1:]):
        return False  # "the downsampling kills the resolution": articles inside make a sentence
    if not in_list and _RELATIONS.search(chunk):
        return False
    return len(words) <= 5


def is_bare(sentence: str, *, names_subject: bool = False) -> bool:
    """A sentence (or list item) that only names terms. Naming its subject ("AlexNet: ReLU",
    "| ResNet | skip connections |") is a statement of what belongs to what."""
    if names_subject:
        return False
    body = _HEADER.sub("", sentence, count=1)  # "Advantages: parameter sharing, ..."
    chunks = [c for c in _CHUNK_SPLIT.split(body.strip(" .;")) if c.strip()]
    if not chunks:
        return False
    if len(chunks) >= LIST_MIN_CHUNKS:
        # "kernel = feature map size" set beside other terms is a term pair, no statement
        bare = sum(1 for c in chunks if is_bare_chunk(c, in_list=True) or _term_pair(c))
        return bare >= LIST_BARE_SHARE * len(chunks)
    return all(is_bare_chunk(c) for c in chunks)


#: A value changed to another: "64 -> 16", "fp32 → fp16", "float32 -> bfloat16".
_CHANGE = re.compile(r"\d\s*(?:->|-->|→|=>|⇒)\s*[a-z]*\d", re.I)
_PAIR = re.compile(r"^\s*([^=]+?)\s*(?:=|->|→|:)\s*([^=]+?)\s*[.;]?\s*$")


def _term_pair(chunk: str) -> bool:
    """"kernel = input map size", "filters = units": two terms set equal, in a list of terms, say
    no more than the terms do (a statement would need a verb on either side)."""
    if _CHANGE.search(chunk):
        return False  # "batch 64 -> 16", "fp32 -> fp16": a change made, not two terms
    m = _PAIR.match(chunk)
    return bool(m) and all(is_bare_chunk(side, in_list=True) and len(_WORDS.findall(side)) <= 3
                           for side in m.groups())


def bare_items(sentences: list[str], names_subject: list[bool]) -> list[bool]:
    """`is_bare` for each sentence of an answer, and list items read together: three or more
    verbless items in a row ("- no parameters / - less computation / - invariance") are a list
    of terms even where each alone would pass for a terse statement."""
    out = [is_bare(s, names_subject=n) for s, n in zip(sentences, names_subject, strict=True)]
    termlike = [not n and (is_bare_chunk(body := _HEADER.sub("", s, count=1), in_list=True)
                           or _term_pair(body))
                for s, n in zip(sentences, names_subject, strict=True)]
    i = 0
    while i < len(termlike):
        j = i
        while j < len(termlike) and termlike[j]:
            j += 1
        if j - i >= LIST_MIN_CHUNKS:
            for k in range(i, j):
                out[k] = True
        i = max(j, i + 1)
    return out


@dataclass
class Span:
    """A run of a sentence's tokens and the subject it is about (None: no subject named yet)."""

    start: int  # token indices, end exclusive
    end: int
    subject: str | None
    names_subject: bool  # the span itself names its subject


_COMPARISON = re.compile(r"\b(?:than|unlike|like|vs\.?|versus|compared\s+(?:to|with)|compare|comparing|"
                         r"over|from|replac\w*|instead\s+of|as\s+in|similar\s+to)\s*\W*$", re.I)


#: A name after a preposition inside a clause is an object, not a new subject: "SENet's blocks
#: can be plugged into a ResNet or an Inception network to reweight the channels" is about SENet.
_OBJECT = re.compile(r"\w\s+(?:into|onto|inside|within|to|with)\s+(?:(?:an?|the)\s+)?"
                     r"(?:[\w-]+\s+(?:or|and)\s+(?:(?:an?|the)\s+)?)?$", re.I)


#: A name after a verb that takes it as its object: "Xception takes the GoogLeNet idea to the
#: extreme", "AlexNet extended LeNet" are about the first name.
_VERB_OBJECT = re.compile(r"\b(?:takes?|took|taking|extends?|extended|extending|borrows?|borrowed|"
                          r"pushe[sd]|pushing|generali[sz]e[sd]|modifie[sd]|improve[sd]|adapt(?:s|ed)?)\s+"
                          r"(?:(?:an?|the|its)\s+)?$", re.I)
#: A name as the complement of another one: "SENet is basically an Inception or ResNet network
#: with SE blocks", "SENet = a ResNet with SE blocks", "it is a ResNet whose blocks ..." say what
#: SENet is built on; what follows is still about SENet (issue 13, blind8-10 Q6).
_PREDICATE = re.compile(r"(?:\b(?:is|are|was|were|it'?s)|=)\s+(?:(?:not|basically|just|simply|essentially|"
                        r"really|only|literally|actually|like|kind\s+of|sort\s+of)\s+)*"
                        r"(?:an?|the)\s+(?:[\w-]+\s+(?:or|and|/)\s+(?:an?\s+)?)?$", re.I)


_NEW_TOPIC = re.compile(r";|\b(?:then|next|later|afterwards)\b", re.I)


def _names_only(sentence: str, at: int) -> bool:
    """The parentheses around offset `at` hold a name and little else: "The inception module
    (GoogLeNet) runs ...", "skip connections (in ResNet)" say whose it is."""
    lo, hi = sentence.rfind("(", 0, at), sentence.find(")", at)
    if lo < 0 or hi < 0:
        return False
    inner = _WORDS.findall(sentence[lo + 1:hi])
    return (0 < len(inner) <= 3 and not _has_verb(inner)
            and not any(w.lower() in _CONTRAST_WORDS for w in inner))


_CONTRAST_WORDS = frozenset({"unlike", "than", "vs", "versus", "not", "except", "compared",
                             "instead", "before", "after", "like"})
_CLAUSE_OPEN = re.compile(r"[,;:)]|\b(?:and|or|while|whereas|but)\b", re.I)


def _clause_start(tokens: list[Token], sentence: str, j: int) -> int:
    """Index of the first token of the clause that token j's parentheses close."""
    paren = sentence.rfind("(", 0, tokens[j].start)
    start = 0
    for m in _CLAUSE_OPEN.finditer(sentence, 0, max(0, paren)):
        start = m.end()
    return next((i for i, tok in enumerate(tokens) if tok.start >= start), j)


def subject_spans(tokens: list[Token], sentence: str, subjects: dict[str, list[Phrase]],
                  previous: str | None) -> list[Span]:
    """Split a sentence where it names a new subject (see the module docstring)."""
    if not subjects or not tokens:
        return [Span(0, len(tokens), previous, False)]
    mentions: list[tuple[int, str]] = []
    complements: list[tuple[int, str]] = []  # "= a ResNet": named after another name, not a subject
    asides: list[tuple[int, int, str]] = []  # "(the module that Xception later replaced by ...)"
    for name, aliases in subjects.items():
        for alias in aliases:
            k = len(alias.words)
            for j in range(len(tokens) - k + 1):
                # exact words only: typo tolerance would read "ResNet" as "SENet"
                if all(tokens[j + i].word in alts or tokens[j + i].stem in alts
                       for i, alts in enumerate(alias.words)):
                    before = sentence[max(0, tokens[j].start - 25):tokens[j].start]
                    opened = sentence[:tokens[j].start]
                    if opened.count("(") > opened.count(")"):
                        if _names_only(sentence, tokens[j].start):
                            # "SE blocks (SENet)": the name labels its clause, from where it starts
                            mentions.append((_clause_start(tokens, sentence, j), name))
                        elif (aside := _aside_about(tokens, sentence, j)) is not None:
                            asides.append((j, aside, name))
                        continue  # "(LeNet-5 was)": an aside; the sentence goes on about its subject
                    if _COMPARISON.search(before) or _OBJECT.search(before) or _VERB_OBJECT.search(before):
                        continue
                    if _PREDICATE.search(sentence[max(0, tokens[j].start - 60):tokens[j].start]):
                        complements.append((j, name))
                    mentions.append((j, name))
    mentions = sorted(set(mentions))
    # a complement keeps the subject named before it in the same sentence
    for pos, name in complements:
        earlier = [(p, n) for p, n in mentions if p < pos]
        if (earlier and earlier[-1][1] != name
                and not _NEW_TOPIC.search(sentence[tokens[earlier[-1][0]].end:tokens[pos].start])):
            mentions.remove((pos, name))
    if not mentions:
        return _with_asides([Span(0, len(tokens), previous, False)], asides)
    spans: list[Span] = []
    first = mentions[0][0]
    if first > 0:  # "Skip connections were ResNet's innovation": the clause before names it too
        spans.append(Span(0, first, mentions[0][1], True))
    for k, (pos, name) in enumerate(mentions):
        end = mentions[k + 1][0] if k + 1 < len(mentions) else len(tokens)
        if spans and spans[-1].subject == name and spans[-1].end == pos:
            spans[-1].end = end
        else:
            spans.append(Span(pos, end, name, True))
    return _with_asides(spans, asides)


def _aside_about(tokens: list[Token], sentence: str, j: int) -> int | None:
    """A parenthesis that says something about the name inside it ("(the module that Xception
    later replaced by depthwise separable convolutions)"): the index of the first token after it,
    or None. Only where the name is followed by a verb and a few words of its own."""
    close = sentence.find(")", tokens[j].end)
    if close < 0:
        return None
    after = [t for t in tokens[j + 1:] if t.start < close]
    words = _WORDS.findall(sentence[tokens[j].end:close])
    if len(words) < 5 or not _has_verb(words[:3]) or any(w.lower() in _CONTRAST_WORDS for w in words):
        return None
    return j + 1 + len(after)


def _with_asides(spans: list[Span], asides: list[tuple[int, int, str]]) -> list[Span]:
    """Spans with each aside about another name cut out as that name's own span."""
    for start, end, name in asides:
        out: list[Span] = []
        for sp in spans:
            if sp.start < start < sp.end and end <= sp.end and sp.subject != name:
                out.append(Span(sp.start, start, sp.subject, sp.names_subject))
                out.append(Span(start, end, name, True))
                if end < sp.end:
                    out.append(Span(end, sp.end, sp.subject, sp.names_subject))
            else:
                out.append(sp)
        spans = out
    return spans
