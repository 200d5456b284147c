"""Where a batch's gradings run: here (the default `LocalPoolExecutor`) or on a cluster.

`grader run --executor dask --scheduler tcp://HOST:PORT` grades on an existing Dask cluster
(`dask_executor`); `--executor slurm|pbs|sge --cluster-config FILE` starts Dask workers as batch
jobs through dask-jobqueue (`jobqueue`). Both need the `cluster` extra (`pip install
'grader[cluster]'`); this module imports neither Dask nor them until a cluster is asked for, so a
local batch never pays for it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.batch import Executor
    from grader.context import GradingOptions
    from grader.rubric import Rubric

EXECUTORS = ("local", "dask", "slurm", "pbs", "sge")
JOBQUEUE_SYSTEMS = ("slurm", "pbs", "sge")


class ExecutorError(Exception):
    """A cluster that cannot be used as asked (unreachable scheduler, bad configuration)."""


def add_executor_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("grading on a cluster (needs the grader[cluster] extra)")
    g.add_argument("--executor", default="local", choices=EXECUTORS,
                   help="local (default): worker processes here (-j); dask: an existing Dask cluster "
                        "(--scheduler); slurm|pbs|sge: Dask workers started as batch jobs (--cluster-config)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="--executor dask: the scheduler, tcp://HOST:PORT or its scheduler JSON file")
    g.add_argument("--worker-wait", type=float, default=120.0, metavar="SECONDS",
                   help="--executor dask: how long to wait for a first worker when the scheduler has "
                        "none (default 120)")
    g.add_argument("--cluster-config", default=None, metavar="FILE",
                   help="--executor slurm|pbs|sge: queue, cores, memory, GPUs, walltime, setup lines "
                        "(YAML; see cluster.example.yaml)")


def _require_extra(kind: str) -> None:
    missing = [m for m in ("distributed", *(["dask_jobqueue"] if kind in JOBQUEUE_SYSTEMS else []))
               if importlib.util.find_spec(m) is None]
    if missing:
        raise ExecutorError(f"--executor {kind} needs {', '.join(missing)}: install the cluster extra "
                            "(python3 -m pip install -e '.[cluster]')")


def trainings_per_gpu(rubric: Rubric, max_trainings: int | None) -> int:
    """K: trainings that share one GPU (`--max-trainings`, else the rubric's
    `execution.max_parallel_trainings`, else 1)."""
    k = max_trainings if max_trainings is not None else rubric.execution.get("max_parallel_trainings")
    return max(1, int(k or 1))


@contextlib.contextmanager
def open_executor(args: argparse.Namespace, rubric: Rubric,
                  options: GradingOptions) -> Iterator[Executor | None]:
    """The executor `args` ask for, closed on exit (outstanding jobs cancelled on an error or
    Ctrl-C). Yields None for the local default. May set `options.profile` from `auto` to what
    the cluster's workers resolve it to (full with GPUs), and the data dir from the config."""
    kind = getattr(args, "executor", "local")
    if kind == "local":
        if getattr(args, "scheduler", None) or getattr(args, "cluster_config", None):
            raise ExecutorError("--scheduler and --cluster-config need --executor dask (or slurm, pbs, sge)")
        yield None
        return
    _require_extra(kind)
    executor = _start(kind, args, rubric, options)
    try:
        yield executor
    except BaseException:
        executor.shutdown(cancel=True)
        raise
    executor.shutdown()


def _start(kind: str, args: argparse.Namespace, rubric: Rubric, options: GradingOptions) -> Any:
    from grader.batch import stall_limit
    from grader.executors.dask_executor import (
        DaskExecutor,
        connect,
        gpu_share,
        gpu_workers,
        wait_for_a_worker,
    )

    k = trainings_per_gpu(rubric, args.max_trainings)
    cluster = scale = None
    if kind == "dask":
        if args.cluster_config:
            raise ExecutorError("--cluster-config is for --executor slurm|pbs|sge; --executor dask "
                                "takes --scheduler")
        if not args.scheduler:
            raise ExecutorError("--executor dask needs --scheduler tcp://HOST:PORT (the address "
                                "`dask scheduler` prints) or the path of its scheduler file")
        client = connect(args.scheduler)
        where = f"the Dask scheduler at {args.scheduler}"
        # the scheduler must be able to load this grader's tasks before any worker is awaited
        DaskExecutor.check_scheduler(client)
        wait_for_a_worker(client, where, getattr(args, "worker_wait", 120.0))
        gpus = gpu_workers(client) > 0
    else:
        from grader.executors.jobqueue import load_cluster_config, start_cluster

        if args.scheduler:
            raise ExecutorError(f"--executor {kind} starts its own scheduler: drop --scheduler "
                                "(or use --executor dask to grade on an existing cluster)")
        if not args.cluster_config:
            raise ExecutorError(f"--executor {kind} needs --cluster-config FILE (see cluster.example.yaml)")
        config = load_cluster_config(args.cluster_config, system=kind)
        cluster, client, scale = start_cluster(config, trainings_per_gpu=k)
        gpus = config.gpus > 0
        if not options.data_dir and config.data_dir:
            options.data_dir = config.data_dir
        where = (f"{kind} jobs ({config.describe()}; scheduler {cluster.scheduler_address}, "
                 f"dashboard {cluster.dashboard_link})")
    if getattr(args, "jobs", None):
        print(f"grader: note: -j {args.jobs} does not apply to --executor {kind}: each worker grades as "
              "many submissions at once as it has threads", file=sys.stderr)
    share = gpu_share(k) if gpus and args.max_trainings != 0 else None  # 0: no limit, as locally
    if options.profile == "auto":  # resolved by where the notebooks run, not by this machine
        options.profile = "full" if gpus else "quick"
    gpu_note = (f"trainings ask for GPU={share:g} (at most {k} per GPU)" if share
                else "trainings not limited per GPU" if gpus else "no GPU resource")
    try:
        executor = DaskExecutor(client, rubric=rubric, stall_limit_s=stall_limit(rubric, options),
                                gpu_resource=share, cluster=cluster, scale=scale)
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    print(f"grader: grading on {where}; {gpu_note}", file=sys.stderr)
    return executor
