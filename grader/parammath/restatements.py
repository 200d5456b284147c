"""Other values an answer states for a part besides the one picked ("| RAM predict | 14.1 MB |" and
later "needs 7.2 MB for a single prediction"), and the words that make an amount a term of the
working or an aside rather than an answer (the verdict decides whether restated values conflict)."""

from __future__ import annotations

import re
from itertools import combinations

from grader.parammath.corrections import marks_correction
from grader.parammath.cues import MEMORY_CUE as _MEMORY_CUE
from grader.parammath.cues import PARAMS_CUE as _PARAMS_CUE
from grader.parammath.cues import PER_IMAGE as _PER_IMAGE
from grader.parammath.cues import PREDICTION_CUE as _PREDICTION_CUE
from grader.parammath.cues import TOTAL_CUE as _TOTAL_CUE
from grader.parammath.order import segment_of as _segment_of
from grader.parammath.picks import Pick, Reading
from grader.parammath.rivals import in_parentheses, labelled_cell
from grader.textnumbers import Quantity
from grader.textsegments import Segment

#: Words that make an amount a component or an aside, not the answer: "feature maps: 10.52 MB",
#: "without the biases: 902,700", "in float16 it would be 6.3 MB".
_COMPONENT = re.compile(
    r"feature|activation|output|weights|param|input|image\s+itself|bias|kernel|layer|\bmaps?\b|biggest|"
    r"largest|without|"
    r"excluding|w/o|forgot|wrong|mistake|instead|float16|fp16|half|16[- ]?bit|would|if\b|first\s+got",
    re.I)
_PARAMS_ASIDE = re.compile(
    r"without|excluding|w/o|no\s+bias|forgot|wrong|mistake|instead|would|\bif\b|layer|conv|first\s+got|"
    r"trainable|weights\s+only", re.I)
#: A value for another setting than the question's: "in float16 it would be 6.3 MB".
ASIDE = re.compile(r"float ?16|fp16|half[- ]precision|16[- ]?bits?|\bwould\b|\bif\s+we\b|in\s+practice|"
                    r"\be\.g\.|for\s+example|realistically|optimi[sz]er|"
                    # "fits on a 16 GB GPU", "with 64-bit floats it doubles to 25.2 MB", "TensorFlow
                    # itself uses about 2 GB": the hardware, another precision, the framework
                    r"\b[GT]PUs?\b|\bVRAM\b|float ?64|fp64|64[- ]?bits?|double[- ]precision|\bdoubles?\b|"
                    r"tensorflow|pytorch|keras|framework|overhead", re.I)
#: "12.6 MB, maybe 14.1 MB if nothing is freed": a hedged second value, not the student's answer
HEDGE = re.compile(r"\b(?:maybe|perhaps|possibly)\b", re.I)
_TOTAL_LINE = re.compile(r"\W*(?:total|gesamt|итого|всего)\s*[:=]", re.I)  # "Total = 14,133,600 bytes"
_LABEL_ONLY = re.compile(r"\W*[\w\s()/-]{0,40}[:=]\s*(?:about|approx\.?|ca\.?|~|≈)?\s*$", re.I)


def restatements(reading: Reading, pick: Pick, part: str, idx: list[int]) -> list[Pick]:
    """Other values that a sentence of their own states as the answer to `part`: the last amount
    of a sentence that asks for RAM (or a 'total'), about nothing but the part itself."""
    out: list[Pick] = []
    cue = _TOTAL_CUE if part == "params" else re.compile(_MEMORY_CUE.pattern + "|" + _TOTAL_CUE.pattern, re.I)
    for i in idx:
        q = reading.quantities[i]
        seg = _segment_of(reading.segments, q.start)
        if seg is None or seg is pick.segment or i in reading.negated or in_parentheses(reading, q):
            continue
        if part == "params" and (q.value < 10000
                                 or any(abs(q.value - k * pick.quantity.value) < 1 for k in (2, 4, 8))):
            continue  # "parameters 3613600": the parameters' bytes (4 per float32), not a second count
        # "Summary: params 903,400 | predict 9 MB | train 565.6 MB": each cell of a line is a clause
        later = [r for r in reading.quantities if seg.start <= r.start < seg.end and r.start > q.start
                 and r.is_memory == q.is_memory and "|" not in reading.text[q.end : r.start]]
        own = {"params": _PARAMS_CUE, "ram_prediction": _PREDICTION_CUE,
               "ram_batch": reading.batch_cue}.get(part)
        if own is None or not (own.search(seg.text) or (part in seg.labels and _TOTAL_LINE.match(seg.text))):
            continue  # the sentence names the part, or is the 'Total = ...' line of its working
        if part == "ram_batch" and _PER_IMAGE.search(
                reading.text[seg.start : q.start] + _clause(reading, q, seg)):
            continue  # "Per image in training: 11.24 MB": a rate of the batch, not a second total
        local = reading.text[seg.start : q.start]
        label = re.match(r"\W*([\w\s()/-]{0,40}):", seg.text)  # "Prediction: two layers ..., 12.6 MB."
        stated = (cue.search(seg.text) or (part != "params" and _LABEL_ONLY.fullmatch(local))
                  or marks_correction(seg.text)
                  or (part != "params" and label and own.search(label.group(1))))
        aside = (_PARAMS_ASIDE.search(_comma_clause(reading, q, seg)) or count_term(reading, q, pick.quantity)
                 if part == "params"
                 else _COMPONENT.search(_clause(reading, q, seg)) or ASIDE.search(seg.text)
                 or _working_term(reading, q, seg) or listed_term(reading, q)
                 or (term_of(reading, q, pick.quantity) and not labelled_cell(reading, q, seg, own)))
        if later or not stated or aside:
            continue
        same = 0.02 if q.is_memory else 0.0  # counts are exact; amounts are rounded as written
        if any(abs(q.value - v) <= same * max(q.value, v) + q.precision for v, _ in pick.quantity.readings()):
            continue
        out.append(Pick(quantity=q, segment=seg, why="another value stated for this part"))
    return out


