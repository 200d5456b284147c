"""`grader run --executor dask`: a real Dask scheduler and workers, each its own process on
127.0.0.1, grading real notebooks in real sandboxed kernels (grader/executors/dask_executor.py).

The notebooks answer Q1-Q8 in markdown and run light numpy cells for Q9/Q10 (no TensorFlow), so
a grading takes a few seconds; the batches use --questions q1,q9 (one static, one that executes).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the cluster extra is not installed (pip install -e '.[cluster]')")

from benchmarks.batch import make_notebooks  # noqa: E402
from tests.test_batch import grader, run_counts, total_runs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ("--questions", "q1,q9")


class DaskCluster:
    """`dask scheduler` plus named `dask worker` processes; killed (by pid) at teardown."""

    def __init__(self, folder: Path, pythonpath: str | None = None) -> None:
        self.folder = folder
        path = pythonpath or os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
        self.env = {**os.environ, "PYTHONPATH": path}
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        scheduler_file = folder / "scheduler.json"
        self._start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                     "--port", "0", "--scheduler-file", str(scheduler_file), "--no-dashboard"], "scheduler")
        deadline = time.monotonic() + 120
        while not scheduler_file.exists() or not scheduler_file.read_text().strip().endswith("}"):
            assert time.monotonic() < deadline, self.log("scheduler")
            time.sleep(0.1)
        self.address = json.loads(scheduler_file.read_text())["address"]

    def _start(self, cmd: list[str], name: str) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def add_worker(self, name: str, *extra: str) -> None:
        (self.folder / name).mkdir()
        self.workers[name] = self._start(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--name", name,
             "--nworkers", "1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--local-directory", str(self.folder / name), *extra], name)

    def wait_for_workers(self) -> dict[str, str]:
        """name -> address, once every worker started has joined the scheduler."""
        from distributed import Client

        deadline = time.monotonic() + 120
        with Client(self.address, timeout="30s", set_as_default=False) as client:
            while True:
                joined = {w["name"]: a for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
                if set(self.workers) <= set(joined):
                    return joined
                assert time.monotonic() < deadline, {n: self.log(n) for n in self.workers}
                time.sleep(0.2)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    folder = tmp_path / "dask"
    folder.mkdir()
    cluster = DaskCluster(folder)
    try:
        yield cluster
    finally:
        cluster.stop()


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes whose parent is `pid`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(proc.name), cmd))
    return found


def outcomes(out: Path, subs: list[Path]) -> dict[str, tuple]:
    """Per submission: its status, score and every item's (id, score, status)."""
    seen = {}
    for path in subs:
        r = json.loads((out / f"{path.stem}.json").read_text())
        seen[path.stem] = (r["status"], r["score"], r["max_score"],
                           [(i["id"], i["score"], i["status"]) for q in r["questions"] for i in q["items"]])
    return seen


def graded_on(out: Path, path: Path) -> str | None:
    worker = json.loads((out / f"{path.stem}.json").read_text())["environment"].get("dask_worker")
    return worker["address"] if worker else None


# Slow (the default suite was over its 15 minutes): a lost worker's resubmission stays in
# test_a_submission_whose_worker_is_lost_twice..., a killed local batch in test_batch.py
@pytest.mark.slow
def test_a_worker_killed_mid_batch_costs_nothing_and_results_match_a_local_run(
        dask_cluster: DaskCluster, tmp_path: Path) -> None:
    for name in ("w1", "w2", "w3"):  # w1 is killed; the other two finish the batch
        dask_cluster.add_worker(name)
    subs = make_notebooks(tmp_path / "subs", 8)
    folder = str(tmp_path / "subs")
    local = grader("run", folder, *QUESTIONS, "--out", str(tmp_path / "local"), "-j", "2")
    assert local.returncode == 0, local.stderr
    addresses = dask_cluster.wait_for_workers()

    out = tmp_path / "dask"
    batch = subprocess.Popen([sys.executable, "-m", "grader", "run", folder, *QUESTIONS, "--out", str(out),
                              "--executor", "dask", "--scheduler", dask_cluster.address],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = dask_cluster.workers["w1"]
    deadline = time.monotonic() + 240
    while not (grading := [c for c in children(victim.pid) if "grader.worker" in c[1]]):
        assert batch.poll() is None, batch.communicate()
        assert time.monotonic() < deadline, "worker w1 never started grading"
        time.sleep(0.05)
    assert total_runs(out) < len(subs)  # mid-batch: w1 holds a job and work is left
    os.kill(victim.pid, signal.SIGKILL)
    stdout, stderr = batch.communicate(timeout=400)
    assert batch.returncode == 0, stdout + stderr

    # Its grading process (and that one's kernel) died with it: nothing grades in the background.
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() and "grader.worker" in Path(f"/proc/{pid}/cmdline").read_text()
              for pid, _ in grading) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid, _ in grading)

    assert "(8 graded now, 0 cached)" in stdout
    assert run_counts(out) == {p.name: 1 for p in subs}  # every submission graded exactly once
    assert outcomes(out, subs) == outcomes(tmp_path / "local", subs)
    # w1 died during its first job, which the scheduler gave to another: no result comes from w1.
    assert {graded_on(out, p) for p in subs} <= {addresses["w2"], addresses["w3"]}
    for path in subs:
        assert (out / f"{path.stem}.html").stat().st_size > 0


