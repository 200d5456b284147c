"""The evaluator's thread budget: the cores divided among the jobs of a batch that run at once.

NumPy's OpenBLAS (which runs the evaluator's forward passes, numpymodel.py) starts a thread per
core, and its threads spin while they wait. At `-j 2` on two cores the other job's kernel holds
the second core, and the spinning doubles the evaluator's CPU: measuring alice's q9 model beside
two busy cores took 6.5 CPU s and ~10 s with two BLAS threads, 2.8 CPU s and ~5 s with one. A
single run keeps every core (one thread is ~15 % slower there, on an idle machine).

The batch (grader/batch.py) puts the budget in the worker's environment (`THREADS_ENV`); the
evaluator process it starts gets it as the usual thread variables (`thread_env`). A variable the
instructor set explicitly wins."""

from __future__ import annotations

import os

#: the worker's environment variable that carries the budget from the batch to the evaluator
THREADS_ENV = "GRADER_EVAL_THREADS"
#: the variables NumPy's BLAS, OpenMP and TensorFlow read for their thread pools
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
               "TF_NUM_INTEROP_THREADS")


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def thread_budget(concurrent: int) -> int:
    """Threads for each of `concurrent` jobs running at once: at least one."""
    return max(1, cores() // max(1, concurrent))


def thread_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The thread variables for the evaluator, from the budget in `environ` (none: no change)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(THREADS_ENV, "")
    if not raw.isdigit() or int(raw) < 1:
        return {}
    return {var: raw for var in THREAD_VARS if var not in environ}
