"""Stage 1 of Q2 grading: read an answer's numbers, formulas and sentences and say which part
(params, ram_prediction, ram_batch) each number is about; grader.parammath.choosing then picks
the number that answers each part, saying why."""

from __future__ import annotations

import re

from grader.parammath.choosing import pick_answers
from grader.parammath.cues import BATCH_CUE as _BATCH_CUE
from grader.parammath.cues import MEMORY_CUE as _MEMORY_CUE
from grader.parammath.cues import NOT_A_COUNT_OF_PARAMS as _NOT_A_COUNT_OF_PARAMS
from grader.parammath.cues import NUMBER_WORDS as _NUMBER_WORDS
from grader.parammath.cues import PARAMS_CUE as _PARAMS_CUE
from grader.parammath.cues import PER_ONE as _PER_ONE
from grader.parammath.cues import PREDICTION_CUE as _PREDICTION_CUE
from grader.parammath.layout import _bare_lines_in_mb, answer_text, with_units
from grader.parammath.negation import is_negated
from grader.parammath.numberwords import digits_for_myriads, digits_for_number_words
from grader.parammath.order import COUNTED_ON_NEXT_LINE, PARTS, answer_lists, by_order
from grader.parammath.order import segment_of as _segment_of
from grader.parammath.picks import Pick, Reading
from grader.parammath.subparts import block_part, drop_terms_of_other_blocks, header_blocks
from grader.textformulas import find_equations
from grader.textnumbers import Quantity, find_quantities
from grader.textsegments import Segment, segments

__all__ = ["PARTS", "Pick", "Reading", "answer_text", "read_answer", "with_units"]


def read_answer(text: str, batch_size: int) -> Reading:
    """Read every number, formula and sentence of an answer and pick the answer to each part."""
    text = _bare_lines_in_mb(with_units(digits_for_myriads(digits_for_number_words(text))))
    segs = segments(text)
    batch_cue = re.compile(_BATCH_CUE.format(n=batch_size, word=_NUMBER_WORDS.get(batch_size, "_")), re.I)
    quantities = find_quantities(text)
    equations = find_equations(text)
    previous: list[str] = []
    part_cue: str | None = None  # the last of batch / prediction named so far
    blocks = header_blocks(text, batch_cue)
    last_end = 0
    for seg in segs:
        # "... weights and one bias:" then, apart, the display formula "$$ ... = 903400 $$": a line
        # that ends with a colon opens what follows the break
        opened = text[:last_end].rstrip().endswith(":")
        if ("\n\n" in text[last_end : seg.start] and not seg.labels and not _CONCLUDING_LINE.match(seg.text)
                and not opened):
            # a paragraph break ends what a line goes on about, unless the line concludes the
            # block above it ("- Parameters: 3.61 MB" then, apart, "Total ≈ 1,091.6 MB")
            previous = []
            part_cue = None
        last_end = seg.end
        # "Prediction, one image: the same without the batch factor, ...": a batch said away is no cue
        cue_text = _unbatched(seg.text)
        has_batch = bool(batch_cue.search(cue_text))
        has_pred = bool(_PREDICTION_CUE.search(seg.text))
        has_ram = bool(_MEMORY_CUE.search(seg.text) or re.search(r"\bbytes?\b|[KMG]i?B\b", seg.text))
        if _PARAMS_CUE.search(seg.text) and not _params_only_as_memory(seg.text):
            seg.labels.append("params")
        if has_batch:
            seg.labels.append("ram_batch")
        if has_pred:
            seg.labels.append("ram_prediction")
        if has_batch or has_pred:
            part_cue = "ram_batch" if _last_cue(cue_text, len(cue_text), batch_cue) else "ram_prediction"
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
    pick_answers(reading)
    return reading


