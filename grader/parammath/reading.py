"""Stage 1 of Q2 grading: read an answer's numbers, formulas and sentences, and pick the number
that answers each part (params, ram_prediction, ram_batch), saying why."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import combinations

import grader.parammath.order as _order
from grader.parammath.corrections import in_regions, replacing_regions
from grader.parammath.cues import AT_LEAST as _AT_LEAST
from grader.parammath.cues import BATCH_CUE as _BATCH_CUE
from grader.parammath.cues import LABELLED_COUNT
from grader.parammath.cues import MEMORY_CUE as _MEMORY_CUE
from grader.parammath.cues import NOT_A_COUNT_OF_PARAMS as _NOT_A_COUNT_OF_PARAMS
from grader.parammath.cues import NUMBER_WORDS as _NUMBER_WORDS
from grader.parammath.cues import PARAMS_CUE as _PARAMS_CUE
from grader.parammath.cues import PER_ONE as _PER_ONE
from grader.parammath.cues import PREDICTION_CUE as _PREDICTION_CUE
from grader.parammath.cues import RAM_CUE as _RAM_CUE
from grader.parammath.cues import TOTAL_CUE as _TOTAL_CUE
from grader.parammath.layout import _bare_lines_in_mb, answer_text, with_units
from grader.parammath.negation import is_negated
from grader.parammath.order import COUNTED_ON_NEXT_LINE, PARTS, answer_lists, by_order
from grader.parammath.order import segment_of as _segment_of
from grader.parammath.restatements import ASIDE as _ASIDE
from grader.parammath.restatements import HEDGE as _HEDGE
from grader.parammath.restatements import component
from grader.parammath.restatements import restatements as _restatements
from grader.parammath.restatements import term_of as _term_of
from grader.parammath.rivals import RESTATED, in_parentheses
from grader.parammath.rivals import rivals as _rivals
from grader.parammath.subparts import block_part, drop_terms_of_other_blocks, header_blocks
from grader.textnumbers import Equation, Quantity, find_equations, find_quantities
from grader.textsegments import Segment, segments

__all__ = ["PARTS", "Pick", "Reading", "answer_text", "read_answer", "with_units"]


# ---- reading the answer -------------------------------------------------------------------


@dataclass
class Pick:
    """The number chosen as the student's answer to one part, and why."""

    quantity: Quantity
    segment: Segment
    why: str
    cued: bool = True  # False when no sentence named the part and a fallback rule chose

    @property
    def confidence(self) -> float:
        return 0.95 if self.cued else 0.5


@dataclass
class Reading:
    text: str
    segments: list[Segment]
    quantities: list[Quantity]
    equations: list[Equation]
    part_of: dict[int, str]  # quantity index -> params | ram_prediction | ram_batch | ram
    operands: set[int]  # quantity indices used as operands of a formula
    picks: dict[str, Pick | None] = field(default_factory=dict)
    negated: set[int] = field(default_factory=set)  # "NOT 903,400": a value the student rejects
    #: part -> several different values offered for it ("902,700? 903,400?"): none is the answer
    conflicts: dict[str, list[Quantity]] = field(default_factory=dict)
    #: part -> other values stated as the answer to it in other sentences ("| RAM predict | 14.1
    #: MB |" and later "needs 7.2 MB for a single prediction"); the verdict decides if they conflict
    restated: dict[str, list[Pick]] = field(default_factory=dict)
    batch_cue: re.Pattern[str] | None = None
    #: part -> the value that would have been picked had it no rivals
    withheld: dict[str, Pick] = field(default_factory=dict)
    #: quantities given a part by their position in a list of the three answers (a guess)
    placed: set[int] = field(default_factory=set)

    def equations_in(self, part: str) -> list[Equation]:
        """Equations whose result sits in a sentence about `part` ('' for sentences about none)."""
        out = []
        for eq in self.equations:
            seg = self.segment_at(eq.rhs.start)
            if seg is not None and (part in seg.labels if part else not seg.labels):
                out.append(eq)
        return out

    def segment_at(self, pos: int) -> Segment | None:
        for seg in self.segments:
            if seg.start <= pos < seg.end + 1:
                return seg
        return None


