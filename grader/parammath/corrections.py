"""Later attempts that replace earlier ones: "EDIT: forgot the biases, the total is 903,400",
"Update: ... final answers: 12.6 MB, 565.6 MB", "-> correction: ... 565.6 MB". A TA grades the
figure the student marks as the replacement and reads the earlier one as superseded working."""

from __future__ import annotations

import re

#: A mark that what follows replaces what came before (to the end of the answer).
_REPLACES = re.compile(
    r"(?:^|(?<=[\s(>*_\-]))(?:edit(?:ed)?|update[d]?|correction|erratum|oops|nachtrag|korrektur|"
    r"correcci[oó]n|corre[cç][aã]o|исправлени[ея]|поправка|"
    # "50 × 12.6 = 630 MB, wait, no, that multiplies the weights ...": the student takes it back
    r"wait\s*,?\s*no|no\s*,?\s*wait|scratch\s+that)\b(?:\s*\([^()\n]{0,60}\))?\s*[:!,\-.]",
    re.I | re.M)  # "EDIT (after feedback):" too
#: "final answer(s):", "Final:", a line opened with "Answer:" / "TL;DR" mark the answer in its own
#: sentence (the working may follow).
_FINAL = re.compile(r"\bfinal\s+(?:answers?|results?)\b\s*[:=\-]?|\bfinal\s*:|"
                    # a line opened as the answer: "Short answer:", "TL;DR", "Réponses :"
                    r"^[ \t>*_#-]*(?:short\s+answers?|answers?|tl;?dr|r[ée]ponses?|"
                    r"respuestas?|antworten?|ergebnis(?:se)?|risposte?|respostas?|ответы?)[*_]*[ \t]*[:\-–]?",
                    re.I | re.M)


def replacing_regions(text: str, *, summaries: bool = True) -> list[tuple[int, int]]:
    """(start, end) spans of the text a student marks as replacing what came before: after the
    last EDIT / Update / correction mark, and (with `summaries`) the sentence of a 'final answer'.
    A summary states the answer but retracts nothing: a working total it contradicts still stands."""
    regions: list[tuple[int, int]] = []
    marks = list(_REPLACES.finditer(text))
    if marks:
        regions.append((marks[-1].start(), len(text)))
    # "EDIT: ... 903,400 total." then "Update: ... 14.1 MB": an earlier mark that corrects another
    # part than the later one still replaces what came before it, to the end of its paragraph
    for a, b in zip(marks, marks[1:], strict=False):
        para = text.find("\n\n", a.end())
        regions.append((a.start(), min(b.start(), para if para >= 0 else len(text))))
    for m in _FINAL.finditer(text) if summaries else ():
        # to the end of its sentence: a line break inside it ("... for a\ntotal of 903,400.", the
        # next line going on in lower case) does not end it
        stop = re.search(r"\n(?![ \t]*[a-z])|(?<=[.!?])\s", text[m.end():])
        regions.append((m.start(), m.end() + (stop.start() if stop else len(text) - m.end())))
    return regions


def marks_correction(sentence: str) -> bool:
    """The sentence carries an EDIT / Update / correction mark: what it says about a part is stated."""
    return bool(_REPLACES.search(sentence))


def in_regions(pos: int, regions: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in regions)
