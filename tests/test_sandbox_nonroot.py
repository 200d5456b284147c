"""The grader run by an unprivileged user (uid 65534), the path most installations take: the
sandbox then builds a user namespace (`--unshare-user --uid 65534`, no cgroup it may write)
instead of dropping to a per-run uid as root does (grader/execute/sandbox.py). A real
`grader run` as that user grades a notebook whose Q9 cells attack the sandbox; each attack must
fail: a root-only file (/etc/shadow) unreadable, ptrace refused, forks stopped by the process
limit, a setsid daemon gone when `grader run` returns; and grading still works (the result and
report are written, the cells ran, and in the slow case the model is measured).

Where the tests themselves run as root (as here), the grader is started through
`unshare -m` + `setpriv --reuid=65534`: in that private mount namespace /root is a tmpfs that
holds only the Python installation bound back at its own path (/root itself is 0700, so an
unprivileged user could not reach the interpreter otherwise), and everything the run writes
goes to a folder owned by uid 65534. The test skips, saying why, where the machine cannot do
this (no setpriv/unshare, no user namespaces for an unprivileged user).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from grader.execute.sandbox import MIN_PROCS
from tests.test_sandbox_hostile import _tagged_processes  # the same /proc scan for leftover processes

NOBODY = 65534
STARTUP_SLACK = 600  # a kernel, the evaluator and TensorFlow on a loaded 2-core machine

PROBES = r"""import ctypes, errno, os, subprocess, sys, time
try:
    open("/etc/shadow").read()
    print("shadow: READ")
except OSError as e:
    print("shadow:", errno.errorcode[e.errno])
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(ctypes.c_long(16), ctypes.c_long(1), None, None)
print("ptrace:", "ok" if r == 0 else errno.errorcode.get(ctypes.get_errno(), "?"))
print("uid:", os.getuid())
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "{TAG}"], start_new_session=True)
kids = []
try:
    for _ in range(4000):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids.append(pid)
    print("forks: all", len(kids))
except OSError as e:
    print("forks: stopped at", len(kids), errno.errorcode[e.errno])
for k in kids:
    os.kill(k, 9)
for k in kids:
    os.waitpid(k, 0)
"""

MODEL = """\
import numpy as np
from tensorflow import keras
(xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
xtr, xte = xtr[:1024, ..., None] / 255.0, xte[..., None] / 255.0
cnn = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, activation="relu"),
                        keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                        keras.layers.Dense(10, activation="softmax")])
