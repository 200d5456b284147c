"""Red team, measurement side (issue 14 part B): notebooks that try to earn Q9 accuracy credit
without an honestly trained model (tests/notebooks/redteam, written by its build.py), graded in
real kernels with real TensorFlow next to an honest small CNN.

Expected outcomes:
- own_flipped_testset (untrained, "tested" on mirrored test digits labelled with its own
  predictions, Keras says 100 %): measured on the official test set with the official labels,
  about 10 %, no credit; its own split is shown, not scored;
- dense_memorises_testset (a Dense layer holding the test images): `test-set-memorised`, no credit;
- huge_config_model_file (replaces the saved model by a 1 KB config declaring 314M parameters):
  refused before loading, no credit, the batch goes on;
- standardised_per_image (inputs the grader cannot rebuild): `input-mismatch`, no credit;
- honest_small_cnn: keeps its accuracy credit, no diagnosis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from models_support import by_id, grade_batch, offline_variant

from grader.context import GradingOptions
from grader.engine import grade_submission

REDTEAM = Path(__file__).resolve().parent / "notebooks" / "redteam"


def test_own_flipped_test_set_earns_nothing(data_dir, tmp_path):
    nb = offline_variant(REDTEAM / "own_flipped_testset.ipynb", tmp_path / "own_flipped_testset.ipynb",
                         data_dir)
    result = grade_submission(nb, options=GradingOptions(profile="quick", data_dir=str(data_dir),
                                                         questions=["q9"]))
    items = by_id(result)
    acc = items["q9.accuracy"]
    assert acc["score"] == 0, acc["feedback"]
    ev = acc["evidence"]["accuracy"]
    assert ev["printed"] == pytest.approx(100.0)  # what Keras said on the student's own split
    assert ev["measured"] < 25 and ev["n"] == 10000 and "official mnist test set" in ev["data"]
    assert ev["own_split"]["cell"] is not None and ev["own_split"]["n"] == 10000
    assert "not scored" in acc["feedback"]
    assert items["q9.worst_class"]["score"] == 0


@pytest.mark.slow
def test_attacks_graded_in_one_batch_gain_nothing(data_dir, tmp_path):
    items = grade_batch(tmp_path, ("honest_small_cnn", "own_flipped_testset", "dense_memorises_testset",
                                   "huge_config_model_file", "standardised_per_image"), data_dir)

    honest = items("honest_small_cnn")
    assert honest["q9.accuracy"]["score"] >= 0.5 * honest["q9.accuracy"]["max_score"]
    assert not honest["q9.accuracy"]["diagnoses"]
    assert honest["q9.accuracy"]["evidence"]["accuracy"]["measured"] > 75

    memo = items("dense_memorises_testset")
    assert memo["q9.accuracy"]["score"] == 0 and "test-set-memorised" in memo["q9.accuracy"]["diagnoses"]
    assert memo["q9.accuracy"]["evidence"]["memorisation"]["memorised"] is True
    assert memo["q9.worst_class"]["score"] == 0

    assert items("own_flipped_testset")["q9.accuracy"]["score"] == 0

    huge = items("huge_config_model_file")["q9.accuracy"]
    assert huge["score"] == 0
    # refused by the evaluator (or, once part A records the file's hash, as a changed file)
    assert "parameters" in huge["feedback"] or "changed" in huge["feedback"], huge["feedback"]

    std = items("standardised_per_image")["q9.accuracy"]
    assert std["score"] == 0 and "input-mismatch" in std["diagnoses"]


def test_a_model_file_changed_after_capture_is_not_measured():
    """The file's own architecture (read by the evaluator) must be the captured model's
    (grader/checks/modelfile.py `tie`; more in tests/test_modelfile.py)."""
    from grader.checks.modelfile import tie

    def model(params: int) -> dict:
        return {"index": 0, "params": params, "layers": [{"class": "Dense", "name": "d", "params": params}]}

    captured = model(1_306)
    assert tie(captured, model(1_306)) == []
    swapped = tie(captured, model(7_940_000))
    assert swapped and "7,940,000 parameters" in swapped[-1]
