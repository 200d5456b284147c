"""Red team, test-set training and disk (issue 14): notebooks in tests/notebooks/redteam (written
by build_testset_and_disk.py) graded by `grader run` in one batch with real kernels and real
TensorFlow, next to an honest small CNN.

Expected outcomes:
- trained_on_testset_gradienttape (8 epochs on x_test/y_test in a GradientTape loop the capture
  does not see, then a short honest `fit`): `test-set-memorised`, no accuracy credit;
- testset_lookup_branch (an honest CNN averaged with a branch that answers from a Dense lookup
  of the test images for an exact test image): `test-set-memorised`, no accuracy credit;
- fill_the_disk (checkpoints written until the disk is full): the run stops with `disk-quota`
  (status error, the message says so), the batch goes on;
- honest_small_cnn: keeps its accuracy credit, no diagnosis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from models_support import offline_variant

REDTEAM = Path(__file__).resolve().parent / "notebooks" / "redteam"


@pytest.mark.slow
def test_test_set_training_and_disk_filling_gain_nothing(root, data_dir, tmp_path):
    subs = tmp_path / "subs"
    names = ("honest_small_cnn", "trained_on_testset_gradienttape", "testset_lookup_branch", "fill_the_disk")
    for name in names:
        offline_variant(REDTEAM / f"{name}.ipynb", subs / f"{name}.ipynb", data_dir)
    out = tmp_path / "out"
    env = dict(os.environ, GRADER_DISK_LIMIT="256M")  # room for TensorFlow's and the models' files
    proc = subprocess.run([sys.executable, "-m", "grader", "run", str(subs), "--out", str(out), "--questions",
                           "q9", "--data-dir", str(data_dir), "-j", "2"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=3600)
    # 3: not every submission was graded (fill_the_disk's run was stopped); the batch went on
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]

    def result(name: str) -> dict:
        return json.loads((out / f"{name}.json").read_text())

    def items(name: str) -> dict:
        data = result(name)
        assert data["status"] == "graded", data["message"]
        return {i["id"]: i for q in data["questions"] for i in q["items"]}

    honest = items("honest_small_cnn")["q9.accuracy"]
    assert honest["score"] >= 0.5 * honest["max_score"], honest["feedback"]
    assert not honest["diagnoses"] and honest["evidence"]["memorisation"]["memorised"] is False

    for name in ("trained_on_testset_gradienttape", "testset_lookup_branch"):
        acc = items(name)["q9.accuracy"]
        assert acc["score"] == 0, (name, acc["feedback"])
        assert "test-set-memorised" in acc["diagnoses"], (name, acc["feedback"])
        assert "has seen the test images" in acc["feedback"], acc["feedback"]

    disk = result("fill_the_disk")
    assert disk["status"] == "error" and "256 MiB of disk" in disk["message"], disk["message"]
    assert disk["execution"]["status"] == "disk-quota"
