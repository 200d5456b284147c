"""Answers read from where they stand when no sentence names their part: a sentence of only the
three answers ("903,400 / 14.13 MB / 565.61 MB"), the first plain count of a thousand or more
as the parameter count ('a) 903400'); and the sentence a position falls in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from grader.parammath.cues import BATCH_CUE, NOT_A_COUNT_OF_PARAMS, PARAMS_CUE, PREDICTION_CUE, TOTAL_CUE
from grader.textnumbers import Quantity
from grader.textsegments import Segment

if TYPE_CHECKING:
    from grader.parammath.picks import Reading

PARTS = ("params", "ram_prediction", "ram_batch")

#: "... = 42,000,000" ending a line and "floats = 168 MB" opening the next: what a count counts
COUNTED_ON_NEXT_LINE = re.compile(r"[ \t]*\n[ \t]*(?:floats?|values?)\b", re.I)
#: What may stand between the values of a list of the three answers: separators, labels, units.
_LIST_GLUE = re.compile(
    r"[\s/,;|.:()\-·•–—]*(?:(?:answers?|params|parameters|weights|total|and|RAM|tl;?dr|summary|short|final|"
    r"results?|r[ée]ponses?|respuestas?|antworten?|ergebnis(?:se)?|risposte?|respostas?|ответы?)"
    r"(?![^\W\d_])[\s/,;|.:()\-·•–—]*)*", re.I)


def answer_lists(text: str, quantities: list[Quantity], segs: list[Segment], part_of: dict[int, str],
                 operands: set[int]) -> set[int]:
    """'903,400 / 14.13 MB / 565.61 MB.' (answer first, working after), or the three on lines of
    their own ('903,400' / '12.6 MB' / '565.6 MB', then the explanation): nothing but a count and
    two amounts of memory, the smaller first, answers the three parts in the question's order,
    whatever the working after it says. Returns the quantities so placed: read by position, so a
    guess (flagged for review when it costs credit)."""
    def values_in(seg: Segment) -> list[int] | None:
        """The quantities of a segment that holds nothing but values and glue (None otherwise);
        a leading enumerator ('1.', 'b)') is glue."""
        lead = _ENUMERATOR.match(text, seg.start)
        start = lead.end() if lead else seg.start
        inside = [i for i, q in enumerate(quantities) if start <= q.start < seg.end]
        if not inside or any(i in operands for i in inside):
            return None
        edges = [start] + [x for i in inside for x in (quantities[i].start, quantities[i].end)]
        edges.append(seg.end)
        gaps = [text[edges[k]:edges[k + 1]] for k in range(0, len(edges), 2)]
        # "... are 903,400, 12.6 MB and 565.6 MB respectively": the sentence says they go in order
        listed = all(_LIST_GLUE.fullmatch(g) for g in gaps) or (
            len(inside) == 3 and _RESPECTIVELY.search(seg.text) and _LIST_GLUE.fullmatch(gaps[1])
            and re.fullmatch(r"[\s,;]*(?:and|et|y|und|e|и)?[\s,;]*", gaps[2], re.I))
        return inside if listed else None

    found = [values_in(seg) for seg in segs]
    runs: list[tuple[list[int], list[Segment]]] = []
    for k, seg in enumerate(segs):
        if found[k] is not None and len(found[k]) == 3:
            runs.append((found[k], [seg]))
        elif k + 2 < len(segs) and all(f is not None and len(f) == 1 for f in found[k : k + 3]):
            runs.append(([f[0] for f in found[k : k + 3] if f], segs[k : k + 3]))
    for inside, run_segs in runs:
        count, pred, batch = (quantities[i] for i in inside)
        if count.is_memory or max([count.value, *count.alternatives]) < 1000 \
                or not (pred.is_memory and batch.is_memory) or not 0 < pred.value < batch.value:
            continue
        part_of.update(zip(inside, PARTS, strict=True))
        for seg, part in zip(run_segs, PARTS if len(run_segs) == 3 else [], strict=False):
            seg.labels = [part] + (["ram"] if part != "params" else [])
        if len(run_segs) == 1:
            run_segs[0].labels = [*PARTS, "ram"]
        return set(inside)
    return set()


_RESPECTIVELY = re.compile(r"respectively|respectivement|respectivamente|rispettivamente|jeweils|"
                           r"соответственно", re.I)
#: "1.", "b)", "(iii)", "a:" opening a line of a list
_ENUMERATOR = re.compile(r"[ \t]*(?:[-*•][ \t]+)?\(?(?:[1-3]|[a-c]|i{1,3})[.):][ \t]*", re.I)


#: The label right before a value: "pred: ", "ram_batch = "
_LABEL_BEFORE = re.compile(r"^\W*([^\W\d][\w ]{0,24})[:=]\s*$")
#: The words that name one of the two memory parts, whatever the batch size
_NAMES_A_RAM_PART = re.compile(rf"{PREDICTION_CUE.pattern}|{BATCH_CUE.format(n='(?!)', word='(?!)')}", re.I)


def by_order(text: str, quantities: list[Quantity], segs: list[Segment], part_of: dict[int, str],
              operands: set[int], negated: set[int]) -> None:
    """No sentence names the parameter count ('903,400' / '12.6 MB' / '565.6 MB' on three lines,
    'a) 903400'): the question asks for the count first, so the first plain count of a thousand
    or more that is not a step of a formula, before any amount of memory, answers it."""
    if "params" in part_of.values():
        return
    # "float32 = 4 bytes" is the size of one value, not an amount of memory answering a part
    first_memory = min((q.start for q in quantities if q.is_memory and q.value > 8), default=len(text))
    counts = []
    for i, q in enumerate(quantities):
        if q.is_memory or i in operands or i in negated or max([q.value, *q.alternatives]) < 1000:
            continue  # "903.400" (dot grouping) is a count of a thousand or more
        seg = segment_of(segs, q.start)
        if seg is None or NOT_A_COUNT_OF_PARAMS.match(text[q.end : seg.end]):
            continue
        label = _LABEL_BEFORE.search(text[text.rfind("\n", 0, q.start) + 1 : q.start])
        named = label.group(1) if label else ""
        if len(_NAMES_A_RAM_PART.findall(named)) == 1 and not PARAMS_CUE.search(named):
            continue  # "pred: 12613600", "batch = 565613600" (printed with no unit): not the count
        counts.append((i, seg, q.start > first_memory))
    # the count before any memory; else ("565.6 MB ..., 12.6 MB ... and 903,400"), in a text with no
    # other plain count, the one after the amounts
    before = [(i, seg) for i, seg, late in counts if not late]
    after = [(i, seg) for i, seg, late in counts if late]
    counts = before or (after if len(after) == 1 else [])
    # "Total = 831,400" after the per-layer lines: the count a sentence calls the total
    totals = [i for i, seg in counts if TOTAL_CUE.search(seg.text)]
    for i in totals or [i for i, _ in counts]:
        part_of[i] = "params"


def segment_of(segs: list[Segment], pos: int) -> Segment | None:
    for seg in segs:
        if seg.start <= pos < seg.end:
            return seg
    return None


def sum_of_later(reading: Reading, j: int) -> bool:
    """The count `j` is the sum of two or more counts written after it in its sentence: the total,
    stated before its terms."""
    seg = segment_of(reading.segments, reading.quantities[j].start)
    def count(q: Quantity) -> float:
        return max([q.value, *q.alternatives])  # "2.800" may group digits

    later = [count(q) for k, q in enumerate(reading.quantities) if k > j and seg is not None
             and seg.start <= q.start < seg.end and not q.is_memory and k not in reading.operands]
    return len(later) >= 2 and abs(sum(later) - count(reading.quantities[j])) < 0.5


#: After a term: what it counts is no parameter ("2,630,000 (activations)", "1,500,000 values").
_VALUES_TERM = re.compile(r"\s*\(?\s*(?:activations?|values?|outputs?|feature\s*maps?|maps?|floats?|pixels?|"
                          r"inputs?)\b", re.I)


def adds_values(reading: Reading, i: int) -> bool:
    """The count `i` is the result of a sum with a term said to count values: in '2,630,000
    (activations) + 903,400 (weights) = 3,533,400' the result counts values, not parameters."""
    q = reading.quantities[i]
    return any(eq.rhs.start == q.start and eq.is_sum
               and any(_VALUES_TERM.match(reading.text, o.end) for o in eq.lhs.operands)
               for eq in reading.equations)


