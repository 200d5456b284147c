"""Grade a batch of submissions in parallel, resumably, saving each result the moment it is done.

Shape:
- `Executor` is the scheduling interface: `submit(job) -> Future` of the result dict. The
  checks know nothing about it; a job (`grader.worker.GradeJob`) is plain JSON, so a Dask or
  Slurm executor only has to run `grader.worker.run_job(job)` (or `python -m grader.worker`)
  somewhere and hand back the dict.
  The futures are only used through done(), result(), exception() and add_done_callback().
  `grader/executors/` holds the cluster ones (`--executor dask|slurm|pbs|sge`), chosen there.
- `LocalPoolExecutor` runs up to N `python -m grader.worker --serve` processes, one job at a
  time each, replaced after a few jobs. A worker that crashes, stalls or is OOM-killed costs the
  one submission it was grading, never the pool (unlike a multiprocessing pool, which breaks for
  every pending job). Workers die with the batch (PR_SET_PDEATHSIG).
- `run_batch` owns persistence: the gradebook (one SQLite transaction per result) is the source
  of truth for "already graded", so a batch killed at any point (even SIGKILL) resumes without
  losing or duplicating a run: a result is either committed (skipped next time, its files
  rewritten if they were lost) or not (graded again, recorded once).

Cache key: sha256 over the notebook bytes, the rubric file, the reference package's code, the
grader's own code and version, and every option that changes grading (profile as resolved,
questions, limits, seed, data dir, device class). Any change regrades; `--force` always does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import grader
from grader.evaluation.threads import THREADS_ENV, cores, thread_budget
from grader.gradebook import DEFAULT_NAME, Gradebook
from grader.results import SubmissionResult
from grader.rubric import Rubric

if TYPE_CHECKING:  # the worker module pulls in pytest: imported only when something is graded
    from grader.context import GradingOptions
    from grader.worker import GradeJob

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCK_NAME = ".grader-batch.lock"
#: The batch's own files live in a sub-folder: OUT/*.json are the students' results, nothing else
#: (a student may well be called "similarity").
STATE_DIR = ".grader"
SIMILARITY_FILE = f"{STATE_DIR}/similarity.json"  # the groups, for `grader report --similarity`


class BatchBusy(Exception):
    """Another `grader run` is writing to the same output folder."""


class WorkerFailed(Exception):
    """The grading process for one submission died or ran past its limit (not the student's fault)."""


# ---- executors ------------------------------------------------------------------------------

class Executor(Protocol):
    """Runs grading jobs somewhere. `submit` returns a future of `run_job(job)`'s dict."""

    def submit(self, job: GradeJob) -> Future[dict[str, Any]]: ...

    def shutdown(self, *, cancel: bool = False) -> None: ...


class _Worker:
    """One `python -m grader.worker --serve` process: jobs in on stdin, "done" lines out."""

    def __init__(self, python: str, stderr_path: Path, threads: int | None = None) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        if threads is not None:  # the evaluator's thread budget (grader/evaluation/threads.py)
            env[THREADS_ENV] = str(threads)
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [python, "-m", "grader.worker", "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=err, env=env, text=True, bufsize=1,
                start_new_session=True,  # its own process group: a stall kill takes what it started
            )
        self.jobs = 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, job_file: Path, result_file: Path) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps([str(job_file), str(result_file)]) + "\n")
        self.proc.stdin.flush()
        self.jobs += 1

    def done(self, timeout: float) -> bool | None:
        """True when the job finished, False while it runs, None when the process died."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return False
        return True if self.proc.stdout.readline() else None

    def kill(self) -> None:
        _kill_group(self.proc)
        self.proc.wait()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def last_error(self) -> str:
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return text[-1][:300] if text else "no output"


class LocalPoolExecutor:
    """Up to `workers` jobs at once on this machine, each in a worker process of its own.

    A worker process serves one job at a time and is reused for up to `jobs_per_worker` jobs
    (its imports are paid once, a third of the CPU time of a static-only job), then replaced so
    that nothing one submission left in memory lives long. A worker that dies or stalls costs
    only the job it was running; the next job gets a fresh process.
    """

    def __init__(self, workers: int, *, stall_limit_s: float = 4 * 3600, jobs_per_worker: int = 16,
                 python: str = sys.executable, concurrent: int | None = None):
        self.workers = max(1, workers)
        # jobs that will really run at once (a batch of 1 at -j 2 is one): each job's evaluator
        # gets the cores divided among them, so that its BLAS threads do not spin against the
        # other job's kernel (grader/evaluation/threads.py); one job alone is left as it was
        budget = thread_budget(min(self.workers, concurrent or self.workers))
        self.threads = budget if budget < cores() else None
        self.stall_limit_s = stall_limit_s  # no phase change for this long (except waiting): killed
        self.jobs_per_worker = max(1, jobs_per_worker)
        self.python = python
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="grader-job")
        self._tmp = Path(tempfile.mkdtemp(prefix="grader-batch-"))
        self._local = threading.local()  # each pool thread drives its own worker process
        self._live: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._count = 0

    def submit(self, job: GradeJob) -> Future[dict[str, Any]]:
        with self._lock:
            self._count += 1
            jobdir = self._tmp / f"job{self._count:05d}"
        return self._pool.submit(self._run, job, jobdir)

    def _worker(self) -> _Worker:
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is not None and worker.alive() and worker.jobs < self.jobs_per_worker:
            return worker
        if worker is not None:
            worker.stop()
            with self._lock:
                self._live.discard(worker)
        with self._lock:
            self._count += 1
            worker = _Worker(self.python, self._tmp / f"worker{self._count:05d}.stderr", self.threads)
            self._live.add(worker)
        self._local.worker = worker
        return worker

    def _run(self, job: GradeJob, jobdir: Path) -> dict[str, Any]:
        if self._closing:
            raise WorkerFailed("the batch is shutting down")
        jobdir.mkdir(parents=True)
        job = dataclasses.replace(job, phase_file=str(jobdir / "phase"))
        (jobdir / "job.json").write_text(job.to_json(), encoding="utf-8")
        result_file = jobdir / "result.json"
        worker = self._worker()
        worker.send(jobdir / "job.json", result_file)
        try:
            self._wait(worker, jobdir)
        except WorkerFailed:
            self._local.worker = None
            with self._lock:
                self._live.discard(worker)
            raise
        if result_file.exists():
            return json.loads(result_file.read_text(encoding="utf-8"))
        raise WorkerFailed("the grading process wrote no result")

    def _wait(self, worker: _Worker, jobdir: Path) -> None:
        phase_file = jobdir / "phase"
        while True:
            state = worker.done(0.5)
            if state:
                return
            if state is None:
                code = worker.proc.wait()
                raise WorkerFailed(f"the grading process ended with exit code {code} ({worker.last_error()})")
            if self._closing:
                worker.kill()
                raise WorkerFailed("the batch was stopped")
            try:
                phase = phase_file.read_text(encoding="utf-8")
                since = phase_file.stat().st_mtime
            except OSError:
                phase, since = "starting", jobdir.stat().st_mtime
            if phase != "waiting" and time.time() - since > self.stall_limit_s:
                worker.kill()
                raise WorkerFailed(f"the grading process made no progress for {self.stall_limit_s:g} s "
                                   f"(phase {phase}) and was stopped")

    def shutdown(self, *, cancel: bool = False) -> None:
        if cancel:
            self._closing = True
            with self._lock:
                for worker in list(self._live):
                    worker.kill()
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        with self._lock:
            for worker in list(self._live):
                worker.stop()
            self._live.clear()
        import shutil

        shutil.rmtree(self._tmp, ignore_errors=True)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


# ---- cache keys -----------------------------------------------------------------------------

_CODE_HASHES: dict[str, str] = {}


def _tree_hash(root: Path, patterns: tuple[str, ...]) -> str:
    key = f"{root}:{patterns}"
    if key not in _CODE_HASHES:
        h = hashlib.sha256()
        for pattern in patterns:
            for path in sorted(root.glob(pattern)):
                if path.is_file() and "__pycache__" not in path.parts:
                    h.update(str(path.relative_to(root)).encode())
                    h.update(path.read_bytes())
        _CODE_HASHES[key] = h.hexdigest()
    return _CODE_HASHES[key]


def reference_fingerprint(rubric: Rubric) -> str:
    """Hash of the reference package's code (reference values are computed from it)."""
    name = (rubric.reference or "reference.assignment06").split(".")[0]
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return "none"
    return _tree_hash(Path(spec.origin).parent, ("**/*.py",))


