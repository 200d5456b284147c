"""Kind `accuracy`: the grader measures the student's trained model itself.

The model the question trained (saved by the kernel) is evaluated outside the kernel
(grader/evaluate.py, a subprocess) on the official test set, rebuilt from the data directory
with the student's own preprocessing as captured; when the student evaluated on their own
held-out split (question 10), on that split as the kernel kept it. The printed figure is shown
beside the measured one; a gap above `mismatch_points` is `reported-accuracy-mismatch` and
earns no accuracy credit. Credit comes in tiers from the rubric, one list per profile; quick
tiers are provisional (training was capped).

Params: dataset (mnist | cifar10), metric (accuracy | worst_class), mismatch_points,
tiers: {full: [[min_accuracy, credit], ...], quick: [...]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.checks.base import Diagnosis, Outcome, register
from grader.checks.models import FIXES, QuestionCapture, printed_in_cells, question_capture
from grader.context import GradingContext
from grader.plugin import require_answer
from grader.rubric import RubricItem


def measurement(ctx: GradingContext, question: str, dataset: str) -> dict[str, Any]:
    """Measure the question's final model once per question (cached): {ok, accuracy, ...}."""
    key = f"models:measure:{question}"
    if key in ctx.cache:
        return ctx.cache[key]
    qc = question_capture(ctx, question)
    ctx.cache[key] = result = _measure(qc, dataset)
    return result


def _measure(qc: QuestionCapture, dataset: str) -> dict[str, Any]:
    from grader.evaluate import measure

    call, model = _target(qc, dataset)
    if model is None:
        return {"ok": False, "error": "no trained model was captured in this question's cells"}
    saved = qc.saved.get(model["index"])
    if saved is None or qc.capture_dir is None:
        return {"ok": False, "error": "the model never finished a training run, so there is no trained "
                                      "model to measure", "model": model["index"]}
    spec: dict[str, Any] = {"model": str(qc.capture_dir / Path(saved["file"]).name)}
    x = (call or {}).get("x")
    if call is not None and qc.is_official(x, "test", dataset):
        spec.update(_official_spec(qc, x, dataset))
    elif call is not None and (call.get("keep") or {}).get("file"):
        spec["npz"] = str(qc.capture_dir / Path(call["keep"]["file"]).name)
        spec["note"] = (f"the student's own test split as evaluated in cell {call.get('cell')} "
                        f"({call['keep']['n']} of {call['keep']['of']} images)")
    else:
        train = next((f.get("x") for f in reversed(qc.fits) if qc.is_official(f.get("x"), "train", dataset)),
                     None)
        if call is not None or train is None or not qc.data_dir:
            return {"ok": False, "error": "the test data could not be identified: evaluate the final model "
                                          "with model.evaluate(x_test, y_test)", "model": model["index"]}
        spec.update(_official_spec(qc, train, dataset))  # training preprocessing applied to the test set
    result = measure(spec, qc.capture_dir)
    result.update({"model": model["index"], "cell": call.get("cell") if call else None,
                   "note": spec.get("note", f"official {dataset} test set")})
    if call is not None and call.get("metrics"):
        result["student_evaluate"] = call["metrics"]
    return result


