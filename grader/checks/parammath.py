"""Q2-style parameter and memory math, graded like a careful TA (check kind `param-math`).

The work is done in stages, one module each under grader/parammath/ (the answer's layout as
sentences with units, reading the numbers, the accepted conventions, the verdict, the feedback);
this module is the check that puts them together for a notebook answer, and the text-only
helpers `grade_text` / `grade_answer`.

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
(50 × the one-prediction figure: parameters counted per image, only two layers kept, none),
input-channels-missing (the batch's input images with one channel instead
of three, partial), bits-as-bytes (32-bit floats counted as 32 bytes, none),
parameter-count-carried (a figure right only from the student's wrong count, far off the right
one: charged like the count, flagged) and too-rounded (one significant digit, flagged). A slip in a step
carried into a later one ("6 + 3 + 1.52 = 10.25 MB", then "10.25 + 3.61") makes that part partial
too; a 25×37 top map (floor for ceil) stays within the rounding tolerance and is named, not
charged. The partial-credit rule is written in the rubric's q2 comments.
Item params: part, reference, network (see reference/q2_memory.py), and optionally
partial_credit (default 0.5) and tolerance (relative, default 0.005).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.checks.base import Outcome, register, require_answer
from grader.parammath.feedback import DEFAULT_PARTIAL, DEFAULT_TOLERANCE, grade_part
from grader.parammath.reading import PARTS, answer_text, read_answer

__all__ = ["PARTS", "check_param_math", "grade_answer", "grade_part", "grade_text", "read_answer"]


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
    """An answer given as text (and a code cell's source), read as the locator reads a notebook:
    the code's full-line comments are part of the prose."""

    text: str
    code: str = ""
    outputs_text: str = ""

    def __post_init__(self) -> None:
        from grader.locate.assign import comment_text  # the locator's own reading; lazy: it loads rapidfuzz

        comments = comment_text(self.code) if self.code else ""
        if comments:
            self.text = f"{self.text}\n{comments}" if self.text.strip() else comments


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

