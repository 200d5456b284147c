"""Red team, capture side (issue 14 part A): notebooks that edit the grader's in-kernel capture or
the model file it saves, to earn Q9 architecture or accuracy credit, graded in real kernels with
real TensorFlow and the real sandboxed evaluator (tests/notebooks/redteam, written by build.py).

Expected outcomes (points come only from the file the grader saved, hashed and loaded,
grader/checks/modelfile.py):
- capture_edited_more_layers (a Flatten+Dense net; the capture record found through
  gc.get_objects() and a hook's __globals__ and edited to show Conv2D + MaxPooling2D and 240k
  parameters): `capture-mismatch`, no architecture and no accuracy credit;
- bigger_model_file_saved_later (a bigger CNN saved over the grader's model file in a later
  cell): `tampered`, no architecture and no accuracy credit;
- capture_saves_a_bigger_model (the capture's model references swapped, so the grader's own
  save writes the bigger CNN under the tiny model's name): `capture-mismatch`, no credit;
- lift_quick_caps (the quick caps lifted through closure cells, 3 full epochs trained, the
  capture's record of the fit edited to one capped epoch): the file's optimizer steps show it,
  `tampered`, no accuracy credit;
- lift_quick_caps_train_forever (caps lifted, fit for 10,000 epochs): stopped by the runner's
  cell time limit, outside the kernel; no accuracy credit: lifting the caps buys only time;
- honest_small_cnn, graded in the same batch: keeps every Q9 point it earns, no diagnosis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from models_support import by_id, grade_batch, offline_variant

from grader.context import GradingOptions
from grader.engine import grade_submission

REDTEAM = Path(__file__).resolve().parent / "notebooks" / "redteam"
NO_CREDIT = ("q9.architecture", "q9.accuracy", "q9.worst_class")


def _grade(name: str, data_dir: Path, tmp_path: Path, **options) -> dict:
    nb = offline_variant(REDTEAM / f"{name}.ipynb", tmp_path / f"{name}.ipynb", data_dir)
    result = grade_submission(nb, options=GradingOptions(profile="quick", data_dir=str(data_dir),
                                                         questions=["q9"], **options))
    return by_id(result)


def _earns_nothing(items: dict, code: str) -> None:
    for item_id in NO_CREDIT:
        assert items[item_id]["score"] == 0, (item_id, items[item_id]["feedback"])
        assert code in items[item_id]["diagnoses"], (item_id, items[item_id]["diagnoses"])
    assert items["q9.model"]["score"] <= 0.5 * items["q9.model"]["max_score"]


def test_capture_edited_through_gc_and_globals_earns_nothing(data_dir, tmp_path):
    items = _grade("capture_edited_more_layers", data_dir, tmp_path)
    _earns_nothing(items, "capture-mismatch")
    arch = items["q9.architecture"]
    assert "has 2 (Flatten flatten, Dense dense)" in arch["feedback"]  # what the file holds
    # the edited record is shown, marked unverified, and is never what is scored
    assert [r["class"] for r in arch["evidence"]["architecture_unverified"]][:2] == ["Conv2D", "MaxPooling2D"]
    # the training method is read from the capture: code reaching into it holds that credit for a TA
    method = items["q9.methodology"]
    assert method["score"] == 0 and method["needs_review"], method
    assert "grader-introspection" in method["diagnoses"]


@pytest.mark.slow
def test_file_swaps_and_lifted_caps_gain_nothing_beside_an_honest_model(data_dir, tmp_path):
    names = ("honest_small_cnn", "capture_edited_more_layers", "bigger_model_file_saved_later",
             "capture_saves_a_bigger_model", "lift_quick_caps")
    items = grade_batch(tmp_path, names, data_dir)

    honest = items("honest_small_cnn")
    for item_id in ("q9.runs", "q9.model", "q9.architecture", "q9.methodology"):
        assert honest[item_id]["score"] == honest[item_id]["max_score"], honest[item_id]["feedback"]
    assert honest["q9.accuracy"]["score"] >= 0.5 * honest["q9.accuracy"]["max_score"]
    assert not any(i["diagnoses"] for i in honest.values())
    assert honest["q9.architecture"]["evidence"]["read_from"] == "model_0.keras"

    _earns_nothing(items("capture_edited_more_layers"), "capture-mismatch")
    later = items("bigger_model_file_saved_later")
    _earns_nothing(later, "tampered")
    assert "which did not save it" in later["q9.architecture"]["feedback"]
    _earns_nothing(items("capture_saves_a_bigger_model"), "capture-mismatch")
    caps = items("lift_quick_caps")
    _earns_nothing(caps, "tampered")
    assert "trained past the budget" in caps["q9.accuracy"]["feedback"]


@pytest.mark.slow
def test_lifted_caps_buy_only_time_the_cell_limit_stops_the_training(data_dir, tmp_path):
    """The quick caps are per fit() call, for cost; the bound on training is the runner's cell
    and notebook time limits (and the memory cgroup), enforced outside the kernel."""
    items = _grade("lift_quick_caps_train_forever", data_dir, tmp_path, cell_timeout=120)
    runs = items["q9.runs"]
    assert any(f["status"] == "timeout" for f in runs["evidence"]["failures"]), runs["evidence"]
    assert items["q9.accuracy"]["score"] == 0 and items["q9.worst_class"]["score"] == 0
    assert "never finished a training run" in items["q9.accuracy"]["feedback"]
    assert items["q9.model"]["score"] <= 0.5 * items["q9.model"]["max_score"]


def test_an_honest_custom_training_loop_is_measured_and_reviewed_not_called_tampering(data_dir, tmp_path):
    """200 GradientTape steps, past the quick caps (no fit() to cap): the file's steps are real
    training, so the model is measured as it is, flagged `over-budget` for an instructor."""
    items = _grade("honest_custom_loop", data_dir, tmp_path)
    acc = items["q9.accuracy"]
    assert "over-budget" in acc["diagnoses"] and "tampered" not in acc["diagnoses"], acc["feedback"]
    assert acc["needs_review"] and acc["evidence"]["accuracy"]["measured"] > 50, acc["feedback"]
    assert "trains outside fit()" in acc["feedback"]
    assert items["q9.architecture"]["score"] > 0, items["q9.architecture"]["feedback"]
