"""Sub-question headers ("### a) Parameters", "**(ii)**", "Q2.3", "Part 1", "### ख)"): a header
scopes the lines after it, up to the next header, to the part its words name, or else to the part
its position names (a/i/1 -> parameters, b/ii/2 -> one prediction, c/iii/3 -> the batch)."""

from __future__ import annotations

import re
from typing import Any

from grader.parammath.cues import PARAMS_CUE, PREDICTION_CUE

_ORDER = ("params", "ram_prediction", "ram_batch")
_MARKS = {"a": 0, "b": 1, "c": 2, "i": 0, "ii": 1, "iii": 2, "1": 0, "2": 1, "3": 2,
          "क": 0, "ख": 1, "ग": 2}
#: a line that is only a header: markdown '#'s or bold around a letter, roman numeral, 'Q2.1' or
#: 'Part 1', then at most a few words
_HEADER = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*(?:\(?(?P<m>[abc]|i{1,3}|[कखग])[).:]"
    r"|(?:Q\s*2?\s*[.)]?\s*|Part\s+|Teil\s+|Parte\s+|Bagian\s+)(?P<n>[1-3])\b[).:]?)"
    r"(?:\*\*|__)?[ \t]*(?P<words>[^\n]*)$", re.I | re.M)


def header_blocks(text: str, batch_cue: re.Pattern[str]) -> list[tuple[int, int, str]]:
    """(start, end, part) of each block under a sub-question header; none unless at least two
    headers name different parts, so a lone "a)" in prose scopes nothing."""
    found: list[tuple[int, str]] = []
    for m in _HEADER.finditer(text):
        words = m.group("words") or ""
        mark = (m.group("m") or m.group("n") or "").lower()
        if re.search(r"\d", words) and mark in _MARKS:
            # "a) 903400", "(ii) Two layers + weights = 3,153,400 floats": the answer, or its
            # working, on the header line; its position names the part, not its words
            found.append((m.start(), _ORDER[_MARKS[mark]]))
            continue
        if batch_cue.search(words):
            part = "ram_batch"
        elif PREDICTION_CUE.search(words):
            part = "ram_prediction"
        elif PARAMS_CUE.search(words):
            part = "params"
        else:
            if mark not in _MARKS:
                continue
            part = _ORDER[_MARKS[mark]]
        found.append((m.start(), part))
    if len({p for _, p in found}) < 2:
        return []
    ends = [s for s, _ in found[1:]] + [len(text)]
    return [(s, e, p) for (s, p), e in zip(found, ends, strict=True)]


def block_part(blocks: list[tuple[int, int, str]], pos: int) -> str | None:
    for s, e, p in blocks:
        if s <= pos < e:
            return p
    return None


def drop_terms_of_other_blocks(blocks: list[tuple[int, int, str]], quantities: list[Any],
                               part_of: dict[int, str]) -> None:
    """'(b) ... plus 903,400 weights -> 12.6 MB': the count of parameters under the prediction
    header is a term of that part, not the answer to the parameters part, when the parameters
    header has a count of its own."""
    own = any(part_of.get(i) == "params" and block_part(blocks, q.start) == "params"
              for i, q in enumerate(quantities))
    if not own:
        return
    for i, q in enumerate(quantities):
        if part_of.get(i) == "params" and block_part(blocks, q.start) not in (None, "params"):
            del part_of[i]
