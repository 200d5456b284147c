"""Misconceptions asserted (not merely mentioned) in an answer's units."""

from __future__ import annotations

import re
from typing import Any

from grader.freetext.reading import Unit, pattern_hit
from grader.freetext.retraction import withdrawn
from grader.freetext.rubric import ConceptRubric, Misconception
from grader.textmatch import find_phrase

MISCONCEPTION_SLACK = 1


def find_misconceptions(units: list[Unit], rubric: ConceptRubric):
    """The misconceptions asserted (each deducted once), the sentences that state or take back
    one, and the spans of the claims taken back (their words earn no concept either)."""
    stated: list[dict[str, Any]] = []
    used: set[str] = set()
    taken_back: list[tuple[str, tuple[int, int]]] = []
    texts = list(dict.fromkeys(u.text for u in units))
    following = dict(zip(texts, texts[1:] + [None], strict=False))
    for mc in rubric.misconceptions:
        for s in units:
            if s.denied or (mc.subject and rubric.subjects and s.subject != mc.subject):
                continue  # "it is a myth that ...": mentioned, not asserted
            hit: tuple[str, int, int] | None = None
            for phrase in mc.phrases:
                # tight window: a deduction needs the words together, not scattered in a list
                m = find_phrase(phrase, s.tokens, s.text, slack=MISCONCEPTION_SLACK)
                if m and not _excused(mc, s, m.start, m.end):
                    hit = (m.text, s.tokens[m.start].start, s.tokens[m.end].end)
                    break
            more: list[tuple[int, int]] = []  # the claim's other wordings in the same part
            pat = pattern_hit(mc.patterns, s.span)
            if pat and not _excused(mc, s, 0, len(s.tokens) - 1):
                offset = s.tokens[0].start  # patterns run on the span
                if hit is None:
                    hit = (s.span, s.tokens[0].start, s.tokens[-1].end)
                else:
                    # "an FCN means all the layers are fully connected, every neuron connected to
                    # every neuron": both wordings state it, and neither earns a concept
                    more.append((offset + pat.start(), offset + pat.end()))
            if hit and withdrawn(s.text, hit[2], following.get(s.text)):
                used.add(s.text)  # "increase the batch... no, sorry, that's backwards"
                taken_back.append((s.text, (hit[1], hit[2])))
                continue
            if hit:
                used.add(s.text)
                taken_back.extend((s.text, span) for span in more)  # earn nothing, cost nothing more
                reason = _RATIONALE.match(s.text, hit[2])
                if reason:
                    # "Increase the batch size: the memory is released faster": the words that
                    # explain a wrong claim after its colon are part of it and earn nothing
                    taken_back.append((s.text, (hit[2], reason.end())))
                if not any(m["misconception"] == mc.id for m in stated):  # deducted once
                    stated.append({
                        "misconception": mc.id, "label": mc.label, "deduction": mc.deduction,
                        "phrase": hit[0], "sentence": s.text, "correction": mc.correction,
                        "span": (hit[1], hit[2]),
                    })
    return stated, used, taken_back


def _excused(mc: Misconception, s: Unit, start: int, end: int) -> bool:
    """An `unless` phrase near the match ("no parameters, unlike ...") cancels it."""
    if pattern_hit(mc.unless_patterns, s.span):
        return True
    lo, hi = max(0, start - 6), min(len(s.tokens), end + 7)
    window = s.tokens[lo:hi]
    # a negation excuses only within the claim's own clause: "max pooling works as an activation
    # function, so you don't need one" still asserts it
    clause_end = next((k for k in range(end + 1, hi)
                       if _CLAUSE_BREAK.search(s.text[s.tokens[k - 1].end:s.tokens[k].start])), hi)
    near = s.tokens[lo:clause_end]
    return any(find_phrase(u, near if u.negated else window, s.text, guard_negation=False)
               for u in mc.unless)


#: A wrong claim's own explanation: what follows its colon, up to a semicolon or the sentence's end.
_RATIONALE = re.compile(r"[^\S\n]*:[^;\n]+")

_CLAUSE_BREAK = re.compile(r"[,;:()]|\b(?:so|but|and|then)\b", re.I)
