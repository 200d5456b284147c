"""Red team, question 10's training method (issue 14): the transfer steps "pretrained base",
"frozen first" and "fine-tuned with a lower learning rate" come from the model files the grader
saved after each fit (grader/checks/fitfiles.py), compared with the grader's own ImageNet
weights, never from the capture, which student code can edit through gc.get_objects().

Notebooks (tests/notebooks/redteam, written by build_transfer.py), real kernels, real
TensorFlow, the real CIFAR-10 subset and alpha-0.35 weights from the data directory:
- forged_frozen_first: base trained unfrozen from the start, then the capture edited to claim a
  frozen first fit and a lower learning rate: the same pipeline score as unfrozen_from_start,
  its honest counterpart (frozen first and fine-tuned not met, `base-not-frozen-first`);
- forged_weights_source: MobileNetV2(weights=None), the capture's weight source forged to the
  ImageNet file: the same score as random_base (pretrained base not met);
- honest_transfer: frozen first, then fine-tuned at a 10x lower learning rate: full credit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from models_support import REDTEAM, offline_variant

from grader.checks.base import get_check
from grader.checks.fitfiles import FitFile, judge
from grader.context import GradingContext, GradingOptions
from grader.execute.integrity import CaptureWatch
from grader.execute.record import ExecutionRecord
from grader.notebook import load_notebook, locate_answers
from grader.rubric import load_rubric

ALPHA_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"


def _pipeline(name: str, data_dir: Path, tmp_path: Path):
    """Run the notebook (quick profile, Q10 only) and grade q10.pipeline alone: no accuracy run."""
    nb = load_notebook(offline_variant(REDTEAM / f"{name}.ipynb", tmp_path / f"{name}.ipynb", data_dir))
    rubric = load_rubric()
    answers = locate_answers(nb, [q.number for q in rubric.questions],
                             {q.number: q.prompt for q in rubric.questions})
    ctx = GradingContext(rubric=rubric, notebook=nb, answers=answers,
                         options=GradingOptions(profile="quick", data_dir=str(data_dir), questions=["q10"]))
    item = rubric.item("q10.pipeline")
    outcome = get_check(item.kind)(item, ctx)
    return outcome, {s["step"]: s for s in outcome.evidence["steps"]}, ctx


# ---- the runner's record of per-fit files -------------------------------------------------------

def _capture(workdir: Path, saved: dict[str, int]) -> None:
    fits = [{"cell": cell, "model": 0, "saved_fit": {"file": name, "cell": cell, "status": "ok"}}
            for name, cell in saved.items()]
    (workdir / ".grader" / "capture.json").write_text(json.dumps({"fits": fits, "saved_models": []}))


def test_a_fit_file_is_hashed_once_and_any_later_change_is_tampering(tmp_path):
    (tmp_path / ".grader").mkdir()
    record = ExecutionRecord(status="completed", workdir=str(tmp_path))
    watch = CaptureWatch(tmp_path, record, ".grader/capture.json")
    fit0, fit1 = tmp_path / ".grader" / "model_0_fit0.keras", tmp_path / ".grader" / "model_0_fit1.keras"
    fit0.write_bytes(b"first fit")
    _capture(tmp_path, {"model_0_fit0.keras": 3})
    watch.after_cell(3)
    assert record.model_files["model_0_fit0.keras"]["cell"] == 3 and not record.tampered
    # a later cell rewrites fit 0 and forges the capture to claim that cell saved it
    fit0.write_bytes(b"a frozen-looking model")
    fit1.write_bytes(b"second fit")
    _capture(tmp_path, {"model_0_fit0.keras": 5, "model_0_fit1.keras": 5})
    watch.after_cell(5)
    assert [t["file"] for t in record.tampered] == ["model_0_fit0.keras"]
    assert "saves a fit's file once" in record.tampered[0]["message"]
    assert record.model_files["model_0_fit1.keras"]["cell"] == 5
    # deleted after its cell: caught when the kernel is gone
    fit1.unlink()
    watch.finish(6)
    assert {t["file"] for t in record.tampered} == {"model_0_fit0.keras", "model_0_fit1.keras"}
    assert not record.model_file_trusted("model_0_fit1.keras")


# ---- the judgement, on described files ----------------------------------------------------------

def _file(k: int, lr: float, changed: int, *, from_imagenet: int = 156, trainable: int = 0,
          digest: str = "a", reference: bool = True, steps: int = 24) -> FitFile:
    imagenet = ({"status": "ok", "reference": ALPHA_035, "learnable": {
        "n": 156, "changed": changed, "from_imagenet": from_imagenet}, "moving": {"n": 104, "changed": 0}}
        if reference else {"status": "no-reference", "why": "not a MobileNetV2 the grader holds"})
    base = {"name": "mobilenetv2_0.35_96", "trainable_params": trainable, "imagenet": imagenet,
            "digests": {"learnable": {"Conv1/0": "c", "block_16_project/0": digest}}}
    return FitFile(f"model_0_fit{k}.keras", 0, k, 3 + k, "ok",
                   training={"optimizer": {"learning_rate": lr, "iterations": steps}, "bases": [base]})


def test_the_steps_follow_the_files_whatever_the_capture_says():
    honest = judge([_file(0, 1e-3, 0), _file(1, 1e-4, 20, trainable=5, digest="b")], None, None)
    assert (honest.pretrained.met, honest.frozen_first.met, honest.fine_tuned.met) == (True, True, True)
    assert not honest.never_unfrozen
    # trained unfrozen from the start: the capture's source and flags do not enter
    unfrozen = judge([_file(0, 1e-3, 156, trainable=9), _file(1, 1e-3, 156, trainable=9, digest="b")],
                     "imagenet.h5", None)
    assert (unfrozen.pretrained.met, unfrozen.frozen_first.met, unfrozen.fine_tuned.met) == (
        True, False, False)
    assert "156 of its 156 weight tensors" in unfrozen.frozen_first.detail
    assert "not lower" in unfrozen.fine_tuned.detail
    # random weights with a forged source: not pretrained; frozen first from the file's flags
    random = judge([_file(0, 1e-3, 156, from_imagenet=0), _file(1, 1e-4, 156, from_imagenet=0, trainable=5,
                                                                digest="b")], ALPHA_035, None)
    assert (random.pretrained.met, random.frozen_first.met, random.fine_tuned.met) == (False, True, True)
    assert not random.frozen_first.verified and "trainable flags" in random.frozen_first.detail
    # frozen in every fit: never unfrozen, whatever learning rate the later compile had
    frozen = judge([_file(0, 1e-3, 0), _file(1, 1e-4, 0)], None, None)
    assert frozen.never_unfrozen and frozen.fine_tuned.met is False
    # a base the grader holds no weights for: flags and the capture's source, said so
    other = judge([_file(0, 1e-3, 0, reference=False)], "resnet50.h5", None)
    assert other.pretrained.met and not other.pretrained.verified
    assert "not verified" in other.pretrained.detail
    # the grader lacked the weights: not checked, not the student's zero
    missing = judge([_file(0, 1e-3, 0, reference=False)], None, "mobilenet_v2_..._1.0_96_no_top.h5")
    assert missing.pretrained.met is None
    # a decoy first fit of 0 steps with the base frozen, then the base trained at the first rate
    decoy = judge([_file(0, 1e-3, 0, steps=0), _file(1, 1e-3, 21, trainable=5, digest="b"),
                   _file(2, 1e-4, 30, trainable=5, digest="c")], None, None)
    assert decoy.first.name == "model_0_fit1.keras" and decoy.frozen_first.met is False
    # frozen first, then unfrozen at the same rate before a lower one: not the fine-tuning step
    middle = judge([_file(0, 1e-3, 0), _file(1, 1e-3, 21, trainable=5, digest="b"),
                    _file(2, 1e-4, 30, trainable=5, digest="c")], None, None)
    assert middle.frozen_first.met is True and middle.fine_tuned.met is False
    assert "cell 4" in middle.fine_tuned.detail
    # only a tampered file: nothing earned from it
    bad = FitFile("model_0_fit0.keras", 0, 0, 3, "tampered", "changed after cell 3 saved it")
    assert judge([bad], ALPHA_035, None).frozen_first.met is False


# ---- the evaluator's comparison with the grader's ImageNet weights ------------------------------

def test_the_evaluator_tells_imagenet_frozen_fine_tuned_and_random_bases_apart(data_dir):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from grader.evaluate import compare_with_imagenet

    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False,
                                          weights=str(data_dir / "weights" / ALPHA_035))
    same = compare_with_imagenet(base, str(data_dir))
    assert same["status"] == "ok" and same["alpha"] == "0.35"
    assert same["learnable"]["bitwise"] == same["learnable"]["n"] == 156 and same["moving"]["changed"] == 0
    top = base.get_layer("block_16_project")  # fine-tuned: the top moved a little
    noise = np.random.default_rng(0)
    top.set_weights([w + np.float32(0.01) * noise.standard_normal(w.shape).astype("float32")
                     for w in top.get_weights()])
    tuned = compare_with_imagenet(base, str(data_dir))
    assert tuned["learnable"]["changed"] == 1 and tuned["learnable"]["from_imagenet"] == 156
    assert tuned["learnable"]["corr_min"] > 0.9 and tuned["changed_layers"] == ["block_16_project"]
    random = compare_with_imagenet(keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None), str(data_dir))
    assert random["learnable"]["from_imagenet"] < 10 and abs(random["learnable"]["corr_mean"]) < 0.1
    other = compare_with_imagenet(keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.75, include_top=False, weights=None), str(data_dir))
    assert other["status"] == "no-reference" and "alpha" in other["why"]


# ---- notebooks in real kernels -----------------------------------------------------------------

# Slow (the default suite was over its 15 minutes): forged captures stay covered by
# test_redteam_capture.py and the capture_state_and_model_files hostile notebook
@pytest.mark.slow
def test_a_capture_forged_to_show_a_frozen_first_fit_earns_nothing(data_dir, tmp_path):
    outcome, steps, ctx = _pipeline("forged_frozen_first", data_dir, tmp_path)
    fits = ctx.execution.fits
    assert fits[0]["trainable"]["bases"][0]["trainable_params"] == 0  # the forgery reached the capture
    assert fits[1]["optimizer"]["learning_rate"] == 1e-05
    assert steps["pretrained base"]["met"] is True
    assert steps["frozen first"]["met"] is False and "already updated" in steps["frozen first"]["detail"]
    assert steps["fine-tuned"]["met"] is False and "not lower" in steps["fine-tuned"]["detail"]
    assert "base-not-frozen-first" in [d.code for d in outcome.diagnoses]
    assert [f["file"] for f in outcome.evidence["fit_files"]] == ["model_0_fit0.keras", "model_0_fit1.keras"]


@pytest.mark.slow
def test_forged_captures_score_as_their_honest_counterparts_and_honest_transfer_keeps_full_credit(
        data_dir, tmp_path):
    credit = {}
    for name in ("honest_transfer", "unfrozen_from_start", "forged_frozen_first", "random_base",
                 "forged_weights_source"):
        outcome, steps, _ = _pipeline(name, data_dir, tmp_path / name)
        credit[name] = (outcome.credit, {s: v["met"] for s, v in steps.items()})
    assert credit["honest_transfer"][0] == 1.0, credit["honest_transfer"]
    assert credit["forged_frozen_first"] == credit["unfrozen_from_start"]
    assert credit["forged_weights_source"] == credit["random_base"]
    assert credit["forged_weights_source"][1]["pretrained base"] is False
    assert credit["random_base"][0] < 1.0 and credit["unfrozen_from_start"][0] < 1.0
