"""`grader run --executor slurm|pbs|sge`: the configuration file and the batch job script that
dask-jobqueue itself generates from it. No Slurm here: the scripts are checked, and one test
submits them through `sbatch`/`scancel` stand-ins that run them on this machine.

To run it for real, see the README's "Grading on a cluster" section.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask_jobqueue", reason="the cluster extra is not installed: pip install -e '.[cluster]'")

from grader.executors import ExecutorError  # noqa: E402
from grader.executors.jobqueue import jobs_needed, load_cluster_config, make_cluster  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# As an instructor would write it: comments, quoted and unquoted values, a single setup line.
GPU_CONFIG = """\
# our department's cluster
queue: gpu-short
account: cs231n
cores: 4
memory: 24GB
gpus: 1
walltime: '01:30:00'
setup: source /shared/cs231n/grader-env/bin/activate
python: /shared/cs231n/grader-env/bin/python
data_dir: /shared/cs231n/datasets
max_jobs: 6
"""


def script_for(tmp_path: Path, text: str, system: str = "slurm") -> str:
    config_file = tmp_path / "cluster.yaml"
    config_file.write_text(text)
    cluster = make_cluster(load_cluster_config(config_file, system=system))
    try:
        return cluster.job_script()
    finally:
        cluster.close()


def test_slurm_job_script_holds_the_configured_resources_and_the_worker_command(tmp_path: Path) -> None:
    script = script_for(tmp_path, GPU_CONFIG)
    lines = script.splitlines()
    for directive in ("#SBATCH -p gpu-short", "#SBATCH -A cs231n", "#SBATCH --cpus-per-task=4",
                      "#SBATCH -t 01:30:00", "#SBATCH --gres=gpu:1"):
        assert directive in lines, script
    assert any(line.startswith("#SBATCH --mem=") for line in lines), script
    assert "source /shared/cs231n/grader-env/bin/activate" in lines
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert worker.startswith("/shared/cs231n/grader-env/bin/python -m distributed.cli.dask_worker tcp://")
    assert "--nthreads 4" in worker and "--resources GPU=1" in worker
    # the environment is activated before the worker starts
    assert lines.index("source /shared/cs231n/grader-env/bin/activate") < lines.index(worker)


def test_cpu_nodes_get_no_gpu_resource_and_pbs_sge_use_the_same_file(tmp_path: Path) -> None:
    cpu = GPU_CONFIG.replace("gpus: 1", "gpus: 0")
    slurm = script_for(tmp_path, cpu)
    assert "--resources" not in slurm and "gres" not in slurm
    pbs = script_for(tmp_path, GPU_CONFIG, system="pbs")
    assert "#PBS -q gpu-short" in pbs and "ngpus=1" in pbs and "--resources GPU=1" in pbs
    sge = script_for(tmp_path, GPU_CONFIG + "directives: ['-l gpu=1']\n", system="sge")
    assert "#$ -q gpu-short" in sge and "#$ -l gpu=1" in sge and "#$ -P cs231n" in sge


def test_jobs_grow_with_the_batch_up_to_max_jobs(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(GPU_CONFIG)
    gpu = load_cluster_config(tmp_path / "c.yaml")
    assert [jobs_needed(n, gpu, 2) for n in (1, 2, 3, 8, 300)] == [1, 1, 2, 4, 6]  # 1 GPU x K=2 per job
    (tmp_path / "c.yaml").write_text(GPU_CONFIG.replace("gpus: 1", "gpus: 0"))
    cpu = load_cluster_config(tmp_path / "c.yaml")
    assert [jobs_needed(n, cpu, 2) for n in (1, 4, 5, 300)] == [1, 1, 2, 6]  # 4 cores per job


@pytest.mark.parametrize(("text", "message"), [
    ("queue: gpu\ncpus: 4\n", "unknown key(s) cpus"),
    ("cores: four\n", "cores: give a whole number"),
    ("system: pbs\n", "system: pbs, but --executor slurm"),
    ("- queue\n", "expected keys such as queue:"),
    ("queue: [unclosed\n", "not valid YAML"),
])
def test_a_bad_configuration_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ExecutorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_cluster_config(tmp_path / "c.yaml", system="slurm")


def test_cli_refuses_slurm_without_a_usable_configuration(tmp_path: Path) -> None:
    nb = ROOT / "submissions" / "alice.ipynb"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "grader", "run", str(nb), "--out", str(tmp_path / "o"),
                               *args], cwd=ROOT, capture_output=True, text=True, timeout=120)

    missing = run("--executor", "slurm")
    assert missing.returncode == 2 and "--cluster-config" in missing.stderr
    unreadable = run("--executor", "slurm", "--cluster-config", str(tmp_path / "nope.yaml"))
    assert unreadable.returncode == 2 and "nope.yaml: cannot read" in unreadable.stderr
    stray = run("--scheduler", "tcp://127.0.0.1:8786")
    assert stray.returncode == 2 and "need --executor dask" in stray.stderr


SBATCH_SHIM = """#!/bin/bash
# Stand-in for Slurm's sbatch on a machine without Slurm: runs the job script dask-jobqueue
# generated, as-is, in the background (a one-node allocation here), and prints the job id.
id=$RANDOM$RANDOM
cp "$1" "$SHIM_DIR/job-$id.sh"
setsid bash "$SHIM_DIR/job-$id.sh" > "$SHIM_DIR/job-$id.log" 2>&1 < /dev/null &
echo "$!" > "$SHIM_DIR/job-$id.pid"
echo "Submitted batch job $id"
"""
SCANCEL_SHIM = """#!/bin/bash
for id in "$@"; do
  kill -- -"$(cat "$SHIM_DIR/job-$id.pid")" 2>/dev/null
  echo "$id" >> "$SHIM_DIR/cancelled"
done
"""


def test_slurm_path_end_to_end_through_sbatch_and_scancel_shims(tmp_path: Path) -> None:
    """The whole --executor slurm path with `sbatch`/`scancel` stand-ins that run dask-jobqueue's
    job script on this machine: jobs submitted as the batch needs them, graded, then cancelled."""
    from benchmarks.batch import make_notebooks

    shims = tmp_path / "bin"
    shims.mkdir()
    for name, text in (("sbatch", SBATCH_SHIM), ("scancel", SCANCEL_SHIM)):
        (shims / name).write_text(text)
        (shims / name).chmod(0o755)
    (tmp_path / "cluster.yaml").write_text(
        f"queue: debug\ncores: 1\nmemory: 3GB\nwalltime: '00:20:00'\nmax_jobs: 2\n"
        f"setup:\n  - export PYTHONPATH={ROOT}\n  - cd {tmp_path}\n")
    subs = make_notebooks(tmp_path / "subs", 3)
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}", "SHIM_DIR": str(shims)}
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "grader", "run", str(tmp_path / "subs"),
                          "--questions", "q1,q9", "--out", str(out), "--executor", "slurm",
                          "--cluster-config", str(tmp_path / "cluster.yaml")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(3 graded now, 0 cached)" in run.stdout
    scripts = sorted(shims.glob("job-*.sh"))
    assert len(scripts) == 2  # 3 submissions, 1 core per job, at most 2 jobs
    assert "#SBATCH -p debug" in scripts[0].read_text()
    cancelled = (shims / "cancelled").read_text().split()
    assert sorted(cancelled) == sorted(p.name[4:-3] for p in scripts)  # every job cancelled at the end
    for path in subs:
        assert json.loads((out / f"{path.stem}.json").read_text())["environment"]["dask_worker"]["address"]
