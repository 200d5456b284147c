"""Kind `accuracy`: the grader measures the student's trained model itself.

The model the question trained (saved by the kernel) is evaluated outside the kernel
(grader/evaluation/, a sandboxed subprocess) always on the official test set with the official
labels, rebuilt from the data directory with the student's own preprocessing as captured
(checked against the captured statistics: inputs the grader cannot rebuild are
`input-mismatch`, no credit). A split the student made themselves is shown in the evidence,
never scored: its images and labels are the student's to choose. The printed figure is shown
beside the measured one; a gap above `mismatch_points` is `reported-accuracy-mismatch` and
earns no accuracy credit. A model fitted on the test images in a captured `fit`, or one that
does clearly better on the official test set than on training images the grader picked
(trained on the test set outside `fit`, a lookup of it, alone or mixed with an honest model:
grader/evaluation/memorisation.py), is `test-set-memorised` and earns no accuracy credit. A failure of the
grader's own evaluator or data is `skipped`, not zero. Credit comes in tiers from the rubric,
one list per profile; quick tiers are provisional (training was capped).

Params: dataset (mnist | cifar10), metric (accuracy | worst_class), mismatch_points,
tiers: {full: [[min_accuracy, credit], ...], quick: [...]}
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.checks.base import Diagnosis, Outcome, register
from grader.checks.models import FIXES, QuestionCapture, printed_in_cells, question_capture
from grader.context import GradingContext
from grader.plugin import require_answer
from grader.rubric import RubricItem


def measurement(ctx: GradingContext, question: str, dataset: str) -> dict[str, Any]:
    """The question's final model, measured (cached): {ok, accuracy, ...}. The first call
    measures every model the submission's accuracy items need in one sandboxed evaluator
    process (grader/evaluation/process.py `measure_many`), so Keras is imported once per submission."""
    key = f"models:measure:{question}"
    if key not in ctx.cache:
        started = time.monotonic()
        _measure_all(ctx, (question, dataset), _wanted(ctx) - {(question, dataset)})
        spent = time.monotonic() - started
        ctx.cache["timings:evaluation_s"] = ctx.cache.get("timings:evaluation_s", 0.0) + spent
    return ctx.cache[key]


def _wanted(ctx: GradingContext, check_weights: bool = True) -> set[tuple[str, str]]:
    """(question, dataset) of every accuracy item this run grades and would measure."""
    from grader.checks.diagnostics import _missing_weights

    only = set(ctx.options.questions or [])
    wanted = set()
    for item in ctx.rubric.items:
        if item.kind != "accuracy" or (only and item.question not in only):
            continue
        if ctx.answer(item.question) is None or f"models:measure:{item.question}" in ctx.cache:
            continue
        try:
            if check_weights and item.params.get("needs_pretrained") and _missing_weights(ctx):
                continue  # the item is skipped before it measures anything
        except Exception:  # that item meets it itself when it runs
            continue
        wanted.add((item.question, item.params.get("dataset", "mnist")))
    return wanted


def _measure_all(ctx: GradingContext, asked: tuple[str, str], others: set[tuple[str, str]]) -> None:
    """Measure `asked` and, in the same evaluator process, the `others` this run will ask for.
    Anything that goes wrong preparing one of the others is left for its own item to meet."""
    from grader.evaluation.process import measure_many

    planned: list[tuple[str, dict[str, Any], dict[str, Any], QuestionCapture, str]] = []
    for question, dataset in [asked, *sorted(others)]:
        key = f"models:measure:{question}"
        if key in ctx.cache:
            continue
        try:
            qc = question_capture(ctx, question)
            spec, meta = _plan(qc, dataset, ctx)
        except Exception:
            if (question, dataset) == asked:
                raise
            continue
        if spec is None:
            ctx.cache[key] = meta
        else:
            planned.append((key, spec, meta, qc, dataset))
    if not planned:
        return
    results = measure_many([spec for _, spec, _, _, _ in planned], early=ctx.cache.pop(EARLY_KEY, None))
    for (key, _, meta, qc, dataset), result in zip(planned, results, strict=True):
        result.update(meta)
        try:
            result["test_in_training"] = _test_share_in_training(qc, _target(qc, dataset)[1], dataset)
        except Exception:
            if key != f"models:measure:{asked[0]}":
                continue  # its own item measures it again and meets the error there
            raise
        if result.get("timings"):  # the evaluator's own split, for benchmarks/grading_overhead.py
            ctx.cache.setdefault("timings:evaluator", {})[key.rsplit(":", 1)[-1]] = result["timings"]
        ctx.cache[key] = result


#: ctx.cache key of the evaluator started before the notebook runs (`start_evaluator_early`)
EARLY_KEY = "evaluator:early"
#: ctx.cache key of the ExitStack that keeps one evaluator for the submission (outside a worker)
KEEP_KEY = "evaluator:kept-for-submission"


def start_evaluator_early(ctx: GradingContext) -> None:
    """Start the sandboxed evaluator now, so its Keras import overlaps the notebook's run, when
    this run will likely measure a model: an accuracy item is graded and the notebook trains
    (calls fit). Costs nothing to the grade: an evaluator not used is closed (`close_early`).
    Imports after the early returns: a static self-check must not load the runner (nbclient)."""
    if EARLY_KEY in ctx.cache or KEEP_KEY in ctx.cache or not _wanted(ctx, check_weights=False):
        return
    if not any(".fit(" in cell.source for cell in ctx.notebook.cells if cell.cell_type == "code"):
        return
    from grader.evaluation.process import evaluator_for, one_evaluator_per_submission
    from grader.machine import default_data_dir

    keep = contextlib.ExitStack()  # accuracy and the per-fit files share one process
    keep.enter_context(one_evaluator_per_submission())
    ctx.cache[KEEP_KEY] = keep
    if os.environ.get("GRADER_EARLY_EVALUATOR") == "0":  # off, to measure what starting early saves
        return
    early = ctx.cache[EARLY_KEY] = evaluator_for(ctx.options.data_dir or default_data_dir())
    if early.preimport == "warm":  # else `warm` does nothing: no need to read the setup record per cell
        ctx.after_cell = _warm_when_pretrained(early)


def _warm_when_pretrained(early: Any) -> Callable[[int, Path], None]:
    """After each cell: once the kernel has read pretrained weights, the model it builds needs
    Keras in the evaluator (the NumPy reader does not run a pretrained base), so the evaluator
    imports it now, while the notebook still runs (process.py `Evaluator.warm`)."""
    from grader.execute.runner import pretrained_weights_used

    def after_cell(index: int, workdir: Path) -> None:
        if not early.warmed and pretrained_weights_used(workdir):
            early.warm()

    return after_cell


def close_early(ctx: GradingContext) -> None:
    early = ctx.cache.pop(EARLY_KEY, None)
    if early is not None:
        early.release()  # a batch worker's kept evaluator stays for its next submission
    keep = ctx.cache.pop(KEEP_KEY, None)
    if keep is not None:
        keep.close()  # outside a worker: the submission's evaluator is closed now


def _plan(qc: QuestionCapture, dataset: str, ctx: GradingContext | None = None
          ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the evaluator's spec, what the result gets besides the measurement), or (None, the
    result) when there is nothing the grader can measure. Only a file the runner saw the capture
    save, unchanged since (grader/checks/modelfile.py `verify_file`), is measured."""
    from grader.checks.modelfile import verify_file

    call, model = _target(qc, dataset)
    if model is None:
        return None, {"ok": False, "error": "no trained model was captured in this question's cells"}
    index = model["index"]
    if ctx is not None:
        _, status, why = verify_file(ctx, index)
        if status == "tampered":
            return None, {"ok": False, "status": "tampered", "error": why, "model": index,
                          "cell": (call or {}).get("cell", model.get("cell"))}
    used = any(c.get("model") == index for c in qc.evaluates + qc.predicts) or any(
        f.get("model") == index and f.get("status") == "ok" for f in qc.fits)
    saved = qc.saved.get(index) if used else None  # a model saved before any training is not measured
    if saved is None or qc.capture_dir is None:
        return None, {"ok": False, "error": "the model never finished a training run, so there is no "
                                            "trained model to measure", "model": index}
    from grader.fingerprint import OFFICIAL  # here, not at the top: it imports NumPy, which the
    # static questions (and the student's self-check) never need

    if not qc.data_dir or not (Path(qc.data_dir) / OFFICIAL[dataset]).exists():
        return None, {"ok": False, "environment": True, "model": model["index"],
                      "error": f"the grader's copy of the official {dataset} test set ({OFFICIAL[dataset]}) "
                               "is not in the data directory"}
    source, exact, own = _preprocessing(qc, call, dataset)
    if source is None:
        return None, {"ok": False, "error": "the test data could not be identified: evaluate the final "
                                            "model with model.evaluate(x_test, y_test)",
                      "model": model["index"]}
    spec: dict[str, Any] = {"model": str(qc.capture_dir / Path(saved["file"]).name)}
    spec.update(_official_spec(qc, source, dataset, exact))
    spec["probe_n"] = PROBE_N.get(dataset, 5000)
    meta: dict[str, Any] = {"model": model["index"], "cell": call.get("cell") if call else None,
                            "note": f"official {dataset} test set"}
    if own:
        meta["own_split"] = own
    if call is not None and call.get("metrics"):
        meta["student_evaluate"] = call["metrics"]
    return spec, meta