def read_answer(text: str, batch_size: int) -> Reading:
    """Read every number, formula and sentence of an answer and pick the answer to each part."""
    text = _bare_lines_in_mb(with_units(text))
    segs = segments(text)
    batch_cue = re.compile(_BATCH_CUE.format(n=batch_size, word=_NUMBER_WORDS.get(batch_size, "_")), re.I)
    quantities = find_quantities(text)
    equations = find_equations(text)
    previous: list[str] = []
    part_cue: str | None = None  # the last of batch / prediction named so far
    blocks = header_blocks(text, batch_cue)
    last_end = 0
    for seg in segs:
        if "\n\n" in text[last_end : seg.start] and not seg.labels:
            previous = []  # a paragraph break ends what a line goes on about
            part_cue = None
        last_end = seg.end
        has_batch = bool(batch_cue.search(seg.text))
        has_pred = bool(_PREDICTION_CUE.search(seg.text))
        has_ram = bool(_MEMORY_CUE.search(seg.text) or re.search(r"\bbytes?\b|[KMG]i?B\b", seg.text))
        if _PARAMS_CUE.search(seg.text) and not _params_only_as_memory(seg.text):
            seg.labels.append("params")
        if has_batch:
            seg.labels.append("ram_batch")
        if has_pred:
            seg.labels.append("ram_prediction")
        if has_batch or has_pred:
            part_cue = "ram_batch" if _last_cue(seg.text, len(seg.text), batch_cue) else "ram_prediction"
        elif part_cue and has_ram and ("params" not in seg.labels or _AMOUNT_RE.search(seg.text)):
            # "= 12.6 MB" on the line after "RAM for one prediction"; "Then the weights too (...),
            # so we end up at 12.6 MB": an amount of memory goes on about the part, weights or not
            seg.labels.append(part_cue)
        if has_ram:
            seg.labels.append("ram")
        if not seg.labels:
            seg.labels = [label for label in previous if label != "ram"] or []  # a line that goes on
        scoped = block_part(blocks, seg.start)
        if scoped and (not any(p in seg.labels for p in PARTS) or (
                scoped != "params" and has_ram and not (has_batch or has_pred) and scoped not in seg.labels)):
            # a line under "### b) Inference" answers that part, an amount of memory there too
            # when the line names the weights ("weights 903,400 × 4 = 3.61 MB")
            seg.labels.append(scoped)
        previous = seg.labels
    eq_spans = {(q.start, q.end) for eq in equations for q in eq.lhs.operands}
    part_of: dict[int, str] = {}
    operands: set[int] = set()
    negated: set[int] = set()
    for i, q in enumerate(quantities):
        seg = _segment_of(segs, q.start)
        if seg is None:
            continue
        if (q.start, q.end) in eq_spans or _is_operand(text, q, seg):
            operands.add(i)
        if is_negated(text, q, seg):
            negated.add(i)
            continue
        if (not q.is_memory and q.end >= seg.end and COUNTED_ON_NEXT_LINE.match(text, q.end)
                and not _PARAMS_CUE.match(text[text.rfind("\n", 0, q.start) + 1 : q.start].strip())):
            continue  # "= 42,000,000\nfloats" (not "params = 903,400"): what it counts is on the next line
        part = _part_for(q, seg, batch_cue, batch_size)
        if part:
            part_of[i] = part
    _paired_labels(text, quantities, part_of, operands, batch_cue)
    drop_terms_of_other_blocks(blocks, quantities, part_of)
    placed = answer_lists(text, quantities, segs, part_of, operands)
    by_order(text, quantities, segs, part_of, operands, negated)
    reading = Reading(
        text=text,
        segments=segs,
        quantities=quantities,
        equations=equations,
        part_of=part_of,
        operands=operands,
        negated=negated,
        batch_cue=batch_cue,
        placed=placed,
    )
    _pick(reading)
    return reading


