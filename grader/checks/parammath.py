"""Q2-style parameter and memory math, graded like a careful TA (check kind `param-math`).

Three items share one reading of the answer (`params.part`: params | ram_prediction |
ram_batch). The expected values come from `reference: conv_net_memory`, which builds the
network described in the item's params with Keras (cached, so no TensorFlow here).

How a part is graded, in this order:
1. Find the number that answers the part (`grader.textnumbers` reads the numbers; the context
   of each sentence decides the part) and show that decision as evidence.
2. Full credit if it equals an accepted value under any convention (MB or MiB, to the
   precision written, within `tolerance`), or follows correctly from the student's own
   (wrong) parameter count: an error is charged once, in `q2.params`.
3. Otherwise name the mistake: a known wrong value (parameters × 4 bytes only, feature maps
   without their depth, inputs without 4 bytes, biases forgotten ...) or the first written
   step whose arithmetic does not hold. Partial credit only for a sound method with a slip.

Diagnosis codes: missing-biases, arithmetic-error, sum-mismatch, ram-params-only,
activations-missing-feature-maps, input-bytes-missing, batch-not-answered, no-number-found;
and three more mistakes seen in answers: parameters-not-counted (feature maps only, partial),
inputs-not-counted (batch without its input images, partial), batch-scaled-prediction
(50 × the one-prediction figure: parameters counted per image, only two layers kept, none).
Item params: part, reference, network (see reference/q2_memory.py), and optionally
partial_credit (default 0.5) and tolerance (relative, default 0.005).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from grader.checks.base import Diagnosis, Outcome, register
from grader.plugin import require_answer
from grader.textnumbers import (
    BYTE_UNITS,
    Equation,
    Quantity,
    Segment,
    agrees,
    find_equations,
    find_quantities,
    format_number,
    segments,
)

PARTS = ("params", "ram_prediction", "ram_batch")
DEFAULT_TOLERANCE = 0.005  # relative, on top of the precision written: 564.6 MB for 565.6 MB passes
DEFAULT_PARTIAL = 0.5  # credit for a sound method with an arithmetic slip

_BATCH_CUE = r"batch|training|\btrain|backprop|\b{n}\s+(?:images|instances|samples|pictures|inputs)"
_PREDICTION_CUE = re.compile(
    r"predict|single|inference|for\s+(?:one|1|a)\s+(?:image|instance|input|sample)", re.I
)
_PARAMS_CUE = re.compile(r"param|weights?\b|bias", re.I)
_RAM_CUE = re.compile(r"\bRAM\b|memory|\brequire|\bneed|\bat least|minimum|\btotal|overall|answer", re.I)
_MEMORY_CUE = re.compile(r"\bRAM\b|memory|\brequire|\bneed", re.I)
_TOTAL_CUE = re.compile(
    r"total|overall|altogether|in all|sum|whole|answer|the (?:cnn|network|model) has", re.I
)
_NOT_A_COUNT_OF_PARAMS = re.compile(
    r"[ \t]*-?[ \t]*(?:images?|instances?|samples?|pictures?|pixels?|feature\s*maps?|maps?|filters?|"
    r"channels?|bits?\b|layers?|kernels?|floats?|values?|neurons?|units?)",
    re.I,
)


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


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def answer_text(answer: Any, prompt: str) -> str:
    """The answer's prose and code comments, plus simple arithmetic in its code and its outputs;
    sentences copied from the question's prompt are left out."""
    parts = [answer.text or ""]
    code_lines = _code_arithmetic(answer.code or "")
    if code_lines:
        parts.append("\n\n".join(code_lines))
    if getattr(answer, "outputs_text", ""):
        parts.append(answer.outputs_text)
    text = "\n".join(p for p in parts if p.strip())
    norm_prompt = _norm(prompt)
    if not norm_prompt:
        return text
    kept = [text[:0]]
    pos = 0
    for seg in segments(text):
        n = _norm(seg.text)
        if len(n) >= 20 and n in norm_prompt:
            kept.append(text[pos : seg.start])
            pos = seg.end
    kept.append(text[pos:])
    return "".join(kept)


