"""Stage 3 of Q2 grading: the verdict on one part (credit, the mistake named, the first wrong
step), from the reading (stage 1) and the conventions (stage 2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

from grader.checks.base import Diagnosis
from grader.parammath.conventions import (
    Target,
    _close,
    _depth_fix,
    _distance,
    _layer_formula,
    bits_as_bytes,
    targets,
)
from grader.parammath.reading import _NOT_A_COUNT_OF_PARAMS, Reading
from grader.parammath.units import answer_units, binary_reading
from grader.textformulas import Equation, safe_eval
from grader.textnumbers import BYTE_UNITS, PRECISION_CAP, UNIT_TWIN, Quantity, agrees, format_number


@dataclass
class Verdict:
    credit: float
    feedback: str
    diagnoses: list[Diagnosis]
    convention: str = ""
    review: bool = False  # a human should confirm (a wrong count carried far off the right figure)



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
    if eq.lhs.mixed and eq.rhs.unit:
        # "6 + 3 + 903,400*4 B = 15.61 MB": the bare terms read in the result's unit, as meant
        mixed = safe_eval(eq.lhs.mixed.replace("U", repr(float(BYTE_UNITS[eq.rhs.unit]))))
        if mixed is not None and abs(mixed - eq.rhs.value) < abs(value - eq.rhs.value):
            value = mixed
    shown = format_number(value) if value == int(value) else f"{value:.6g}"
    if eq.lhs.is_memory or eq.rhs.is_memory:
        shown = f"{shown} bytes" if eq.lhs.is_memory else shown
        if eq.rhs.unit and eq.rhs.unit != "B":
            shown += f" ({value / BYTE_UNITS[eq.rhs.unit]:.4g} {eq.rhs.unit})" if eq.lhs.is_memory else ""
    return f"{_pretty_formula(eq)} = {shown}"


def _layer_of(eq: Equation, layers: list[dict[str, Any]], order: int) -> dict[str, Any] | None:
    values = [q.value for q in eq.lhs.operands]
    for layer in layers:  # the formula evaluates to this layer's count (with or without biases)
        if round(eq.lhs.value) in (layer["params"], layer["weights"]):
            return layer
    both = [layer for layer in layers if layer["filters"] in values and layer["in_channels"] in values]
    # "(3*3*100+1)*200" holds 3 (a kernel side) and 100: layer 1 (3 channels, 100 maps) matches too
    kernel = {k for layer in layers for k in layer["kernel"]}
    both.sort(key=lambda layer: layer["in_channels"] in kernel)
    if both:
        return both[0]
    return layers[order] if 0 <= order < len(layers) else None



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
    slack = min(found.precision, max(0.5, PRECISION_CAP * ref["params_total"]))  # "~1M" is not 903,400
    correct = abs(found.value - ref["params_total"]) <= slack + 1e-9 or any(
        abs(v - ref["params_total"]) < 0.5 for v in found.alternatives
    )
    if correct:
        return Verdict(1.0, "", [])
    total = ref["params_total"]
    if found.precision >= ROUGH * found.value and abs(found.value - total) <= 0.25 * total:
        # "roughly 1 million parameters": one significant digit near the count shows no method; a TA
        # decides (rubric q2: a figure that cannot be told to answer the part goes to a human)
        note = f"{found.raw} is too rounded to show which count you worked out."
        return Verdict(0.0, note, [Diagnosis("too-rounded", note, fix="Give the exact parameter count.")],
                       review=True)
    if pick.why.startswith("the largest parameter count") and round(found.value) in per_layer and (
            {round(x.value) for x in reading.quantities if not x.is_memory} >= per_layer):
        # "conv1 ... 2,800 params; conv2 ... 180,200; conv3 ... 720,400" and no total anywhere:
        # the largest is one layer's count, a term of the sum, not the student's answer; a TA looks
        note = f"Only per-layer counts are written ({found.raw} is one layer's); no total is given."
        return Verdict(0.0, note, [Diagnosis("per-layer-not-totalled", note,
                                             fix="Add up the per-layer counts and state the total.")],
                       review=True)
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
    wrong = [eq for eq in eqs if not eq.holds and not _summed_first(eq)]
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
    # "| 1 | 2,800 | ... | Σ | 930,400 |": every layer's count written right, the total a slip
    counts = {round(x.value) for x in reading.quantities if not x.is_memory}
    # (also under per-layer formulas: "3x3x100 + 1 = 901, x200 = 180,200 ... Total = 930,400")
    if (counts >= per_layer and sum(per_layer) == ref["params_total"]
            and "missing-biases" not in {d.code for d in diagnoses}):
        terms = " + ".join(format_number(v) for v in sorted(per_layer))
        note = f"{terms} = {format_number(ref['params_total'])}, not {found.raw}."
        if "sum-mismatch" not in {d.code for d in diagnoses}:
            diagnoses.append(Diagnosis("sum-mismatch", note, fix="Add up your per-layer counts again."))
        return Verdict(partial, f"Your layers add up to {note}", diagnoses)
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
    tgs = targets(part, ref, student_params, partial) + bits_as_bytes(part, ref)
    q = pick.quantity
    eqs = reading.equations_in(part)
    own = next((eq for eq in reading.equations if eq.rhs.start == q.start), None)
    wrong = [eq for eq in eqs if not eq.holds and not _summed_first(eq)]
    # "maps = 6 + 3 + 1.52 = 10.25 MB" ... "10.25 + 3.61 = 13.86 MB" (or, under the batch's own
    # header, "50 * 10.25 = 512.5 MB ... => 552.1 MB"): a slip carried into this part's working
    for eq in ([own] if own is not None else []) + [e for e in eqs if e.end <= q.start]:
        terms = {round(o.number if o.unit else o.value, 6) for o in eq.lhs.operands}
        wrong += [w for w in reading.equations if not w.holds and w not in wrong and w.end <= eq.start
                  and (round(w.rhs.number if w.rhs.unit else w.rhs.value, 6) in terms
                       or _summed_into(reading, w, eq))]
    if own is not None and not own.holds and not _summed_first(own):
        hits: list[Target] = []  # the answer is the result of a slip; what it happens to equal is chance
    else:
        # "10.52 MB maps + 0.24 MB input ... = 541.6 MB": working in decimal megabytes means the
        # result is decimal too; that 541.6 read as MiB lands near 565.6 MB is chance
        as_read = (replace(q, unit=None) if q.unit == "MB" and (
            _decimal_working(reading, ref) or _derived_in_decimal(reading, q)) else q)
        hits = [t for t in tgs if _close(as_read, t.value, tolerance)]
        # a method beyond the minimum is named only where the figure is it as written: 552.1 "MB"
        # read as MiB landing near Adam's 576.5 MB is chance
        hits = [t for t in hits
                if not t.review or abs(q.value - t.value) <= max(tolerance * t.value, q.precision)]
    units = answer_units(reading, ref, skip=q) if q.unit in UNIT_TWIN else None
    if q.unit in ("KiB", "MiB", "GiB") or units == "binary":
        meant = binary_reading(q)
        if any(t.accepted and abs(meant - t.value) <= max(q.precision * meant / q.value, tolerance * t.value)
               for t in hits):
            # "565,613,600 bytes ~ 539.4 MiB", "12,613,600 B ≈ 12.03 MB ... ≈ 539.4 MB": read in the
            # 1024-based unit the answer uses, the figure is accepted; a mistake it equals only in
            # decimal MB (538.6 MB, the input in values) is chance
            hits = [t for t in hits if t.accepted]
    elif units == "decimal":
        # "... inputs 12 MB, params 3.6 MB → 541.6 MB" in an answer that counts decimal MB: read as
        # written it is a known mistake; that 541.6 read as MiB lands near 565.6 MB is chance
        literal = replace(q, unit=None)
        if any(not t.accepted and _close(literal, t.value, tolerance) for t in hits):
            hits = [t for t in hits if _close(literal, t.value, tolerance)]
    accepted = [t for t in hits if t.accepted]
    if accepted and q.precision >= ROUGH * q.value and not any(
            abs(v - t.value) <= tolerance * t.value for t in accepted for v, _ in q.readings()):
        # "training with 50 images roughly 0.5 GB": one significant digit that lands on an accepted
        # figure only within its own rounding (or read as GiB) is no sign of the method; a TA decides
        return Verdict(0.0, f"{q.raw} is too rounded to show which figure you worked out.",
                       [Diagnosis("too-rounded", f"{q.raw} is rounded to one significant digit.",
                                  fix="Give the figure to at least two significant digits.")],
                       review=True)
    far = [t for t in accepted if t.right_count_value and abs(t.value - t.right_count_value) > CARRIED_FAR
           * t.right_count_value]
    if far and len(far) == len(accepted):
        # "7,000 parameters × 4 = 28 KB, so about 9.03 MB": right from the student's own count, but
        # the wrong count moves the figure far off the right one: the one slip carried into a later
        # part, partial credit (rubric q2, rule (d)); the count itself is charged on params
        t = far[0]
        note = (f"{q.raw} is {t.label}: right for that count, but {t.right_count_value / 1e6:.1f} MB "
                "with the right parameter count.")
        # "not 903,400 ... my final count is 9,027,000": the right count written and put aside for
        # another is no slip carried in but a choice; a TA decides
        rejected = any(abs(o.value - ref["params_total"]) <= 0.5 for o in reading.quantities)
        return Verdict(0.0 if rejected else partial, note, [Diagnosis("parameter-count-carried", note,
                       fix="Redo the parameter count; it changes this figure beyond rounding.")],
                       t.label, review=True)
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
    # (or "(50 × (180,000 + 2,630,000) + 7,000) × 4 bytes = 562 MB": the count is a term of it)
    in_formula = own is not None and own.holds and bool(student_params) and any(
        abs(o.value - (student_params or 0)) < 0.5 for o in own.lhs.operands)
    if student_params and any(t.right_count_value for t in accepted) and (_shows_memory(
            reading, student_params * ref["bytes_per_value"], skip=q) or in_formula):
        # "50 × 11.24 MB + 28 KB ≈ 562.03 MB" from a count of 7,000: the working adds the student's
        # own parameter bytes, so the figure is not the batch without the parameters it lies near
        mistakes = [t for t in mistakes if t.code != "parameters-not-counted"]
    proven = [t for t in mistakes if _has_evidence(t, reading, ref, part, q)]
    if accepted and not proven:
        slip = _wrong_map_size(reading.text, ref)
        # a 25×37 top map (floor for ceil) stays within the rounding tolerance: a slip the rubric
        # does not charge (its q2 comments); the feedback still names it
        label = accepted[0].label + (f"; note: {slip} (within the rounding tolerance)" if slip else "")
        return Verdict(1.0, "", [], label)
    if mistakes:
        t = (proven or mistakes)[0]
        note = f"{q.raw} is {t.label}."
        # "... + 28 KB ≈ 562.03 MB" from a count of 7,000: right from the student's own count and a
        # known omission at once; which one the student made is a TA's call
        carried = any(a.right_count_value for a in accepted)
        return Verdict(t.credit, f"{note} {t.fix}", [Diagnosis(t.code, note, fix=t.fix)], t.label,
                       review=carried or t.review)
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


#: Half a unit of the last digit written, relative to the figure, from which it has one
#: significant digit ('0.5 GB', '9 MB'; not '13 MB')
ROUGH = 0.05

#: How far (relative) a figure carried from a wrong parameter count may lie from the right one and
#: still be 'within the rounding tolerance' the rubric does not charge again (12.72 MB from
#: 930,400 for 12.61 MB: 0.9 %; 9.03 MB from 7,000 for 12.6 MB: 28 %).
CARRIED_FAR = 0.03


def _summed_into(reading: Reading, wrong: Equation, eq: Equation) -> bool:
    """'layer2 50*75*200 = 700,000' ... 'batch: 50 * (2,580,000 * 4 B)': an operand of `eq` is the
    wrong result plus one to three other results written before it, so the slip is carried in."""
    others = [e.rhs.value for e in reading.equations if e is not wrong and e.end <= eq.start
              and e.rhs.is_memory == wrong.rhs.is_memory][:12]
    for o in eq.lhs.operands:
        if o.is_memory != wrong.rhs.is_memory or o.value <= wrong.rhs.value:
            continue
        rest = o.value - wrong.rhs.value
        if any(abs(sum(c) - rest) <= 0.002 * o.value for n in (1, 2, 3) for c in combinations(others, n)):
            return True
    return False


def _summed_first(eq: Equation) -> bool:
    """'1 500 000 + 750 000 + 380 000 values × 4 bytes = 10.52 MB': prose that sums the terms and
    then multiplies the sum by one factor, without brackets, holds read that way."""
    m = re.fullmatch(r"([^()*/]+\+[^()*/]+?)\s*\*\s*([\d.e+]+)", eq.lhs.python)
    value = safe_eval(f"({m.group(1)}) * {m.group(2)}") if m else None
    return value is not None and agrees(value, eq.rhs, rel=0.01)


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
        # "2800 + 180200 + 720400": a layer's parameter count near the 180,000 input values is none
        counts = {layer["params"] for layer in ref["layers"]} | {layer["weights"] for layer in ref["layers"]}
        return any(
            abs(v - raw) <= max(q.precision, 0.005 * raw) for q in reading.quantities for v, _ in q.readings()
            if not (q.unit is None and round(q.value) in counts)
        )
    return False


def _shows_memory(reading: Reading, value: float, skip: Quantity) -> bool:
    """Some amount of memory in the working other than the pick is this value ('28 KB',
    '0.028 MB', '28,000 bytes'); a unitless '0.028' after MB amounts counts as megabytes."""
    for q in reading.quantities:
        if q is skip:
            continue
        vals = [v for v, _ in q.readings()] if q.is_memory else [q.value * 1e6]
        scale = q.precision / q.value if q.value else 0.0
        if any(abs(v - value) <= max(scale * v, 0.005 * value) for v in vals):
            return True
    return False


_PAIR = re.compile(r"(?<![\d.])(\d{1,4})\s*[x×*]\s*(\d{1,4})(?![\d.])")


def _wrong_map_size(text: str, ref: dict[str, Any]) -> str:
    """'25×37' where the layer's output is 25×38 (floor instead of ceil with 'same' padding): a
    map size one off in one side, never written right anywhere, is a slip in the working (''
    when none)."""
    pairs = {(int(a), int(b)) for a, b in _PAIR.findall(text)}
    pairs |= {(b, a) for a, b in pairs}
    for layer in ref["layers"]:
        oh, ow = layer["output_shape"][:2]
        if (oh, ow) in pairs:
            continue
        for h, w in pairs:
            if (h == oh and abs(w - ow) == 1) or (w == ow and abs(h - oh) == 1):
                return (f"Your working uses a {h}×{w} feature map where this layer's output is "
                        f"{oh}×{ow} (with 'same' padding and stride 2, the size is rounded up).")
    return ""


def _decimal_working(reading: Reading, ref: dict[str, Any]) -> bool:
    """The working writes two or more of the network's sizes in decimal megabytes (a layer's
    maps 6 MB / 3 MB / 1.52 MB, all maps 10.52 MB, an input image 0.72 MB) and none in MiB."""
    sizes = [layer["bytes"] for layer in ref["layers"]] + [ref["maps_bytes"], ref["input_bytes"]]
    decimal = binary = 0
    for q in reading.quantities:
        if q.unit not in ("MB", "MiB", None) or (q.unit is None and not re.fullmatch(r"\d+[.,]\d+", q.raw)):
            continue  # "50 × (10.52 + 0.72) MB": unitless terms with decimals count; "2." does not
        number = q.number if q.unit else q.value
        if any(abs(number * 1e6 - s) <= max(q.precision / (q.value or 1) * 1e6 * number, 1) for s in sizes):
            decimal += q.unit != "MiB"
        elif any(abs(number * 2**20 - s) <= 0.005 * s for s in sizes):
            binary += 1
    return decimal >= 2 and not binary


def _derived_in_decimal(reading: Reading, q: Quantity) -> bool:
    """'200 × 150 × 100 × 32 = 96 million bits = 12 MB ... So: 12 MB for a prediction': the figure
    (or the same figure said earlier) is the result of the student's own working in decimal
    megabytes, so reading it as MiB (12 MiB = 12.58 MB, near 12.6 MB) is chance (rubric q2, rule
    (b): "MB" is read as MiB only where 1024 is stated or evident)."""
    for eq in reading.equations:
        r = eq.rhs
        if (eq.holds and r.unit == "MB" and eq.lhs.is_memory and r.start <= q.start
                and abs(r.value - q.value) <= q.precision / 10
                and abs(eq.lhs.value - r.value) <= r.precision / 10
                # the step converts bits or bytes into MB; "50 * 3.44 MB = 172 MB" keeps the unit it had
                and not any(o.unit and o.unit not in ("B", "bit") for o in eq.lhs.operands)
                and not re.search(
                    r"1024|2\s*\*\*\s*20|2\^20|MiB", reading.text[eq.start : r.end])):
            return True
    return False


def _spatial_only(reading: Reading, ref: dict[str, Any]) -> bool:
    b = ref["bytes_per_value"]
    sizes = {layer["spatial"] * b for layer in ref["layers"]}
    return any(
        q.is_memory and any(abs(q.value - s) <= q.precision for s in sizes) for q in reading.quantities
    )


