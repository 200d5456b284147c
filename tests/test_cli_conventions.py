"""Command-line conventions: --version, check's exit codes, --json as JSON Lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import grader

ROOT = Path(__file__).resolve().parent.parent
ALICE = ROOT / "submissions" / "alice.ipynb"


def _grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


def test_version() -> None:
    proc = _grader("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"grader {grader.__version__}"


def test_check_exits_1_below_full_credit_and_0_with_exit_zero() -> None:
    missing_points = _grader("check", str(ALICE), "-q", "q2", "--static")
    assert missing_points.returncode == 1, missing_points.stderr
    assert _grader("check", str(ALICE), "-q", "q2", "--static", "--exit-zero").returncode == 0
    full = _grader("check", str(ROOT / "reference" / "assignment06.ipynb"), "-q", "q2", "--static")
    assert full.returncode == 0, full.stdout


def test_check_json_is_one_document_with_the_self_check_facts() -> None:
    proc = _grader("check", str(ALICE), "-q", "q2", "--static", "--json", "--exit-zero")
    data = json.loads(proc.stdout)  # the whole output is one JSON document
    assert data["self_check"]["full_credit"] is False
    assert data["self_check"]["reveal"] == {"q2.params": "hint", "q2.ram_prediction": "hint",
                                            "q2.ram_batch": "hint"}


def test_run_json_on_a_batch_is_json_lines(tmp_path: Path) -> None:
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    for name in ("alice", "bob"):
        shutil.copy(ROOT / "submissions" / f"{name}.ipynb", folder / f"{name}.ipynb")
    proc = _grader("run", str(folder), "--questions", "q2", "--out", str(tmp_path / "out"), "--json",
                   "-j", "1")
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    results = [json.loads(ln) for ln in lines]  # one JSON object per line, nothing else on stdout
    assert sorted(r["student"] or Path(r["submission"]).stem for r in results) == ["alice", "bob"]