_AMOUNT = r"\d[\d.,]*\s*(?:[kKMG]i?B|bytes?|megabytes?)"
_AMOUNT_RE = re.compile(_AMOUNT + r"\b")
#: "12.6 MB / 565.6 MB (predict / train)": two amounts and, after them, their labels in the same order
_PAIRED = re.compile(r"(?P<a>\d[\d.,]*\s*[kKMG]i?B)\s*/\s*(?P<b>\d[\d.,]*\s*[kKMG]i?B)\s*"
                     r"\(\s*(?P<x>[^/()]{1,30}?)\s*/\s*(?P<y>[^/()]{1,30}?)\s*\)")


def _paired_labels(text: str, quantities: list[Quantity], part_of: dict[int, str], operands: set[int],
                   batch_cue: re.Pattern[str]) -> None:
    """'12.6 MB / 565.6 MB (predict / train)': a slash between amounts of memory lists them (no
    division of megabytes by megabytes), and the labels after them say which is which."""
    for m in _PAIRED.finditer(text):
        parts = []
        for label in (m.group("x"), m.group("y")):
            pred, batch = bool(_PREDICTION_CUE.search(label)), bool(batch_cue.search(label))
            parts.append("ram_prediction" if pred and not batch else
                         "ram_batch" if batch and not pred else None)
        if None in parts or parts[0] == parts[1]:
            continue
        for group, part in zip(("a", "b"), parts, strict=True):
            i = next((k for k, q in enumerate(quantities) if q.start == m.start(group)), None)
            if i is not None:
                part_of[i] = part
                operands.discard(i)


def _params_only_as_memory(text: str) -> bool:
    """'... = 10.52 MB, + 3.61 MB params = 14.13 MB': every mention of the parameters names their
    memory, so the sentence's plain counts (floats, values) are not the parameter count."""
    cues = list(_PARAMS_CUE.finditer(text))
    return bool(cues) and all(
        re.search(rf"{_AMOUNT}\s*(?:of\s+(?:the\s+)?)?$", text[max(0, m.start() - 25) : m.start()])
        or re.match(rf"\w*\s*(?:[:=(≈~]\s*|take\s+|use\s+)?{_AMOUNT}", text[m.end() : m.end() + 25])
        for m in cues)


def _around(reading: Reading, q: Quantity) -> str:
    """The words that qualify an amount: from the number before it (in its sentence) up to it, and
    after it up to the next punctuation: '(it would be 6.3 MB with float16)', 'in practice more,
    e.g. 1 GB'."""
    seg = _segment_of(reading.segments, q.start)
    if seg is None:
        return ""
    before = [r.end for r in reading.quantities if seg.start <= r.end <= q.start and r is not q]
    after = reading.text[q.end : seg.end]
    stop = re.search(r"[,;(]|(?<![\w.])\d", after)  # "in float16" is one word
    tail = after[: stop.start()] if stop else after
    return reading.text[max(before, default=seg.start) : q.start] + " " + tail


def _last_cue(text: str, upto: int, batch_cue: re.Pattern[str]) -> bool:
    """True when the last part cue before `upto` is a batch cue (else a prediction cue or none)."""
    b = [m.start() for m in batch_cue.finditer(text, 0, upto)]
    p = [m.start() for m in _PREDICTION_CUE.finditer(text, 0, upto)]
    return bool(b) and (not p or b[-1] > p[-1])


#: "2,700 / 27,000 / 902,700", "903,400 params / 12.6 MB / 565.6 MB": a list of values
_SLASH_LIST = re.compile(r"\d(?:\s*[A-Za-z]+)?\s+/\s+[\d.,]+(?:\s*[A-Za-z]+)?\s+/\s+\d")


