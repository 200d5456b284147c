"""Grade one submission in this process: the unit of work a batch executor runs.

`python -m grader.worker JOB.json RESULT.json` reads a `GradeJob`, grades it and writes the
`SubmissionResult` JSON atomically; `--serve` does the same for a stream of jobs (see `serve`).
A worker grades one submission at a time (the engine runs pytest in-process and starts a
kernel), so a grader crash, a leak or an OOM kill takes down one submission, never the batch.

The worker never exits with a traceback for anything a submission does: a failure while
grading becomes a result with status `error` that still carries the static items, graded
without running any student code.

Training slots: with `gate_slots > 0` the execution of the notebook (the part that trains
models) waits for one of `gate_slots` lock files in `gate_dir` (fcntl.flock, released by the
kernel when the holder dies, so a killed worker never leaves a slot taken). Static items are
graded before the slot is requested, so they proceed while others train.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.context import GradingContext, GradingOptions
from grader.plugin import GraderSession
from grader.results import SubmissionResult, write_atomic
from grader.rubric import Rubric, RubricItem, load_rubric


@dataclass
class GradeJob:
    """Everything needed to grade one submission anywhere (plain JSON, no live objects)."""

    path: str
    rubric: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # GradingOptions fields
    cache_key: str = ""
    crash: str | None = None  # set: grade static items only, execution recorded as this failure
    gate_dir: str | None = None  # training slots (see module docstring)
    gate_slots: int = 0
    phase_file: str | None = None  # the worker writes its phase here (static|waiting|executing)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> GradeJob:
        return cls(**json.loads(text))


# ---- grading with a filter ----------------------------------------------------------------

class FilteredSession(GraderSession):
    """A grading session that keeps only the rubric items `keep` accepts (after --questions)."""

    def __init__(self, ctx: GradingContext, keep: Callable[[RubricItem], bool] | None) -> None:
        super().__init__(ctx)
        self.keep = keep

    def pytest_collection_modifyitems(self, config, items) -> None:
        super().pytest_collection_modifyitems(config, items)
        if self.keep is None:
            return
        drop = [i for i in items if hasattr(i, "spec") and not self.keep(i.spec)]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = [i for i in items if i not in drop]


def grade_filtered(
    path: str | Path,
    rubric: Rubric,
    options: GradingOptions,
    *,
    keep: Callable[[RubricItem], bool] | None = None,
    execution: Any = None,
) -> SubmissionResult:
    """Like `engine.grade_submission`, with an item filter and optionally a fixed execution record.

    Passing `execution` (an ExecutionRecord) grades without starting a kernel: dynamic checks
    see that record instead of running the notebook.
    """
    from grader.engine import grade_submission

    return grade_submission(path, rubric, options, execution=execution,
                            session_factory=lambda ctx: FilteredSession(ctx, keep))


def crashed_execution(message: str):  # -> ExecutionRecord
    from grader.execute.record import ExecutionProblem, ExecutionRecord

    return ExecutionRecord(status="error", problems=[ExecutionProblem("kernel-error", message)])


def error_result(path: str | Path, rubric: Rubric, options: GradingOptions, message: str) -> SubmissionResult:
    """Last resort when even static grading failed: every item `error`, with the reason."""
    from grader.engine import invalid_result

    result = invalid_result(Path(path), rubric, options, message)
    result.status = "error"
    for item in result.items():
        item.status = "error"
        item.feedback = "Not graded: the grader failed on this submission; your instructor will look at it."
    return result


# ---- one job ------------------------------------------------------------------------------

def run_job(job: GradeJob) -> dict[str, Any]:
    """Grade one job; returns the result as a dict. Never raises for a submission's behaviour.
    The result's `environment.timings.worker` says which process graded it and when (epoch
    seconds): the batch benchmark's per-worker timeline, never part of a grade."""
    started = time.time()
    result = _run_job(job)
    timings = result.setdefault("environment", {}).setdefault("timings", {})
    if isinstance(timings, dict):
        timings["worker"] = {"pid": os.getpid(), "start": round(started, 3), "end": round(time.time(), 3)}
    return result