def chain_ends(reading: Reading, idx: list[int]) -> list[int]:
    """'14,133,600 bytes = 13.47 MB': one value restated in another unit; the last one written is
    the student's figure."""
    out: list[int] = []
    for i in idx:
        if out:
            a, b = reading.quantities[out[-1]], reading.quantities[i]
            if re.fullmatch(r"\s*(?:=|≈|~|i\.e\.|or|,)\s*", reading.text[a.end : b.start]) and (
                    abs(a.value - b.value) <= 0.06 * max(a.value, b.value)):
                out[-1] = i
                continue
        out.append(i)
    return out


def lead_in(reading: Reading, seg: Segment) -> str:
    """A line that starts lower-case goes on with the sentence above it ('... for the input\npictures
    = 36 MB, plus the weights → 565.6 MB'): that sentence's words lead into it."""
    if not seg.text[:1].islower():
        return ""
    k = reading.segments.index(seg)
    prev = reading.segments[k - 1] if k > 0 else None
    if prev is None or "\n\n" in reading.text[prev.end : seg.start] or re.search(r"[.!?;)]$", prev.text):
        return ""  # a new paragraph, or the sentence above has ended
    # "RAM, one image:" over indented lines "layer1 ... = 6 MB" ... "sum = 10.52 MB": the header
    # leads into every line of its block, not only the first
    head, j = prev, k - 1
    while j > 0 and head.text[:1].islower() and not head.text.rstrip().endswith(":"):
        up = reading.segments[j - 1]
        if "\n\n" in reading.text[up.end : head.start] or re.search(r"[.!?;)]$", up.text):
            break
        head, j = up, j - 1
    return (head.text if head.text.rstrip().endswith(":") else prev.text) + " "