def _preprocessing(qc: QuestionCapture, call: dict[str, Any] | None, dataset: str):
    """(data description whose preprocessing rebuilds the inputs, whether it WAS the official
    test set, the student's own split for the evidence). The student's own split is never
    measured: its images and labels are the student's to choose (flipped images labelled with
    the model's own predictions score 100%)."""
    x = (call or {}).get("x")
    if call is not None and qc.is_official(x, "test", dataset):
        return x, True, None
    own = None
    if call is not None and (x or {}).get("fingerprint"):
        keep = call.get("keep") or {}
        own = {"cell": call.get("cell"), "n": (x or {}).get("n"), "of": keep.get("of"),
               "official_overlap": qc.ident(x), "metrics": call.get("metrics")}
        return x, False, own
    train = next((f.get("x") for f in reversed(qc.fits) if qc.is_official(f.get("x"), "train", dataset)),
                 None)
    if call is not None and (x or {}).get("kind") not in (None, "array", "image-data-generator"):
        train = None  # a pipeline the grader cannot replay (tf.data, a Sequence, a directory)
    return train, False, own


def _test_share_in_training(qc: QuestionCapture, model: dict[str, Any], dataset: str) -> float:
    """The share of the official test images among the data the model was fitted on."""
    from grader.fingerprint import official_hashes, overlap

    test = official_hashes(qc.data_dir, dataset, "test")
    share = 0.0
    for fit in qc.fits:
        if qc.model_of(fit) is model or (qc.model_of(fit) or {}).get("index") == model.get("index"):
            share = max(share, overlap(test, qc.hashes(fit.get("x"))))
    return round(share, 4)


