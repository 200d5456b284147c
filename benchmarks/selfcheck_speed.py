"""How long `grader check NB -q q2 --static` takes from a wheel install, as a student runs it.

Builds the wheel (`python -m build --no-isolation`, offline), installs it into a fresh virtualenv
outside the source tree (dependencies from this interpreter's site-packages, the grader only
from the wheel), then times REPEAT runs of the command (whole process: interpreter start, imports,
grading) its CPU time (what it would take on an idle core) and the same call in process, and prints the
medians, the machine's load and whether
TensorFlow was imported. Target: under 1 s on a quiet machine.

    python benchmarks/selfcheck_speed.py [--repeat 5] [--notebook submissions/alice.ipynb] [--cache cold]

The grader keeps a validated rubric and the compiled notebook schema in its user cache
(GRADER_CACHE_DIR); the benchmark gives it a cache of its own: `warm` (default) fills it with
one untimed run, as every check after a student's first finds it; `cold` empties it before
each timed run (the first check after installing, or after the rubric changed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IN_PROCESS = """
import json, sys, time
t = time.perf_counter()
from grader.cli import main
rc = main(["check", sys.argv[1], "-q", "q2", "--static", "--json"])
import grader
print(json.dumps({"seconds": time.perf_counter() - t, "tensorflow": "tensorflow" in sys.modules,
                  "grader": grader.__file__}), file=sys.stderr)
"""


def install(base: Path) -> Path:
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".tox", "build", "dist", "*.egg-info",
                                                             "__pycache__", "reports"))
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
                    "--outdir", str(base / "dist"), str(src)], check=True, capture_output=True)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    wheel = next((base / "dist").glob("grader-*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--ignore-installed", str(wheel)], check=True)
    return venv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--notebook", default=str(ROOT / "submissions" / "alice.ipynb"))
    parser.add_argument("--cache", choices=["warm", "cold"], default="warm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        venv = install(base)
        work = base / "work"
        work.mkdir()
        notebook = shutil.copy(args.notebook, work / Path(args.notebook).name)
        cache = base / "cache"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"GRADER_CACHE_DIR": str(cache)}
        command = [str(venv / "bin" / "grader"), "check", str(notebook), "-q", "q2", "--static"]
        if args.cache == "warm":
            subprocess.run(command, cwd=work, env=env, capture_output=True)
        walls, cpus, inside, bare, tf = [], [], [], [], False
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the interpreter alone, with site's .pth
            subprocess.run([str(venv / "bin" / "python"), "-c", "pass"], cwd=work, env=env, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            bare.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if args.cache == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            t, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(command, cwd=work, env=env, capture_output=True)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if args.cache == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            proc = subprocess.run([str(venv / "bin" / "python"), "-c", IN_PROCESS, str(notebook)], cwd=work,
                                  env=env, capture_output=True, text=True)
            facts = json.loads(proc.stderr.strip().splitlines()[-1])
            inside.append(facts["seconds"])
            if not facts["grader"].startswith(str(venv)):  # e.g. an editable install's finder won
                raise SystemExit(f"timed the grader at {facts['grader']}, not the wheel built from {ROOT}")
            tf = tf or facts["tensorflow"]
    load = os.getloadavg()[0]
    print(f"grader check -q q2 --static from the wheel, {args.repeat} runs, {args.cache} cache, load average "
          f"{load:.1f} on {os.cpu_count()} cores:")
    print(f"  whole command (process start included): median {statistics.median(walls):.2f} s, "
          f"min {min(walls):.2f} s")
    print(f"  whole command, CPU time (load-independent): median {statistics.median(cpus):.2f} s")
    print(f"  of which the interpreter's start (python -c pass, CPU): median {statistics.median(bare):.2f} s")
    print(f"  in process (imports + grading):          median {statistics.median(inside):.2f} s, "
          f"min {min(inside):.2f} s")
    print(f"  TensorFlow imported: {tf}; grader built from {ROOT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