_AMOUNT = r"\d[\d.,]*\s*(?:[kKMG]i?B|bytes?|megabytes?)"
_AMOUNT_RE = re.compile(_AMOUNT + r"\b")
#: "12.6 MB / 565.6 MB (predict / train)": two amounts and, after them, their labels in the same order
_PAIRED_UNIT = r"(?:[kKMG]i?B|[kKmMgG][bB]|Mo|Go)"  # "12.6mb/565.6mb" as students type it
_PAIRED = re.compile(rf"(?P<a>\d[\d.,]*\s*{_PAIRED_UNIT})\s*/\s*(?P<b>\d[\d.,]*\s*{_PAIRED_UNIT})\s*"
                     r"\(\s*(?P<x>[^/()]{1,30}?)\s*/\s*(?P<y>[^/()]{1,30}?)\s*\)")


#: A batch mentioned only to be left out: "without the batch factor", "ohne den Batch", "sans le batch"
_NO_BATCH = re.compile(r"\b(?:without|minus|ohne|sans|sin|sem|без)\s+"
                       r"(?:the\s+|a\s+|den\s+|die\s+|le\s+|la\s+|el\s+|o\s+)?(?:mini-?)?(?:batch|lote|stapel|батча?)\w*"
                       r"(?:\s+(?:factor|size|dimension|faktor|facteur|factor))?", re.I)


def _unbatched(text: str) -> str:
    """The text with each batch said away blanked out (same length, so offsets hold)."""
    return _NO_BATCH.sub(lambda m: " " * len(m.group()), text)


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
        # "14.1 / 28.3 MB depending on float32 or float64": a doubling offered as the other case
        if (re.fullmatch(r"\s+/\s+", gap) and m.is_memory == q.is_memory and q.value > 0
                and m.value != q.value and (0.45 <= m.value / q.value <= 2.2 or _DEPENDING.search(seg.text))):
            return True
    return False


#: "X / Y depending on ...": each value for one case, offered together
_DEPENDING = re.compile(r"\bdepend\w*|\bje\s+nach\b|\babhängig|\bselon\b|\bsuivant\b|\bsegún\b|"
                        r"\bdependendo\b|\bв\s+зависимости\b|取决于|视", re.I)


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


#: A line that states the total of the block above it
_CONCLUDING_LINE = re.compile(r"\W*(?:total|overall|in\s+all|altogether|grand\s+total)\b", re.I)
#: A line's own label: "training: ...", "- Batch (50 images): ..." (up to its colon)
_LINE_LABEL = re.compile(r"\W*([^\W\d][^:\n]{0,30}):")
#: A label of a count that is no parameter count: "output (floats) 2,630,000", "activations 2,630,000"
_OTHER_COUNT_LABEL = re.compile(r"\b(?:outputs?|activations?|feature\s*maps?|floats?|values?|neurons?|"
                                r"pixels?|inputs?)\b[^\d]{0,12}$", re.I)


def _scaled_later(q: Quantity, after: str) -> bool:
    """The amount's number is a factor later in the sentence ('11.24 MB ... 50 × 11.24')."""
    num = re.escape(re.match(r"[\d.,]+", q.raw).group(0)) if re.match(r"[\d.,]+", q.raw) else None
    return bool(num) and bool(re.search(rf"[×x*·]\s*{num}(?![\d])|(?<![\d.,]){num}\s*(?:[KMG]i?B\s*)?[×x*·]",
                                        after))


def _part_for(q: Quantity, seg: Segment, batch_cue: re.Pattern[str], batch_size: int = 0) -> str | None:
    local = _unbatched(seg.text[: q.start - seg.start])
    after = _unbatched(seg.text[q.end - seg.start :])
    if not q.is_memory and q.value == batch_size and _BATCH_SIZE_BEFORE.search(local):
        return None  # "a batch of 50", "batch size 50": the question's own number
    if q.is_memory:
        head = _LINE_LABEL.match(local)
        if (head and batch_cue.search(head.group(1)) and not _PREDICTION_CUE.search(head.group(1))
                and ":" not in local[head.end() :] and _scaled_later(q, after)):
            # "training: for 1 image 11.24 MB ..., for 50 images 50 × 11.24 = 562 MB": under a label
            # that names the batch, an amount per image that the working then multiplies is a step
            return "ram_batch"
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
    clause = re.split(r"[,;]", local)[-1]
    if _OTHER_COUNT_LABEL.search(clause) and not _PARAMS_CUE.search(clause):
        return None  # "Total: params 903,400, output (floats) 2,630,000": the column names another count
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