def _is_operand(text: str, q: Quantity, seg: Segment) -> bool:
    """A number joined to another by an operator ('903,400 × 4 bytes', '27,000 + ...')."""
    before = text[seg.start : q.start]
    after = text[q.end : seg.end]
    if _SLASH_LIST.search(seg.text) and "=" not in seg.text:
        return False  # "2,700 / 27,000 / 902,700 / 903,400": a list of values, not divisions
    if not re.search(r"[=≈]", text[q.end : seg.end]) and _alternative_pair(text, q, seg):
        return False  # "902,700 / 903,400 (not sure which)": two candidates, not a division
    before_m = re.search(r"([+×x*/÷^·⋅∙(])\s*$", before)
    if before_m and before_m.group(1) == "(":
        # "(6 MB + 3 MB ...)" opens a formula; "(565.6 MB)" only restates a value
        if re.match(r"[^)]*[+×*/÷^·⋅∙]", after):
            return True
    elif before_m and (before_m.group(1) != "x" or re.search(r"[\d)]\s*x\s*$", before)):
        return True
    after_m = re.match(r"\s*,?\s*(?:[A-Za-z]+\s*){0,2}([+×*/÷^·⋅∙]|x(?=\s*[\d(]))\s*[\d(]", after)
    return bool(after_m)


def _alternative_pair(text: str, q: Quantity, seg: Segment) -> bool:
    """' / ' between two numbers of the same kind and size (within a factor of 2): alternatives."""
    for m in find_quantities(seg.text):
        start, end = m.start + seg.start, m.end + seg.start
        gap = text[end : q.start] if end <= q.start else text[q.end : start]
        if (re.fullmatch(r"\s+/\s+", gap) and m.is_memory == q.is_memory and q.value > 0
                and m.value != q.value and 0.5 <= m.value / q.value <= 2):
            return True
    return False


def _is_param_size(q: Quantity, seg: Segment) -> bool:
    """The amount is the size of a parameter count in the same sentence (count × 2, 4 or 8
    bytes, in MB or MiB): '903,400 (3.45 MB)', not 'two layers + weights: 12.03 MB'."""
    counts = [float(m.group().replace(",", "").replace(" ", "").replace("'", ""))
              for m in re.finditer(r"(?:\d{1,3}(?:[,' ]\d{3})+|\d{4,})(?![\d,.]|\s*[kKMG]?i?B\b|\s*bytes)",
                                   seg.text)]
    return any(abs(v - c * b) <= 0.06 * c * b for c in counts for b in (2, 4, 8) for v, _ in q.readings())


#: "Weights: 0.9034M floats", "parameters = 903,400 values": the count of parameters in floats.
_WEIGHTS_AS_FLOATS = re.compile(r"(?:weights|param(?:eter)?s)\s*(?:[:=]|is|are)?\s*[~≈]?\s*$", re.I)
_BATCH_SIZE_BEFORE = re.compile(r"(?:batch(?:[\s_-]*size)?|mini-?batch)\s*(?:of|=|:|is)?\s*$", re.I)


def _part_for(q: Quantity, seg: Segment, batch_cue: re.Pattern[str], batch_size: int = 0) -> str | None:
    local = seg.text[: q.start - seg.start]
    after = seg.text[q.end - seg.start :]
    if not q.is_memory and q.value == batch_size and _BATCH_SIZE_BEFORE.search(local):
        return None  # "a batch of 50", "batch size 50": the question's own number
    if q.is_memory:
        # "12.6 MB for a single prediction", "565.6 MB (batch of 50)": a cue right after the
        # amount, in the same clause, names it; otherwise the last cue before it does
        tight = _tight_cue_after(after, batch_cue, batch_before=bool(batch_cue.search(local)))
        if tight:
            return tight
        if batch_cue.search(local) or _PREDICTION_CUE.search(local):
            return "ram_batch" if _last_cue(local, len(local), batch_cue) else "ram_prediction"
        if batch_cue.search(after) or _PREDICTION_CUE.search(after):
            return "ram"  # the sentence names a part only in a later clause
        for part in ("ram_batch", "ram_prediction"):
            if part in seg.labels:
                return part
        if "params" in seg.labels and not _MEMORY_CUE.search(seg.text) and _is_param_size(q, seg):
            return None  # "Total params: 903,400 (3.45 MB)": a size stated, not a RAM answer
        return "ram"
    if _NOT_A_COUNT_OF_PARAMS.match(after) and not _WEIGHTS_AS_FLOATS.search(local):
        return None  # "100 feature maps", "50 images", "32-bit floats"
    if _PARAMS_CUE.match(after.strip()):
        return "params"
    if "params" in seg.labels and not _names_another_count(seg, q):
        return "params"
    return None