cnn.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
cnn.fit(xtr, ytr[:1024], epochs=2, verbose=0)
print("test acc", cnn.evaluate(xte, yte, verbose=0)[1])"""

AS_NOBODY = """set -e
mkdir -p "$KEEP"
mount --bind "$PYROOT" "$KEEP"
mount -t tmpfs -o mode=755,size=1m tmpfs /root
mkdir -p "$PYROOT"
mount --move "$KEEP" "$PYROOT"
exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
"""


def _python_root() -> Path:
    """The folder holding the interpreter and its packages (sys.prefix, resolved)."""
    return Path(sys.prefix).resolve()


def _why_not() -> str | None:
    for tool in ("setpriv", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} (util-linux) is not installed"
    if os.geteuid() != 0:
        return None  # already unprivileged: the grader runs as this user directly
    prefix = _python_root()
    if not (prefix.is_relative_to("/root") or os.access(prefix, os.R_OK | os.X_OK)):
        return f"the Python installation {prefix} is outside /root and not readable by others"
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bwrap",
                            "--unshare-user", "--ro-bind", "/", "/", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"an unprivileged user cannot create a user namespace here: {probe.stderr.strip()[:200]}"
    return None


def _grade_as_nobody(root: Path, data_dir: Path, cells: list[str], tag: str) -> tuple[dict, str, Path]:
    work = Path(tempfile.mkdtemp(prefix="grader-nonroot-", dir="/tmp"))
    work.chmod(0o755)
    try:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell("## Q9 cnn on mnist")]
        nb.cells += [nbformat.v4.new_code_cell(c.replace("{TAG}", tag)) for c in cells]
        subs = work / "subs"
        subs.mkdir()
        nbformat.write(nb, subs / "nobody.ipynb")
        for path in (work / "home", work / "out"):
            path.mkdir()
        if os.geteuid() == 0:
            for path in (subs, subs / "nobody.ipynb", work / "home", work / "out"):
                os.chown(path, NOBODY, NOBODY)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"),
               "PYTHONPATH": str(root), "TMPDIR": str(work / "home"), "LANG": "C.UTF-8",
               "KEEP": str(work / "keep"), "PYROOT": str(_python_root())}
        cmd = [sys.executable, "-m", "grader", "run", str(subs), "--out", str(work / "out"),
               "--questions", "q9", "--data-dir", str(data_dir), "--profile", "quick", "-j", "1"]
        if os.geteuid() == 0:
            cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", AS_NOBODY, "as-nobody", *cmd]
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=STARTUP_SLACK)
        result = work / "out" / "nobody.json"
        assert result.exists(), done.stdout[-3000:] + done.stderr[-3000:]
        return json.loads(result.read_text()), done.stdout + done.stderr, work
    finally:
        shutil.rmtree(work / "keep", ignore_errors=True)


def _check_sandbox_held(data: dict, tag: str) -> dict:
    execution = data["execution"]
    assert execution["sandbox"]["method"] == "bubblewrap", execution["sandbox"]
    assert any("user namespace" in e for e in execution["sandbox"]["enforced"]), execution["sandbox"]
    probe = next(c for c in execution["cells"] if "shadow:" in c["output_text"])
    out = probe["output_text"]
    assert "shadow: EACCES" in out, out
    assert "ptrace: EPERM" in out, out
    assert f"uid: {NOBODY}" in out, out
    assert "forks: stopped at" in out and "EAGAIN" in out, out
    forked = int(out.split("forks: stopped at", 1)[1].split()[0])
    assert forked <= max(MIN_PROCS, 8 * (os.cpu_count() or 1)), out
    for _ in range(40):  # the daemon the notebook started with setsid
        if not _tagged_processes(tag):
            break
        time.sleep(0.25)
    left = _tagged_processes(tag)
    for pid in left:
        os.kill(pid, 9)
    assert left == [], "a process the notebook started outlived `grader run`"
    return {i["id"]: i for q in data["questions"] for i in q["items"]}


@pytest.fixture
def unprivileged():
    why = _why_not()
    if why:
        pytest.skip(f"cannot run the grader as an unprivileged user here: {why}")


def test_a_grader_run_by_an_unprivileged_user_keeps_the_sandbox(unprivileged, root, data_dir):
    tag = f"grader-nonroot-{os.getpid()}-{time.monotonic_ns()}"
    data, output, work = _grade_as_nobody(root, data_dir, [PROBES], tag)
    try:
        assert data["status"] == "graded", (data["message"], output[-2000:])
        items = _check_sandbox_held(data, tag)
        assert items["q9.runs"]["score"] == items["q9.runs"]["max_score"], items["q9.runs"]["feedback"]
        assert (work / "out" / "nobody.html").exists()
        assert os.stat(work / "out" / "nobody.json").st_uid == (NOBODY if os.geteuid() == 0 else os.geteuid())
        leftovers = list((work / "home").glob("grader-*"))  # the grader's TMPDIR: run and evaluator folders
        assert not leftovers, leftovers
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
def test_an_unprivileged_grader_still_measures_the_model(unprivileged, root, data_dir):
    """The same, with a small CNN: the evaluator (its own sandbox, also as uid 65534) measures it."""
    tag = f"grader-nonroot-model-{os.getpid()}-{time.monotonic_ns()}"
    data, output, work = _grade_as_nobody(root, data_dir, [PROBES, MODEL], tag)
    try:
        assert data["status"] == "graded", (data["message"], output[-2000:])
        items = _check_sandbox_held(data, tag)
        acc = items["q9.accuracy"]
        assert acc["status"] != "skipped", acc["feedback"]
        assert acc["evidence"]["accuracy"]["measured"] > 30, acc["feedback"]
        assert acc["evidence"]["accuracy"]["n"] == 10000
    finally:
        shutil.rmtree(work, ignore_errors=True)