def _target(qc: QuestionCapture, dataset: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The evaluate call that stands for the final test, and its model."""
    for call in reversed(qc.evaluates):
        if qc.model_of(call) is not None and qc.model_of(call)["index"] in qc.saved:
            return call, qc.model_of(call)
    fitted = [f for f in qc.fits if f.get("status") == "ok" and qc.model_of(f) is not None]
    if fitted:
        return (qc.evaluates[-1] if qc.evaluates else None), qc.model_of(fitted[-1])
    return None, qc.final_model()


def _official_spec(qc: QuestionCapture, desc: dict[str, Any], dataset: str, exact: bool) -> dict[str, Any]:
    """Rebuild the student's preprocessed test inputs from the official files: the captured
    array's min/max map raw pixels 0..255 affinely (a generator's rescale on top). `expect`:
    the statistics the rebuilt inputs must have (exactly when the capture was the official
    test set itself, the mean roughly when it was other data preprocessed the same way)."""
    fp = desc["fingerprint"]
    rescale = (desc.get("generator") or {}).get("rescale")
    rescale = float(rescale) if isinstance(rescale, (int, float)) and rescale else 1.0
    mean = desc.get("mean")
    expect = {"min": fp["vmin"] * rescale, "max": fp["vmax"] * rescale,
              "mean": None if mean is None else float(mean) * rescale, "exact": exact}
    return {"data_dir": qc.data_dir, "dataset": dataset, "split": "test",
            "scale": (fp["vmax"] - fp["vmin"]) / 255.0 * rescale, "offset": fp["vmin"] * rescale,
            "sample_shape": desc["shape"][1:], "dtype": desc.get("dtype") or "float32",
            "expect": expect}


#: images per probe set of the memorisation check (grader/evaluation/memorisation.py): fewer for
#: CIFAR-10, whose transfer models are slow to run on a CPU (its memorisers stand out by far more)
PROBE_N = {"mnist": 5000, "cifar10": 2000}
#: a model fitted on at least this share of the official test images has seen the test set
TEST_IN_TRAINING = 0.5


def _memorised(m: dict[str, Any]) -> str | None:
    """Why the measured figure says nothing about generalisation, or None: the model was fitted
    on the test images, or knows them far better than data it could not have memorised."""
    share = float(m.get("test_in_training") or 0.0)
    if share >= TEST_IN_TRAINING:
        return f"the model was trained on {share:.0%} of the official test images"
    memo = m.get("memorisation") or {}
    if memo.get("memorised"):  # grader/evaluation/memorisation.py says why this means the test set was seen
        return (f"the model scores {100 * memo['advantage']:.1f} points higher on the official test set "
                f"than on {memo.get('n_probe', 5000):,} training images the grader picked; a model trained "
                "only on the training set does at least as well on training images, so this one has seen "
                "the test images (trained on them, or looks them up)")
    return None


def _forged(ctx: GradingContext, m: dict[str, Any]) -> Diagnosis | None:
    """`tampered` / `capture-mismatch`: the measured file is not what the notebook's model was
    (changed after the grader saved it, another model, or trained past the quick budget)."""
    from grader.checks.modelfile import check_described

    status, why = str(m.get("status") or ""), str(m.get("error") or "")
    if status != "tampered" and m.get("file_model"):
        status, why = check_described(ctx, m.get("model"), m["file_model"])
    if status not in ("tampered", "capture-mismatch"):
        return None
    cell = m.get("cell")
    if not isinstance(cell, int):  # no evaluate call: the cell that built the model
        cell = next((x.get("cell") for x in ctx.execution.models if x.get("index") == m.get("model")), None)
    return Diagnosis(status, why, cell, FIXES[status])


def _over_budget(ctx: GradingContext, m: dict[str, Any]) -> Diagnosis | None:
    """`over-budget`: trained outside fit() past the quick caps (an honest custom loop)."""
    from grader.checks.modelfile import budget_problem

    over = budget_problem(ctx, m.get("model"), m["file_model"]) if m.get("file_model") else None
    if over is None or over[0] != "over-budget":
        return None
    return Diagnosis("over-budget", over[1], m.get("cell"), FIXES["over-budget"])


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
    if m.get("own_split"):
        acc_evidence["own_split"] = m["own_split"]
    if m.get("environment"):  # the grader's own evaluator or data failed: not the student's zero
        return Outcome.skipped(f"Not measured: {m.get('error')}. This is a problem of the grading "
                               "machine, not of your notebook.", **evidence)
    forged = _forged(ctx, m)
    if forged is not None:
        return Outcome(0.0, f"Not measured: {forged.message}. No accuracy credit. {forged.fix}",
                       diagnoses=[forged], evidence=evidence, provisional=provisional)
    if not m.get("ok"):
        diagnoses = []
        if m.get("status") == "input-mismatch":
            diagnoses.append(Diagnosis("input-mismatch", str(m.get("error")), m.get("cell"),
                                       FIXES["input-mismatch"]))
        fix = " " + FIXES["input-mismatch"] if diagnoses else ""
        return Outcome(0.0, f"The grader could not measure the accuracy of question {answer.number}'s "
                            f"model: {m.get('error')}.{fix}",
                       diagnoses=diagnoses, evidence=evidence, provisional=provisional)
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
    memo = _memorised(m)
    if m.get("memorisation"):
        evidence["memorisation"] = m["memorisation"]
    if memo:
        diagnoses.append(Diagnosis("test-set-memorised", memo, m.get("cell"), FIXES["test-set-memorised"]))
        credit = 0.0
    limit = float(item.params.get("mismatch_points", 0.5))
    if metric == "accuracy" and printed is not None and abs(printed - measured) > limit:
        diagnoses.append(Diagnosis(
            "reported-accuracy-mismatch",
            f"cell {printed_cell} prints {printed:.2f}% but the grader measured {measured:.2f}% on "
            f"{m.get('note')}", printed_cell, FIXES["reported-accuracy-mismatch"]))
        credit = 0.0
    review = _over_budget(ctx, m)
    if review is not None:
        diagnoses.append(review)
    label = "worst-class accuracy" if metric == "worst_class" else "accuracy"
    feedback = (f"Measured {label}: {value * 100:.2f}% on {m.get('note')} ({m.get('n')} images)"
                + (f"; printed: {printed:.2f}%" if printed is not None else "") + ". ")
    if memo:
        feedback += f"No accuracy credit: {memo}. " + FIXES["test-set-memorised"]
    elif diagnoses:
        feedback += f"The printed figure differs from the measured one by more than {limit:g} points: " \
                    "no accuracy credit. " + FIXES["reported-accuracy-mismatch"]
    elif credit < 1.0:
        top = max((t[0] for t in tiers), default=None)
        if top is not None:
            feedback += f"Full credit from {top * 100:.1f}%. " + str(item.params.get("hint", ""))
    if m.get("own_split"):
        own = m["own_split"]
        feedback += (f" Your own test split (evaluated in cell {own.get('cell')}) is shown in the evidence "
                     "but not scored: accuracy is always measured on the official test set.")
    if review is not None:
        feedback += f" Measured as trained: {review.message}; an instructor reviews it."
    if provisional:
        feedback += " (Quick profile: training was capped, so this result is provisional.)"
    return Outcome(credit, feedback.strip(), diagnoses=diagnoses, evidence=evidence, provisional=provisional,
                   needs_review=review is not None)