def test_a_batch_started_here_finishes_on_the_cluster_and_the_reverse(
        dask_cluster: DaskCluster, tmp_path: Path) -> None:
    """Static questions only (q1, q2): the cache key does not depend on what a grading runs."""
    dask_cluster.add_worker("w1")
    subs = make_notebooks(tmp_path / "subs", 4)
    folder, out = str(tmp_path / "subs"), tmp_path / "out"
    dask_cluster.wait_for_workers()
    half = grader("run", *map(str, subs[:2]), "--questions", "q1,q2", "--out", str(out))
    assert half.returncode == 0, half.stderr
    rest = grader("run", folder, "--questions", "q1,q2", "--out", str(out), "--executor", "dask",
                  "--scheduler", dask_cluster.address)
    assert rest.returncode == 0, rest.stdout + rest.stderr
    assert "(2 graded now, 2 cached)" in rest.stdout
    back = grader("run", folder, "--questions", "q1,q2", "--out", str(out))
    assert "(0 graded now, 4 cached)" in back.stdout, back.stdout + back.stderr
    assert run_counts(out) == {p.name: 1 for p in subs}
    assert [graded_on(out, p) is not None for p in subs] == [False, False, True, True]

    # A worker that cannot read the data dir: an environment error naming it and the path.
    missing = tmp_path / "not-on-the-workers"
    env = grader("run", str(subs[0]), "--questions", "q1", "--data-dir", str(missing), "--json",
                 "--out", str(tmp_path / "env"), "--executor", "dask", "--scheduler", dask_cluster.address)
    assert env.returncode == 3, env.stderr
    result = json.loads(env.stdout)
    assert result["status"] == "error" and result["environment"]["failure"] == "environment"
    assert str(missing) in result["message"] and "127.0.0.1" in result["message"]
    assert result["cache_key"] == ""  # graded for real once the worker is fixed
    assert all(i["status"] == "error" for q in result["questions"] for i in q["items"])