#: The code that decides a grade. Not the batch machinery, CLI, reports or gradebook: changing
#: those must not regrade a class.
GRADING_CODE = ("engine.py", "plugin.py", "context.py", "notebook.py", "rubric.py", "results.py",
                "worker.py", "checks/**/*.py", "execute/**/*.py")


def grader_fingerprint() -> str:
    """Version plus a hash of the grading code (checks, engine, in-kernel hooks)."""
    return f"{grader.__version__}:{_tree_hash(Path(grader.__file__).parent, GRADING_CODE)}"


def grading_signature(rubric: Rubric, options: GradingOptions, extra: dict[str, Any] | None = None) -> str:
    """The part of the cache key shared by every submission of a batch."""
    from grader.machine import gpu_present, resolve_profile

    opts = dataclasses.asdict(options)
    for display_only in ("out_dir", "student_mode"):
        opts.pop(display_only, None)
    opts["profile"] = resolve_profile(options.profile)
    opts["data_dir"] = options.resolved_data_dir()
    opts["questions"] = sorted(options.questions) if options.questions else None
    parts = {
        "rubric": rubric.digest,
        "reference": reference_fingerprint(rubric),
        "grader": grader_fingerprint(),
        "gpu": gpu_present(),
        "options": opts,
        "extra": extra or {},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def cache_key(path: Path, signature: str, extra: str = "") -> str:
    h = hashlib.sha256(signature.encode())
    h.update(extra.encode())
    try:
        h.update(path.read_bytes())
    except OSError as exc:
        h.update(f"unreadable:{exc.errno}".encode())
    return h.hexdigest()


# ---- the batch ------------------------------------------------------------------------------

@dataclass
class BatchOutcome:
    results: list[SubmissionResult]  # in the order the notebooks were given
    graded: int = 0  # graded in this run
    cached: int = 0  # reused from an earlier run
    similarity: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0


ProgressCallback = Callable[[SubmissionResult, bool], None]  # (result, was_cached)


def run_batch(
    notebooks: list[Path],
    rubric: Rubric,
    options: GradingOptions,
    *,
    out: Path,
    jobs: int | None = None,
    force: bool = False,
    executor: Executor | None = None,
    max_trainings: int | None = None,
    extra_key: dict[str, Any] | None = None,
    submission_key: Callable[[Path], str] | None = None,
    finish: Callable[[SubmissionResult], SubmissionResult] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: ProgressCallback | None = None,
) -> BatchOutcome:
    """Grade `notebooks` into `out` (results, reports, gradebook, class report). See module doc.

    `submission_key(path)` adds per-submission inputs to its cache key; `finish(result)` is applied
    to each fresh result before it is saved and to each cached one (the manual grades: editing them
    never reruns a notebook).
    """
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    with _batch_lock(out), Gradebook(out / DEFAULT_NAME) as book:
        signature = grading_signature(rubric, options, extra_key)
        keys = {path: cache_key(path, signature, submission_key(path) if submission_key else "")
                for path in notebooks}
        results: dict[Path, SubmissionResult] = {}
        todo: list[Path] = []
        for path in notebooks:
            saved = None if force else _saved_result(book, path, keys[path])
            if saved is None:
                todo.append(path)
            else:
                results[path] = saved
        if on_start:
            on_start(len(notebooks), len(results))
        for path in notebooks:  # cached first: instant progress, and lost files are rewritten
            if path in results:
                # manual grades are not part of the cache key: an edited overrides file is applied
                # to the saved grading, never a reason to run the notebook again
                results[path] = _refinished(book, results[path], finish)
                current = book.current_for_path(path, overrides=False) or results[path]
                _ensure_outputs(_refinished(book, current, finish), out, options.student_mode)
                if on_result:
                    on_result(results[path], True)
        graded = _grade_all(todo, rubric, options, keys, out=out, book=book, jobs=jobs,
                            executor=executor, max_trainings=max_trainings,
                            finish=finish, on_result=on_result)
        results.update(graded)
        ordered = [results[p] for p in notebooks]
        similarity = _similarity(notebooks, rubric, keys, out)
        current = [_refinished(book, book.current_for_path(p, overrides=False) or results[p], finish)
                   for p in notebooks]
        _write_class_report(current, similarity, out)
    return BatchOutcome(results=ordered, graded=len(graded), cached=len(notebooks) - len(todo),
                        similarity=similarity, duration_s=round(time.monotonic() - started, 3))


def _grade_all(todo, rubric, options, keys, *, out, book, jobs, executor, max_trainings, finish,
               on_result):
    if not todo:
        return {}
    from grader.worker import GradeJob

    own = executor is None
    slots = training_slots(rubric, max_trainings)
    workers = jobs or os.cpu_count() or 1
    overlap = os.environ.get(OVERLAP_ENV) != "0"
    if own and overlap and slots == 0 and len(todo) > workers and workers < cores():
        # one worker more than notebooks executing at once, where -j leaves a core idle: it
        # evaluates and checks the notebook that just ran while the next one executes (8 alice
        # notebooks at -j 1 on 2 cores: 135 -> 114 s, the plain runs 112 s; at -j 2 no core is
        # left and it gained nothing, 76.7 -> 75.9 s); -j still bounds the trainings
        slots, workers = workers, workers + 1
    executor = executor or LocalPoolExecutor(workers, concurrent=len(todo),
                                             stall_limit_s=stall_limit(rubric, options))
    base = dataclasses.asdict(options)
    done: dict[Path, SubmissionResult] = {}
    cond = threading.Condition()
    pending: dict[Future, tuple[Path, GradeJob]] = {}

    def submit(path: Path, crash: str | None = None) -> None:
        job = GradeJob(path=str(path), rubric=str(rubric.path), options=dict(base), cache_key=keys[path],
                       crash=crash, gate_dir=str(out / ".grader-locks") if slots else None,
                       gate_slots=slots)
        future = executor.submit(job)
        with cond:
            pending[future] = (path, job)
        future.add_done_callback(lambda _f: _notify(cond))

    try:
        for path in hand_out_order(todo, book, options):
            submit(path)
        while True:
            with cond:
                finished = [f for f in pending if f.done()]
                if not finished and not pending:
                    break
                if not finished:
                    cond.wait(timeout=1.0)
                    continue
                batch = [(f, pending.pop(f)) for f in finished]
            for future, (path, job) in batch:
                result = _collect(future, path, job, rubric, options)
                if result is None:  # the worker died: grade the static items on their own
                    submit(path, crash=_failure(future))
                    continue
                if finish is not None:
                    result = finish(result)
                save_result(result, out, book, student_mode=options.student_mode)
                done[path] = result
                if on_result:
                    on_result(result, False)
    except BaseException:
        executor.shutdown(cancel=True)
        raise
    if own:
        executor.shutdown()
    return done


def hand_out_order(todo: list[Path], book: Gradebook, options: GradingOptions) -> list[Path]:
    """The order jobs go to the executor: on a regrade, the longest last grading first
    (grader/schedule.py), so that the workers finish together; otherwise, and with
    GRADER_LONGEST_FIRST=0, the given order."""
    from grader import schedule
    from grader.machine import resolve_profile

    if not schedule.enabled() or len(todo) < 2:
        return list(todo)
    known = book.last_durations(todo, resolve_profile(options.profile))
    return schedule.longest_first(todo, schedule.expected_costs(todo, known))


def _notify(cond: threading.Condition) -> None:
    with cond:
        cond.notify_all()


def _failure(future: Future) -> str:
    exc = future.exception()
    return str(exc) if isinstance(exc, WorkerFailed) else f"the grader failed ({type(exc).__name__}: {exc})"


def _collect(future: Future, path: Path, job: GradeJob, rubric: Rubric,
             options: GradingOptions) -> SubmissionResult | None:
    """The job's result; None when the worker died and a static-only retry is worth it."""
    exc = future.exception()
    if exc is None:
        return SubmissionResult.from_dict(future.result())
    if job.crash is None:
        return None
    from grader.context import GradingOptions
    from grader.worker import error_result

    message = f"{job.crash}; grading the static items alone failed too ({_failure(future)})"
    result = error_result(path, rubric, GradingOptions(**dataclasses.asdict(options)), message)
    result.cache_key = ""
    return result


def stall_limit(rubric: Rubric, options: GradingOptions) -> float:
    """How long a worker may go without reaching its next phase: the notebook's own time limit
    (enforced by the runner) plus a generous margin for grading and evaluating saved models."""
    notebook_limit = float(options.timeout or rubric.execution.get("timeout", 3600))
    return notebook_limit + 900.0


def duplicate_stems(notebooks: list[Path]) -> list[list[Path]]:
    """Submissions that would write the same OUT/<stem>.json (same file name, other folder)."""
    by_stem: dict[str, list[Path]] = {}
    for path in notebooks:
        by_stem.setdefault(path.stem, []).append(path)
    return [paths for paths in by_stem.values() if len(paths) > 1]


#: "0": a local batch runs exactly -j workers, without the extra one that overlaps a notebook's
#: evaluation and checks with the next one's execution (`_grade_all`; to measure what it saves)
OVERLAP_ENV = "GRADER_OVERLAP"


def training_slots(rubric: Rubric, override: int | None) -> int:
    """How many notebooks may execute (train) at once: 0 means no limit beyond -j.

    `--max-trainings` wins; else the rubric's `execution.max_parallel_trainings`, which applies
    on a machine with a GPU (on CPU the -j limit already bounds the trainings).
    """
    if override is not None:
        return max(0, override)
    from grader.machine import gpu_present

    k = rubric.execution.get("max_parallel_trainings")
    return int(k) if k and gpu_present() else 0


def save_result(result: SubmissionResult, out: Path, book: Gradebook, *, student_mode: bool) -> None:
    """Commit the run to the gradebook first (the source of truth), then write the files of the
    student's current grade: this run, unless it is partial and a complete grade exists (then
    the complete grade stays, and stderr says so)."""
    from grader.output import write_outputs

    run_id = book.record(result)
    instead = book.current_instead_of(run_id)
    if instead is not None:
        current = book.current_for_path(result.path, overrides=False) or result
        _warn_partial(result, instead)
        result = current
    write_outputs(result, out, student_mode=student_mode)


def _warn_partial(result: SubmissionResult, instead: dict[str, Any]) -> None:
    name = result.student or result.submission
    lower = (" and would have lowered it" if result.score < instead["score"] - 1e-9 else "")
    print(f"grader: note: {name}: this run is partial ({instead['reason']}); it is kept in the gradebook "
          f"as history, but {name}'s current grade stays {instead['score']:g}/{instead['max_score']:g} "
          f"from the last complete run (this run: {result.score:g}/{result.max_score:g}{lower}). "
          "Grade every question to replace it.", file=sys.stderr)


def _saved_result(book: Gradebook, path: Path, key: str) -> SubmissionResult | None:
    row = book.db.execute(
        "SELECT r.cache_key, r.result_json FROM runs r JOIN submissions s ON s.id = r.submission_id "
        "WHERE s.path = ? ORDER BY r.id DESC LIMIT 1", (str(path.resolve()),)).fetchone()
    if row is None or not row[0] or row[0] != key:
        return None
    return SubmissionResult.from_dict(json.loads(row[1]))


def _refinished(book: Gradebook, result: SubmissionResult,
                finish: Callable[[SubmissionResult], SubmissionResult] | None) -> SubmissionResult:
    """A saved grading with today's manual grades (`finish`) applied; recorded in the gradebook
    as a new run when they changed it, so that every export agrees."""
    if finish is None:
        return result
    finished = finish(result)
    if finished.to_dict() != result.to_dict():
        book.record(finished)
    return finished


def _ensure_outputs(result: SubmissionResult, out: Path, student_mode: bool) -> None:
    """A cached result's files: the JSON rewritten if lost or not the gradebook's latest (a manual
    override since, say); the HTML re-rendered (cheap) so that --student-mode applies too."""
    from grader.output import result_stem, write_outputs, write_report

    try:
        current = (out / f"{result_stem(result)}.json").read_text(encoding="utf-8")
    except OSError:
        current = None
    if current != result.to_json():
        write_outputs(result, out, student_mode=student_mode)
    else:
        write_report(result, out, student_mode=student_mode)


def _similarity(notebooks: list[Path], rubric: Rubric, keys: dict[Path, str],
                out: Path) -> list[dict[str, Any]]:
    """Similarity groups, reused while the batch's notebooks and grader are unchanged (the cache
    keys cover both), so a cached re-run does not re-read every notebook."""
    from grader.results import write_atomic
    from grader.similarity import find_similar_notebooks

    batch_key = hashlib.sha256(json.dumps(sorted((p.stem, keys[p]) for p in notebooks)).encode()).hexdigest()
    cache = out / STATE_DIR / "similarity-cache.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved["key"] == batch_key:
            return saved["groups"]
    try:
        groups = find_similar_notebooks(notebooks, rubric)
    except Exception as exc:  # never lose a batch over the instructor's side report
        print(f"grader: warning: similarity report skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
        return []
    write_atomic(cache, json.dumps({"key": batch_key, "groups": groups}))
    return groups


def _write_class_report(results: list[SubmissionResult], similarity: list[dict[str, Any]], out: Path) -> None:
    from grader.report.publish import write_class_files
    from grader.results import write_atomic

    write_atomic(out / SIMILARITY_FILE, json.dumps(similarity, indent=2))
    write_class_files(results, out, similarity)  # index.html and grades.csv


@contextlib.contextmanager
def _batch_lock(out: Path):
    """One batch per output folder at a time (the lock goes with the process, even on SIGKILL)."""
    fh = open(out / LOCK_NAME, "a+")  # noqa: SIM115
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchBusy(f"{out}: another `grader run` is writing here; wait for it to finish "
                            "or pass another --out") from None
        yield
    finally:
        fh.close()
