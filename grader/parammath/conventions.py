"""Stage 2 of Q2 grading: the values an answer may equal (accepted conventions, known mistakes)
and how the expected value is made up, for the feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.textnumbers import Quantity, agrees, format_number

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
    #: the accepted value this one is, computed with the student's own (wrong) parameter count
    #: instead of the right one (None: computed with the right count)
    right_count_value: float | None = None
    #: a wrong method the rubric's q2 comments want a TA to look at (doubled activations, ...)
    review: bool = False


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
                    out.append(Target(value - p_ref * b + pb, ref["conventions"][key] + carried, True,
                                      right_count_value=value if carried else None))
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
            if accepted_count and count == p_ref:
                # rubric q2 (round 8 decisions): the largest layer alone, 0 for a TA to confirm
                out.append(Target(max(maps) + pb, "the largest layer's feature maps and the parameters",
                                  False, "largest-layer-only", 0.0,
                                  "A prediction holds a layer's input and its output at once: two "
                                  "consecutive layers' feature maps, plus the parameters.", review=True))
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
                right = ref["ram_batch"]["batch-minimum"]
                value = right - p_ref * b + pb
                out.append(Target(value, ref["conventions"]["batch-minimum"] + carried, True,
                                  right_count_value=right if carried else None))
                # training also keeps one gradient per parameter: a fuller count, not a mistake
                out.append(Target(value + pb, ref["conventions"]["batch-minimum"] + carried
                                  + ", plus the parameters' gradients", True,
                                  right_count_value=right + p_ref * b if carried else None))
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
                        n * (sum(maps) + ref["input_bytes"] / c) + pb,
                        f"the batch with each input image counted with one channel instead of {c}",
                        False,
                        "input-channels-missing",
                        partial,
                        f"The input images are RGB: {h}×{w}×{c} values × {b} bytes each.",
                    )
                )
                for extra, grads in ((0, ""), (pb, " and their gradients")):
                    # with the gradients too (a fuller count, accepted elsewhere): the same omission
                    out.append(Target(
                        n * sum(maps) + pb + extra,
                        f"the batch's feature maps and the parameters{grads}, without the input images",
                        False,
                        "inputs-not-counted",
                        partial,
                        f"The {n} input images ({n * ref['input_bytes'] / 1e6:g} MB) are in RAM "
                        "during training too.",
                    ))
                if count == p_ref:
                    # rubric q2 (round 8 decisions): activations doubled for backprop, Adam's two
                    # moments (and the gradients): not the minimum the question asks, 0 for a TA
                    for extra, label in ((n * sum(maps), "the batch's feature maps counted twice"),
                                         (2 * pb, "the batch plus Adam's two moments per parameter"),
                                         (3 * pb, "the batch plus the gradients and Adam's two moments")):
                        out.append(Target(right + extra, label, False, "beyond-the-minimum", 0.0,
                                          "The question asks for the minimum: each image's feature maps "
                                          "once, the input images and the parameters.", review=True))
                    # round 11 labeller decision: memory reuse (two layers at a time) is for the
                    # prediction only; carried into training it is a wrong method, 0 for a TA
                    pair = max(a + b_ for a, b_ in zip(maps, maps[1:], strict=False)) if len(maps) > 1 else 0
                    if pair:
                        out.append(Target(n * pair + pb, "two consecutive layers' maps per image carried "
                                          "into training", False, "reuse-in-training", 0.0,
                                          "Training keeps every layer's feature maps for backprop: memory "
                                          "cannot be reused between layers as in a prediction.", review=True))
                    out.append(
                        Target(
                            n * (sum(maps) + ref["input_bytes"]),
                            "the batch's feature maps and input images, without the parameters",
                            False,
                            "parameters-not-counted",
                            partial,
                            f"The {format_number(p_ref)} parameters × {b} bytes "
                            f"= {p_ref * b / 1e6:.1f} MB are in RAM during training too.",
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


def bits_as_bytes(part: str, ref: dict[str, Any]) -> list[Target]:
    """The accepted values × 8: each 32-bit float counted as 32 bytes (bits taken for bytes). Named
    so the feedback says what went wrong; no credit, like the maps counted without their 4 bytes:
    a conversion that puts the whole figure far off is no slip (the rubric's q2 comments)."""
    b = ref["bytes_per_value"]
    values = (ref["ram_prediction"].values() if part == "ram_prediction"
              else [ref["ram_batch"]["batch-minimum"]])
    return [Target(8 * v, f"the right amount in bits written as bytes ({8 * b} bits counted as "
                          f"{8 * b} bytes)", False, "bits-as-bytes", 0.0,
                   f"A {8 * b}-bit float takes {b} bytes: divide by 8.") for v in values]


def _close(q: Quantity, value: float, tolerance: float) -> bool:
    return agrees(value, q, rel=tolerance)


def _distance(q: Quantity, value: float) -> float:
    return min(abs(v - value) / max(value, 1.0) for v, _ in q.readings())



def _layer_formula(layer: dict[str, Any]) -> str:
    kh, kw = layer["kernel"]
    return f"{layer['filters']} × ({kh}×{kw}×{layer['in_channels']} + 1) = {format_number(layer['params'])}"


