"""What the kernel leaves in its capture folder is read as untrusted data: links, FIFOs, devices
and huge files are refused at once with a clear problem, model files swapped after the capture
saved them are caught, and a failed execution is not started again for every item.

No kernel runs here: the capture folder is written by hand, as a hostile notebook would."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from grader.context import GradingContext, GradingOptions
from grader.execute import runner, seccomp
from grader.execute.integrity import CaptureWatch
from grader.execute.record import ExecutionRecord
from grader.execute.safefile import UnsafeFile, read_regular


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / ".grader").mkdir()
    return tmp_path


def _capture(workdir: Path, **data) -> None:
    (workdir / runner.CAPTURE_FILE).write_text(json.dumps(data))


def _load(workdir: Path) -> ExecutionRecord:
    record = ExecutionRecord(status="completed", workdir=str(workdir))
    thread = threading.Thread(target=runner._load_capture, args=(record, workdir), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "loading the capture hung"
    return record


def test_capture_linked_to_dev_zero_is_refused_not_read(workdir):
    os.symlink("/dev/zero", workdir / runner.CAPTURE_FILE)
    record = _load(workdir)
    assert record.models == [] and [p.kind for p in record.problems] == ["capture-rejected"]
    assert "symbolic link" in record.problems[0].message
    assert record.tampered[0]["kind"] == "capture"


def test_capture_fifo_does_not_hang(workdir):
    os.mkfifo(workdir / runner.CAPTURE_FILE)
    t0 = time.monotonic()
    record = _load(workdir)
    assert time.monotonic() - t0 < 5
    assert "FIFO" in record.problems[0].message


def test_capture_over_the_size_limit_is_refused(workdir, monkeypatch):
    monkeypatch.setattr(runner, "CAPTURE_LIMIT", 1000)
    _capture(workdir, models=[{"index": 0, "name": "x" * 2000}])
    record = _load(workdir)
    assert record.models == [] and "over the 1,000-byte limit" in record.problems[0].message


def test_a_folder_link_on_the_way_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "capture.json").write_text("{}")
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(tmp_path / "elsewhere", work / ".grader")
    with pytest.raises(UnsafeFile, match="folder on the way"):
        read_regular(work, runner.CAPTURE_FILE, 1000)


def test_malformed_entries_are_dropped_with_a_note(workdir):
    _capture(workdir, models=[{"index": 0, "cell": 3}, {"index": "0; rm -rf", "cell": 3}, "junk"],
             fits=[{"cell": 3, "model": 0}], saved_models=[{"model": 0, "file": 7}])
    record = _load(workdir)
    assert record.models == [{"index": 0, "cell": 3}] and record.fits == [{"cell": 3, "model": 0}]
    assert record.saved_models == []
    assert "3 entries" in record.problems[0].message


def _saved(workdir: Path, cell: int, *names: str) -> None:
    _capture(workdir, saved_models=[{"model": i, "file": n, "cell": cell, "status": "ok"}
                                    for i, n in enumerate(names)])


def test_model_file_swapped_in_a_later_cell_is_tampering(workdir):
    record = ExecutionRecord(status="completed")
    watch = CaptureWatch(workdir, record, runner.CAPTURE_FILE)
    (workdir / ".grader" / "model_0.keras").write_bytes(b"trained in cell 3")
    (workdir / ".grader" / "model_1.keras").write_bytes(b"also cell 3")
    _saved(workdir, 3, "model_0.keras", "model_1.keras")
    watch.after_cell(3)
    assert set(record.model_files) == {"model_0.keras", "model_1.keras"} and record.tampered == []
    (workdir / ".grader" / "model_0.keras").write_bytes(b"someone else's model")
    os.remove(workdir / ".grader" / "model_1.keras")
    os.symlink("/dev/zero", workdir / ".grader" / "model_1.keras")
    watch.after_cell(4)
    record.saved_models = json.loads((workdir / runner.CAPTURE_FILE).read_text())["saved_models"]
    watch.finish(4)
    assert [s["status"] for s in record.saved_models] == ["tampered", "tampered"]
    assert {t["file"] for t in record.tampered} == {"model_0.keras", "model_1.keras"}
    assert not record.model_file_trusted("model_0.keras")
    assert not (workdir / ".grader" / "model_1.keras").is_symlink()  # removed: no reader follows it


def test_a_model_resaved_by_the_capture_is_not_tampering(workdir):
    record = ExecutionRecord(status="completed")
    watch = CaptureWatch(workdir, record, runner.CAPTURE_FILE)
    model = workdir / ".grader" / "model_0.keras"
    model.write_bytes(b"v1")
    _saved(workdir, 3, "model_0.keras")
    watch.after_cell(3)
    model.write_bytes(b"v2, trained again")
    _saved(workdir, 5, "model_0.keras")
    watch.after_cell(5)
    record.saved_models = json.loads((workdir / runner.CAPTURE_FILE).read_text())["saved_models"]
    watch.finish(5)
    assert record.tampered == [] and record.saved_models[0]["status"] == "ok"
    assert record.model_files["model_0.keras"]["cell"] == 5 and record.model_file_trusted("model_0.keras")


def test_budget_lifted_around_the_hook_is_caught_from_the_grader_caps():
    options = runner.ExecutionOptions(profile="quick", budget={"max_epochs": 1, "max_steps_per_epoch": 50})
    record = ExecutionRecord(status="completed")
    record.fits = [{"cell": 2, "model": 0, "history": {"loss": [1.0]}},
                   {"cell": 3, "model": 1, "history": {"loss": [1.0, 0.5, 0.4]}}]
    record.saved_models = [{"model": 0, "file": "model_0.keras", "status": "ok", "optimizer_steps": 50},
                           {"model": 1, "file": "model_1.keras", "status": "ok", "optimizer_steps": 50},
                           {"model": 2, "file": "model_2.keras", "status": "ok", "optimizer_steps": 900}]
    record.budget = {"caps": {}}  # what a tampering kernel would report
    runner._check_budget(record, options)
    assert [s["status"] for s in record.saved_models] == ["ok", "tampered", "tampered"]
    assert record.budget["caps"] == options.budget
    assert "900 steps" in record.saved_models[2]["error"]
    # the same 900 steps in a notebook with its own training loop: honest, measured and reviewed
    for entry in record.saved_models:
        entry["status"] = "ok"
    runner._check_budget(record, options, ["for xb, yb in ds:\n    model.train_on_batch(xb, yb)"])
    assert [s["status"] for s in record.saved_models] == ["ok", "tampered", "ok"]


def test_a_failed_execution_runs_once_not_once_per_item(monkeypatch):
    calls = []

    def explode(*args):
        calls.append(1)
        raise MemoryError("the capture grew without bound")

    monkeypatch.setattr("grader.execute.execute_submission", explode)
    ctx = GradingContext(rubric=None, notebook=None, answers={}, options=GradingOptions())  # type: ignore[arg-type]
    for _ in range(3):
        with pytest.raises(MemoryError):
            _ = ctx.execution
    assert len(calls) == 1


def test_execute_notebook_removes_its_run_folder_when_it_raises(monkeypatch, tmp_path):
    made = []
    real = runner.tempfile.mkdtemp

    def mkdtemp(**kw):
        made.append(Path(real(dir=tmp_path, **kw)))
        return str(made[-1])

    monkeypatch.setattr(runner.tempfile, "mkdtemp", mkdtemp)
    def interrupted(plan):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "make_kernel_manager", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.execute_notebook({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
                                runner.ExecutionOptions())
    assert made and not made[0].exists()


def test_the_classic_bpf_fallback_is_well_formed(tmp_path):
    import platform

    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip("the fallback knows x86_64 and aarch64 only")
    how, blocked = seccomp._classic(tmp_path / "f.bpf")
    program = (tmp_path / "f.bpf").read_bytes()
    assert "ptrace" in blocked and len(program) % 8 == 0 and len(program) // 8 >= 8


@pytest.mark.skipif(__import__("grader.execute.sandbox", fromlist=["x"]).bwrap_status()[0] is None,
                    reason="bubblewrap unavailable here")
@pytest.mark.parametrize("build", ["libseccomp", "classic"])
def test_each_seccomp_filter_stops_ptrace_in_the_sandbox(build, tmp_path, monkeypatch):
    import subprocess
    import sys

    from grader.execute import sandbox

    if build == "classic":
        monkeypatch.setattr(seccomp, "write_filter", seccomp._classic)
    else:
        pytest.importorskip("pyseccomp")
    plan = sandbox.SandboxPlan(root=tmp_path / "run")
    try:
        plan.prepare()
        script = ("import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
                  "r = libc.ptrace(ctypes.c_long(0), ctypes.c_long(0), None, None); "
                  "print(r, ctypes.get_errno(), os.getuid() != 0)")
        done = subprocess.run(plan.wrap([sys.executable, "-c", script]), capture_output=True, text=True,
                              timeout=60)
    finally:
        plan.cleanup()
    assert done.stdout.split() == ["-1", "1", "True"], done.stderr[-500:]
    assert build in plan.seccomp_how or (build == "classic" and "classic" in plan.seccomp_how)
