"""The `grader` command line contract: outputs, exit codes and messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

STATIC = "q1,q2,q3,q4,q5,q6,q7,q8"


def grader(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=root, capture_output=True,
                          text=True, timeout=timeout)


def test_folder_with_a_malformed_file_grades_the_rest_and_exits_3(root, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(root / "submissions/alice.ipynb", folder)
    shutil.copy(root / "reference/assignment06.ipynb", folder / "reference.ipynb")
    (folder / "malformed.ipynb").write_text('{"cells": [}')
    out = tmp_path / "out"
    proc = grader(root, "run", str(folder), "--out", str(out), "--questions", STATIC)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    for stem in ("alice", "reference", "malformed"):
        assert (out / f"{stem}.json").exists(), stem
        assert (out / f"{stem}.html").exists(), stem
    statuses = {s: json.loads((out / f"{s}.json").read_text())["status"]
                for s in ("alice", "reference", "malformed")}
    assert statuses == {"alice": "graded", "reference": "graded", "malformed": "invalid"}
    assert "not valid JSON" in json.loads((out / "malformed.json").read_text())["message"]


def test_json_flag_prints_the_result(root, tmp_path):
    proc = grader(root, "run", "submissions/alice.ipynb", "--out", str(tmp_path), "--questions", "q2",
                  "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["submission"] == "alice.ipynb"
    assert [q["id"] for q in data["questions"]] == ["q2"]


def test_no_such_path_is_a_usage_error(root, tmp_path):
    proc = grader(root, "run", str(tmp_path / "ghost.ipynb"), "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "ghost.ipynb: no such file or folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_broken_rubric_is_a_usage_error_naming_the_key(root, tmp_path):
    rubric = tmp_path / "r.yaml"
    rubric.write_text("assignment: a\nquestions:\n  - id: q1\n    items:\n"
                      "      - {id: q1.x, kind: concepts, points: -1}\n")
    proc = grader(root, "run", "submissions/alice.ipynb", "--rubric", str(rubric), "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "r.yaml: questions[0] (q1).items[0] (q1.x).points" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_question_is_a_usage_error(root, tmp_path):
    proc = grader(root, "run", "submissions/alice.ipynb", "--questions", "q11", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "q11 not in the rubric" in proc.stderr
