"""What grading through Dask costs over the local executor, on the same batch and machine.

    python benchmarks/executor_overhead.py              # 8 notebooks, 2 workers, 2 repeats
    python benchmarks/executor_overhead.py -n 16 -w 2 --repeat 3

For each repeat, `grader run DIR -j W` (local) and `grader run DIR --executor dask` against a
fresh `dask scheduler` with W one-thread `dask worker` processes on 127.0.0.1 (started before
the clock starts; its start-up is printed apart). Both runs are fresh processes with fresh output
folders, so both pay for starting their grading processes. Two batches: `--questions q1,q9`
(every submission starts a sandboxed kernel) and `--questions q1` (static only: the executor's
fixed cost shows most). Prints the medians, the overhead per submission and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.batch import make_notebooks  # noqa: E402


def _env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return {**os.environ, "PYTHONPATH": path}


class Cluster:
    def __init__(self, folder: Path, workers: int) -> None:
        folder.mkdir(parents=True)
        started = time.perf_counter()
        sched_file = folder / "scheduler.json"
        log = open(folder / "cluster.log", "wb")  # noqa: SIM115 (open while the cluster runs)
        self.procs = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--scheduler-file", str(sched_file), "--no-dashboard"], env=_env(), stdout=log, stderr=log)]
        while not sched_file.exists() or not sched_file.read_text().strip().endswith("}"):
            time.sleep(0.05)
        self.address = json.loads(sched_file.read_text())["address"]
        for i in range(workers):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--name", f"w{i}",
                 "--local-directory", str(folder / f"w{i}")],
                env=_env(), stdout=log, stderr=log))
        from distributed import Client

        with Client(self.address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        self.startup_s = time.perf_counter() - started

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.kill()
            proc.wait()


def timed_run(folder: Path, out: Path, *args: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", "run", str(folder), "--out", str(out), *args],
                          cwd=ROOT, env=_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0 or "0 cached" not in proc.stdout:
        raise RuntimeError(f"grader run {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=8, help="notebooks in the batch (default 8)")
    parser.add_argument("-w", "--workers", type=int, default=2, help="local -j and Dask workers (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="local/dask pairs per batch (default 2)")
    args = parser.parse_args(argv)
    figures: dict = {"notebooks": args.n, "workers": args.workers, "cpus": os.cpu_count(),
                     "load_avg_1m": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="grader-exec-bench-") as tmp:
        tmp_path = Path(tmp)
        folder = tmp_path / "hand-ins"
        make_notebooks(folder, args.n)
        print(f"# {args.n} generated notebooks, {args.workers} workers, {os.cpu_count()} CPUs, "
              f"load average {figures['load_avg_1m']:.2f}", flush=True)
        for label, questions in (("kernel (q1,q9)", "q1,q9"), ("static (q1)", "q1")):
            local, dask, startup = [], [], []
            for rep in range(args.repeat):  # alternate, so drifting load hits both alike
                local.append(timed_run(folder, tmp_path / f"local-{questions}-{rep}",
                                       "--questions", questions, "-j", str(args.workers)))
                cluster = Cluster(tmp_path / f"cluster-{questions}-{rep}", args.workers)
                try:
                    startup.append(cluster.startup_s)
                    dask.append(timed_run(folder, tmp_path / f"dask-{questions}-{rep}",
                                          "--questions", questions,
                                          "--executor", "dask", "--scheduler", cluster.address))
                finally:
                    cluster.stop()
            lo, da = statistics.median(local), statistics.median(dask)
            per = (da - lo) / args.n
            figures[questions] = {"local_s": lo, "dask_s": da, "overhead_per_submission_s": per,
                                  "ratio": da / lo, "cluster_startup_s": statistics.median(startup),
                                  "local_runs": local, "dask_runs": dask}
            print(f"{label}: local -j {args.workers} {lo:.1f} s ({lo / args.n:.2f} s/submission), dask "
                  f"{da:.1f} s ({da / args.n:.2f} s/submission): overhead {per:+.2f} s per submission, "
                  f"ratio dask/local {da / lo:.2f}  (cluster start-up, not counted: "
                  f"{statistics.median(startup):.1f} s; runs local {local}, dask {dask})", flush=True)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
