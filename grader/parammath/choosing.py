"""Stage 1b of Q2 grading: among the numbers a reading gave to each part, choose the one that
answers it (the stated total, the conclusion of the working, the corrected value) or none when
several rival values are offered."""

from __future__ import annotations

import math
import re
from itertools import combinations

import grader.parammath.order as _order
from grader.parammath.corrections import in_regions, replacing_regions
from grader.parammath.cues import AT_LEAST as _AT_LEAST
from grader.parammath.cues import LABELLED_COUNT
from grader.parammath.cues import PARAMS_CUE as _PARAMS_CUE
from grader.parammath.cues import RAM_CUE as _RAM_CUE
from grader.parammath.cues import TOTAL_CUE as _TOTAL_CUE
from grader.parammath.order import PARTS
from grader.parammath.order import segment_of as _segment_of
from grader.parammath.picks import Pick, Reading
from grader.parammath.restatements import ASIDE as _ASIDE
from grader.parammath.restatements import HEDGE as _HEDGE
from grader.parammath.restatements import component
from grader.parammath.restatements import restatements as _restatements
from grader.parammath.restatements import term_of as _term_of
from grader.parammath.rivals import RESTATED, in_parentheses
from grader.parammath.rivals import rivals as _rivals
from grader.textnumbers import Quantity


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


def pick_answers(reading: Reading) -> None:
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
            if q.unit in ("B", "bit") and q.value <= 8:
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
        if part == "params":
            # "conv1: 2,800 (2,800); conv2: 180,200 (183,000); conv3: 720,400 (903,400)": a count in
            # parentheses that adds up every count outside them before it is the running total
            running = [i for i in idx if _running_total(reading, i, idx)]
            idx = running[-1:] or idx
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
        # "565,613,600 bytes, so roughly 0.5 GB", "12,613,600 bytes, call it ~12 MB": a rougher
        # gloss that the precise figure does not round to; the precise figure is the answer
        idx = [i for i in idx if not _odd_gloss(reading, i)] or idx
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
                cued = [k for k in cued if not (_component_listed(reading, k, cued) and any(
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


def _component_listed(reading: Reading, k: int, cued: list[int]) -> bool:
    """The amount is a component, or listed with one right before it ('the biggest maps are 6 MB
    and 3 MB': the 3 MB is a map too)."""
    q = reading.quantities[k]
    if component(reading, q):
        return True
    before = [j for j in cued if j < k]
    if not before:
        return False
    p = reading.quantities[before[-1]]
    joined = re.fullmatch(r"\s*(?:,|and|&|\+|plus)?\s*", reading.text[p.end : q.start])
    return bool(joined) and component(reading, p)


def _running_total(reading: Reading, i: int, idx: list[int]) -> bool:
    q = reading.quantities[i]
    if not in_parentheses(reading, q):
        return False
    terms = [reading.quantities[k].value for k in idx
             if k < i and not in_parentheses(reading, reading.quantities[k])]
    return len(terms) >= 2 and abs(sum(terms) - q.value) < 0.5


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
    r"insgesamt|zusammen|итого|всего|jadi|toplam|então|quindi|dunque|entonces|así\s+que|"
    # "... a la vez, son 9 MB", "ça fait 9 Mo", "das sind 9 MB", "that makes 9 MB": the copula
    # or verb that states what the working comes to
    r"son|sont|fait|sind|ergibt|makes|comes\s+to|we\s+get|that's|that\s+is))\s*"
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


#: Between a figure and a rougher gloss of it: ", so roughly", ", call it ~", "≈ ... so ~", "so like"
_GLOSS = re.compile(
    r"\s*[,;]?\s*(?:so|call\s+it|i\.?\s?e\.?|that'?s|which\s+is|so\s+it'?s|=>|→|also|also\s+etwa|"
    r"donc|então|or\s+so)?\s*[,:]?\s*"
    r"(?:roughly|about|approx\w*\.?|around|like|ca\.?|~|≈|circa|etwa|ungefähr|rund|environ|cerca\s+de|"
    r"aprox\w*\.?|mais\s+ou\s+menos|примерно|около|约|大约)\s*", re.I)


def _odd_gloss(reading: Reading, i: int) -> bool:
    """The amount glosses the figure right before it (same sentence) with a rounding that figure
    does not round to (565,613,600 B, so roughly 0.5 GB; 12.6 MB, call it ~12 MB): the student's
    figure is the precise one (rubric q2 labels: the gloss keeps the figure's credit)."""
    if i == 0:
        return False
    a, b = reading.quantities[i - 1], reading.quantities[i]
    if not (a.is_memory and b.is_memory and a.value > 0 and b.value > 0):
        return False
    seg = _segment_of(reading.segments, a.start)
    if seg is None or not seg.start <= b.start < seg.end:
        return False
    if not _GLOSS.fullmatch(reading.text[a.end : b.start]):
        return False
    if re.match(r"[^.;\n]{0,30}?(?:\bwith\b|\bplus\b|\bincl|\+|\band\s+the\b|\bmit\b|\bavec\b|"
                r"\bcom\b|\bcon\b)", reading.text[b.end : seg.end], re.I):
        return False  # "maps 10.52 MB, so roughly 12 MB with the weights": a new total, no gloss
    # two significant digits or fewer after a far more precise figure: a gloss, even where a 1024
    # reading makes it agree (0.53 GiB, so ~0.5 GB); "≈ 12.6 MB" after bytes is a restatement
    rough = b.precision / b.value >= 0.02 and b.precision / b.value > 10 * a.precision / a.value
    return rough and abs(a.value - b.value) <= 0.25 * a.value


def _at_least(reading: Reading, idx: list[int]) -> int | None:
    for i in idx:
        q = reading.quantities[i]
        seg = _segment_of(reading.segments, q.start)
        if seg and (_AT_LEAST.search(reading.text[max(seg.start, q.start - 25) : q.start])
                    or _AT_LEAST_AFTER.match(reading.text[q.end : seg.end])):
            return i  # "at least 12.6 MB", "gives about 12.6 MB at least"
    return None
