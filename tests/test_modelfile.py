"""The rules that tie a saved model file to the capture, on hand-made records (no kernel): a file
the grader did not see saved unchanged, one that is not the model the capture recorded, or one
trained past the quick caps earns no architecture or accuracy credit, and a question with no
file the grader could read gets a clear status, never credit from the capture alone.
(Real kernels and the real evaluator: tests/test_redteam_capture.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from models_support import ROOT

from grader.checks import modelfile
from grader.checks.base import get_check
from grader.context import GradingContext, GradingOptions
from grader.execute.record import CellRun, ExecutionRecord
from grader.notebook import load_notebook, locate_answers
from grader.rubric import load_rubric

CAPS = {"max_epochs": 1, "max_steps_per_epoch": 50}


def _row(cls: str, name: str, shape: list, params: int, **config) -> dict:
    return {"class": cls, "name": name, "output_shape": shape, "params": params, "trainable": True,
            "config": config}


TINY = {"class": "Sequential", "layers": [_row("Flatten", "flatten", [None, 784], 0),
                                          _row("Dense", "dense", [None, 10], 7850, activation="softmax")],
        "input_shape": [None, 28, 28, 1], "output_shape": [None, 10], "params": 7850,
        "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False}, "optimizer_steps": 47}


def _ctx(tmp_path: Path, saved: list[dict] | None = None) -> GradingContext:
    rubric = load_rubric()
    nb = load_notebook(ROOT / "reference" / "assignment06.ipynb")
    answers = locate_answers(nb, [q.number for q in rubric.questions],
                             {q.number: q.prompt for q in rubric.questions})
    ctx = GradingContext(rubric=rubric, notebook=nb, answers=answers, options=GradingOptions(profile="quick"))
    cell = answers["q9"].code_cells[-1]
    (tmp_path / ".grader").mkdir(exist_ok=True)
    record = ExecutionRecord(status="completed", workdir=str(tmp_path), profile="quick",
                             budget={"caps": dict(CAPS), "profile": "quick"})
    record.cells = [CellRun(index=i, status="ok") for i in answers["q9"].code_cells]
    record.models = [dict(TINY, index=0, cell=cell)]
    record.fits = [{"cell": cell, "model": 0, "status": "ok", "history": {"loss": [0.5]}}]
    record.saved_models = list(saved or [])
    ctx._execution = record
    return ctx


def _save(ctx: GradingContext, data: bytes, cell: int = 3) -> Path:
    """A model file as the runner records it: written, hashed, noted in the capture."""
    record = ctx.execution
    path = Path(record.workdir) / ".grader" / "model_0.keras"
    path.write_bytes(data)
    record.model_files["model_0.keras"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                           "cell": cell}
    record.saved_models = [{"model": 0, "file": "model_0.keras", "cell": cell, "status": "ok"}]
    return path


def test_the_file_as_saved_is_consistent_with_the_capture():
    assert modelfile.tie(TINY, TINY) == []
    assert modelfile.tie({"layers": [], "params": 0}, TINY) == []  # nothing recorded to compare


def test_a_capture_edited_to_show_more_layers_does_not_match_the_file():
    inflated = dict(TINY, params=247_850, layers=[
        _row("Conv2D", "conv2d_99", [None, 26, 26, 64], 640, filters=64),
        _row("MaxPooling2D", "max_pooling2d_99", [None, 13, 13, 64], 0), *TINY["layers"]])
    problems = modelfile.tie(inflated, TINY)
    assert "4 layer(s)" in problems[0] and "has 2 (Flatten flatten, Dense dense)" in problems[0]
    assert any("7,850 parameters" in p for p in problems)


def test_same_layer_names_with_other_sizes_do_not_match():
    bigger = dict(TINY, params=100_480, layers=[TINY["layers"][0],
                                                _row("Dense", "dense", [None, 128], 100_480)])
    problems = modelfile.tie(TINY, bigger)
    assert any("layer dense has 100,480 parameters in the file, 7,850" in p for p in problems)
    assert any("outputs (None, 128) in the file" in p for p in problems)


def test_file_checks_in_order(tmp_path):
    ctx = _ctx(tmp_path)
    assert modelfile.verify_file(ctx, 0)[1] == "no-file"
    ctx.execution.saved_models = [{"model": 0, "file": "model_0.keras", "cell": 3, "status": "error",
                                   "error": "NotImplementedError: get_config"}]
    entry, status, why = modelfile.verify_file(ctx, 0)
    assert status == "no-file" and "get_config" in why
    path = _save(ctx, b"the model as the capture saved it")
    assert modelfile.verify_file(ctx, 0)[1] == "ok"
    path.write_bytes(b"another model")  # changed after the runner hashed it
    entry, status, why = modelfile.verify_file(ctx, 0)
    assert status == "tampered" and "not the file the grader hashed after cell 3" in why
    ctx.execution.model_files.clear()  # never seen being saved
    assert modelfile.verify_file(ctx, 0)[1] == "tampered"


def test_optimizer_steps_in_the_file_past_the_grader_caps_are_tampering(tmp_path):
    ctx = _ctx(tmp_path)
    assert modelfile.check_described(ctx, 0, TINY) == ("ok", "")  # 47 steps, one fit of 50
    status, why = modelfile.check_described(ctx, 0, dict(TINY, optimizer_steps=563))
    assert status == "tampered" and "563 steps" in why and "allows 50 for the 1 fit() call(s)" in why
    assert "trained past the budget" in why
    ctx.execution.fits.append(dict(ctx.execution.fits[0]))  # a loop of capped fits is within the caps
    assert modelfile.check_described(ctx, 0, dict(TINY, optimizer_steps=100))[0] == "ok"
    ctx.execution.budget["caps"] = {}  # full profile: no caps, the time limits bound training
    assert modelfile.check_described(ctx, 0, dict(TINY, optimizer_steps=10**6))[0] == "ok"


def test_training_outside_fit_past_the_caps_is_measured_and_reviewed_not_tampering(tmp_path):
    """An honest custom loop (GradientTape, train_on_batch) is out of the fit() caps' reach: the
    file's extra steps are no forgery; the model is measured as trained and reviewed."""
    ctx = _ctx(tmp_path)
    code = ctx.notebook.code_cells[0]
    code.source += "\nfor xb, yb in ds:\n    loss = model.train_on_batch(xb, yb)\n"
    many = dict(TINY, optimizer_steps=563)
    assert modelfile.check_described(ctx, 0, many) == ("ok", "")
    status, why = modelfile.budget_problem(ctx, 0, many)
    assert status == "over-budget" and "trains outside fit()" in why


