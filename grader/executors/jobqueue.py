"""Dask workers started as Slurm, PBS or SGE batch jobs (dask-jobqueue), from a YAML file.

`grader run DIR --executor slurm --cluster-config cluster.yaml` starts a Dask scheduler in the
`grader run` process, submits worker jobs as the batch needs them (one job per
`submissions_per_job` submissions still to grade, at most `max_jobs`) and cancels them when
the batch ends. `python -m grader.executors.jobqueue cluster.yaml` prints the job script it
would submit, to check before running it for real. Every key is documented in
cluster.example.yaml; GPUs become a Dask `GPU` resource on each worker (`--resources GPU=N`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.executors import JOBQUEUE_SYSTEMS, ExecutorError


@dataclass
class ClusterConfig:
    """One batch job = one Dask worker process with `cores` threads (one grading each)."""

    system: str = "slurm"
    queue: str | None = None  # partition (Slurm) or queue
    account: str | None = None  # charged account (Slurm -A, PBS -A, SGE project -P)
    cores: int = 4  # per job; also the gradings one job runs at once
    memory: str = "16GB"  # per job
    gpus: int = 0  # per job; each worker advertises --resources GPU=gpus
    walltime: str = "02:00:00"
    setup: list[str] = field(default_factory=list)  # shell lines before the worker starts
    python: str | None = None  # the interpreter on the nodes (default: this one's path)
    data_dir: str | None = None  # datasets on the shared filesystem (default for --data-dir)
    max_jobs: int = 10
    submissions_per_job: int | None = None  # default: cores (CPU) or gpus x trainings per GPU
    directives: list[str] = field(default_factory=list)  # extra #SBATCH / #PBS / #$ lines
    resource_spec: str | None = None  # PBS -l / SGE -l resources (e.g. select=1:ngpus=1)
    interface: str | None = None  # network interface the workers reach the scheduler on (ib0)
    local_directory: str | None = None  # node-local scratch for the workers (e.g. $TMPDIR)
    log_directory: str | None = None  # where the job's stdout/stderr go

    def describe(self) -> str:
        gpus = f", {self.gpus} GPU" if self.gpus else ""
        return (f"queue {self.queue or 'default'}, {self.cores} cores, {self.memory}{gpus}, "
                f"walltime {self.walltime}, up to {self.max_jobs} jobs")


_FIELDS = {f.name: f for f in dataclasses.fields(ClusterConfig)}
_LISTS = {"setup", "directives"}
_INTS = {"cores", "gpus", "max_jobs", "submissions_per_job"}


def load_cluster_config(path: str | Path, *, system: str | None = None) -> ClusterConfig:
    """Read and check the YAML file; `system` (the --executor) must agree with its `system:`."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExecutorError(f"{path}: cannot read the cluster configuration "
                            f"({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ExecutorError(f"{path}: not valid YAML ({exc})") from None
    data = data or {}
    if not isinstance(data, dict):
        raise ExecutorError(f"{path}: expected keys such as queue:, cores:, memory: "
                            "(see cluster.example.yaml)")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ExecutorError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(_FIELDS)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if key in _LISTS:
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ExecutorError(f"{path}: {key}: give a list of lines")
        elif key in _INTS:
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "gpus" else 1):
                raise ExecutorError(f"{path}: {key}: give a whole number of at least "
                                    f"{0 if key == 'gpus' else 1}, not {value!r}")
        else:
            value = str(value)
        values[key] = value
    config = ClusterConfig(**values)
    if system is not None:
        if "system" in data and config.system != system:
            raise ExecutorError(f"{path}: system: {config.system}, but --executor {system}; make them agree")
        config.system = system
    if config.system not in JOBQUEUE_SYSTEMS:
        raise ExecutorError(f"{path}: system: {config.system!r}; use one of {', '.join(JOBQUEUE_SYSTEMS)}")
    return config


def cluster_kwargs(config: ClusterConfig) -> dict[str, Any]:
    """dask-jobqueue's keyword arguments for `config` (one worker process per job)."""
    worker_args: list[str] = []
    directives = list(config.directives)
    if config.gpus:
        worker_args += ["--resources", f"GPU={config.gpus}"]
        if config.system == "slurm" and not any("gres" in d or "gpus" in d for d in directives):
            directives.append(f"--gres=gpu:{config.gpus}")
    kwargs: dict[str, Any] = {
        "queue": config.queue, "cores": config.cores, "processes": 1, "memory": config.memory,
        "walltime": config.walltime, "job_name": "grader", "python": config.python or sys.executable,
        "job_script_prologue": list(config.setup), "job_extra_directives": directives,
        "worker_extra_args": worker_args, "interface": config.interface,
        "local_directory": config.local_directory, "log_directory": config.log_directory,
        # several instructors may share a login node: a free port, printed when the batch starts
        "scheduler_options": {"dashboard_address": ":0"},
    }
    if config.account:
        kwargs["project" if config.system == "sge" else "account"] = config.account
    if config.system in ("pbs", "sge") and config.resource_spec:
        kwargs["resource_spec"] = config.resource_spec
    elif config.system == "pbs" and config.gpus:  # PBS Pro asks for GPUs in the select statement
        kwargs["resource_spec"] = f"select=1:ncpus={config.cores}:ngpus={config.gpus}:mem={config.memory}"
    return {k: v for k, v in kwargs.items() if v is not None}


def make_cluster(config: ClusterConfig) -> Any:
    """The dask-jobqueue cluster (its scheduler runs in this process; no job submitted yet)."""
    import dask
    import dask_jobqueue

    from grader.executors.dask_executor import ALLOWED_FAILURES

    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster,
           "sge": dask_jobqueue.SGECluster}[config.system]
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        try:
            return cls(**cluster_kwargs(config))
        except (ValueError, TypeError, OSError) as exc:
            raise ExecutorError(f"cannot set up the {config.system} cluster: {exc}") from None


def jobs_needed(submitted: int, config: ClusterConfig, trainings_per_gpu: int) -> int:
    """Batch jobs for `submitted` submissions: one per `submissions_per_job` (default: what one
    job grades at once, its cores, or on GPUs its gpus x K trainings), at most `max_jobs`."""
    per_job = config.submissions_per_job or (config.gpus * trainings_per_gpu if config.gpus else config.cores)
    return min(config.max_jobs, math.ceil(submitted / max(1, per_job)))


def start_cluster(config: ClusterConfig, *, trainings_per_gpu: int) -> tuple[Any, Any, Callable[[int], None]]:
    """The cluster, a client of it, and `scale(n)`: jobs for n submissions handed out so far."""
    from distributed import Client

    cluster = make_cluster(config)
    client = Client(cluster, set_as_default=False)
    asked = {"jobs": 0}

    def scale(submitted: int) -> None:
        jobs = jobs_needed(submitted, config, trainings_per_gpu)
        if jobs > asked["jobs"]:  # grow with the batch; the jobs end with it
            asked["jobs"] = jobs
            cluster.scale(jobs=jobs)

    return cluster, client, scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the batch job script grader would submit.")
    parser.add_argument("config", help="the cluster YAML file")
    parser.add_argument("--system", choices=JOBQUEUE_SYSTEMS, default=None)
    args = parser.parse_args(argv)
    try:
        cluster = make_cluster(load_cluster_config(args.config, system=args.system))
    except ExecutorError as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 2
    try:
        print(cluster.job_script())
    finally:
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