def _count(q: Quantity) -> float:
    return max([q.value, *q.alternatives])  # "2.800" may group digits


def sum_of_terms(reading: Reading, total: int, term: int) -> bool:
    """The count `total`, written later, is `term` plus one or two other counts stated for the
    parameters (2,800, 180,200 and 720,400; 903,400): `term` is a step of it."""
    values = [_count(q) for k, q in enumerate(reading.quantities)
              if k not in (total, term) and not q.is_memory and _count(q) >= 1000
              and reading.part_of.get(k) == "params" and k not in reading.operands]
    rest = _count(reading.quantities[total]) - _count(reading.quantities[term])
    if rest <= 0:
        return False
    return any(abs(v - rest) < 0.5 for v in values) or any(
        abs(a + b - rest) < 0.5 for x, a in enumerate(values) for b in values[x + 1:])


_ONE_LAYER = re.compile(r"\b(?:(?:first|second|third|last|\d(?:st|nd|rd|th)?)\s+(?:conv\s*)?layer|"
                        r"(?:conv\s*)?layer\s*\d|conv\s*\d)\b[^,;:.]*$", re.I)


def one_layer(reading: Reading, q: Quantity) -> bool:
    """'The third layer is only 1.52 MB': the clause before the amount names one layer."""
    seg = segment_of(reading.segments, q.start)
    if seg is None:
        return False
    before = re.split(r"[,;:]|\.\s", reading.text[seg.start : q.start])[-1]
    return bool(_ONE_LAYER.search(before))
