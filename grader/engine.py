"""Grade one submission: load, locate, run the rubric as a pytest session, build the result.

Whatever the submission does, `grade_submission` returns a SubmissionResult with an explicit
status; it raises only for the grader's own configuration errors (RubricError).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import grader
from grader.checks.base import Outcome
from grader.context import GradingContext, GradingOptions
from grader.execute.record import ExecutionRecord
from grader.gaps import classify_outcomes
from grader.locate import location_map
from grader.machine import resolve_profile
from grader.notebook import InvalidSubmission, load_notebook
from grader.plugin import GraderSession
from grader.results import Diagnostic, ItemResult, QuestionResult, SubmissionResult
from grader.rubric import Rubric, load_rubric


def grade_submission(
    path: str | Path,
    rubric: Rubric | None = None,
    options: GradingOptions | None = None,
    *,
    execution: ExecutionRecord | None = None,
    session_factory: Callable[[GradingContext], GraderSession] = GraderSession,
) -> SubmissionResult:
    """Grade one file. `execution` grades against a given record instead of running the
    notebook; `session_factory` lets a caller select items (the batch's static-only fallback)."""
    rubric = rubric or load_rubric()
    options = options or GradingOptions()
    options.profile = resolve_profile(options.profile)
    started = time.monotonic()
    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    try:
        notebook = load_notebook(path)
    except InvalidSubmission as exc:
        result = invalid_result(Path(path), rubric, options, str(exc))
        result.started_at = stamp
        return result
    ctx = GradingContext(rubric=rubric, notebook=notebook, answers=rubric.locate_answers(notebook),
                         options=options, _execution=execution)
    session = session_factory(ctx)
    early = _ExecuteEarly(ctx)
    try:
        run_pytest_session(session, early)
        result = build_result(ctx, session)
    finally:
        early.join()  # the kernel is gone before its folder is removed, on every path
        if "grader.checks.accuracy" in sys.modules:  # else no evaluator was started
            from grader.checks.accuracy import close_early

            close_early(ctx)
        if execution is None:  # a run this call started: its scratch folder is no longer needed
            remove_run_folder(ctx)
    result.started_at = stamp
    result.duration_s = round(time.monotonic() - started, 3)
    result.environment["timings"] = _timings(ctx, result.duration_s)
    return result


def _timings(ctx: GradingContext, total: float) -> dict[str, Any]:
    """Where the grading time went (benchmarks/grading_overhead.py): the notebook's execution
    (its cells' own time inside it), the sandboxed evaluator, and the checks (the rest)."""
    record = ctx._execution
    execution = float(getattr(record, "duration_s", 0.0) or 0.0)
    cells = sum(float(c.duration_s or 0.0) for c in getattr(record, "cells", []) or [])
    evaluation = float(ctx.cache.get("timings:evaluation_s", 0.0))
    return {"execution_s": round(execution, 3), "cells_s": round(cells, 3),
            "evaluation_s": round(evaluation, 3),
            "checks_s": round(max(total - execution - evaluation, 0.0), 3),
            "evaluator": dict(ctx.cache.get("timings:evaluator", {})),
            "capture": _capture_cost(record)}


def _capture_cost(record: ExecutionRecord | None) -> dict[str, list[float]]:
    """The in-kernel hooks' own seconds per fit / evaluate / predict (the Keras call not counted)
    and per model save, as the kernel reported them: a figure for the benchmark, never a grade."""
    def seconds(entries: list[dict[str, Any]], key: str) -> list[float]:
        values = [e.get(key) for e in entries[:1000] if isinstance(e, dict)]
        return [round(float(v), 4) for v in values if isinstance(v, int | float) and 0 <= v < 1e6]

    if record is None:
        return {}
    return {"fit_s": seconds(record.fits, "capture_s"),
            "evaluate_s": seconds(record.evaluates, "capture_s"),
            "predict_s": seconds(record.predicts, "capture_s"),
            "save_s": seconds(record.saved_models, "save_s")}


class _ExecuteEarly:
    """A pytest plugin: once the items are known, when one of them will run the notebook (an
    `execution` item of an answered question: it always does), the execution starts in a thread,
    so the static items are graded while the kernel starts and runs instead of before it. The
    items that need the run wait for it (GradingContext.execution), as they waited for their own
    call before; nothing else changes. GRADER_EARLY_EXECUTION=0 turns it off.

    Before that, when an accuracy item was selected, the sandboxed evaluator starts (its Keras
    import overlaps the notebook's run; grader/checks/accuracy.py `start_evaluator_early`). Only
    then is the accuracy check imported: a static self-check never loads the model checks."""

    def __init__(self, ctx: GradingContext) -> None:
        self.ctx = ctx
        self.thread: threading.Thread | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        ctx = self.ctx
        if any(getattr(getattr(i, "spec", None), "kind", None) == "accuracy" for i in session.items):
            from grader.checks.accuracy import start_evaluator_early

            start_evaluator_early(ctx)
        if ctx._execution is not None or os.environ.get("GRADER_EARLY_EXECUTION") == "0":
            return
        if not any(getattr(i, "spec", None) is not None and i.spec.kind == "execution"
                   and ctx.answer(i.spec.question) is not None for i in session.items):
            return
        self.thread = threading.Thread(target=self._execute, name="grader-execute", daemon=True)
        self.thread.start()

    def _execute(self) -> None:
        with contextlib.suppress(Exception):  # kept in the context: the items that need it get it
            self.ctx.execution  # noqa: B018

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


def run_pytest_session(session: GraderSession, *extra: object) -> int:
    """One pytest session whose items are the rubric's items; quiet, no cache, no autoloads.
    `extra`: more plugins for the session (the engine's `_ExecuteEarly`)."""
    args = [
        str(session.ctx.rubric.path),
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        # pytest 8.4+'s unraisable-exception plugin runs gc.collect() five times when the session
        # ends (about 0.3 s): a third of a static self-check, for warnings no student reads
        "-p", "no:unraisableexception",
        # plugins a rubric session never uses, whose imports (pdb, xml.etree, unittest support) are
        # part of every self-check's start-up
        "-p", "no:debugging", "-p", "no:junitxml", "-p", "no:pastebin", "-p", "no:unittest",
        "-p", "no:setuponly", "-p", "no:setupplan",
        "-o", "addopts=",
        "-o", "testpaths=",
        "--rootdir", str(session.ctx.rubric.path.parent),
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]
    if os.environ.get("GRADER_PYTEST_VERBOSE") == "1":
        args += ["-v", "--no-header"]  # show the rubric items as pytest reports them
    else:
        args += ["--capture=sys", "-p", "no:terminal"]
    with _env("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"):
        code = int(pytest.main(args, plugins=[session, *extra]))
    if code in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR,
                pytest.ExitCode.USAGE_ERROR):
        raise RuntimeError(f"the grading session could not run (pytest exit code {code}); "
                           "run with GRADER_PYTEST_VERBOSE=1 to see pytest's own message")
    return code


