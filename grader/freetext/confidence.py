"""How sure the machine is of a free-text score; below the review threshold a human looks."""

from __future__ import annotations

import re

from grader.freetext.rubric import ConceptRubric
from grader.textmatch import near_miss, stem, tokenize

LONG_ANSWER_WORDS = 200  # content words; the reference answers have 33-96
#: Words too common in any answer about CNNs to suggest a missed concept on their own.
GENERIC_STEMS = frozenset({
    "layer", "layers", "network", "model", "cnn", "imag", "image", "feature", "featur", "use",
    "more", "less",
})
#: Everyday words the paraphrase phrases need ("the count stays small", "a fixed rule", "the
#: input size is free") that say nothing about the topic in a sentence that matched nothing:
#: counted as topic words they flagged correct essays (blind5 round: 3 new flags in 4 sets).
EVERYDAY_WORDS = frozenset({
    "all", "around", "bit", "end", "everything", "handful", "handle", "still", "come", "result",
    "open", "free", "answer", "light", "train", "store", "remain", "stay", "constant", "catch",
    "notice", "hide", "group", "treat", "somewhere", "piece", "cope", "separate", "task",
    "entrance", "exit", "entry", "sum", "calculation", "arithmetic", "rule", "recipe", "formula",
    "wash", "fire", "respond", "aisle", "role",
    # the words of an OOM error quoted ("OOM when allocating tensor with shape ..."), which the
    # memory-freeing phrases need ("delete the tensors", "empty the cached allocator")
    "tensor", "allocator",
})


#: Confidence penalties, calibrated on the labelled sets (benchmarks/freetext_agreement.py; the
#: held-out realistic set decided the values, see the module docstring): each is the weight of a
#: sign that the score may be wrong. Alone, a near miss or one on-topic unmatched sentence was
#: almost never a wrong grade; the two together were wrong half the time.
CONF_TYPO = 0.1  # per concept matched only through typo tolerance
CONF_NEAR = 0.1  # per concept nearly matched (at most 2 counted)
CONF_MISCONCEPTION = 0.05  # per deduction (none of 36 labelled deductions was wrong)
CONF_LONG = 0.45  # pages of text: the rubric's words may meet by accident
CONF_UNMATCHED = 0.05  # per topic word of an on-topic sentence that matched nothing (at most 4)
CONF_UNMATCHED_MAX = 0.35
CONF_BOTH = 0.1  # a near miss and an on-topic unmatched sentence together: a missed paraphrase
#: An on-topic unmatched sentence in an answer that earned at most a quarter of the points: where
#: a missed paraphrase costs the most (blind set: 2 of the 5 answers this flags were under-graded
#: by 3-5 points; the development sets: 1 more flag, a correct 0).
CONF_LOW_SCORE = 0.1
LOW_SCORE_SHARE = 0.25
#: Q6: a sentence about a named architecture that says something (more than its name) yet earned
#: nothing for it: "googlenet hsa incepshun modules" is an innovation the phrases could not read.
CONF_SUBJECT_UNREAD = 0.25
#: An analogy where a definition would be ("a pooling layer is like a teacher who ...", "imagine
#: a guard with a torch"): the phrases read definitions, and what the picture stands for may be
#: right in words no phrase lists (all labelled sets: 5 answers, the one 3 points off among them).
CONF_ANALOGY = 0.1
_ANALOGY = re.compile(
    r"\b(?:is|are|acts?|works?|it'?s|that'?s)\s+(?:a\s+bit\s+|kind\s+of\s+|just\s+)?like\s+"
    r"(?:a|an|the|someone|somebody|when|\w+ing)\b|\bimagine\b|"
    r"\bpicture\s+(?:a|an|this)\b|\bthink\s+of\s+(?:it|a|an|the)\b|\banalog(?:y|ous)\b|\bmetaphor\b", re.I)


#: A worked calculation that earned little: "Layer 1: (3*3*3+1)*100 = 2,800 parameters; layer 2:
#: ... = 180,200; total 903,400" answers another question (Q2's arithmetic pasted under Q3), or
#: explains in numbers what no phrase reads; a human should look (blind10: the one such answer
#: was graded 2 for its incidental "stride 2"; no answer of the other sets has three results
#: computed and so low a score).
CONF_CALCULATION = 0.5  # the most confidence such an answer keeps
CALCULATION_RESULTS = 3
_RESULT = re.compile(r"(?:=|≈|\\approx)\s*\$?\s*\d")


