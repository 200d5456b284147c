"""A run cannot fill the host's disk (grader/execute/diskquota.py): one file stops at the size
limit (EFBIG), many files stop the kernel with the status `disk-quota`, files deleted but held
open count, and the run's folder is removed afterwards. The watcher itself is tested on a
plain folder; the hostile notebook (tests/notebooks/redteam/fill_the_disk.ipynb) in a real
sandboxed kernel."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from grader.execute.diskquota import DiskWatch, descendants, folder_usage
from grader.execute.sandbox import SandboxPlan, bwrap_status

REDTEAM = Path(__file__).parent / "notebooks" / "redteam"
MB = 1024**2


def _write(path: Path, n: int) -> None:
    path.write_bytes(os.urandom(n))


def test_watch_stops_past_the_limit_and_counts_deleted_open_files(tmp_path):
    stopped: list[str] = []
    watch = DiskWatch(tmp_path, 4 * MB, lambda: stopped.append("stop"), pids=lambda: [os.getpid()])
    _write(tmp_path / "a.bin", 2 * MB)
    assert not watch.check() and stopped == []
    used, entries = folder_usage(tmp_path)
    assert used >= 2 * MB and entries == 1
    with open(tmp_path / "hidden.bin", "wb") as held:  # deleted, still open: the walk cannot see it
        os.unlink(tmp_path / "hidden.bin")
        held.write(os.urandom(3 * MB))
        held.flush()
        os.fsync(held.fileno())
        assert watch.check()
    assert stopped == ["stop"] and "disk" in watch.exceeded and "4 MiB" in watch.exceeded


def test_watch_counts_files_and_does_not_follow_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    _write(outside / "big.bin", 3 * MB)
    run = tmp_path / "run"
    run.mkdir()
    (run / "link").symlink_to(outside)
    watch = DiskWatch(run, 1 * MB, lambda: None, max_entries=50)
    assert not watch.check()  # the 3 MB behind the link are not the run's
    for i in range(60):
        (run / f"f{i}").touch()
    assert watch.check() and "files" in watch.exceeded


def test_descendants_finds_this_process():
    assert os.getpid() in descendants(os.getppid())


def test_the_plan_sets_a_file_size_limit_and_the_record_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DISK_LIMIT", "300M")
    plan = SandboxPlan(root=tmp_path)
    assert plan.disk_bytes == 300 * MB and plan.file_bytes() == 150 * MB
    assert any("disk: the run's folder at most 300 MiB" in e for e in plan.summary()["enforced"])
    monkeypatch.setenv("GRADER_DISK_LIMIT", "lots")
    with pytest.raises(ValueError, match="GRADER_DISK_LIMIT"):
        SandboxPlan(root=tmp_path / "x")


def _run_processes(root: Path) -> list[int]:
    """Processes whose command line names the run's folder (the kernel's connection file)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(root).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(bwrap_status()[0] is None, reason="bubblewrap unavailable here")
def test_a_notebook_filling_the_disk_is_stopped_with_a_clear_status(data_dir, monkeypatch, tmp_path):
    """Graded as a submission: one 512 MB file fails at the file size limit, the checkpoint
    loop is stopped at the 64 MB bound (`disk-quota`, said in the result's message), no process
    of the run is left, and the run's folder is gone once the result is built."""
    from grader.context import GradingOptions
    from grader.engine import grade_submission

    monkeypatch.setenv("GRADER_DISK_LIMIT", "64M")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the run's folder goes here
    nb = tmp_path / "subs" / "fill_the_disk.ipynb"
    nb.parent.mkdir()
    nb.write_text((REDTEAM / "fill_the_disk.ipynb").read_text())
    result = grade_submission(nb, options=GradingOptions(profile="quick", data_dir=str(data_dir),
                                                         questions=["q9"], cell_timeout=300, timeout=600))
    record = result.execution
    detail = f"{record['status']} {record['problems']}"
    assert record["status"] == "disk-quota", detail
    assert result.status == "error" and "64 MiB of disk" in result.message, result.message
    cells = record["cells"]
    assert cells[0]["status"] == "ok" and "big file failed" in cells[0]["output_text"]
    assert "File too large" in cells[0]["output_text"]
    problem = next(p for p in record["problems"] if p["kind"] == "disk-quota")
    assert problem["cell"] == cells[1]["index"] and "later cells did not run" in problem["message"]
    assert len(cells) == 2, "the cell after the checkpoint loop ran"
    assert not any(p["kind"] == "kernel-died" for p in record["problems"]), detail
    assert record["sandbox"]["disk_bytes"] == 64 * MB
    run_dir = Path(record["workdir"]).parent
    for _ in range(40):
        if not _run_processes(run_dir):
            break
        time.sleep(0.25)
    assert _run_processes(run_dir) == [], "a process of the run outlived it"
    assert not run_dir.exists(), "the run's folder was left behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["subs"], list(tmp_path.iterdir())
