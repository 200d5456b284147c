"""Sample results for the report's tests, screenshots and docs.

`engine_results` grades real notebooks with the real engine (static questions only, so no
kernel starts); `showcase_result` and `status_results` build results from the dataclasses so
that every evidence key, diagnostics, execution problems, manual/review/provisional flags and
every non-graded status are exercised. The hidden item carries distinctive text so tests can
prove it never reaches a student copy.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from grader.execute.record import CellRun, ExecutionProblem, ExecutionRecord
from grader.results import Diagnostic, ItemResult, QuestionResult, SubmissionResult

STATIC_QUESTIONS = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]
HIDDEN_FEEDBACK = "SECRET-FEEDBACK: the test split leaked into validation_data"
HIDDEN_EVIDENCE = "SECRET-EVIDENCE: model.fit(x_test, y_test)"
HIDDEN_DIAGNOSIS = "secret-test-leak"


def engine_results(
    root: Path, malformed: Path | None = None, questions: list[str] | None = None
) -> list[SubmissionResult]:
    """Alice, the reference solution and (optionally) a malformed file, graded for real."""
    from grader.context import GradingOptions
    from grader.engine import grade_submission
    from grader.rubric import load_rubric

    rubric = load_rubric(root / "rubrics" / "assignment06.yaml")
    paths = [root / "submissions" / "alice.ipynb", root / "reference" / "assignment06.ipynb"]
    if malformed is not None:
        paths.append(malformed)
    return [
        grade_submission(p, rubric, GradingOptions(questions=list(questions or STATIC_QUESTIONS)))
        for p in paths
    ]


@functools.cache
def executed_results(cell_timeout: float = 20.0) -> tuple[SubmissionResult, ...]:
    """Two tiny notebooks run for real in a kernel (q9, q10): one raises, one hangs past its cell
    limit. They give real execution records: cell errors, a timeout, problems with cells.

    Cached per process (each costs a kernel start); the notebooks stay in a temporary folder,
    removed at exit, so reports can still show their cells' source. `cell_timeout` leaves room
    for the grader's own setup cells, which run under the same per-cell limit.
    """
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from grader.context import GradingOptions
    from grader.engine import grade_submission

    folder = Path(tempfile.mkdtemp(prefix="grader-samples-"))
    atexit.register(shutil.rmtree, folder, True)
    notebooks = {
        "raises": [
            new_markdown_cell("## Question 9\nTrain a CNN."),
            new_code_cell("print('training...')"),
            new_code_cell("raise ValueError('Shapes (None, 10) and (None, 1) are incompatible')"),
            new_markdown_cell("## Question 10"),
            new_code_cell("print('done')"),
        ],
        "hangs": [
            new_markdown_cell("## Question 9"),
            new_code_cell("import time\ntime.sleep(3600)"),
            new_markdown_cell("## Question 10"),
            new_code_cell("print('never reached')"),
        ],
    }
    results = []
    for name, cells in notebooks.items():
        path = folder / f"{name}.ipynb"
        nbformat.write(new_notebook(cells=cells), str(path))
        options = GradingOptions(questions=["q9", "q10"], cell_timeout=cell_timeout, timeout=4 * cell_timeout)
        results.append(grade_submission(path, options=options))
    return tuple(results)


def _item(id: str, score: float, max_score: float, status: str, feedback: str, **kw) -> ItemResult:
    return ItemResult(id=id, score=score, max_score=max_score, status=status, feedback=feedback, **kw)  # type: ignore[arg-type]


def showcase_result(student: str = "bob") -> SubmissionResult:
    """A graded submission whose items use every evidence key the report renders specially."""
    q2 = [
        _item(
            "q2.params",
            5,
            5,
            "passed",
            "Parameter count matches the model (incl. biases).",
            kind="param-math",
            title="Number of parameters",
            evidence={
                "numbers": [
                    {
                        "part": "conv1",
                        "found": 896,
                        "expected": 896,
                        "unit": "params",
                        "text": "3*3*3*32 + 32 = 896",
                    },
                    {
                        "part": "total",
                        "found": 1199882,
                        "expected": 1199882,
                        "unit": "params",
                        "text": "total: 1,199,882",
                    },
                ],
                "cells": [4],
            },
        ),
        _item(
            "q2.ram_batch",
            1.5,
            5,
            "partial",
            "RAM for a batch of 50 counts the activations once; multiply by the batch size.",
            kind="param-math",
            title="RAM for a batch of 50",
            diagnoses=["batch-not-multiplied"],
            evidence={
                "numbers": [
                    {
                        "part": "batch of 50",
                        "found": 4.8,
                        "expected": 240.2,
                        "unit": "MB",
                        "text": "about 4.8 MB for the batch",
                    },
                    {"part": "float size", "found": None, "expected": 4, "unit": "bytes", "text": ""},
                ],
                "tolerance": 0.02,
                "method": {"dtype": "float32", "bytes": 4},
            },
        ),
    ]
    q4 = [
        _item(
            "q4.concepts",
            4,
            6,
            "partial",
            "You explain what max pooling keeps; say also what a strided convolution learns.",
            kind="concepts",
            title="Max pooling vs strided convolution",
            confidence=0.82,
            needs_review=True,
            evidence={
                "excerpt": "Max pooling keeps the strongest activation in each window and has no "
                "parameters. A strided convolution <b>downsamples</b> too.",
                "matches": [
                    {
                        "concept": "no-parameters",
                        "phrase": "no parameters",
                        "sentence": "Max pooling ... has no parameters.",
                    },
                    {
                        "concept": "downsampling",
                        "phrase": "downsamples",
                        "sentence": "A strided convolution downsamples too.",
                    },
                ],
                "missing_concepts": ["learned-downsampling"],
            },
        ),
    ]
    history = {
        "loss": [1.9, 1.2, 0.9, 0.75, 0.66],
        "val_loss": [1.5, 1.1, 0.95, 0.93, 0.97],
        "accuracy": [0.31, 0.55, 0.68, 0.74, 0.77],
        "val_accuracy": [0.45, 0.6, 0.66, 0.67, 0.66],
    }
    q9 = [
        _item(
            "q9.architecture",
            6,
            8,
            "partial",
            "Two conv blocks found; the rubric expects three.",
            kind="architecture",
            title="Architecture",
            evidence={
                "architecture": [
                    {
                        "class": "Conv2D",
                        "name": "conv2d",
                        "output_shape": [None, 30, 30, 32],
                        "params": 896,
                        "trainable": True,
                    },
                    {
                        "class": "MaxPooling2D",
                        "name": "max_pooling2d",
                        "output_shape": [None, 15, 15, 32],
                        "params": 0,
                        "trainable": True,
                    },
                    {
                        "class": "Dense",
                        "name": "dense",
                        "output_shape": [None, 10],
                        "params": 72010,
                        "trainable": True,
                    },
                ],
                "history": history,
                "cells": [12, 13],
            },
        ),
        _item(
            "q9.accuracy",
            3,
            6,
            "partial",
            "The notebook prints 91 % but the grader measures 66.4 % on the official test set.",
            kind="accuracy",
            title="Test accuracy",
            provisional=True,
            diagnoses=["printed-accuracy-mismatch"],
            evidence={
                "accuracy": {
                    "printed": 0.91,
                    "measured": 0.664,
                    "keras_evaluate": 0.662,
                    "cell": 14,
                    "test_set": "CIFAR-10 test, 10000 images",
                    "per_class": [0.78, 0.81, 0.52, 0.44, 0.6, 0.55, 0.77, 0.7, 0.8, 0.67],
                }
            },
        ),
        _item(
            "q9.style",
            2,
            2,
            "passed",
            "An instructor reviewed the plots by hand.",
            kind="manual",
            title="Plots labelled",
            manual=True,
            evidence={"note": "axes labelled, legend present"},
        ),
        _item(
            "q9.methodology",
            0,
            4,
            "failed",
            HIDDEN_FEEDBACK,
            kind="diagnostic",
            title="Methodology",
            visibility="hidden",
            diagnoses=[HIDDEN_DIAGNOSIS],
            evidence={"excerpt": HIDDEN_EVIDENCE, "cells": [13]},
        ),
    ]
    questions = [
        QuestionResult(id="q2", title="Parameters and memory of a CNN", items=q2, score=0, max_score=0),
        QuestionResult(id="q4", title="Max pooling vs strided convolution", items=q4, score=0, max_score=0),
        QuestionResult(id="q9", title="Train a CNN on CIFAR-10", items=q9, score=0, max_score=0),
    ]
    diagnostics = [
        Diagnostic(
            "batch-not-multiplied",
            "q2",
            "The batch RAM equals the single-prediction RAM.",
            item="q2.ram_batch",
            cell=4,
            fix="Multiply the activation memory by the batch size (50).",
        ),
        Diagnostic(
            "printed-accuracy-mismatch",
            "q9",
            "The printed accuracy is 25 points above the measured one.",
            item="q9.accuracy",
            cell=14,
            fix="Print the value model.evaluate returns on x_test.",
        ),
        Diagnostic(
            HIDDEN_DIAGNOSIS,
            "q9",
            HIDDEN_FEEDBACK,
            item="q9.methodology",
            cell=13,
            fix="SECRET-FIX: keep the test set out of training",
        ),
    ]
    execution = ExecutionRecord(
        status="completed",
        duration_s=48.2,
        profile="quick",
        device="cpu",
        seeds={"python": 42, "numpy": 42, "tensorflow": 42},
        versions={"tensorflow": "2.17.0", "keras": "3.4"},
        budget={"max_epochs": 5, "max_train_samples": 5000},
        cells=[
            CellRun(4, "ok", 0.01),
            CellRun(12, "ok", 1.2),
            CellRun(13, "ok", 40.5, output_text="Epoch 1/5 ..."),
            CellRun(14, "ok", 0.8, output_text="Test accuracy: 0.91"),
            CellRun(16, "error", 0.1, "NameError", "name 'histroy' is not defined"),
        ],
        problems=[
            ExecutionProblem("cell-error", "cell 16 raised NameError: name 'histroy' is not defined", 16)
        ],
    )
    result = SubmissionResult(
        submission=f"{student}.ipynb",
        student=student,
        path="",
        status="graded",
        score=0,
        max_score=0,
        profile="quick",
        device="cpu",
        questions=questions,
        diagnostics=diagnostics,
        rubric="rubrics/assignment06.yaml",
        grader_version="0.1.0",
        started_at="2026-11-27T10:00:00+00:00",
        duration_s=51.3,
        environment={
            "python": "3.11.9",
            "seed": 42,
            "seeds": execution.seeds,
            "budget": execution.budget,
            "kernel_tensorflow": "2.17.0",
        },
        execution=execution.to_dict(),
    )
    result.recompute_scores()
    return result


def status_results() -> list[SubmissionResult]:
    """A timeout, a kernel error and an invalid file, as the engine reports them."""
    out = []
    for student, status, exec_status, problem, cell in (
        (
            "carol",
            "timeout",
            "timeout",
            ExecutionProblem("cell-timeout", "cell 9 ran past its time limit", 9),
            9,
        ),
        (
            "dave",
            "error",
            "kernel-died",
            ExecutionProblem("kernel-died", "the kernel died (out of memory?) while running cell 7", 7),
            7,
        ),
    ):
        execution = ExecutionRecord(
            status=exec_status,
            duration_s=300.0,  # type: ignore[arg-type]
            cells=[CellRun(cell, problem.kind.removeprefix("cell-"), 300.0)],  # type: ignore[arg-type]
            problems=[problem],
        )
        items = [
            _item(
                "q9.runs",
                0,
                3,
                "failed",
                f"The notebook did not finish: {problem.message}.",
                kind="execution",
                evidence={"cells": [cell]},
            )
        ]
        r = SubmissionResult(
            submission=f"{student}.ipynb",
            student=student,
            status=status,  # type: ignore[arg-type]
            score=0,
            max_score=0,
            profile="quick",
            device="cpu",
            message=problem.message,
            questions=[QuestionResult("q9", 0, 0, items, title="Train a CNN on CIFAR-10")],
            started_at="2026-11-27T10:05:00+00:00",
            execution=execution.to_dict(),
        )
        r.recompute_scores()
        out.append(r)
    invalid = SubmissionResult(
        submission="erin.ipynb",
        student="erin",
        status="invalid",
        score=0,
        max_score=0,
        profile="quick",
        device="none (not executed)",
        message="erin.ipynb: not valid JSON (line 1, column 2: Expecting value)",
        questions=[
            QuestionResult(
                "q2",
                0,
                0,
                [_item("q2.params", 0, 5, "missing", "Not graded: the notebook file could not be read.")],
            )
        ],
    )
    invalid.recompute_scores()
    out.append(invalid)
    return out
