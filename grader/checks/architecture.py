"""Kind `architecture`: the question's model against a declarative spec in the rubric.

Rubric params (all optional):
  spec: {min_conv: 1, downsampling: true, input_shapes: [[28, 28, 1], [28, 28]], outputs: 10,
         output: softmax-or-logits, pretrained: false}
  reference: a reference value giving `input_shapes` and `outputs` (so they are not typed in YAML)
Credit is the share of requirements met; the evidence is the model's layer table.

The layers, shapes, parameter counts and loss are read from the model file the grader saved,
hashed and loaded (grader/checks/modelfile.py), never from the kernel's capture: a file changed
after it was saved or trained past the quick budget (`tampered`), or one that is not the model
the capture recorded (`capture-mismatch`), earns no credit. Without a file the grader could read
(the model could not be saved, or loaded without running its code) the item earns nothing by
itself: it is put up for review with the capture's layer table, marked unverified, as evidence.
"""

from __future__ import annotations

from typing import Any

from grader.checks import modelfile
from grader.checks.base import Outcome, register
from grader.checks.models import bases, diagnose, output_activation, question_capture
from grader.context import GradingContext
from grader.plugin import require_answer
from grader.rubric import RubricItem

_DOWNSAMPLING = ("MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D")


def architecture_rows(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: row.get(k) for k in ("class", "name", "output_shape", "params", "trainable")}
            for row in model.get("layers", [])]


@register("architecture", needs_execution=True)
def architecture(item: RubricItem, ctx: GradingContext) -> Outcome:
    answer = require_answer(item, ctx)
    qc = question_capture(ctx, item.question)
    if qc.final_model() is None:
        return Outcome(0.0, f"No Keras model was built in question {answer.number}'s cells, so its "
                            "architecture cannot be checked. Build the model in this question's code.",
                       evidence={"cells": qc.cells})
    read = modelfile.read(ctx, item.question)
    if not read.ok:
        return _unverified(read, qc.cells)
    model = dict(read.model or {}, cell=(read.captured or {}).get("cell"))
    spec = dict(item.params.get("spec") or {})
    if item.params.get("reference"):
        ref = ctx.reference(item.params["reference"], {})
        spec.setdefault("input_shapes", ref.get("input_shapes"))
        spec.setdefault("outputs", ref.get("outputs"))
    layers = model.get("layers", [])
    checks: list[tuple[str, bool, str]] = []
    n_conv = sum(1 for r in layers if "Conv" in str(r.get("class")))
    if "min_conv" in spec:
        checks.append(("convolution", n_conv >= int(spec["min_conv"]),
                       f"{n_conv} convolutional layer(s); at least {spec['min_conv']} needed"))
    if spec.get("downsampling"):
        down = [r["name"] for r in layers if r.get("class") in _DOWNSAMPLING
                or any(s > 1 for s in _ints((r.get("config") or {}).get("strides")))]
        checks.append(("downsampling", bool(down),
                       f"downsampling by {', '.join(down)}" if down
                       else "no pooling layer and no stride > 1: add MaxPooling2D or strides=2"))
    if spec.get("input_shapes"):
        got = (model.get("input_shape") or [None])[1:]
        ok = any(list(got) == list(s) for s in spec["input_shapes"])
        checks.append(("input shape", ok, f"input shape {tuple(got)}; expected one of "
                       f"{', '.join(str(tuple(s)) for s in spec['input_shapes'])}"))
    if spec.get("outputs"):
        units = (model.get("output_shape") or [None])[-1]
        act = output_activation(model)
        loss = (model.get("loss") or {})
        ok_units = units == int(spec["outputs"])
        ok_act = act == "softmax" or (act in ("linear", None) and loss.get("from_logits"))
        checks.append(("outputs", ok_units and ok_act,
                       f"{units} outputs with {act} activation"
                       f"{' and a from_logits loss' if loss.get('from_logits') else ''}; expected "
                       f"{spec['outputs']} with softmax (or logits with from_logits=True)"))
    found = [d for d in diagnose(ctx, item.question, "scratch") if d.code == "not-from-scratch"]
    if spec.get("pretrained") is False:
        checks.append(("from scratch", not found and not bases(model),
                       found[0].message if found else "no pretrained weights"))
    met = sum(1 for _, ok, _ in checks if ok)
    credit = met / len(checks) if checks else 1.0
    failed = [f"{name}: {why}" for name, ok, why in checks if not ok]
    feedback = ("The architecture meets every requirement." if not failed
                else "Architecture: " + "; ".join(failed) + ".")
    return Outcome(credit=credit, feedback=feedback, diagnoses=found,
                   evidence={"architecture": architecture_rows(model), "read_from": read.file,
                             "requirements": [{"requirement": n, "met": ok, "detail": why}
                                              for n, ok, why in checks],
                             "cells": [c for c in [model.get("cell")] if c is not None]})


def _unverified(read: modelfile.FileModel, cells: list[int]) -> Outcome:
    """No architecture credit without a file the grader read; why, in the student's words."""
    evidence: dict[str, Any] = {"cells": cells, "file_status": read.status}
    if read.captured:
        evidence["architecture_unverified"] = architecture_rows(read.captured)
    diagnosis = read.diagnosis()
    if diagnosis is not None:
        return Outcome(0.0, f"No architecture credit: {read.message}. {diagnosis.fix}",
                       diagnoses=[diagnosis], evidence=evidence)
    if read.status == "environment":
        return Outcome.skipped(f"Not checked: {read.message}. This is a problem of the grading machine, "
                               "not of your notebook.", **evidence)
    review = "model-too-large" not in read.details  # a 300M-parameter config needs no second look
    return Outcome(0.0, f"The architecture was not checked: {read.message}. The grader scores the "
                        "architecture only from the model file it saves and loads itself; "
                        + ("an instructor reviews the layer table your notebook's run recorded."
                           if review else "a model this large is not loaded."),
                   evidence=evidence, needs_review=review, confidence=0.3)


def _ints(value: Any) -> list[int]:
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, int)]
    return []