def _names_another_count(seg: Segment, q: Quantity) -> bool:
    """'one instance: layer1 + layer2 outputs = ... = 2,250,000, plus 903,400 params': in a sentence
    about memory, every mention of the parameters comes after `q` and names another number."""
    if not ({"ram_prediction", "ram_batch", "ram"} & set(seg.labels)):
        return False
    cues = list(_PARAMS_CUE.finditer(seg.text))
    return bool(cues) and all(
        m.start() > q.end - seg.start and re.search(r"\d\s*$", seg.text[: m.start()]) for m in cues)


def _tight_cue_after(after: str, batch_cue: re.Pattern[str], *, batch_before: bool = False) -> str | None:
    cues = [(m.start(), "ram_batch") for m in batch_cue.finditer(after)]
    cues += [(m.start(), "ram_prediction") for m in _PREDICTION_CUE.finditer(after)]
    per = _PER_ONE.match(after)
    if per and not cues and not batch_before:
        return "ram_prediction"  # "RAM: 7.2 MB per image." (a sentence with no batch in it)
    if not cues:
        return None
    start, part = min(cues)
    if any(re.match(r"[\w-]*\s*(?:\(\s*\d+\s*\)\s*)?[=≈~:]\s*[~≈]?\s*\d", after[m.start():])
           for m in (batch_cue.match(after, start), _PREDICTION_CUE.match(after, start)) if m):
        return None  # "ram≈12.6mb batch≈566mb": the cue is the label of the next value
    between = after[:start]
    if start > 40 or re.match(r"[ \t]*\n", between) or re.search(  # "12.6 MB\nbatch 565.6 MB": a new line
            # Thai writes no spaces between words: a space before Thai text ends a clause
            r"[,;.:=≈|·•—–，、；：。،؛]|\s/|\s[\u0e00-\u0e7f]|\d|\b(?:and|but|while|whereas|then|y|et|und|e|aber|mais|pero|aur|"
            r"lekin|ma|mas)\b", between, re.I):
        return None
    return part


