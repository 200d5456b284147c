"""Hostile and broken notebooks each end with their expected status within small limits, and a
good notebook run after them in the same process is executed normally.

The corpus is tests/notebooks/hostile/*.ipynb (written by make_corpus.py); each notebook's
expected outcome is in its metadata (`grader_expect`). The attack cases (escape_the_sandbox,
shared_memory_fill, capture_*) also check that nothing they started is still running once the
run returns, and that the capture folder holds only plain files afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from grader.execute.cgroup import MemoryCgroup
from grader.execute.runner import ExecutionOptions, execute_notebook
from grader.execute.sandbox import bwrap_status

CORPUS = Path(__file__).parent / "notebooks" / "hostile"
ORDER = sorted(p.stem for p in CORPUS.glob("*.ipynb") if p.stem != "good") + ["good"]
# Generous per cell: importing TensorFlow alone takes 15-20 s on a loaded 2-core machine. Cases
# that test a timeout set their own (tight) limits in their metadata.
LIMITS = dict(cell_timeout=60, timeout=300, memory="1G", output_limit=100_000, profile="quick")
STARTUP_SLACK = 40  # kernel start and TensorFlow import on a loaded 2-core machine

needs_bwrap = pytest.mark.skipif(bwrap_status()[0] is None, reason="bubblewrap unavailable here")


class LoopbackServer:
    """A TCP server on 127.0.0.1 that records whether anyone connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def server():
    srv = LoopbackServer()
    yield srv
    srv.close()


def _cgroup_available() -> bool:
    group, _ = MemoryCgroup.create(None)
    if group is not None:
        group.remove()
    return group is not None


def _tagged_processes(tag: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if tag.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _fill(text: str, subs: dict[str, str]) -> str:
    for key, value in subs.items():
        text = text.replace("{" + key + "}", value)
    return text


@needs_bwrap
@pytest.mark.parametrize("name", ORDER)
def test_hostile_notebook_ends_with_expected_status(name, root, data_dir, server, tmp_path):
    tag = f"grader-hostile-{os.getpid()}-{time.monotonic_ns()}"
    subs = {"REPO": str(root), "PORT": str(server.port), "DATA": str(data_dir),
            "MARK": str(tmp_path / "outside-mark.txt"), "TAG": tag}
    nb = nbformat.read(CORPUS / f"{name}.ipynb", as_version=4)
    if nb.metadata["grader_expect"].get("needs_cgroup") and not _cgroup_available():
        pytest.skip("no writable memory cgroup here: shared memory is not capped (the record says so)")
    for cell in nb.cells:
        cell.source = _fill(cell.source, subs)
    expect = json.loads(_fill(json.dumps(nb.metadata["grader_expect"]), subs))
    before = server.connections

    t0 = time.monotonic()
    limits = {**LIMITS, **expect.get("limits", {})}
    record = execute_notebook(nb, ExecutionOptions(data_dir=str(data_dir), **limits))
    elapsed = time.monotonic() - t0

    problems = [[p.kind, p.cell] for p in record.problems]
    detail = f"{name}: {record.status} {problems} {[(c.index, c.status, c.error_name) for c in record.cells]}"
    assert elapsed < limits["timeout"] + STARTUP_SLACK, detail
    assert record.status == expect["status"], detail
    assert problems == expect["problems"], detail
    assert record.sandbox["method"] == "bubblewrap"
    for cell, text in expect.get("outputs", {}).items():
        run = record.cell(int(cell))
        assert run is not None and run.status == "ok" and text in run.output_text, detail
    for cell, texts in expect.get("outputs_all", {}).items():
        out = record.cell(int(cell)).output_text
        assert all(t in out for t in texts), f"{detail}\n{out}"
    for cell, texts in expect.get("outputs_none", {}).items():
        out = record.cell(int(cell)).output_text
        assert not any(t in out for t in texts), f"{detail}\n{out}"
    if expect.get("no_tagged_processes"):
        left = _tagged_processes(tag)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        assert left == [], "a process the notebook started outlived the run"
    for file, status in expect.get("saved_status", {}).items():
        saved = {s["file"]: s["status"] for s in record.saved_models}
        assert saved.get(file) == status, (file, record.saved_models, record.tampered)
    if expect.get("capture_dir_plain"):  # links and FIFOs are gone: later readers cannot hang
        for entry in (Path(record.workdir) / ".grader").iterdir():
            assert entry.is_file() and not entry.is_symlink(), entry
    for cell, error in expect.get("errors", {}).items():
        assert record.cell(int(cell)).error_name == error, detail
    for cell in expect.get("not_run", []):
        assert record.cell(cell) is None, detail
    if "message" in expect:
        assert any(expect["message"] in p.message for p in record.problems), record.problems
    for cell in expect.get("truncated", []):
        run = record.cell(cell)
        assert run.truncated and len(run.output_text) <= LIMITS["output_limit"]
    if expect.get("server_untouched"):
        assert server.connections == before, "the kernel reached a server on the host's loopback"
    for path in expect.get("host_absent", []):
        assert not Path(path).exists(), f"{path} was written from inside the sandbox"
    for path in expect.get("host_present", []):
        assert Path(path).exists(), f"{path} was deleted from inside the sandbox"
    if "heartbeat" in expect:  # the daemon the notebook left behind must be dead
        beat = Path(record.workdir) / expect["heartbeat"]
        assert beat.exists(), "the daemon never ran"
        size = beat.stat().st_size
        time.sleep(1.0)
        assert beat.stat().st_size == size, "a process the notebook started outlived the kernel"


KILLED_GRADER = """
import sys, nbformat
from grader.execute.runner import ExecutionOptions, execute_notebook
daemon = ("import os, subprocess, sys, time\\n"
          "if os.fork() == 0:\\n"
          "    os.setsid()\\n"
          "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)', '{tag}'],\\n"
          "                     start_new_session=True)\\n"
          "    time.sleep(3600)\\n"
          "print('started', flush=True)\\n"
          "time.sleep(3600)")
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(daemon)])
execute_notebook(nb, ExecutionOptions(data_dir=sys.argv[1], cell_timeout=600, timeout=600))
"""


@needs_bwrap
def test_nothing_outlives_a_grader_killed_mid_run(root, data_dir):
    """SIGKILL the grader itself while the notebook's setsid daemons run: bwrap dies with its
    parent, its pid namespace goes with it, and so does every process the notebook started."""
    import subprocess
    import sys

    tag = f"-grader-killed-{os.getpid()}-{time.monotonic_ns()}"
    # the script goes in on stdin: the tag must be in no command line but the notebook's daemon's
    grader = subprocess.Popen([sys.executable, "-", str(data_dir)], cwd=root, stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    grader.stdin.write(KILLED_GRADER.replace("{tag}", tag).encode())
    grader.stdin.close()
    try:
        deadline = time.monotonic() + 120
        while not _tagged_processes(tag) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _tagged_processes(tag), "the notebook's daemon never started"
    finally:
        grader.kill()
        grader.wait()
    for _ in range(40):
        if not _tagged_processes(tag):
            break
        time.sleep(0.25)
    left = _tagged_processes(tag)
    for pid in left:  # do not leave them running when the test fails
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    assert left == [], "a process the notebook started outlived the killed grader"
