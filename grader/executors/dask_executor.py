"""Grade on a Dask distributed cluster: each submission is one Dask task (`grade_on_worker`).

Why Dask rather than our own: its scheduler already places tasks, notices a lost worker and
reschedules what it held, counts per-worker resources (`--resources GPU=1`), and dask-jobqueue
starts its workers through Slurm, PBS or SGE.

On the worker, the task first checks that the worker can read what grading needs (the
submission, the rubric, the data dir) and runs the coordinator's grader and reference code;
a miss is an `environment` error naming the worker and the path, never a grade. It then grades
the JSON `GradeJob` through the worker's own `LocalPoolExecutor`: a `python -m grader.worker
--serve` process (which calls `grader.worker.run_job`) per Dask thread, so the sandbox, limits,
profiles, stall limit and process recycling are those of a local batch, grading runs in a main
thread, and a grading crash costs that job, not the Dask worker. The result comes back as
JSON; the coordinator (`grader run`) stays the one writer.

Worker loss: the scheduler reschedules every task a lost worker held and fails a task with
`KilledWorker` once more than `distributed.scheduler.allowed-failures` workers died holding
it. The executor sets that to 1 for the batch (restored at shutdown), so a submission whose
worker is lost is graded again once; if that worker is lost too, the submission becomes a
`WorkerFailed`, and the batch grades its static items alone and records `error` with the reason.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import math
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.batch import LocalPoolExecutor, WorkerFailed, grader_fingerprint, reference_fingerprint
from grader.executors import ExecutorError
from grader.rubric import Rubric, load_rubric

if TYPE_CHECKING:
    from distributed import Client

    from grader.worker import GradeJob

#: Seconds `grader run` waits for a scheduler before calling the address a usage error.
CONNECT_TIMEOUT_S = 5.0
#: Full gradings of a submission lost with its worker, beyond the first (see module doc).
ALLOWED_FAILURES = 1


def connect(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Client:
    """A client of the scheduler at `address` (tcp://HOST:PORT, or a scheduler JSON file)."""
    from distributed import Client

    where = {"scheduler_file": address} if Path(address).is_file() else {"address": address}
    try:
        return Client(**where, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExecutorError(
            f"--scheduler {address}: no Dask scheduler answered within {timeout_s:g} s ({reason}). "
            "Check the address and port (`dask scheduler` prints them), that the scheduler runs and "
            "this machine may reach it; or grade here without --executor") from None


def wait_for_a_worker(client: Client, where: str, timeout_s: float) -> None:
    """Return once the scheduler has a worker; say so while waiting (a scheduler with none would
    otherwise hold every submission without a word), and give up after `timeout_s`."""
    if client.scheduler_info(n_workers=-1).get("workers"):
        return
    print(f"grader: {where} has no workers yet; waiting up to {timeout_s:g} s for one "
          "(start one with `dask worker ADDRESS`)", file=sys.stderr)
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except TimeoutError:
        client.close()
        raise ExecutorError(
            f"{where} has no workers: none joined within {timeout_s:g} s. Start workers with "
            "`dask worker ADDRESS` in an environment with this grader, or wait longer with "
            "--worker-wait SECONDS") from None


def gpu_workers(client: Client) -> int:
    """Workers that advertise a `GPU` resource (started with `--resources GPU=1`)."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return sum(1 for w in workers.values() if (w.get("resources") or {}).get("GPU"))


def gpu_share(trainings_per_gpu: int) -> float:
    """The `GPU` resource one training asks for: K of them fit in one GPU, K + 1 do not.
    Rounded down so that K float shares never add up to a hair more than 1."""
    k = max(1, trainings_per_gpu)
    return math.floor(1_000_000 / k) / 1_000_000


class DaskExecutor:
    """The batch `Executor` on a Dask cluster. `submit(job)` returns a concurrent Future of the
    result dict, settled when the Dask task ends (see the module doc for what failures become)."""

    def __init__(self, client: Client, *, rubric: Rubric, stall_limit_s: float,
                 gpu_resource: float | None = None, cluster: Any = None,
                 scale: Callable[[int], None] | None = None) -> None:
        self.client = client
        self.cluster = cluster  # a dask-jobqueue cluster this executor started, closed with it
        self.rubric = rubric
        self.stall_limit_s = stall_limit_s
        self.gpu_resource = gpu_resource  # None: no GPU accounting (CPU workers)
        self._scale = scale
        self._lock = threading.Lock()
        self._running: dict[Any, Future] = {}  # Dask future -> the batch's future (keeps it alive)
        self._submitted = 0
        self._closed = False
        self._expect = {"grader": grader_fingerprint(), "reference": reference_fingerprint(rubric)}
        try:
            self._restore_failures = _set_allowed_failures(client, ALLOWED_FAILURES)
        except ExecutorError:
            client.close()
            raise

    @staticmethod
    def check_scheduler(client: Client) -> None:
        """ExecutorError when the scheduler cannot load this grader's tasks (say so before
        waiting for workers). Runs a function of this module on the scheduler and changes nothing
        there; a scheduler that refuses remote code is left for `__init__` to warn about, once."""
        try:
            client.run_on_scheduler(_scheduler_probe)
        except ImportError as exc:
            client.close()
            raise _cannot_import(exc) from None
        except Exception:  # noqa: BLE001 (refusing remote code is not an import failure)
            return

    def submit(self, job: GradeJob) -> Future[dict[str, Any]]:
        outer: Future[dict[str, Any]] = Future()
        portable = _portable(job)
        # Only a job that executes the notebook trains; the static-only retry needs no GPU.
        resources = {"GPU": self.gpu_resource} if self.gpu_resource and not job.crash else None
        with self._lock:
            if self._closed:
                outer.set_exception(WorkerFailed("the batch is shutting down"))
                return outer
            self._submitted += 1
            if self._scale is not None:
                self._scale(self._submitted)
            try:
                task = self.client.submit(grade_on_worker, portable.to_json(), self._expect,
                                          self.stall_limit_s, pure=False, resources=resources,
                                          key=f"grade-{Path(job.path).stem}-{uuid.uuid4().hex[:8]}")
            except Exception as exc:  # the client is closed: the scheduler went away
                outer.set_exception(WorkerFailed(f"could not hand the submission to the Dask scheduler "
                                                 f"({type(exc).__name__}: {exc})"))
                return outer
            self._running[task] = outer
        task.add_done_callback(lambda t: self._settle(t, job))
        return outer

    def _settle(self, task: Any, job: GradeJob) -> None:
        with self._lock:
            outer = self._running.pop(task, None)
        if outer is None or outer.done():
            return
        try:
            outer.set_result(self._result(task, job))
        except BaseException as exc:  # noqa: BLE001 (every failure is the submission's result)
            outer.set_exception(exc if isinstance(exc, WorkerFailed) else _as_failure(exc))

    def _result(self, task: Any, job: GradeJob) -> dict[str, Any]:
        if task.status == "cancelled":
            if self.client.status not in ("running", "connecting"):
                raise WorkerFailed("the connection to the Dask scheduler was lost before this submission "
                                   "was graded")
            raise WorkerFailed("the batch was stopped before this submission was graded")
        exc = task.exception()
        if exc is not None:
            raise _as_failure(exc)
        data = json.loads(task.result())
        if "environment_error" in data:
            return self._environment_result(job, data)
        data["path"] = job.path  # the coordinator's name for the file, as in a local run
        return data

    def _environment_result(self, job: GradeJob, data: dict[str, Any]) -> dict[str, Any]:
        from grader.context import GradingOptions
        from grader.worker import error_result

        problem, where = data["environment_error"], data["dask_worker"]
        message = (f"environment: the Dask worker {where['address']} (host {where['host']}) cannot use "
                   f"{problem['what']} at {problem['path']} ({problem['reason']}). Every worker must see "
                   "the submissions, the rubric and the data dir at the paths `grader run` uses (a shared "
                   "filesystem) and run the same grader and reference code; fix that worker, then run "
                   "the batch again (this submission is not cached)")
        result = error_result(job.path, self.rubric, GradingOptions(**job.options), message)
        result.environment.update(failure="environment", dask_worker=where, missing=problem)
        result.cache_key = ""
        return result.to_dict()

    def shutdown(self, *, cancel: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            left = list(self._running.items())
            self._running.clear()
        try:
            if cancel and left:
                self.client.cancel([task for task, _ in left])  # queued ones never start
                with contextlib.suppress(Exception):  # running ones: stop their grading processes
                    self.client.run(_stop_grading)
            for _, outer in left:
                if not outer.done():
                    outer.set_exception(WorkerFailed("the batch was stopped"))
            with contextlib.suppress(Exception):
                self._restore_failures()
        finally:
            with contextlib.suppress(Exception):
                self.client.close(timeout=10)
            if self.cluster is not None:
                with contextlib.suppress(Exception):
                    self.cluster.close()


def _portable(job: GradeJob) -> GradeJob:
    """The job as a worker elsewhere needs it: absolute paths (its working directory is not
    ours), no local training-slot lock folder (Dask resources do that across the cluster)."""
    options = dict(job.options)
    if options.get("data_dir"):
        options["data_dir"] = os.path.abspath(options["data_dir"])
    elif os.environ.get("GRADER_DATA_DIR"):  # the coordinator's default, which the key holds
        options["data_dir"] = os.path.abspath(os.environ["GRADER_DATA_DIR"])
    return dataclasses.replace(job, path=os.path.abspath(job.path),
                               rubric=os.path.abspath(job.rubric) if job.rubric else None,
                               options=options, gate_dir=None, gate_slots=0, phase_file=None)


def _as_failure(exc: BaseException) -> WorkerFailed:
    if isinstance(exc, WorkerFailed):
        return exc
    name = type(exc).__name__
    if name == "KilledWorker":
        last = getattr(getattr(exc, "last_worker", None), "address", None)
        where = f" (the last was {last})" if last else ""
        times = int(getattr(exc, "allowed_failures", ALLOWED_FAILURES)) + 1
        return WorkerFailed(f"the Dask worker grading it was lost {times} times{where}: killed, its node "
                            "gone or past its walltime")
    if isinstance(exc, ModuleNotFoundError | ImportError):
        return WorkerFailed(f"a Dask worker cannot import the grader ({exc}): install this checkout "
                            "there (`pip install -e .` on a shared filesystem) or put it on its PYTHONPATH")
    return WorkerFailed(f"the Dask task failed ({name}: {str(exc)[:300]})")


# ---- the scheduler's retry budget -----------------------------------------------------------

def _get_allowed_failures(dask_scheduler: Any) -> int:
    return int(dask_scheduler.allowed_failures)


def _scheduler_probe(dask_scheduler: Any) -> bool:
    return True  # loading this function is the test: the scheduler imports this grader


def _cannot_import(exc: ImportError) -> ExecutorError:
    return ExecutorError(
        f"the Dask scheduler cannot import this grader ({exc}). The scheduler loads each task, so "
        "start `dask scheduler` (like the workers) in an environment where this checkout is "
        "installed, e.g. `pip install -e '.[cluster]'` on a shared filesystem")


def _put_allowed_failures(value: int, dask_scheduler: Any) -> int:
    previous = int(dask_scheduler.allowed_failures)
    dask_scheduler.allowed_failures = value
    return previous


def _set_allowed_failures(client: Client, value: int) -> Callable[[], None]:
    """Set the scheduler's retry budget for lost workers; returns what puts it back."""
    try:
        previous = client.run_on_scheduler(_put_allowed_failures, value)
    except ImportError as exc:  # it would fail to load every grading task the same way
        raise _cannot_import(exc) from None
    except Exception as exc:  # a scheduler that refuses remote code (distributed.scheduler.pickle)
        print(f"grader: warning: could not set the scheduler's allowed-failures to {value} ({exc}); a "
              "submission whose worker is lost is graded again as often as the scheduler allows "
              "(start it with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1)", file=sys.stderr)
        return lambda: None
    if previous == value:
        return lambda: None
    return lambda: client.run_on_scheduler(_put_allowed_failures, previous)


# ---- on the worker --------------------------------------------------------------------------

_POOL: LocalPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool(threads: int, stall_limit_s: float) -> LocalPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = LocalPoolExecutor(threads, stall_limit_s=stall_limit_s)
            atexit.register(_POOL.shutdown)  # its scratch folder goes when the worker ends
        _POOL.stall_limit_s = max(_POOL.stall_limit_s, stall_limit_s)
        return _POOL


def _stop_grading() -> None:
    """Run on every worker when a batch is cancelled: its grading processes are killed."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(cancel=True)


def grade_on_worker(job_json: str, expect: dict[str, str], stall_limit_s: float) -> str:
    """The Dask task: check this worker's environment, grade the job, return the result JSON."""
    from distributed import get_worker

    from grader.worker import GradeJob

    worker = get_worker()
    where = {"address": worker.address, "host": socket.gethostname()}
    job = GradeJob.from_json(job_json)
    problem = environment_problem(job, expect)
    if problem is not None:
        return json.dumps({"environment_error": problem, "dask_worker": where})
    started = time.time()
    result = _pool(worker.state.nthreads, stall_limit_s).submit(job).result()
    where.update(started_at=started, finished_at=time.time())  # when it held the worker (and GPU share)
    result.setdefault("environment", {})["dask_worker"] = where
    return json.dumps(result, default=str)


def environment_problem(job: GradeJob, expect: dict[str, str]) -> dict[str, str] | None:
    """What this machine lacks to grade `job` like the coordinator would, or None."""
    needed = [("the submission", job.path, False), ("the rubric", job.rubric, False)]
    if job.options.get("data_dir"):
        needed.append(("the data dir", job.options["data_dir"], True))
    for what, path, folder in needed:
        if not path:
            continue
        try:
            if folder:
                os.listdir(path)
            else:
                with open(path, "rb"):
                    pass
        except OSError as exc:
            return {"what": what, "path": str(path), "reason": exc.strerror or str(exc)}
    import grader

    here = grader_fingerprint()
    if here != expect.get("grader"):
        return {"what": "the grader code", "path": str(Path(grader.__file__).parent),
                "reason": f"it is not the coordinator's: {here[:24]} here, {str(expect.get('grader'))[:24]} "
                          "there; install the same checkout on every worker"}
    try:
        rubric = load_rubric(job.rubric)
    except Exception as exc:
        return {"what": "the rubric", "path": str(job.rubric), "reason": str(exc)[:300]}
    if reference_fingerprint(rubric) != expect.get("reference"):
        return {"what": "the reference code", "path": str(rubric.reference or "reference"),
                "reason": "it is not the coordinator's; install the same checkout on every worker"}
    return None