def _pick(reading: Reading) -> None:
    replaced = replacing_regions(reading.text)
    rhs_spans = {(eq.rhs.start, eq.rhs.end) for eq in reading.equations}

    def candidates(part: str) -> list[int]:
        out = []
        for i, q in enumerate(reading.quantities):
            if reading.part_of.get(i) != part:
                continue
            if i in reading.operands and (q.start, q.end) not in rhs_spans:
                continue
            if part == "params" and max([q.value, *q.alternatives]) < 1000:
                continue  # "... mini-batch of 50", "*100": the question's small numbers are no count
            if q.is_memory and q.value <= 0:
                continue  # "Non-trainable params: 0 (0.00 B)"
            if q.unit == "B" and q.value <= 8:
                continue  # "32-bit floats are 4 bytes": the size of one value, not an answer
            out.append(i)
        return out

    def choose(idx: list[int], cue: re.Pattern[str], part: str) -> Pick | None:
        if not idx:
            return None
        # "903,400 / 12.6 MB / 565.6 MB" then the working: the list of the answers states them
        idx = [i for i in idx if i in reading.placed] or idx
        # "EDIT: ... the correct total is 903,400": the value marked as a replacement is the answer
        idx = [i for i in idx if in_regions(reading.quantities[i].start, replaced)] or idx
        floor = _at_least(reading, idx)
        if floor is not None:  # "at least 12.6 MB ... and up to 14.9 MB": the question asks the minimum
            q = reading.quantities[floor]
            seg = _segment_of(reading.segments, q.start)
            assert seg is not None
            return Pick(quantity=q, segment=seg, why="the value stated as the minimum ('at least')")
        # "(6 MB + 3 MB of maps and 3.6 MB of weights)": numbers in parentheses explain, not answer
        outside = [i for i in idx if not in_parentheses(reading, reading.quantities[i])
                   or re.match(r"\s*(?:exactly|precisely)", reading.text[reading.quantities[i].end:])]
        idx = outside or idx
        # "(it would be 6.3 MB with float16)": an aside about another setting is not the answer
        plain = [i for i in idx if not _ASIDE.search(_around(reading, reading.quantities[i]))
                 and not _HEDGE.search(_around(reading, reading.quantities[i]))]
        idx = plain or idx
        # "1,26,13,600 bytes i.e. around 12.6 MB": the same figure converted; the student's own
        # figure is the one written first
        idx = [i for i in idx if not _restates_previous(reading, i)] or idx
        cued = []
        for i in idx:
            q = reading.quantities[i]
            seg = _segment_of(reading.segments, q.start)
            if seg and cue.search(_order.lead_in(reading, seg) + seg.text[: q.start - seg.start]):
                cued.append(i)
        sure = part != "ram"  # "ram": no sentence says whether it is one prediction or the batch
        if cued:
            if part != "params":
                # "RAM for one prediction is 12.6 MB: 9 MB for two layers and 3.6 MB of weights": the
                # terms that explain a total stated first are not the answer
                cued = [k for k in cued if not _explains(reading, k, idx)] or cued
                # "total 565.6 MB, of which the input images are 36 MB": a component named after
                # the figure of its own sentence is no answer
                cued = [k for k in cued if not (component(reading, reading.quantities[k]) and any(
                    reading.quantities[j].value > reading.quantities[k].value
                    and not component(reading, reading.quantities[j]) and j < k
                    and _segment_of(reading.segments, reading.quantities[j].start)
                    is _segment_of(reading.segments, reading.quantities[k].start) for j in cued))] or cued
            i, why = cued[-1], "the last number in a sentence that states the answer"
            if part != "params":
                j = _conclusion(reading, i, idx)
                if j != i:
                    i, why = j, "the last amount of the paragraph that works out this part"
            if part == "params":  # "903.400, because first conv has 2.800, second 180.200 and 720.400"
                i = next((j for j in cued if _order.sum_of_later(reading, j)), i)
                # "... 28 in all, and 100 filters: 2,800. ... That is 903,400": a term of a total
                i = next((j for j in idx if j > i and _order.sum_of_terms(reading, j, i)), i)
        elif part == "params":
            idx = [i for i in idx if not _order.adds_values(reading, i)] or idx
            sums = [
                i
                for i in idx
                if any(eq.rhs.start == reading.quantities[i].start and eq.is_sum for eq in reading.equations)
            ]
            if sums:
                i, why = sums[-1], "the result of the sum of the per-layer counts"
            else:
                # "Out[6]: 12613600" beside "903400*4": the count the answer multiplies by the
                # bytes of a float is the parameter count, a larger one is bytes
                times_bytes = [k for k in idx if re.search(
                    rf"(?<![\d.,]){re.escape(reading.quantities[k].raw)}\s*[*×x·]\s*4\b", reading.text)]
                # "Parameters: 903,400." as a line's label: the count the answer states, not a larger
                # sum of values the working runs into later ("... plus 903,400 weights = 3,533,400")
                labelled = [k for k in idx if LABELLED_COUNT.search(
                    reading.text[max(0, reading.quantities[k].start - 30) : reading.quantities[k].start])]
                i = max(times_bytes or labelled or idx, key=lambda k: reading.quantities[k].value)
                why = "the largest parameter count written (no sentence says 'total')"
                sure = len(idx) == 1
        else:
            # "About 12.6 MB: the two layers (6 MB + 3 MB) plus the 3.6 MB of weights": a term of
            # another amount explains it
            whole = [k for k in idx if not any(
                k != j and reading.quantities[k].value < 0.9 * reading.quantities[j].value
                and _term_of(reading, reading.quantities[k], reading.quantities[j]) for j in idx)]
            # "The third layer is only 1.52 MB": an amount said of one layer is a term, not the total
            whole = [k for k in whole if not _order.one_layer(reading, reading.quantities[k])] or whole
            i, why = (whole or idx)[-1], "the last amount of memory written for this part"
        q = reading.quantities[i]
        seg = _segment_of(reading.segments, q.start)
        assert seg is not None  # candidates are numbers inside a segment
        if i in reading.placed:
            named = {"params": "the parameter count", "ram_prediction": "a single prediction"}.get(
                part, "the batch")
            why, sure = f"its place in a list of the three answers (no sentence names {named})", False
        return Pick(quantity=q, segment=seg, why=why, cued=sure)

    def settle(part: str, pick: Pick | None) -> Pick | None:
        """Several different values offered for one part: none of them is the answer."""
        if pick is None:
            return None
        rivals = _rivals(reading, pick, part)
        if rivals:
            reading.conflicts[part] = rivals
            reading.withheld[part] = pick
            return None
        return pick

    def counted_operands() -> list[int]:
        """'903,400 params × 4 bytes = 3.6 MB': with no count stated anywhere else, a count named
        as parameters where it enters the memory formula is the student's total."""
        return [i for i in reading.operands
                if reading.part_of.get(i) == "params" and reading.quantities[i].value >= 1000
                and not reading.quantities[i].is_memory
                and _PARAMS_CUE.match(reading.text[reading.quantities[i].end:].strip())]

    reading.picks["params"] = settle(
        "params", choose(candidates("params") or counted_operands(), _TOTAL_CUE, "params"))
    reading.picks["ram_prediction"] = settle(
        "ram_prediction", choose(candidates("ram_prediction"), _RAM_CUE, "ram_prediction"))
    reading.picks["ram_batch"] = settle("ram_batch", choose(candidates("ram_batch"), _RAM_CUE, "ram_batch"))
    loose = _order.chain_ends(reading, candidates("ram"))
    if (len(loose) == 2 and reading.quantities[loose[0]].value >= 10 * reading.quantities[loose[1]].value
            and reading.picks["ram_prediction"] is None and reading.picks["ram_batch"] is None):
        loose.reverse()  # "565,6 MB ..., 12,6 MB": two unnamed amounts, the batch's (the larger) first
    # "6000000+3000000+903400*4=12613600" under three per-layer products: unnamed amounts that are
    # results of a sum are the totals, the products before them steps
    sums = [i for i in loose if any(eq.rhs.start == reading.quantities[i].start and "+" in eq.lhs.text
                                    for eq in reading.equations)]
    if len(loose) > 2 and (len(sums) >= 2 or (sums and reading.picks["ram_batch"] is not None)):
        loose = sums
    if loose and reading.picks["ram_prediction"] is None and "ram_prediction" not in reading.conflicts:
        p = choose(loose[:1], _RAM_CUE, "ram")
        if p:
            p.why = "the first amount of memory written (no sentence names a single prediction)"
        reading.picks["ram_prediction"] = settle("ram_prediction", p)  # "9, 12.6 or 14.1 MB" too
        loose = loose[1:]
    pred = reading.picks["ram_prediction"]
    # a batch needs more than one prediction: a smaller amount is a step of the working, not the answer
    loose = [i for i in loose if pred is None or reading.quantities[i].value > 2 * pred.quantity.value]
    if loose and reading.picks["ram_batch"] is None and "ram_batch" not in reading.conflicts:
        p = choose(loose[-1:], _RAM_CUE, "ram")
        if p:
            p.why = "the last amount of memory written (no sentence names the batch)"
        reading.picks["ram_batch"] = settle("ram_batch", p)
    _corrected_loose(reading, [i for i in candidates("ram") if i not in reading.negated], replaced)
    for part in PARTS:
        pick = reading.picks.get(part)
        if pick is not None and pick.cued:
            others = _restatements(reading, pick, part, candidates(part))
            edits = replacing_regions(reading.text, summaries=False)
            if in_regions(pick.quantity.start, edits):  # what came before the EDIT is superseded
                others = [o for o in others if in_regions(o.quantity.start, edits)]
            reading.restated[part] = others


