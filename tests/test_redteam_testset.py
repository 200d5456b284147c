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

import pytest
from models_support import grade_batch


@pytest.mark.slow
def test_test_set_training_and_disk_filling_gain_nothing(data_dir, tmp_path):
    env = dict(os.environ, GRADER_DISK_LIMIT="256M")  # room for TensorFlow's and the models' files
    # 3: not every submission was graded (fill_the_disk's run was stopped); the batch went on
    names = ("honest_small_cnn", "trained_on_testset_gradienttape", "testset_lookup_branch", "fill_the_disk")
    items = grade_batch(tmp_path, names, data_dir, env=env, expect_rc=3)

    def result(name: str) -> dict:
        return json.loads((tmp_path / "out" / f"{name}.json").read_text())

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