@contextlib.contextmanager
def _env(name: str, value: str):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def build_result(ctx: GradingContext, session: GraderSession) -> SubmissionResult:
    rubric, options = ctx.rubric, ctx.options
    questions: list[QuestionResult] = []
    diagnostics: list[Diagnostic] = []
    selected = set(session.selected) if session.selected else {i.id for i in rubric.items}
    gaps = classify_outcomes(ctx, session.outcomes)  # the environment's gaps are never the student's 0
    for q in rubric.questions:
        items: list[ItemResult] = []
        for spec in q.items:
            if spec.id not in selected:
                continue
            outcome = session.outcomes.get(spec.id) or Outcome(
                credit=0.0, status="error", feedback="The grader did not run this item."
            )
            items.append(item_result(spec, outcome))
            for d in outcome.diagnoses:
                diagnostics.append(
                    Diagnostic(code=d.code, question=q.id, message=d.message, item=spec.id,
                               cell=d.cell, fix=d.fix)
                )
        if items:
            questions.append(
                QuestionResult(id=q.id, title=q.title, items=items,
                               score=sum(i.score for i in items),
                               max_score=sum(i.max_score for i in items))
            )
    execution = ctx._execution
    status, message = "graded", ""
    if execution is not None:
        if execution.status == "timeout":
            status = "timeout"
            message = _first_problem(execution, "the notebook ran past its time limit")
        elif execution.status in ("kernel-died", "error", "disk-quota"):
            status = "error"
            message = _first_problem(execution, "the notebook's kernel failed")
    result = SubmissionResult(
        submission=ctx.notebook.path.name,
        student=ctx.notebook.path.stem,
        path=str(ctx.notebook.path),
        status=status,
        message=message,
        score=0.0,
        max_score=0.0,
        profile=options.profile,
        device=execution.device if execution else "none (not executed)",
        questions=questions,
        diagnostics=diagnostics,
        rubric=str(rubric.path),
        grader_version=grader.__version__,
        environment=environment(ctx),
        execution=execution.to_dict() if execution else None,
        located=location_map(ctx.answers, [q.id for q in questions]),
        gaps=gaps,
    )
    result.recompute_scores()
    return result