def _explains(reading: Reading, k: int, idx: list[int]) -> bool:
    """The amount is a term of a larger candidate of the same part, with one to three other amounts
    of that candidate's sentence."""
    q = reading.quantities[k]
    for j in idx:
        total = reading.quantities[j]
        seg = _segment_of(reading.segments, total.start)
        if j == k or seg is None or not (seg.start <= q.start < seg.end) or q.value >= total.value:
            continue
        others = [r.value for r in reading.quantities if r.is_memory and r is not q and r is not total
                  and seg.start <= r.start < seg.end and 0 < r.value < total.value][:8]
        rest = total.value - q.value
        slack = max(0.005 * total.value, total.precision)
        if rest <= slack + q.precision:
            continue  # "3,613,600 bytes, about 3.6 MB": the same amount said again
        if any(abs(sum(c) - rest) <= slack
               for n in (1, 2, 3) for c in combinations(others, n)):
            return True
    return False


def _conclusion(reading: Reading, i: int, idx: list[int]) -> int:
    """'RAM bei einer Vorhersage: ... also 6 MB, 3 MB und 1,52 MB. Man braucht ... (9 MB) plus die
    Parameter (3,6 MB): ca. 12,6 MB.': a larger amount of the same part later in the paragraph that
    states the answer concludes its working; the cued sentence only listed terms."""
    q = reading.quantities[i]
    later = [j for j in idx if j > i and reading.quantities[j].value > q.value
             and "\n\n" not in reading.text[q.end : reading.quantities[j].start]
             and _CONCLUDES.search(reading.text[max(0, reading.quantities[j].start - 30)
                                                : reading.quantities[j].start])]
    return later[-1] if later else i


