"""Checks that a question's code ran, and that it built and trained a Keras model."""

from __future__ import annotations

from grader.checks.base import Outcome, register, require_answer
from grader.context import GradingContext
from grader.rubric import RubricItem


@register("execution", needs_execution=True)
def code_runs(item: RubricItem, ctx: GradingContext) -> Outcome:
    """Full credit when every code cell of the question ran without error."""
    from grader.checks.models import question_capture

    answer = require_answer(item, ctx)
    question_capture(ctx, item.question)  # may add the cells of a model found by what it does
    if not answer.code_cells:
        return Outcome.missing(f"Question {answer.number} has no code cells to run.")
    record = ctx.execution
    failures = []
    for index in answer.code_cells:
        run = record.cell(index)
        if run is None:
            failures.append({"cell": index, "status": "not run"})
        elif run.status != "ok":
            failures.append({"cell": index, "status": run.status,
                             "error": f"{run.error_name}: {run.error_value}".strip(": ")})
    evidence = {"cells": answer.code_cells, "failures": failures}
    if not failures:
        return Outcome(credit=1.0, feedback="All code cells of this question ran.", evidence=evidence)
    ran = len(answer.code_cells) - len(failures)
    first = failures[0]
    detail = f": {first['error']}" if first.get("error") else ""
    return Outcome(
        credit=ran / len(answer.code_cells) * float(item.params.get("partial", 0.5)),
        feedback=(f"Cell {first['cell']} did not run cleanly ({first['status']}{detail}). "
                  "Restart the kernel and run all cells before handing in."),
        evidence=evidence,
    )


@register("model-built", needs_execution=True)
def model_built(item: RubricItem, ctx: GradingContext) -> Outcome:
    """Full credit when the question's cells built and trained a Keras model: the capture names
    the fit, and the model file the grader saved and loaded took optimizer steps
    (grader/checks/modelfile.py); half when a model was built but its training is not shown."""
    from grader.checks import modelfile
    from grader.checks.architecture import architecture_rows
    from grader.checks.models import question_capture

    answer = require_answer(item, ctx)
    qc = question_capture(ctx, item.question)
    done = [f for f in qc.fits if f.get("status") == "ok"]
    model = qc.final_model()
    evidence = {"fits": len(done), "models": len(qc.models), "cells": qc.cells}
    if model is not None:
        evidence["architecture"] = architecture_rows(model)
    if done:
        read = modelfile.read(ctx, item.question)
        steps = (read.model or {}).get("optimizer_steps")
        evidence.update(file_status=read.status, optimizer_steps=steps)
        if read.ok and isinstance(steps, int) and steps > 0:
            return Outcome(credit=1.0, evidence=evidence,
                           feedback=f"A Keras model was built and trained (cell {done[-1].get('cell')}).")
        if read.status == "environment":
            return Outcome.skipped(f"Not checked: {read.message}. This is a problem of the grading machine, "
                                   "not of your notebook.", **evidence)
        diagnosis = read.diagnosis()
        why = (read.message if not read.ok else "the saved model's optimizer took no training step")
        return Outcome(credit=0.5, evidence=evidence, diagnoses=[diagnosis] if diagnosis else [],
                       needs_review=diagnosis is None,
                       feedback=f"A Keras model was built, but the grader could not confirm its training "
                                f"from the model file it saved: {why}.")
    if model is not None:
        failed = [f for f in qc.fits if f.get("status") == "error"]
        why = (f" Training in cell {failed[0].get('cell')} failed: {failed[0].get('error', '')[:200]}"
               if failed else " model.fit(...) was never called.")
        return Outcome(credit=0.5, feedback="A Keras model was built but not trained." + why,
                       evidence=evidence)
    return Outcome(credit=0.0, feedback=(
        f"No Keras model was built in question {answer.number}'s cells. Build the model "
        "and call model.fit(...) in this question's code."), evidence=evidence)
