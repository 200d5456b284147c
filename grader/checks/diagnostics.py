"""Kinds `diagnostic` and `transfer-pipeline`: named ML mistakes and the transfer-learning steps.

`diagnostic` params: task (scratch | transfer), codes (the diagnosis codes this item answers
for), penalty (credit lost per diagnosis, default 0.5). `transfer-pipeline` checks the steps of
question 10 one by one (pretrained base, frozen first, fine-tuned with a lower learning rate,
enough images, a three-way split, matching preprocessing and input size); credit is the share
met. Both attach the diagnoses they answer for, each with its cell and a fix.
"""

from __future__ import annotations

from typing import Any

from grader.checks.architecture import architecture_rows
from grader.checks.base import Outcome, register
from grader.checks.fitfiles import transfer_facts
from grader.checks.models import diagnose, question_capture, transfer_model
from grader.context import GradingContext
from grader.plugin import require_answer
from grader.rubric import RubricItem


def _history(fits: list[dict[str, Any]]) -> dict[str, list[float]]:
    merged: dict[str, list[float]] = {}
    for fit in fits:
        for key, values in (fit.get("history") or {}).items():
            merged.setdefault(key, []).extend(values)
    return merged


@register("diagnostic", needs_execution=True)
def diagnostic(item: RubricItem, ctx: GradingContext) -> Outcome:
    require_answer(item, ctx)
    qc = question_capture(ctx, item.question)
    task = item.params.get("task", "scratch")
    codes = set(item.params.get("codes") or [])
    found = [d for d in diagnose(ctx, item.question, task) if not codes or d.code in codes]
    evidence = {"cells": sorted({d.cell for d in found if d.cell is not None}) or qc.cells,
                "history": _history(qc.fits),
                "fits": [{"cell": f.get("cell"), "status": f.get("status"), "epochs": f.get("epochs"),
                          "budget": f.get("budget")} for f in qc.fits]}
    if not qc.fits and not qc.evaluates:
        return Outcome(0.0, "No training or evaluation ran in this question's cells, so the method "
                            "cannot be checked.", evidence=evidence)
    if not found:
        return Outcome(1.0, "No methodological problem was found in how the data is split, scaled "
                            "and used.", evidence=evidence)
    penalty = float(item.params.get("penalty", 0.5))
    feedback = " ".join(f"[{d.code}] cell {d.cell}: {d.message}. Fix: {d.fix}" for d in found)
    return Outcome(max(0.0, 1.0 - penalty * len(found)), feedback, diagnoses=found, evidence=evidence)


@register("transfer-pipeline", needs_execution=True)
def transfer_pipeline(item: RubricItem, ctx: GradingContext) -> Outcome:
    require_answer(item, ctx)
    qc = question_capture(ctx, item.question)
    found = {d.code: d for d in diagnose(ctx, item.question, "transfer")}
    with_base, model, base = transfer_model(qc)
    missing = _missing_weights(ctx)
    source = base.get("weights_source") if base else None
    # the three training steps come from the files saved after each fit (grader/checks/fitfiles.py)
    facts = transfer_facts(ctx, item.question)
    steps: list[tuple[str, bool, str]] = []
    if facts.first is None and base is None and not facts.files:
        steps.append(("pretrained base", False, "no pretrained model (e.g. keras.applications.MobileNetV2) "
                      "is part of the trained model"))
        steps.append(("frozen first", False, "no training with the base"))
    elif facts.first is None:  # no usable file: a capture claiming a base earns nothing by itself
        why = (facts.frozen_first.detail if facts.frozen_first else
               "the grader saved no model file after a training with the pretrained base, so how it "
               "was trained cannot be checked")
        if not (missing and not source):
            steps.append(("pretrained base", False, why))
        steps.append(("frozen first", False, why))
    else:
        if facts.pretrained is not None and facts.pretrained.met is not None:
            steps.append(("pretrained base", bool(facts.pretrained.met), facts.pretrained.detail))
        frozen = facts.frozen_first
        steps.append(("frozen first", bool(frozen and frozen.met), frozen.detail if frozen else ""))
    tuned = facts.fine_tuned
    steps.append(("fine-tuned", bool(tuned and tuned.met), tuned.detail if tuned else
                  "no training ran with base layers unfrozen (a second, fine-tuning phase with a lower "
                  "learning rate); if your code has one, an earlier error stopped it"))
    for code, name, ok_text in (
        ("too-few-images-per-class", "images per class", "at least 100 training images per class"),
        ("no-test-split", "train/validation/test split", "separate training, validation and test data"),
        ("preprocessing-mismatch", "preprocessing", "inputs scaled the way the base expects"),
        ("input-size-mismatch", "input size", "images match the base's input size"),
    ):
        steps.append((name, code not in found, found[code].message if code in found else ok_text))
    if "no-test-split" not in found and not any(
            f.get("validation") is not None or f.get("validation_split") for f in qc.fits):
        steps[-3] = ("train/validation/test split", False, "no validation data was used during training")
    met = sum(1 for _, ok, _ in steps if ok)
    failed = [f"{n}: {why}" for n, ok, why in steps if not ok]
    own = ("base-not-frozen-first", "base-never-unfrozen", "too-few-images-per-class", "no-test-split",
           "preprocessing-mismatch", "input-size-mismatch")
    diagnoses = [found[c] for c in own if c in found]
    feedback = ("Every transfer-learning step is there." if not failed
                else "Transfer learning: " + "; ".join(failed) + ".")
    if diagnoses:
        feedback += " " + " ".join(f"Fix ({d.code}): {d.fix}" for d in diagnoses)
    if missing and not source:
        feedback += (f" The pretrained weights were not available to the grader ({missing}); the base ran "
                     "with random weights, so whether ImageNet weights load was not checked.")
    return Outcome(met / len(steps), feedback, diagnoses=diagnoses,
                   evidence={"steps": [{"step": n, "met": ok, "detail": why} for n, ok, why in steps],
                             "fit_files": facts.evidence(),
                             "architecture": architecture_rows(model) if model else [],
                             "history": _history(with_base),
                             "cells": sorted({f.get("cell") for f in qc.fits if f.get("cell") is not None})})


def _missing_weights(ctx: GradingContext) -> str | None:
    """What the execution recorded as missing pretrained weights (quick profile only)."""
    record = ctx.execution
    missing = (getattr(record, "missing_weights", None) or (record.sandbox or {}).get("missing_weights")
               or (record.budget or {}).get("missing_weights"))
    if ctx.options.profile != "quick" or not missing:
        return None
    if isinstance(missing, list):
        return ", ".join(str(m.get("file", m)) if isinstance(m, dict) else str(m) for m in missing)
    return str(missing)