def _run_job(job: GradeJob) -> dict[str, Any]:
    rubric = load_rubric(job.rubric)  # a bad rubric is a configuration error: let it raise
    options = GradingOptions(**job.options)
    _set_phase(job, "static")
    try:
        if job.crash:
            result = grade_filtered(job.path, rubric, options, execution=crashed_execution(job.crash))
        else:
            with training_gate(job):
                from grader.engine import grade_submission

                result = grade_submission(job.path, rubric, options)
    except Exception as exc:  # the grader failed: keep the static items, record the reason
        message = f"the grader failed while grading this submission ({type(exc).__name__}: {exc})"
        detail = traceback.format_exc()[-4000:]
        try:
            result = grade_filtered(job.path, rubric, GradingOptions(**job.options),
                                    execution=crashed_execution(message))
        except Exception:
            result = error_result(job.path, rubric, GradingOptions(**job.options), message)
        result.environment["grader_traceback"] = detail
        result.cache_key = ""  # not cached: a grader failure is retried by the next run
        return result.to_dict()
    result.cache_key = "" if job.crash else job.cache_key
    if _GATE_LOG:
        result.environment["training_slot"] = dict(_GATE_LOG)
    return result.to_dict()


# ---- training slots -----------------------------------------------------------------------

_GATE_LOG: dict[str, Any] = {}


@contextlib.contextmanager
def training_gate(job: GradeJob) -> Iterator[None]:
    """While active, executing the notebook first takes one of the job's training slots."""
    import grader.execute as execute

    original = execute.execute_submission

    def gated(notebook, rubric, options, after_cell=None):
        _set_phase(job, "waiting")
        with _slot(job) as info:
            _set_phase(job, "executing")
            try:
                return original(notebook, rubric, options, after_cell)
            finally:
                info["released_at"] = time.time()
                _set_phase(job, "checks")

    # context.py looks execute_submission up at call time, so this wraps the lazy execution
    # without any change to the engine or the checks.
    execute.execute_submission = gated
    try:
        yield
    finally:
        execute.execute_submission = original


@contextlib.contextmanager
def _slot(job: GradeJob) -> Iterator[dict[str, Any]]:
    info: dict[str, Any] = _GATE_LOG
    info.clear()
    if job.gate_slots <= 0 or not job.gate_dir:
        yield {}
        return
    gate = Path(job.gate_dir)
    gate.mkdir(parents=True, exist_ok=True)
    asked = time.time()
    while True:
        for slot in range(job.gate_slots):
            fh = open(gate / f"training-slot-{slot}.lock", "a+")  # noqa: SIM115 (held while training)
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            info.update(slot=slot, slots=job.gate_slots, asked_at=asked, acquired_at=time.time(),
                        waited_s=round(time.time() - asked, 3))
            try:
                yield info
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        time.sleep(0.2)


def _set_phase(job: GradeJob, phase: str) -> None:
    if job.phase_file:
        with contextlib.suppress(OSError):
            write_atomic(Path(job.phase_file), phase)


# ---- process entry point -------------------------------------------------------------------

def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a killed batch leaves no orphans)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def serve() -> int:
    """Grade jobs one after another: a JSON line [JOB.json, RESULT.json] in on stdin, a line
    "done" out once the result is written; ends when stdin closes. Anything the grading prints
    goes to stderr, so stdout carries only the protocol. The sandboxed evaluator is kept between
    jobs (grader/evaluation/process.py `keep_evaluators`) and closed when the worker ends (and dies with
    it: bubblewrap's --die-with-parent)."""
    from grader.evaluation.process import keep_evaluators

    die_with_parent()
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    keep_evaluators(True)  # one sandboxed evaluator for this worker's submissions, not one each
    try:
        for line in sys.stdin:
            job_file, result_file = json.loads(line)
            job = GradeJob.from_json(Path(job_file).read_text(encoding="utf-8"))
            write_atomic(Path(result_file), json.dumps(run_job(job), default=str))
            proto.write("done\n")
    finally:
        keep_evaluators(False)  # closes it: no process outlives the worker
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--serve"]:
        return serve()
    if len(argv) != 2:
        print("usage: python -m grader.worker JOB.json RESULT.json | --serve", file=sys.stderr)
        return 2
    die_with_parent()
    job = GradeJob.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    result = run_job(job)
    write_atomic(Path(argv[1]), json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