def remove_run_folder(ctx: GradingContext) -> None:
    """Delete the execution's scratch folder (working directory, saved models, kernel log) once
    the result is built: a batch of hundreds must not fill the disk. GRADER_KEEP_WORKDIR=1 keeps
    it for debugging."""
    record = ctx._execution
    if record is None or not record.workdir or os.environ.get("GRADER_KEEP_WORKDIR") == "1":
        return
    run_dir = Path(record.workdir).parent
    if run_dir.name.startswith("grader-run-"):
        shutil.rmtree(run_dir, ignore_errors=True)


def _first_problem(execution, default: str) -> str:
    for p in execution.problems:
        if p.kind in ("timeout", "cell-timeout", "kernel-died", "kernel-error", "disk-quota"):
            return p.message
    return default


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def item_result(spec, outcome: Outcome) -> ItemResult:
    credit = min(max(outcome.credit, 0.0), 1.0)
    outcome.feedback = _ANSI.sub("", outcome.feedback)  # error texts from the kernel carry colours
    return ItemResult(
        id=spec.id,
        title=spec.title,
        kind=spec.kind,
        visibility=spec.visibility,
        score=round(credit * spec.points, 2),  # points a person can read: 2.57, not 2.5714
        max_score=spec.points,
        status=outcome.resolved_status(),
        feedback=outcome.feedback,
        diagnoses=[d.code for d in outcome.diagnoses],
        evidence=outcome.evidence,
        confidence=outcome.confidence,
        needs_review=outcome.needs_review,
        provisional=outcome.provisional,
        cause=outcome.cause,
        fix=outcome.fix,
    )


def environment(ctx: GradingContext | None) -> dict:
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "grader": grader.__version__,
        "seed": ctx.options.seed if ctx else None,
    }
    execution = ctx._execution if ctx else None
    if execution is not None:
        env.update({f"kernel_{k}": v for k, v in execution.versions.items()})
        env["seeds"] = execution.seeds
        env["budget"] = execution.budget
        env["sandbox"] = execution.sandbox
    return env


def invalid_result(path: Path, rubric: Rubric, options: GradingOptions, message: str) -> SubmissionResult:
    """A result for a file that could not be read: every item `missing`, score 0."""
    questions = []
    for q in rubric.questions:
        if options.questions and q.id not in options.questions:
            continue
        items = [
            ItemResult(id=s.id, title=s.title, kind=s.kind, visibility=s.visibility, score=0.0,
                       max_score=s.points, status="missing",
                       feedback="Not graded: the notebook file could not be read.")
            for s in q.items
        ]
        questions.append(QuestionResult(id=q.id, title=q.title, items=items, score=0.0,
                                         max_score=sum(i.max_score for i in items)))
    result = SubmissionResult(
        submission=path.name, student=path.stem, path=str(path), status="invalid",
        message=message, score=0.0, max_score=0.0, profile=options.profile,
        device="none (not executed)", questions=questions, rubric=str(rubric.path),
        grader_version=grader.__version__, environment=environment(None),
    )
    result.recompute_scores()
    return result


class PlainPytestRun:
    """State for `pytest rubrics/X.yaml --submission NB`: grades inside the user's session."""

    def __init__(self, path: Path, rubric_path: str | None, options: GradingOptions, write: bool):
        self.options = options
        options.profile = resolve_profile(options.profile)
        rubric = load_rubric(rubric_path)
        notebook = load_notebook(path)  # InvalidSubmission surfaces as a usage error here
        self.session = GraderSession(GradingContext(rubric, notebook, rubric.locate_answers(notebook),
                                                    options))
        self.write = write

    def pytest_terminal_summary(self, terminalreporter) -> None:
        try:
            result = build_result(self.session.ctx, self.session)
        finally:
            remove_run_folder(self.session.ctx)  # as grade_submission does, on every path
        terminalreporter.write_sep("=", f"grader: {result.submission}")
        for q in result.questions:
            terminalreporter.write_line(f"{q.id:>4}  {q.score:6.2f} / {q.max_score:g}")
        terminalreporter.write_line(f"total {result.score:.2f} / {result.max_score:g} ({result.status})")
        if self.write:
            from grader.output import write_outputs

            paths = write_outputs(result, Path(self.options.out_dir))
            terminalreporter.write_line(f"wrote {', '.join(str(p) for p in paths)}")