def confidence(sentences, rubric, found, weak, stated, used_sentences, score, points, prompt,
               set_aside=frozenset()):
    reasons: list[str] = []
    conf = 1.0
    texts = list(dict.fromkeys(s.text for s in sentences))
    results = sum(len(_RESULT.findall(t)) for t in texts)
    if results >= CALCULATION_RESULTS and score <= LOW_SCORE_SHARE * points:
        conf = min(conf, CONF_CALCULATION)
        reasons.append(f"a calculation ({results} results computed) that earned little: perhaps the "
                       "answer to another question, or a reasoning in numbers no phrase reads")
    if weak:
        conf -= CONF_TYPO * len(weak)
        reasons.append(f"matched only through typo tolerance: {', '.join(sorted(weak))}")
    covered = {c.group for c in rubric.concepts if c.id in found and c.group}
    near = [c.id for c in rubric.concepts
            if c.id not in found and c.id not in set_aside and not (c.group and c.group in covered)
            and any(near_miss(p, s.tokens, s.text) for s in sentences for p in c.phrases)]
    if near:
        conf -= CONF_NEAR * min(2, len(near))
        reasons.append(f"nearly matched: {', '.join(near)}")
    unread = _unread_subjects(sentences, rubric, found, used_sentences)
    if unread and 0 < score < points:  # a 0 everywhere is no missed paraphrase
        conf -= CONF_SUBJECT_UNREAD
        reasons.append(f"said something about {', '.join(unread)} that earned nothing for it")
    if score < points and any(_ANALOGY.search(s.text) for s in sentences):
        conf -= CONF_ANALOGY
        reasons.append("explained by an analogy: what it stands for may be right in other words")
    if stated:
        conf -= CONF_MISCONCEPTION * len(stated)
        reasons.append(f"misconception deducted: {', '.join(m['misconception'] for m in stated)}")
    words = sum(len(s.tokens) for s in sentences)
    if words > LONG_ANSWER_WORDS and found:
        conf -= CONF_LONG
        reasons.append(f"long answer ({words} content words): matches may be incidental")
    if score < points:
        # A sentence that matched nothing but uses the rubric's vocabulary may say something right
        # in words the rubric does not list: that is where a human should look. Filler and
        # off-topic sentences share few such words and do not lower the confidence.
        vocab = vocabulary(rubric, prompt)
        seen: set[str] = set()
        hits = []
        for s in sentences:
            if s.text in used_sentences or s.text in seen:
                continue
            seen.add(s.text)
            hits.append(sum(1 for t in tokenize(s.text) if in_vocab(t.word, vocab)))
        suspicious = [h for h in hits if h >= 2]
        if suspicious:
            conf -= min(CONF_UNMATCHED_MAX, sum(CONF_UNMATCHED * min(4, h) for h in suspicious))
            if near:
                conf -= CONF_BOTH
            if score <= LOW_SCORE_SHARE * points:
                conf -= CONF_LOW_SCORE
            reasons.append(f"{len(suspicious)} sentence(s) use the topic's words but matched no concept")
    return round(min(1.0, max(0.0, conf)), 2), reasons


def vocabulary(rubric: ConceptRubric, prompt: str) -> frozenset[str]:
    """Stems of the words the concepts are made of, minus the question's own words."""
    if prompt not in rubric.vocabulary:
        prompt_stems = {t.stem for t in tokenize(prompt)}
        stems = {stem(w) for c in rubric.concepts for p in c.phrases for alts in p.words for w in alts}
        everyday = {stem(w) for w in EVERYDAY_WORDS}
        rubric.vocabulary[prompt] = frozenset(stems - prompt_stems - GENERIC_STEMS - everyday)
    return rubric.vocabulary[prompt]


def in_vocab(word: str, vocab: frozenset[str]) -> bool:
    return stem(word) in vocab


# ---- the check ------------------------------------------------------------------------------


def _unread_subjects(units, rubric: ConceptRubric, found: set[str], used: set[str]) -> list[str]:
    """Subjects with concepts of their own, none found, whose own unit says more than the name."""
    credited = {c.subject for c in rubric.concepts if c.subject and c.id in found}
    owners = {c.subject for c in rubric.concepts if c.subject}
    out: list[str] = []
    for u in units:
        name = u.subject
        if not name or name not in owners or name in credited or name in out or u.text in used:
            continue
        aliases = {w for a in rubric.subjects.get(name, []) for alts in a.words for w in alts}
        said = [t for t in u.tokens if t.word not in aliases and t.stem not in aliases]
        if len(said) >= 2:
            out.append(name)
    return out