def _target(qc: QuestionCapture, dataset: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The evaluate call that stands for the final test, and its model."""
    for call in reversed(qc.evaluates):
        if qc.model_of(call) is not None and qc.model_of(call)["index"] in qc.saved:
            return call, qc.model_of(call)
    fitted = [f for f in qc.fits if f.get("status") == "ok" and qc.model_of(f) is not None]
    if fitted:
        return (qc.evaluates[-1] if qc.evaluates else None), qc.model_of(fitted[-1])
    return None, qc.final_model()


def _official_spec(qc: QuestionCapture, desc: dict[str, Any], dataset: str) -> dict[str, Any]:
    """Rebuild the student's preprocessed test inputs from the official files: the captured
    array's min/max map raw pixels 0..255 affinely (a generator's rescale on top)."""
    fp = desc["fingerprint"]
    rescale = (desc.get("generator") or {}).get("rescale")
    rescale = float(rescale) if isinstance(rescale, (int, float)) and rescale else 1.0
    return {"data_dir": qc.data_dir, "dataset": dataset, "split": "test",
            "scale": (fp["vmax"] - fp["vmin"]) / 255.0 * rescale, "offset": fp["vmin"] * rescale,
            "sample_shape": desc["shape"][1:], "dtype": desc.get("dtype") or "float32"}


def _tier_credit(value: float, tiers: list[list[float]]) -> float:
    for threshold, credit in sorted(tiers, key=lambda t: -t[0]):
        if value >= threshold:
            return float(credit)
    return 0.0


@register("accuracy", needs_execution=True)
def accuracy(item: RubricItem, ctx: GradingContext) -> Outcome:
    answer = require_answer(item, ctx)
    dataset = item.params.get("dataset", "mnist")
    profile = ctx.options.profile
    provisional = profile == "quick"
    if item.params.get("needs_pretrained"):
        from grader.checks.diagnostics import _missing_weights

        missing = _missing_weights(ctx)
        if missing:
            return Outcome.skipped(f"Not measured: the pretrained weights were not available ({missing}).")
    m = measurement(ctx, item.question, dataset)
    qc = question_capture(ctx, item.question)
    printed, printed_cell = printed_in_cells(ctx, qc.cells)
    acc_evidence: dict[str, Any] = {"printed": printed, "measured": None, "keras_evaluate": None,
                                    "cell": printed_cell}
    evidence: dict[str, Any] = {"accuracy": acc_evidence, "cells": qc.cells, "profile": profile}
    if not m.get("ok"):
        return Outcome(0.0, f"The grader could not measure the accuracy of question {answer.number}'s "
                            f"model: {m.get('error')}.", evidence=evidence, provisional=provisional)
    measured = 100.0 * m["accuracy"]
    acc_evidence.update({"measured": round(measured, 2), "n": m.get("n"), "data": m.get("note"),
                         "per_class": [None if a is None else round(a, 4) for a in m.get("per_class") or []],
                         "keras_evaluate": None if m.get("keras_evaluate") is None
                         else round(100.0 * m["keras_evaluate"], 2)})
    metric = item.params.get("metric", "accuracy")
    value = measured / 100.0
    if metric == "worst_class":
        value = min(a for a in m.get("per_class", []) if a is not None)
        evidence["worst_class_accuracy"] = round(value, 4)
    tiers = (item.params.get("tiers") or {}).get(profile) or (item.params.get("tiers") or {}).get("full", [])
    credit = _tier_credit(value, tiers)
    diagnoses = []
    limit = float(item.params.get("mismatch_points", 0.5))
    if metric == "accuracy" and printed is not None and abs(printed - measured) > limit:
        diagnoses.append(Diagnosis(
            "reported-accuracy-mismatch",
            f"cell {printed_cell} prints {printed:.2f}% but the grader measured {measured:.2f}% on "
            f"{m.get('note')}", printed_cell, FIXES["reported-accuracy-mismatch"]))
        credit = 0.0
    label = "worst-class accuracy" if metric == "worst_class" else "accuracy"
    feedback = (f"Measured {label}: {value * 100:.2f}% on {m.get('note')} ({m.get('n')} images)"
                + (f"; printed: {printed:.2f}%" if printed is not None else "") + ". ")
    if diagnoses:
        feedback += f"The printed figure differs from the measured one by more than {limit:g} points: " \
                    "no accuracy credit. " + FIXES["reported-accuracy-mismatch"]
    elif credit < 1.0:
        top = max((t[0] for t in tiers), default=None)
        if top is not None:
            feedback += f"Full credit from {top * 100:.1f}%. " + str(item.params.get("hint", ""))
    if provisional:
        feedback += " (Quick profile: training was capped, so this result is provisional.)"
    return Outcome(credit, feedback.strip(), diagnoses=diagnoses, evidence=evidence, provisional=provisional)