def _code_arithmetic(code: str) -> list[str]:
    """`name = <arithmetic>` lines of the student's code, evaluated without running anything:
    'params total = 903400'. Names of memory variables (ram, mem, bytes) get a byte unit."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    env: dict[str, float] = {}
    lines = []
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            continue
        value = _eval_node(node.value, env)
        if value is None:
            continue
        name = node.targets[0].id
        env[name] = value
        label = name.replace("_", " ")
        unit = ""
        if re.search(r"(?:^|_)(?:ram|mem|memory)(?:_|$)|bytes", name, re.I):
            unit = " MB" if re.search(r"mb$|_mb_", name, re.I) else " bytes"
        lines.append(f"{label} = {value:.10g}{unit}.")
    return lines


def _eval_node(node: ast.AST, env: dict[str, float]) -> float | None:
    ops = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b if b else None,
        ast.Pow: lambda a, b: a**b if abs(b) < 30 else None,
    }
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in ops:
        a, b = _eval_node(node.left, env), _eval_node(node.right, env)
        return None if a is None or b is None else ops[type(node.op)](a, b)
    return None


def read_answer(text: str, batch_size: int) -> Reading:
    """Read every number, formula and sentence of an answer and pick the answer to each part."""
    segs = segments(text)
    batch_cue = re.compile(_BATCH_CUE.format(n=batch_size), re.I)
    quantities = find_quantities(text)
    equations = find_equations(text)
    previous: list[str] = []
    part_cue: str | None = None  # the last of batch / prediction named so far
    for seg in segs:
        has_batch = bool(batch_cue.search(seg.text))
        has_pred = bool(_PREDICTION_CUE.search(seg.text))
        has_ram = bool(_MEMORY_CUE.search(seg.text) or re.search(r"\bbytes?\b|[KMG]i?B\b", seg.text))
        if _PARAMS_CUE.search(seg.text):
            seg.labels.append("params")
        if has_batch:
            seg.labels.append("ram_batch")
        if has_pred:
            seg.labels.append("ram_prediction")
        if has_batch or has_pred:
            part_cue = "ram_batch" if _last_cue(seg.text, len(seg.text), batch_cue) else "ram_prediction"
        elif part_cue and has_ram and "params" not in seg.labels:
            seg.labels.append(part_cue)  # "= 12.6 MB" on the line after "RAM for one prediction"
        if has_ram:
            seg.labels.append("ram")
        if not seg.labels:
            seg.labels = [label for label in previous if label != "ram"] or []  # a line that goes on
        previous = seg.labels
    eq_spans = {(q.start, q.end) for eq in equations for q in eq.lhs.operands}
    part_of: dict[int, str] = {}
    operands: set[int] = set()
    for i, q in enumerate(quantities):
        seg = _segment_of(segs, q.start)
        if seg is None:
            continue
        if (q.start, q.end) in eq_spans or _is_operand(text, q, seg):
            operands.add(i)
        part = _part_for(q, seg, batch_cue)
        if part:
            part_of[i] = part
    reading = Reading(
        text=text,
        segments=segs,
        quantities=quantities,
        equations=equations,
        part_of=part_of,
        operands=operands,
    )
    _pick(reading)
    return reading


def _in_parentheses(reading: Reading, q: Quantity) -> bool:
    seg = _segment_of(reading.segments, q.start)
    if seg is None:
        return False
    before = reading.text[seg.start : q.start]
    return before.count("(") > before.count(")")


def _segment_of(segs: list[Segment], pos: int) -> Segment | None:
    for seg in segs:
        if seg.start <= pos < seg.end:
            return seg
    return None


def _last_cue(text: str, upto: int, batch_cue: re.Pattern[str]) -> bool:
    """True when the last part cue before `upto` is a batch cue (else a prediction cue or none)."""
    b = [m.start() for m in batch_cue.finditer(text, 0, upto)]
    p = [m.start() for m in _PREDICTION_CUE.finditer(text, 0, upto)]
    return bool(b) and (not p or b[-1] > p[-1])


def _is_operand(text: str, q: Quantity, seg: Segment) -> bool:
    """A number joined to another by an operator ('903,400 × 4 bytes', '27,000 + ...')."""
    before = text[seg.start : q.start]
    after = text[q.end : seg.end]
    before_m = re.search(r"([+×x*/÷^·⋅(])\s*$", before)
    if before_m and (before_m.group(1) != "x" or re.search(r"[\d)]\s*x\s*$", before)):
        return True
    after_m = re.match(r"\s*(?:[A-Za-z]+\s*){0,2}([+×*/÷^·⋅]|x(?=\s*[\d(]))\s*[\d(]", after)
    return bool(after_m)


def _part_for(q: Quantity, seg: Segment, batch_cue: re.Pattern[str]) -> str | None:
    local = seg.text[: q.start - seg.start]
    after = seg.text[q.end - seg.start :]
    if q.is_memory:
        # "12.6 MB for a single prediction", "565.6 MB (batch of 50)": a cue right after the
        # amount, in the same clause, names it; otherwise the last cue before it does
        tight = _tight_cue_after(after, batch_cue)
        if tight:
            return tight
        if batch_cue.search(local) or _PREDICTION_CUE.search(local):
            return "ram_batch" if _last_cue(local, len(local), batch_cue) else "ram_prediction"
        if batch_cue.search(after) or _PREDICTION_CUE.search(after):
            return "ram"  # the sentence names a part only in a later clause
        for part in ("ram_batch", "ram_prediction"):
            if part in seg.labels:
                return part
        if "params" in seg.labels and not _MEMORY_CUE.search(seg.text):
            return None  # "Total params: 903,400 (3.45 MB)": a size stated, not a RAM answer
        return "ram"
    if _NOT_A_COUNT_OF_PARAMS.match(after):
        return None  # "100 feature maps", "50 images", "32-bit floats"
    if "params" in seg.labels or _PARAMS_CUE.match(after.strip()):
        return "params"
    return None


def _tight_cue_after(after: str, batch_cue: re.Pattern[str]) -> str | None:
    cues = [(m.start(), "ram_batch") for m in batch_cue.finditer(after)]
    cues += [(m.start(), "ram_prediction") for m in _PREDICTION_CUE.finditer(after)]
    if not cues:
        return None
    start, part = min(cues)
    between = after[:start]
    if start > 40 or re.search(r"[,;.:=≈]|\d|\b(?:and|but|while|whereas|then)\b", between):
        return None
    return part


def _pick(reading: Reading) -> None:
    rhs_spans = {(eq.rhs.start, eq.rhs.end) for eq in reading.equations}

    def candidates(part: str) -> list[int]:
        out = []
        for i, q in enumerate(reading.quantities):
            if reading.part_of.get(i) != part:
                continue
            if i in reading.operands and (q.start, q.end) not in rhs_spans:
                continue
            if part == "params" and q.value < 10:
                continue
            out.append(i)
        return out

    def choose(idx: list[int], cue: re.Pattern[str], part: str) -> Pick | None:
        if not idx:
            return None
        # "(6 MB + 3 MB of maps and 3.6 MB of weights)": numbers in parentheses explain, not answer
        outside = [i for i in idx if not _in_parentheses(reading, reading.quantities[i])]
        idx = outside or idx
        cued = []
        for i in idx:
            q = reading.quantities[i]
            seg = _segment_of(reading.segments, q.start)
            if seg and cue.search(seg.text[: q.start - seg.start]):
                cued.append(i)
        sure = part != "ram"  # "ram": no sentence says whether it is one prediction or the batch
        if cued:
            i, why = cued[-1], "the last number in a sentence that states the answer"
        elif part == "params":
            sums = [
                i
                for i in idx
                if any(eq.rhs.start == reading.quantities[i].start and eq.is_sum for eq in reading.equations)
            ]
            if sums:
                i, why = sums[-1], "the result of the sum of the per-layer counts"
            else:
                i = max(idx, key=lambda k: reading.quantities[k].value)
                why = "the largest parameter count written (no sentence says 'total')"
                sure = len(idx) == 1
        else:
            i, why = idx[-1], "the last amount of memory written for this part"
        q = reading.quantities[i]
        seg = _segment_of(reading.segments, q.start)
        assert seg is not None  # candidates are numbers inside a segment
        return Pick(quantity=q, segment=seg, why=why, cued=sure)

    reading.picks["params"] = choose(candidates("params"), _TOTAL_CUE, "params")
    reading.picks["ram_prediction"] = choose(candidates("ram_prediction"), _RAM_CUE, "ram_prediction")
    reading.picks["ram_batch"] = choose(candidates("ram_batch"), _RAM_CUE, "ram_batch")
    loose = candidates("ram")
    if loose and reading.picks["ram_prediction"] is None:
        p = choose(loose[:1], _RAM_CUE, "ram")
        if p:
            p.why = "the first amount of memory written (no sentence names a single prediction)"
        reading.picks["ram_prediction"] = p
        loose = loose[1:]
    pred = reading.picks["ram_prediction"]
    # a batch needs more than one prediction: a smaller amount is a step of the working, not the answer
    loose = [i for i in loose if pred is None or reading.quantities[i].value > 2 * pred.quantity.value]
    if loose and reading.picks["ram_batch"] is None:
        p = choose(loose[-1:], _RAM_CUE, "ram")
        if p:
            p.why = "the last amount of memory written (no sentence names the batch)"
        reading.picks["ram_batch"] = p


# ---- expected values and known mistakes ---------------------------------------------------


@dataclass
class Target:
    """A value (bytes or a count) the answer may equal, and what equalling it means."""

    value: float
    label: str  # what it is, in words, for the feedback
    accepted: bool
    code: str | None = None  # diagnosis when matched and not accepted
    credit: float = 0.0
    fix: str = ""


def _depth_fix(ref: dict[str, Any]) -> str:
    first = ref["layers"][0]
    oh, ow, f = first["output_shape"]
    return (
        f"A layer's output is height × width × feature maps values, e.g. {oh}×{ow}×{f} × "
        f"{ref['bytes_per_value']} bytes = {first['bytes'] / 1e6:g} MB for the first layer."
    )


def breakdown(part: str, ref: dict[str, Any]) -> str:
    """How the expected value is made up, in the words a TA would write on the margin."""
    b, n = ref["bytes_per_value"], ref["batch_size"]
    pb = ref["param_bytes"] / 1e6
    params = f"{format_number(ref['params_total'])} parameters × {b} bytes = {pb:.1f} MB"
    if part == "ram_prediction":
        chain = [("the input", ref["input_bytes"])] + [
            (f"layer {i + 1}", layer["bytes"]) for i, layer in enumerate(ref["layers"])
        ]
        i = max(range(len(chain) - 1), key=lambda k: chain[k][1] + chain[k + 1][1])
        (a, av), (z, zv) = chain[i], chain[i + 1]
        total = ref["ram_prediction"]["optimised-minimum"] / 1e6
        return (
            f"Working: the outputs of {a} and {z} at once ({av / 1e6:g} MB + {zv / 1e6:g} MB) plus "
            f"{params}, about {total:.1f} MB."
        )
    if part == "ram_batch":
        maps = ref["maps_bytes"] / 1e6
        inputs = ref["input_bytes"] / 1e6
        total = ref["ram_batch"]["batch-minimum"] / 1e6
        return (
            f"Working: training keeps every layer's feature maps for each image, {n} × {maps:g} MB, plus "
            f"the input images, {n} × {inputs:g} MB, plus {params}: about {total:.1f} MB."
        )
    return "Per layer: " + "; ".join(_layer_formula(layer) for layer in ref["layers"]) + "."


def _mb(value: float) -> str:
    return f"{value / 1e6:,.1f} MB ({value / 2**20:,.2f} MiB)"


def targets(part: str, ref: dict[str, Any], student_params: float | None, partial: float) -> list[Target]:
    """Accepted values and known wrong values for one RAM part (bytes)."""
    b = ref["bytes_per_value"]
    n = ref["batch_size"]
    p_ref = ref["params_total"]
    layers = ref["layers"]
    h, w, c = ref["input_shape"]
    maps = [layer["bytes"] for layer in layers]
    spatial = [layer["spatial"] for layer in layers]
    chain = [h * w, *spatial]
    pair_spatial = max(chain[i] + chain[i + 1] for i in range(len(chain) - 1))
    maps_text = " + ".join(f"{layer['bytes'] / 1e6:g} MB" for layer in layers)
    depth_fix = _depth_fix(ref)
    counts = [p_ref]
    if student_params and abs(student_params - p_ref) > 0.5:
        counts.append(student_params)
    weights = sum(layer["weights"] for layer in layers)
    if weights not in counts:
        counts.append(weights)
    out: list[Target] = []
    for count in counts:
        carried = "" if count == p_ref else f" (from your count of {format_number(count)} parameters)"
        pb = count * b
        accepted_count = count != weights or student_params == weights
        if part == "ram_prediction":
            if accepted_count:
                for key, value in ref["ram_prediction"].items():
                    out.append(Target(value - p_ref * b + pb, ref["conventions"][key] + carried, True))
                out.append(
                    Target(
                        sum(maps) + ref["input_values"] + pb,
                        "the feature maps, the input image counted in values "
                        "instead of bytes, and the parameters",
                        False,
                        "input-bytes-missing",
                        partial,
                        f"Each input value is a {8 * b}-bit float: the image takes {h}×{w}×{c} × {b} bytes.",
                    )
                )
                for label, maps_only in (
                    ("two consecutive layers' feature maps", ref["peak_pair_bytes"]),
                    ("every layer's feature maps", ref["maps_bytes"]),
                ):
                    out.append(
                        Target(
                            maps_only,
                            label + " without the parameters",
                            False,
                            "parameters-not-counted",
                            partial,
                            f"The {format_number(p_ref)} parameters × {b} bytes "
                            f"= {p_ref * b / 1e6:.1f} MB are in RAM too.",
                        )
                    )
                for label, s in (("two consecutive layers", pair_spatial), ("all layers", sum(spatial))):
                    out.append(
                        Target(
                            s * b + pb,
                            f"the parameters plus {label}' outputs counted as a single feature map each",
                            False,
                            "activations-missing-feature-maps",
                            0.0,
                            depth_fix,
                        )
                    )
            out.append(
                Target(
                    pb,
                    f"{format_number(count)} parameters × {b} bytes: the parameters only",
                    False,
                    "ram-params-only",
                    0.0,
                    "RAM also holds the feature maps (the layers' outputs), not only the parameters.",
                )
            )
        else:
            if accepted_count:
                value = ref["ram_batch"]["batch-minimum"] - p_ref * b + pb
                out.append(Target(value, ref["conventions"]["batch-minimum"] + carried, True))
                out.append(
                    Target(
                        n * sum(maps) + n * ref["input_values"] + pb,
                        "the batch's feature maps, the input images counted in values instead of "
                        "bytes, and the parameters",
                        False,
                        "input-bytes-missing",
                        partial,
                        f"Each input value is a {8 * b}-bit float: the {n} input images take "
                        f"{n} × {h}×{w}×{c} × {b} bytes = {n * ref['input_bytes'] / 1e6:g} MB.",
                    )
                )
                out.append(
                    Target(
                        n * sum(maps) + pb,
                        "the batch's feature maps and the parameters, without the input images",
                        False,
                        "inputs-not-counted",
                        partial,
                        f"The {n} input images ({n * ref['input_bytes'] / 1e6:g} MB) are in RAM "
                        "during training too.",
                    )
                )
                out.append(
                    Target(
                        n * sum(spatial) * b + n * ref["input_bytes"] + pb,
                        "the batch with every layer's output counted as a single feature map",
                        False,
                        "activations-missing-feature-maps",
                        0.0,
                        depth_fix,
                    )
                )
            if accepted_count:
                for value in ref["ram_prediction"].values():
                    out.append(
                        Target(
                            n * (value - p_ref * b + pb),
                            f"{n} × the RAM of one prediction",
                            False,
                            "batch-scaled-prediction",
                            0.0,
                            "The parameters are stored once, not once per image, and training keeps every "
                            "layer's feature maps (and the inputs) of each image for backpropagation.",
                        )
                    )
            for label, value in (
                (f"{format_number(count)} parameters × {b} bytes", pb),
                (f"{n} × {format_number(count)} parameters × {b} bytes", n * pb),
            ):
                out.append(
                    Target(
                        value,
                        label + ": the parameters only",
                        False,
                        "ram-params-only",
                        0.0,
                        f"Training keeps every layer's feature maps ({maps_text} per image) for all "
                        f"{n} images, plus the input images and the parameters.",
                    )
                )
    return out


def _close(q: Quantity, value: float, tolerance: float) -> bool:
    return agrees(value, q, rel=tolerance)


def _distance(q: Quantity, value: float) -> float:
    return min(abs(v - value) / max(value, 1.0) for v, _ in q.readings())


# ---- grading ------------------------------------------------------------------------------


@dataclass
class Verdict:
    credit: float
    feedback: str
    diagnoses: list[Diagnosis]
    convention: str = ""


_WHAT = {
    "params": "total number of parameters",
    "ram_prediction": "RAM for one prediction",
    "ram_batch": "RAM for the mini-batch",
}


def _expected_text(part: str, ref: dict[str, Any]) -> str:
    if part == "params":
        terms = " + ".join(format_number(layer["params"]) for layer in ref["layers"])
        return f"{format_number(ref['params_total'])} ({terms})"
    if part == "ram_prediction":
        conv = ref["ram_prediction"]
        return (
            f"about {_mb(conv['optimised-minimum'])} as the optimised minimum, or "
            f"{_mb(conv['all-layers-kept'])} keeping every layer"
        )
    return f"about {_mb(ref['ram_batch']['batch-minimum'])} for {ref['batch_size']} images"


def _expected_short(part: str, ref: dict[str, Any]) -> str:
    if part == "params":
        return format_number(ref["params_total"])
    if part == "ram_prediction":
        return f"{ref['ram_prediction']['optimised-minimum'] / 1e6:.1f} MB"
    return f"{ref['ram_batch']['batch-minimum'] / 1e6:.1f} MB"


def _pretty_formula(eq: Equation) -> str:
    parts = []
    for token in eq.lhs.python.split():
        try:
            value = float(token)
            parts.append(format_number(value) if value == int(value) else f"{value:g}")
        except ValueError:
            parts.append({"*": "×", "**": "^"}.get(token, token))
    return " ".join(parts).replace("( ", "(").replace(" )", ")")


def _pretty(eq: Equation) -> str:
    value = eq.lhs.value
    shown = format_number(value) if value == int(value) else f"{value:.6g}"
    if eq.lhs.is_memory or eq.rhs.is_memory:
        shown = f"{shown} bytes" if eq.lhs.is_memory else shown
        if eq.rhs.unit and eq.rhs.unit != "B":
            shown += f" ({value / BYTE_UNITS[eq.rhs.unit]:.4g} {eq.rhs.unit})" if eq.lhs.is_memory else ""
    return f"{_pretty_formula(eq)} = {shown}"


def _layer_of(eq: Equation, layers: list[dict[str, Any]], order: int) -> dict[str, Any] | None:
    values = [q.value for q in eq.lhs.operands]
    for layer in layers:
        if layer["filters"] in values and layer["in_channels"] in values:
            return layer
    return layers[order] if 0 <= order < len(layers) else None


def _layer_formula(layer: dict[str, Any]) -> str:
    kh, kw = layer["kernel"]
    return f"{layer['filters']} × ({kh}×{kw}×{layer['in_channels']} + 1) = {format_number(layer['params'])}"


def grade_params(reading: Reading, ref: dict[str, Any], partial: float) -> Verdict:
    pick = reading.picks.get("params")
    layers = ref["layers"]
    # counting steps: formulas of plain counts outside the sentences about RAM ("Layer 1: 3x3x3x100
    # = 2,700" may stand alone), but not products that count feature-map values
    eqs = [
        eq
        for eq in reading.equations_in("params") + reading.equations_in("")
        if not eq.lhs.is_memory
        and not eq.rhs.is_memory
        and not _NOT_A_COUNT_OF_PARAMS.match(reading.text[eq.rhs.end : eq.rhs.end + 20])
    ]
    eqs.sort(key=lambda eq: eq.start)
    layer_eqs = [eq for eq in eqs if not eq.is_sum and len(eq.lhs.operands) >= 2]
    weights = {layer["weights"] for layer in layers}
    per_layer = {layer["params"] for layer in layers}
    diagnoses: list[Diagnosis] = []
    steps: list[str] = []
    if pick is None:
        return Verdict(0.0, "", [])
    found = pick.quantity
    correct = abs(found.value - ref["params_total"]) <= found.precision + 1e-9 or any(
        abs(v - ref["params_total"]) < 0.5 for v in found.alternatives
    )
    if correct:
        return Verdict(1.0, "", [])
    no_bias = [eq for eq in layer_eqs if round(eq.lhs.value) in weights or round(eq.rhs.value) in weights]
    if no_bias or abs(found.value - sum(weights)) < 0.5:
        layer = _layer_of(no_bias[0], layers, layer_eqs.index(no_bias[0])) if no_bias else layers[0]
        diagnoses.append(
            Diagnosis(
                "missing-biases",
                f"The biases are not counted: each feature map has one, e.g. {_layer_formula(layer)}.",
                fix="Add 1 (the bias) to kernel height × width × input channels, per feature map.",
            )
        )
    wrong = [eq for eq in eqs if not eq.holds]
    for eq in wrong:
        code = "sum-mismatch" if eq.is_sum else "arithmetic-error"
        if code not in {d.code for d in diagnoses}:
            diagnoses.append(
                Diagnosis(
                    code,
                    f"{_pretty(eq)}, not {eq.rhs.raw}.",
                    fix="Add up the per-layer counts again." if eq.is_sum else "Redo this multiplication.",
                )
            )
    results = [eq.rhs.value for eq in layer_eqs]
    if (
        len(results) == len(layers)
        and abs(sum(results) - found.value) > 0.5
        and "sum-mismatch" not in {d.code for d in diagnoses}
    ):
        terms = " + ".join(format_number(r) for r in results)
        diagnoses.append(
            Diagnosis(
                "sum-mismatch",
                f"{terms} = {format_number(sum(results))}, not {found.raw}.",
                fix="Add up your per-layer counts again.",
            )
        )
        steps.append(f"Your layers add up to {terms} = {format_number(sum(results))}, not {found.raw}.")
    if wrong:
        first = wrong[0]
        layer = _layer_of(first, layers, layer_eqs.index(first)) if first in layer_eqs else None
        if layer is not None and round(first.lhs.value) == layer["weights"]:
            steps.insert(
                0,
                f"First wrong step: {_pretty(first)}, not {first.rhs.raw}; and with the bias "
                f"{_layer_formula(layer)}, not {first.rhs.raw}.",
            )
        elif layer is not None and round(first.lhs.value) != layer["params"]:
            steps.insert(
                0,
                f"First wrong step: {_pretty(first)}, not {first.rhs.raw}; this layer has "
                f"{_layer_formula(layer)}.",
            )
        else:
            steps.insert(0, f"First wrong step: {_pretty(first)}, not {first.rhs.raw}.")
    elif no_bias:
        layer = _layer_of(no_bias[0], layers, layer_eqs.index(no_bias[0]))
        if layer is not None:
            steps.insert(
                0, f"First wrong step: {_pretty(no_bias[0])} leaves out the biases; {_layer_formula(layer)}."
            )
    if not steps:
        steps.append("Per layer: " + "; ".join(_layer_formula(layer) for layer in layers) + ".")
    # sound method, arithmetic slip: the formulas (evaluated correctly) give the right counts
    fixed = any(abs(eq.lhs.value - ref["params_total"]) < 0.5 for eq in eqs) or (
        len(layer_eqs) >= len(layers) and {round(eq.lhs.value) for eq in layer_eqs} >= per_layer
    )
    slip = any(d.code in ("arithmetic-error", "sum-mismatch") for d in diagnoses)
    sound = fixed and slip and "missing-biases" not in {d.code for d in diagnoses}
    return Verdict(partial if sound else 0.0, " ".join(steps), diagnoses)


def grade_ram(part: str, reading: Reading, ref: dict[str, Any], partial: float, tolerance: float) -> Verdict:
    pick = reading.picks.get(part)
    if pick is None:
        return Verdict(0.0, "", [])
    params_pick = reading.picks.get("params")
    student_params = params_pick.quantity.value if params_pick else None
    tgs = targets(part, ref, student_params, partial)
    q = pick.quantity
    eqs = reading.equations_in(part)
    own = next((eq for eq in reading.equations if eq.rhs.start == q.start), None)
    wrong = [eq for eq in eqs if not eq.holds]
    if own is not None and not own.holds:
        hits: list[Target] = []  # the answer is the result of a slip; what it happens to equal is chance
    else:
        hits = [t for t in tgs if _close(q, t.value, tolerance)]
    accepted = [t for t in hits if t.accepted]
    # a wrong method whose value lies near an accepted one (538.6 MB vs 539.4 MiB): the working
    # decides; among mistakes, the one the working shows, then the simplest, then the closest
    mistakes = sorted(
        (t for t in hits if not t.accepted),
        key=lambda t: (
            not _has_evidence(t, reading, ref, part, q),
            _PRIORITY.index(t.code) if t.code in _PRIORITY else 99,
            _distance(q, t.value),
        ),
    )
    proven = [t for t in mistakes if _has_evidence(t, reading, ref, part, q)]
    if accepted and not proven:
        return Verdict(1.0, "", [], accepted[0].label)
    if mistakes:
        t = (proven or mistakes)[0]
        note = f"{q.raw} is {t.label}."
        return Verdict(t.credit, f"{note} {t.fix}", [Diagnosis(t.code, note, fix=t.fix)], t.label)
    if wrong:
        first = wrong[0]
        code = "sum-mismatch" if first.is_sum else "arithmetic-error"
        step = f"First wrong step: {_pretty(first)}, not {first.rhs.raw}."
        good = [t.value for t in tgs if t.accepted]
        sound = any(abs(eq.lhs.value - v) <= max(tolerance * v, 0.05e6) for eq in eqs for v in good) or any(
            abs(q.value - v) <= 0.1 * v for v in good
        )
        return Verdict(
            partial if sound else 0.0,
            step,
            [Diagnosis(code, f"{_pretty(first)}, not {first.rhs.raw}.", fix="Redo this step.")],
        )
    if part == "ram_prediction" and _spatial_only(reading, ref):
        fix = _depth_fix(ref)
        return Verdict(
            0.0,
            fix,
            [
                Diagnosis(
                    "activations-missing-feature-maps",
                    "The layer outputs are counted as one feature map each.",
                    fix=fix,
                )
            ],
        )
    return Verdict(0.0, "", [])


_PRIORITY = [
    "ram-params-only",
    "batch-scaled-prediction",
    "input-bytes-missing",
    "inputs-not-counted",
    "parameters-not-counted",
    "activations-missing-feature-maps",
]


def _has_evidence(t: Target, reading: Reading, ref: dict[str, Any], part: str, pick: Quantity) -> bool:
    """Does the working show this mistake: the wrong value itself written in bytes or as a formula's
    result, or an intermediate value only this mistake produces (inputs without their 4 bytes)?"""
    for other in reading.quantities:
        if (
            other is not pick
            and other.unit == "B"
            and abs(other.value - t.value) <= max(other.precision, 1e-4 * t.value)
        ):
            return True
    for eq in reading.equations:
        if eq.rhs is not pick and abs(eq.lhs.value - t.value) <= 1e-4 * t.value and eq.lhs.is_memory:
            return True
    if t.code == "input-bytes-missing":
        raw = ref["input_values"] * (ref["batch_size"] if part == "ram_batch" else 1)
        return any(
            abs(v - raw) <= max(q.precision, 0.005 * raw) for q in reading.quantities for v, _ in q.readings()
        )
    return False


def _spatial_only(reading: Reading, ref: dict[str, Any]) -> bool:
    b = ref["bytes_per_value"]
    sizes = {layer["spatial"] * b for layer in ref["layers"]}
    return any(
        q.is_memory and any(abs(q.value - s) <= q.precision for s in sizes) for q in reading.quantities
    )


def grade_part(
    reading: Reading,
    part: str,
    ref: dict[str, Any],
    *,
    partial: float = DEFAULT_PARTIAL,
    tolerance: float = DEFAULT_TOLERANCE,
    cell: int | None = None,
) -> Outcome:
    """The outcome of one part for an answer already read: credit, feedback, diagnoses, evidence."""
    if part not in PARTS:
        raise ValueError(f"params.part must be one of {', '.join(PARTS)}, got {part!r}")
    pick = reading.picks.get(part)
    what = _WHAT[part]
    expected = _expected_text(part, ref)
    if part == "params":
        verdict = grade_params(reading, ref, partial)
    else:
        verdict = grade_ram(part, reading, ref, partial, tolerance)
    if pick is None:
        code = "batch-not-answered" if part == "ram_batch" else "no-number-found"
        diagnoses = [
            Diagnosis(
                code,
                f"No number for the {what} was found in the answer.",
                fix=f"State the {what} as a number with its unit.",
            )
        ]
        if part == "ram_batch" and not reading.quantities:
            diagnoses.append(Diagnosis("no-number-found", "The answer contains no numbers."))
        verdict = Verdict(
            0.0, f"No {what} found in your answer; expected {expected}. {breakdown(part, ref)}", diagnoses
        )
    else:
        q = pick.quantity
        shown = q.raw + (f" (read as {format_number(q.value)}: {q.note})" if q.note else "")
        if verdict.credit >= 1.0:
            verdict.feedback = (
                f"Correct: {shown}"
                + (f" ({verdict.convention})" if verdict.convention else "")
                + f"; expected {expected}."
            )
        else:
            explain = breakdown(part, ref) if part != "params" or not verdict.feedback else ""
            verdict.feedback = f"Your {what}: {shown}; expected {expected}. {verdict.feedback} {explain}"
            verdict.feedback = re.sub(r"\s+", " ", verdict.feedback).strip()
    for d in verdict.diagnoses:
        d.cell = cell
    numbers = []
    for p in PARTS:
        pk = reading.picks.get(p)
        if p != part and pk is None:
            continue
        numbers.append(
            {
                "part": p,
                "found": pk.quantity.raw if pk else None,
                "expected": _expected_short(p, ref),
                "value": pk.quantity.value if pk else None,
                "unit": "parameters"
                if p == "params"
                else (pk.quantity.unit if pk and pk.quantity.unit else "MB"),
                "text": pk.segment.text if pk else "",
                "why": pk.why if pk else "no number in a sentence about this part",
                "graded_here": p == part,
            }
        )
    numbers.sort(key=lambda row: not row["graded_here"])
    evidence: dict[str, Any] = {
        "excerpt": reading.text.strip()[:2000],
        "numbers": numbers,
        "steps": [eq.to_dict() for eq in reading.equations][:20],
        "reference": _reference_evidence(part, ref),
    }
    # a number chosen by a fallback rule (no sentence named its part) is a guess: say so
    confidence = pick.confidence if pick is not None else 0.8
    return Outcome(
        credit=verdict.credit,
        feedback=verdict.feedback,
        diagnoses=verdict.diagnoses,
        evidence=evidence,
        confidence=confidence,
        needs_review=confidence < 0.6 and verdict.credit < 1.0,
    )


def _reference_evidence(part: str, ref: dict[str, Any]) -> dict[str, Any]:
    if part == "params":
        return {
            "layers": [
                {
                    "layer": layer["name"],
                    "output_shape": layer["output_shape"],
                    "formula": _layer_formula(layer),
                }
                for layer in ref["layers"]
            ],
            "total": ref["params_total"],
            "source": ref.get("source", ""),
        }
    return {name: _mb(value) for name, value in ref[part].items()} | {"source": ref.get("source", "")}


def grade_text(
    text: str, part: str, params: dict[str, Any], *, prompt: str = "", module: str = "reference.assignment06"
) -> Outcome:
    """Grade free text for one part without a notebook (tests, and the self-check of one answer)."""
    from reference import compute

    ref = compute(module, params.get("reference", "conv_net_memory"), params)
    batch = int((params.get("network") or {}).get("batch_size") or 50)
    reading = read_answer(answer_text(_TextAnswer(text), prompt), batch)
    return grade_part(
        reading,
        part,
        ref,
        partial=float(params.get("partial_credit", DEFAULT_PARTIAL)),
        tolerance=float(params.get("tolerance", DEFAULT_TOLERANCE)),
    )


def grade_answer(
    text: str, params: dict[str, Any], *, code: str = "", prompt: str = "",
    module: str = "reference.assignment06",
) -> dict[str, Outcome]:
    """Every part of one answer (prose and optionally a code cell's source), read once."""
    from reference import compute

    ref = compute(module, params.get("reference", "conv_net_memory"), params)
    reading = read_answer(answer_text(_TextAnswer(text, code), prompt), int(ref["batch_size"]))
    kw = {"partial": float(params.get("partial_credit", DEFAULT_PARTIAL)),
          "tolerance": float(params.get("tolerance", DEFAULT_TOLERANCE))}
    return {part: grade_part(reading, part, ref, **kw) for part in PARTS}


@dataclass
class _TextAnswer:
    text: str
    code: str = ""
    outputs_text: str = ""


@register("param-math")
def check_param_math(item, ctx) -> Outcome:
    """Rubric items `q2.params`, `q2.ram_prediction`, `q2.ram_batch` (see the module docstring)."""
    part = item.params.get("part")
    if part not in PARTS:
        raise ValueError(f"{item.id}: params.part must be one of {', '.join(PARTS)}, got {part!r}")
    answer = require_answer(item, ctx)
    ref = ctx.reference(item.params.get("reference", "conv_net_memory"), item.params)
    key = f"param-math:reading:{item.question}"
    if key not in ctx.cache:
        try:
            prompt = ctx.rubric.question(item.question).prompt
        except KeyError:
            prompt = ""
        ctx.cache[key] = read_answer(answer_text(answer, prompt), int(ref["batch_size"]))
    cells = list(getattr(answer, "text_cells", None) or getattr(answer, "cells", None) or [])
    outcome = grade_part(
        ctx.cache[key],
        part,
        ref,
        partial=float(item.params.get("partial_credit", DEFAULT_PARTIAL)),
        tolerance=float(item.params.get("tolerance", DEFAULT_TOLERANCE)),
        cell=cells[0] if cells else None,
    )
    if cells:
        outcome.evidence["cells"] = cells
    return outcome