#: Right before an amount that concludes a working: '=', '≈', '→', ': ca.', 'so', 'in total', 'also'
#: (not 'a 16 GB GPU', 'doubles to 25.2 MB', 'uses about 2 GB').
_CONCLUDES = re.compile(
    r"(?:[=≈~→:]|=>|->|\b(?:so|thus|hence|therefore|total|in\s+all|overall|gives?|giving|also|donc|soit|"
    r"insgesamt|zusammen|итого|всего|jadi|toplam|então|quindi|dunque|entonces|así\s+que))\s*"
    r"(?:(?:about|approx\.?|roughly|around|ca\.?|circa|environ|etwa|ungefähr|约|~|≈)\s*)?$", re.I)


def _corrected_loose(reading: Reading, loose: list[int], replaced: list[tuple[int, int]]) -> None:
    """'Corrección: ... así que son 50 × 11,24 MB + 3,6 MB = 565,6 MB': an amount after a correction
    mark that no sentence names replaces the earlier figure of the part it is nearest in size to
    (within a factor of 5), when that figure came before the mark."""
    late = [i for i in loose if in_regions(reading.quantities[i].start, replaced)]
    for i in _order.chain_ends(reading, late)[-2:]:
        q = reading.quantities[i]
        near = [(abs(math.log(q.value / p.quantity.value)), part) for part in ("ram_prediction", "ram_batch")
                if (p := reading.picks.get(part)) is not None and p.quantity.value > 0
                and not in_regions(p.quantity.start, replaced)]
        if q.value > 0 and near and min(near)[0] < math.log(5):
            seg = _segment_of(reading.segments, q.start)
            if seg is not None:
                reading.picks[min(near)[1]] = Pick(quantity=q, segment=seg,
                                                   why="the value after the correction")


_AT_LEAST_AFTER = re.compile(r"\s*(?:at\s+(?:the\s+)?(?:very\s+)?least|minimum)\b", re.I)


def _restates_previous(reading: Reading, i: int) -> bool:
    if i == 0:
        return False
    a, b = reading.quantities[i - 1], reading.quantities[i]
    return (a.is_memory and b.is_memory and bool(RESTATED.fullmatch(reading.text[a.end : b.start]))
            and abs(a.value - b.value) <= 0.06 * max(a.value, b.value))


def _at_least(reading: Reading, idx: list[int]) -> int | None:
    for i in idx:
        q = reading.quantities[i]
        seg = _segment_of(reading.segments, q.start)
        if seg and (_AT_LEAST.search(reading.text[max(seg.start, q.start - 25) : q.start])
                    or _AT_LEAST_AFTER.match(reading.text[q.end : seg.end])):
            return i  # "at least 12.6 MB", "gives about 12.6 MB at least"
    return None
