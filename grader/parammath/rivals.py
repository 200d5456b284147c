"""Several values offered for one part ("902,700? 903,400?", "12.6 MB or 14.1 MB", "2,700 / 902,700
/ 903,400"): the rivals of a picked value, which the verdict treats as no single answer. Steps of a
formula, restatements in another unit and a list of terms with their total are no rivals."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from grader.parammath.order import segment_of as _segment_of
from grader.textnumbers import Quantity, agrees
from grader.textsegments import Segment

if TYPE_CHECKING:
    from grader.parammath.picks import Pick, Reading

#: Between two values offered as alternatives: "or", "/", "?", commas, "maybe" (and their units).
ALTERNATIVES = re.compile(
    r"(?:\s|[,/?;]|\b(?:or|ou|oder|o|или|au)\b|\beither\b|\bmaybe\b|\bperhaps\b|\bpossibly\b|\bprobably\b|"
    r"\b(?:[KMG]i?B|bytes?|megabytes?|gigabytes?|params|parameters|weights)\b)*", re.I)


#: Between an amount and the same amount said again: "i.e.", "that is", "in other words".
RESTATED = re.compile(
    r"\s*,?\s*(?:i\.\s?e\.|ie|that\s+is|in\s+other\s+words|which\s+is)\s*,?\s*"
    r"(?:about|approx\w*\.?|roughly|around|~|≈)?\s*", re.I)


_MARK = re.compile(r"^\s*(?:\(?(?:[a-d]|i{1,3}|iv)\)|\d\))", re.I)


def in_parentheses(reading: Reading, q: Quantity) -> bool:
    seg = _segment_of(reading.segments, q.start)
    if seg is None:
        return False
    # "a) 903,400 total (2,800 / ...": the ')' of a sub-question's mark closes no parenthesis
    before = _MARK.sub("", reading.text[seg.start : q.start], count=1)
    # "[1500000, 750000, 380000]": a printed list is data too, no answer
    # "约 565.6 MB（50 × 10.52 MB + 输入 36 MB ...）": full-width parentheses hold working too
    return (before.count("(") + before.count("（") > before.count(")") + before.count("）")
            or before.count("[") > before.count("]"))


def rivals(reading: Reading, pick: Pick, part: str) -> list[Quantity]:
    """The picked value and the other values next to it offered as alternatives for the same part
    ("9,027,000? 902,700? 903,400?", "3.6 MB, 9 MB, 12.6 MB or 14.1 MB", "2,700 / 902,700 /
    903,400"), or [] when the pick stands alone. Steps of a formula are not rivals."""
    seg = pick.segment
    lo, hi = seg.start, seg.end
    pair = either_or(reading, pick.quantity, seg)
    if pair:
        return pair
    window = max(seg.start, pick.quantity.start - 40)
    low_end = _RANGE_BEFORE.search(reading.text[window : pick.quantity.start])
    if low_end:  # "between 530 and 570 MB": the unit written once, after the range's upper end
        other = next((q for q in reading.quantities if q.start == window + low_end.start("low")), None)
        if other is not None and other.value != pick.quantity.number:
            return [other, pick.quantity]
    chain = _UNIT_ONCE.search(reading.text[max(seg.start, pick.quantity.start - 60) : pick.quantity.start])
    goes_on = re.match(r"\s*(?:,\s*)?(?:or|oder|ou|o|или|atau|veya|/)\s+\d",
                       reading.text[pick.quantity.end : seg.end], re.I)
    if pick.quantity.is_memory and chain and (goes_on or re.search(r"[/?]|[^\W\d]", chain.group(0))):
        # "9, 12.6 or 14.1 MB": a list of alternatives with the unit written once, after the last
        base = max(seg.start, pick.quantity.start - 60) + chain.start()
        n = pick.quantity.number
        listed = [q for q in reading.quantities if base <= q.start < pick.quantity.start and not q.is_memory
                  and n > 0 and 0.1 <= q.value / n <= 10]  # "903,400 / 14.13 MB": a count, no rival
        if any(q.value != pick.quantity.number for q in listed):
            return [*listed, pick.quantity]
    if part == "params":
        # "2,800, 180,200, 720,400 = 903,400": the terms of a formula are no rivals; only values
        # on the pick's side of every '=' are ("params = 902,700 / 903,400")
        before = reading.text[seg.start : pick.quantity.start]
        after = reading.text[pick.quantity.end : seg.end]
        lo = seg.start + max((m.end() for m in re.finditer(r"[=≈]", before)), default=0)
        nxt = re.search(r"[=≈]", after)
        hi = pick.quantity.end + nxt.start() if nxt else seg.end
        twin = _lone_count_chained(reading, pick.quantity, seg)
        if twin is not None:
            return [pick.quantity, twin]  # "params ≈ 903,400 ≈ 902,700": two counts said to be one
    same = [
        (i, q) for i, q in enumerate(reading.quantities)
        if lo <= q.start < hi and i not in reading.negated
        and q.is_memory == pick.quantity.is_memory
        and (reading.part_of.get(i) in (part, "ram") or part == "params")
        and (max([q.value, *q.alternatives]) >= 1000 if part == "params" else True)  # "902.700" too
        and (not in_parentheses(reading, q) or _or_aside(reading, q))
        and not _other_part_by_size(q, pick.quantity, reading.part_of.get(i), part)
    ]
    group: list[Quantity] = []
    for (_, a), (_, b) in zip(same, same[1:], strict=False):
        between = reading.text[a.end : b.start]
        before = reading.text[max(seg.start, a.start - 20) : a.start]
        # "between 3.6 MB and 14.1 MB": a range is no single answer
        ranged = _ranged(reading.text[max(seg.start, a.start - 30) : a.start], between)
        # "565.6 MB, i.e. about 5.6 GB": a restatement that does not agree is a second answer
        slip = bool(RESTATED.fullmatch(between)) and abs(a.value - b.value) > 0.1 * max(a.value, b.value)
        # "903,400 (or 902,700 if the layers have no bias)": a second value in an aside opened by 'or'
        offered = _or_aside(reading, b) and ALTERNATIVES.fullmatch(between.replace("(", " "))
        # "10.52 MB if you only count the maps, 12.6 MB if ..., or 14.1 MB if ...": one per condition
        offered = offered or bool(_CONDITIONAL.fullmatch(between))
        # "9 MB (just the two biggest layers), 12.6 MB (with the parameters) or 14.1 MB (...)": each
        # value with its own aside in words is still one of a list of alternatives
        bare = re.sub(r"[(（][^()（）\d=+*×]*[)）]", " ", between)
        listed = bool(ALTERNATIVES.fullmatch(bare)) and "=" not in between
        # "14.1 MB (weights + all maps, float32) or 28.3 MB (float64)": an aside with digits between
        # a value and 'or' another is still no formula
        listed = listed or bool(_ASIDE_THEN_OR.fullmatch(between))
        if ranged or slip or offered or listed:
            for q in (a, b):
                if all(q is not g for g in group):
                    group.append(q)
    if all(q is not pick.quantity for q in group):
        return []
    terms = [q.value for q in group if q is not pick.quantity]
    span = reading.text[min(q.start for q in group) : max(q.end for q in group)]
    if (part == "params" and len(terms) >= 2 and abs(sum(terms) - pick.quantity.value) < 0.5
            and not re.search(r"\?|\bor\b|\bmaybe\b", span)):
        return []  # "2 800, 180 200 and 720 400, i.e. 903 400": the terms and their total, in words
    values = {round(q.value, -3 if q.is_memory else 0) for q in group}
    return group if len(values) > 1 else []


#: A hedge between two values: "either 14.1 MB (...) or 28.3 MB if ...", "entweder ... oder",
#: "soit ... soit", "ou ... ou", "o bien ... o", "ya sea ... o", "либо ... либо", "或者 ... 或者"
_EITHER = re.compile(r"\b(?:either|entweder|soit|ou(?:\s+bien)?|o(?:\s+bien)?|ya\s+sea|либо|или)\b"
                     r"|或者|要么", re.I)
_EITHER_OR = re.compile(r"\b(?:or|oder|soit|ou|o|либо|или|atau|veya)\b|或者|要么|或", re.I)


_ASIDE_THEN_OR = re.compile(r"\s*[(（][^()（）=]*[)）]\s*,?\s*(?:or|oder|ou|o|или|либо|atau|veya|或者|或)\s*"
                            r"(?:maybe|perhaps|possibly|vielleicht|peut-être|talvez|quizás)?\s*", re.I)


def either_or(reading: Reading, q: Quantity, seg: Segment) -> list[Quantity]:
    """The two values of an 'either A ... or B' hedge in `q`'s sentence, `q` one of them, or []:
    the student offers both, so neither is the answer (rubric q2: several candidates go to a human).
    Text in between may hold asides with digits ("either 14.1 MB (float32 weights + maps) or")."""
    text = reading.text
    same = [r for r in reading.quantities if seg.start <= r.start < seg.end and r.is_memory == q.is_memory
            and (r.is_memory or r.value >= 1000)]
    for m in _EITHER.finditer(text, seg.start, seg.end):
        a = next((r for r in same if r.start >= m.end()), None)
        if a is None or not re.fullmatch(r"[\s:~≈]*(?:about|approx\w*\.?|ca\.?|etwa|environ|cerca\s+de)?\s*",
                                         text[m.end() : a.start], re.I):
            continue
        for o in _EITHER_OR.finditer(text, a.end, min(seg.end, a.end + 120)):
            b = next((r for r in same if r.start >= o.end()), None)
            if b is None or not re.fullmatch(r"[\s:~≈]*(?:about|approx\w*\.?|ca\.?|etwa|environ)?\s*",
                                             text[o.end() : b.start], re.I):
                continue
            if any(q is r for r in (a, b)) and not (agrees(a.value, b) or agrees(b.value, a)):
                return [a, b]
            break
    return []


#: "between 530 and 570 MB", "from 12 to 15 MB", "12-15 MB": the lower end of a range right before
#: a value (numbers only; a range of two amounts is found by `_ranged`)
_RANGE_BEFORE = re.compile(r"(?:\b(?:between|from|zwischen|entre|от)\s+)(?P<low>\d[\d.,]*)\s*"
                           r"(?:and|to|und|et|y|e|до|и|-|–)\s*$", re.I)


#: Numbers joined by 'or' (or '/', '?', commas) right before an amount: "9, 12.6 or 14.1 MB".
_UNIT_ONCE = re.compile(r"(?<![\d.,])(?:\d[\d.,]*\s*(?:,|/|\?|\bor\b|\boder\b|\bou\b|\bo\b|\bили\b|\batau\b|"
                        r"\bveya\b)\s*)+$", re.I)


#: "(or 902,700 ...": a parenthesis that opens with 'or' offers another value
_OR_OPEN = re.compile(r"\(\s*(?:or|ou|oder|o|или|atau|veya|o\s+bien)\s*$", re.I)


_CONDITIONAL = re.compile(r"\s*(?:if|when|wenn|falls|si|jika|kalau|если)\b[^.;\d=()]{0,80}[,;]\s*"
                          r"(?:(?:or|oder|ou|o|или|atau)\s+)?(?:maybe\s+|perhaps\s+)?", re.I)


def _or_aside(reading: Reading, q: Quantity) -> bool:
    return bool(_OR_OPEN.search(reading.text[max(0, q.start - 12) : q.start]))


def labelled_cell(reading: Reading, q: Quantity, seg: Segment, own: re.Pattern[str]) -> bool:
    """'Summary: params 903,400 | predict 9 MB | train 565.6 MB': an amount right after its part's
    name in a cell of a line split by '|' is stated as that part's answer, not a term of working."""
    before = reading.text[seg.start : q.start]
    if "|" not in seg.text:
        return False
    cell = before.rsplit("|", 1)[-1]
    return bool(own.search(cell)) and not re.search(r"[\d+*×=]", cell)


def _ranged(before: str, between: str) -> bool:
    """'between 12.6 MB (if each layer is freed) and 14.9 MB (if ...)': the ends of a range, asides
    in parentheses left out."""
    between = re.sub(r"\([^()]*\)", " ", between)
    return bool(re.fullmatch(r"\s*(?:and|to|-|–)\s*", between) and re.search(
        r"\b(?:between|from|range\s+of|ranges?\s+from)\s*$", before, re.I))


#: The student says they do not commit to one value ("I can't tell which one is meant").
_UNDECIDED = re.compile(r"\b(?:can'?t|cannot|could\s*n[o']t)\s+(?:tell|decide|say)|\bnot\s+sure\b|"
                        r"\bunsure\b|\bdon'?t\s+know\s+which", re.I)


def uncommitted(reading: Reading, values: list[Quantity]) -> bool:
    """Values offered as the two ends of a range, or with the student saying they cannot choose:
    no answer, even when each end is an accepted convention (a human decides)."""
    qs = sorted(values, key=lambda q: q.start)
    seg = _segment_of(reading.segments, qs[0].start)
    if seg is None:
        return False
    if _UNDECIDED.search(seg.text):
        return True
    return any(_ranged(reading.text[max(seg.start, a.start - 30) : a.start], reading.text[a.end : b.start])
               for a, b in zip(qs, qs[1:], strict=False))


def _lone_count_chained(reading: Reading, q: Quantity, seg: Segment) -> Quantity | None:
    """A different lone count right before or after `q` across one '=' or '≈' (no operator on
    either side): the student equates two totals, so neither is the single answer."""
    lone = r"[^\d+\-*/×x()^]*"
    for r in reading.quantities:
        if r is q or r.is_memory or not (seg.start <= r.start < seg.end):
            continue
        if agrees(q.value, r) or agrees(r.value, q):
            continue  # "903,400 ≈ 0.9M" restates one value
        a, b = (q, r) if q.end <= r.start else (r, q)
        if not re.fullmatch(r"\s*[=≈~]\s*", reading.text[a.end : b.start]):
            continue
        text = reading.text
        if re.fullmatch(lone, text[seg.start : a.start]) and re.fullmatch(lone, text[b.end : seg.end]):
            return r
    return None


def _other_part_by_size(q: Quantity, pick: Quantity, q_part: str | None, part: str) -> bool:
    """'12.6MB; 565.6MB (batch)': an amount no sentence names that is a tenth of the batch figure
    (or ten times the prediction figure) answers the other RAM part, in the question's order."""
    if q_part != "ram" or not q.is_memory or not pick.is_memory:
        return False
    if part == "ram_batch":
        return q.value * 10 <= pick.value
    if part == "ram_prediction":
        return q.value >= 10 * pick.value
    return False
