"""What `grader run` does before its first worker starts stays light: the checks before grading
and the batch's cache signature import neither the engine's pytest nor the runner's nbclient /
jupyter_client nor nbformat (about 1.5 s of a single run's critical path, paid again by the
worker that grades)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from pathlib import Path
from grader.batch import grading_signature
from grader.cli_doctor import before_run
from grader.context import GradingOptions
from grader.rubric import load_rubric
rubric = load_rubric()
options = GradingOptions(data_dir=sys.argv[1])
grading_signature(rubric, options)
before_run(rubric, [Path(p) for p in sys.argv[2:]], options)
heavy = ("pytest", "jupyter_client", "nbclient", "nbformat", "tensorflow", "keras")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def test_checks_before_a_run_import_no_runner_engine_or_nbformat(root, data_dir, tmp_path):
    student = tmp_path / "student.ipynb"  # imports a module this Python lacks: preflight reads it
    student.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None,
                   "outputs": [], "source": ["import numpy as np\n", "import notinstalled_pkg_xyz\n"]}],
    }))
    alice = root / "submissions" / "alice.ipynb"
    done = subprocess.run([sys.executable, "-c", PROBE, str(data_dir), str(alice), str(student)],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "notinstalled_pkg_xyz" in done.stderr  # the missing module was still found and named
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