#: What joins the amounts of a list: "6 MB, 3 MB und 1,52 MB", "6 Mo, 3 Mo et 1,52 Mo".
_LIST_JOIN = re.compile(
    r"\s*(?:,|;|/|\band\b|\bund\b|\bet\b|\be\b|\by\b|\bi\b|\bи\b|\bdan\b|\bve\b|、|和)\s*", re.I)


def listed_term(reading: Reading, q: Quantity) -> bool:
    """'also 6 MB, 3 MB und 1,52 MB.': an amount in a bare list of amounts is one of its terms
    (a layer each), not a value stated for the part."""
    amounts = [r for r in reading.quantities if r.is_memory]
    k = next((n for n, r in enumerate(amounts) if r is q), None)
    if k is None:
        return False
    near = [amounts[n] for n in (k - 1, k + 1) if 0 <= n < len(amounts)]
    return any(_LIST_JOIN.fullmatch(reading.text[min(q.end, r.end) : max(q.start, r.start)]) for r in near)


def _working_term(reading: Reading, q: Quantity, seg: Segment) -> bool:
    """'... and layer 2 is 75x50x200 = 3 MB': the result of a formula in a clause about one layer
    (or the maps, the weights) is a term of the working, not a second answer."""
    own = any(eq.rhs.start == q.start and len(eq.lhs.operands) >= 2 for eq in reading.equations)
    before = reading.text[seg.start : q.start]
    cut = max((m.end() for m in re.finditer(r"[,;:](?!\d)|\band\b", before)), default=0)
    return own and bool(_COMPONENT.search(before[cut:]))


def term_of(reading: Reading, q: Quantity, total: Quantity) -> bool:
    """'6 MB and 3 MB ... (3.6 MB) comes to 12.6 MB': an amount that, with one to three other
    amounts of the answer, adds up to the figure picked is a term of its working."""
    if not (q.is_memory and total.is_memory and q.value < total.value):
        return False
    others = [r.value for r in reading.quantities if r.is_memory and r is not q and r is not total
              and 0 < r.value < total.value][:12]
    rest = total.value - q.value
    for k in (1, 2, 3):
        for combo in combinations(others, k):
            if abs(sum(combo) - rest) <= 0.01 * total.value:
                return True
    return False


def count_term(reading: Reading, q: Quantity, total: Quantity) -> bool:
    """'lapisan 1 = ... = 2.800, lapisan 2 = ... = 180.200, lapisan 3 = ... = 720.400. Total parameter
    = 903.400': a count that, with other counts of the answer, adds up to the total is a layer's."""
    if q.is_memory or total.is_memory or not 0 < q.value < total.value:
        return False
    others = [r.value for r in reading.quantities if not r.is_memory and r is not q and r is not total
              and 1000 <= r.value < total.value][:12]
    rest = total.value - q.value
    return any(abs(sum(c) - rest) < 0.5 for k in (1, 2, 3) for c in combinations(others, k))


def _comma_clause(reading: Reading, q: Quantity, seg: Segment) -> str:
    """The clause an amount stands in, between commas or semicolons: in "each conv layer has
    (3*3*c + 1)*f weights, so the model has 903,400 parameters" the total is not about a layer."""
    before = reading.text[seg.start : q.start]
    cut = max((m.end() for m in re.finditer(r"[,;:](?!\d)", before)), default=0)
    after = reading.text[q.end : seg.end]
    stop = re.search(r"[,;](?!\d)", after)
    return before[cut:] + reading.text[q.start:q.end] + (after[: stop.start()] if stop else after)


def component(reading: Reading, q: Quantity) -> bool:
    """The words of the amount's clause make it a component ('of which the input images are 36 MB')."""
    seg = _segment_of(reading.segments, q.start)
    return seg is not None and bool(_COMPONENT.search(_clause(reading, q, seg)))


def _clause(reading: Reading, q: Quantity, seg: Segment) -> str:
    """The words around an amount within its clause: from the last number, comma or 'and' before
    it to the next one after it."""
    before = reading.text[seg.start : q.start]
    cut = max((m.end() for m in re.finditer(r"\d|[,;]|\band\b", before)), default=0)
    after = reading.text[q.end : seg.end]
    stop = re.search(r"\d|[,;]|\band\b", after)
    return before[cut:] + " " + (after[: stop.start()] if stop else after)