def test_trainings_share_a_gpu_resource_at_most_k_at_a_time(dask_cluster: DaskCluster,
                                                            tmp_path: Path) -> None:
    """A two-thread worker with one GPU and K=1: its two threads never train at once."""
    dask_cluster.add_worker("gpu", "--nthreads", "2", "--resources", "GPU=1")
    subs = make_notebooks(tmp_path / "subs", 2, sleep_s=1.0)
    dask_cluster.wait_for_workers()
    out = tmp_path / "out"
    run = grader("run", str(tmp_path / "subs"), *QUESTIONS, "--out", str(out), "--executor", "dask",
                 "--scheduler", dask_cluster.address, "--max-trainings", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "at most 1 per GPU" in run.stderr
    workers = [json.loads((out / f"{p.stem}.json").read_text())["environment"]["dask_worker"] for p in subs]
    spans = sorted((w["started_at"], w["finished_at"]) for w in workers)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end - 0.05, spans
    assert json.loads((out / "student00.json").read_text())["profile"] == "full"  # auto on a GPU cluster


def test_a_scheduler_without_this_grader_is_a_usage_error(tmp_path: Path) -> None:
    """The scheduler loads every task: one running another grader (here a bare `grader` package
    first on its path) could grade nothing, so the batch stops before it starts."""
    other = tmp_path / "other-env" / "grader"
    (other / "executors").mkdir(parents=True)
    (other / "__init__.py").write_text('__version__ = "0.0.1"\n')
    # An older grader without cluster support. Its `executors` fails to import on purpose: with an
    # editable install of this checkout, setuptools' finder would otherwise serve the missing
    # submodules from here, and the scheduler would (wrongly) import this grader after all.
    (other / "executors" / "__init__.py").write_text(
        'raise ImportError("grader 0.0.1 has no cluster executors")\n')
    (tmp_path / "dask").mkdir()
    cluster = DaskCluster(tmp_path / "dask", pythonpath=str(other.parent))
    try:
        nb = make_notebooks(tmp_path / "subs", 1)[0]
        proc = grader("run", str(nb), "--questions", "q1", "--out", str(tmp_path / "out"),
                      "--executor", "dask", "--scheduler", cluster.address)
    finally:
        cluster.stop()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the Dask scheduler cannot import this grader" in proc.stderr
    assert not (tmp_path / "out" / "student00.json").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    nb = make_notebooks(tmp_path / "subs", 1)[0]
    started = time.monotonic()
    proc = grader("run", str(nb), "--out", str(tmp_path / "out"), "--executor", "dask",
                  "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert proc.returncode == 2
    assert "no Dask scheduler answered within 5 s" in proc.stderr
    assert time.monotonic() - started < 120
    assert not (tmp_path / "out" / "student00.json").exists()
    no_address = grader("run", str(nb), "--out", str(tmp_path / "out"), "--executor", "dask")
    assert no_address.returncode == 2 and "--scheduler" in no_address.stderr


def test_a_submission_whose_worker_is_lost_twice_is_recorded_error_with_its_static_items(
        dask_cluster: DaskCluster, tmp_path: Path) -> None:
    nb = make_notebooks(tmp_path / "subs", 1, hang=True)[0]
    out = tmp_path / "out"
    dask_cluster.add_worker("w1")
    dask_cluster.wait_for_workers()
    batch = subprocess.Popen([sys.executable, "-m", "grader", "run", str(nb), "--questions", "q1,q2,q9",
                              "--timeout", "600", "--json", "--out", str(out), "--executor", "dask",
                              "--scheduler", dask_cluster.address],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for n, name in enumerate(("w1", "w2")):
        victim = dask_cluster.workers[name]
        deadline = time.monotonic() + 240
        while not any("grader.worker" in cmd for _, cmd in children(victim.pid)):
            assert batch.poll() is None, batch.communicate()
            assert time.monotonic() < deadline, f"{name} never started grading"
            time.sleep(0.1)
        time.sleep(1.0)  # well into the hanging notebook
        os.kill(victim.pid, signal.SIGKILL)
        dask_cluster.add_worker(("w2", "w3")[n])  # the next one to lose it; w3 grades the static items
    stdout, stderr = batch.communicate(timeout=400)
    assert batch.returncode == 3, stderr
    result = json.loads(stdout)
    assert result["status"] == "error"
    assert "lost 2 times" in result["message"], result["message"]
    items = {i["id"]: i for q in result["questions"] for i in q["items"]}
    assert items["q1.concepts"]["status"] != "error" and items["q2.params"]["status"] != "error"
    assert result["cache_key"] == ""
    assert run_counts(out) == {nb.name: 1}


def test_the_local_default_never_imports_dask() -> None:
    """Choosing the executor for a plain `grader run` (and the batch and worker code) loads no Dask."""
    code = ("import sys; from grader.cli import build_parser; import grader.batch, grader.worker; "
            "from grader.executors import open_executor; from grader.rubric import load_rubric; "
            "from grader.cli import grading_options; args = build_parser().parse_args(['run', 'x.ipynb']); "
            "ex = open_executor(args, load_rubric(), grading_options(args)).__enter__(); "
            "dask = {'dask', 'distributed', 'dask_jobqueue'}; "
            "print(ex, sorted({m.split('.')[0] for m in sys.modules} & dask))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip().splitlines()[-1] == "None []", proc.stdout + proc.stderr


def test_a_scheduler_without_workers_says_so_waits_and_then_grades(dask_cluster: DaskCluster,
                                                                  tmp_path: Path) -> None:
    """No worker: the run says it is waiting and gives up with a usage error after --worker-wait;
    a worker that joins while it waits gets the submission."""
    nb = make_notebooks(tmp_path / "subs", 1)[0]
    proc = grader("run", str(nb), "--out", str(tmp_path / "none"), "--executor", "dask",
                  "--scheduler", dask_cluster.address, "--worker-wait", "3")
    assert proc.returncode == 2, proc.stderr
    assert "has no workers yet; waiting up to 3 s" in proc.stderr
    assert "none joined within 3 s" in proc.stderr and "dask worker" in proc.stderr
    assert not (tmp_path / "none" / f"{nb.stem}.json").exists()

    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONPATH": path}
    waiting = subprocess.Popen([sys.executable, "-m", "grader", "run", str(nb), "--out",
                                str(tmp_path / "later"), "--executor", "dask", "--scheduler",
                                dask_cluster.address, "--worker-wait", "300"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = waiting.stderr.readline()
        assert "has no workers yet" in first, first
        dask_cluster.add_worker("late")
        _, rest = waiting.communicate(timeout=300)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode in (0, 1), first + rest  # graded (1: the notebook lost points)
    assert json.loads((tmp_path / "later" / f"{nb.stem}.json").read_text())["status"] == "graded"