def _grade(ctx: GradingContext, item_id: str):
    item = ctx.rubric.item(item_id)
    return get_check(item.kind)(item, ctx)


def test_no_file_means_no_architecture_credit_and_a_review(tmp_path):
    ctx = _ctx(tmp_path, saved=[{"model": 0, "file": "model_0.keras", "cell": 3, "status": "error",
                                 "error": "TypeError: cannot pickle"}])
    arch = _grade(ctx, "q9.architecture")
    assert arch.credit == 0 and arch.needs_review and arch.status is None
    assert "cannot pickle" in arch.feedback and "an instructor reviews" in arch.feedback
    assert [r["class"] for r in arch.evidence["architecture_unverified"]] == ["Flatten", "Dense"]
    built = _grade(ctx, "q9.model")
    assert built.credit == 0.5 and built.needs_review


@pytest.mark.parametrize("where", ["runner", "hash"])
def test_a_tampered_file_is_named_and_earns_nothing(tmp_path, where):
    ctx = _ctx(tmp_path)
    path = _save(ctx, b"saved by the capture")
    if where == "runner":  # what integrity.py / the runner's budget check marks
        ctx.execution.saved_models[0].update(status="tampered", error="model_0.keras changed in cell 4, "
                                             "which did not save it")
    else:
        path.write_bytes(b"swapped afterwards")
    for item_id in ("q9.architecture", "q9.accuracy", "q9.worst_class"):
        outcome = _grade(ctx, item_id)
        assert outcome.credit == 0 and [d.code for d in outcome.diagnoses] == ["tampered"], item_id
        assert all(isinstance(d.cell, int) and d.fix for d in outcome.diagnoses), item_id
    assert _grade(ctx, "q9.model").credit == 0.5


def test_missing_weights_claimed_for_a_file_the_grader_has_are_ignored(tmp_path):
    """Items needing pretrained weights are left out of the maximum when the grader lacks the
    file; the kernel's report of a missing file is kept only when the grader really lacks it."""
    from grader.execute.runner import _check_missing_weights

    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "have.h5").write_bytes(b"weights")
    record = ExecutionRecord(status="completed", budget={"missing_weights": [{"file": "have.h5"}]})
    record.missing_weights = [{"file": "have.h5", "cell": 4}, {"file": "lacking_1.0_96_no_top.h5", "cell": 4}]
    _check_missing_weights(record, str(tmp_path))
    assert record.missing_weights == [{"file": "lacking_1.0_96_no_top.h5", "cell": 4}]
    assert record.budget["missing_weights"] == []
    assert [p.kind for p in record.problems] == ["capture-tampered", "capture-tampered"]


def test_diagnoses_the_file_shows_survive_a_capture_edited_to_hide_them(tmp_path):
    """The capture says softmax and no prebuilt network; the file (as the evaluator read it) has
    logits with a probability loss and a MobileNetV2 inside: both are diagnosed from the file."""
    from grader.checks.models import diagnose

    ctx = _ctx(tmp_path)
    base = dict(_row("Functional", "mobilenetv2_0.35_96", [None, 3, 3, 1280], 410_208), nested=True)
    in_file = dict(TINY, layers=[base, TINY["layers"][0], _row("Dense", "dense", [None, 10], 12_810,
                                                                activation="linear")])
    ctx.cache["models:file:q9"] = modelfile.FileModel("ok", index=0, model=in_file,
                                                      captured=ctx.execution.models[0])
    codes = {d.code for d in diagnose(ctx, "q9", "scratch")}
    assert {"output-activation-loss-mismatch", "not-from-scratch"} <= codes


def test_runner_and_file_check_allow_the_same_steps_when_epochs_are_not_capped(tmp_path):
    """One function (integrity.step_allowance) owns the quick allowance: without max_epochs a fit
    may run all its epochs, so 3 epochs of 50 steps are within the caps for both checks."""
    from grader.execute.runner import _check_budget

    ctx = _ctx(tmp_path)
    record = ctx.execution
    record.budget["caps"] = {"max_steps_per_epoch": 50}
    record.fits[0]["history"] = {"loss": [0.5, 0.4, 0.3]}
    assert modelfile.check_described(ctx, 0, dict(TINY, optimizer_steps=150)) == ("ok", "")
    assert modelfile.check_described(ctx, 0, dict(TINY, optimizer_steps=151))[0] == "tampered"
    options = type("Options", (), {"budget": {"max_steps_per_epoch": 50}, "profile": "quick"})()
    record.saved_models = [{"model": 0, "file": "model_0.keras", "status": "ok", "optimizer_steps": 150}]
    _check_budget(record, options, [])
    assert record.saved_models[0]["status"] == "ok"
    record.saved_models[0]["optimizer_steps"] = 151
    _check_budget(record, options, [])
    assert record.saved_models[0]["status"] == "tampered"
