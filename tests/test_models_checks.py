"""Model checks on hand-made capture records (no kernel): the rules behind the diagnoses."""

from __future__ import annotations

from models_support import ROOT

from grader.checks.base import get_check
from grader.checks.models import _activation_loss_problem, range_before_base
from grader.context import GradingContext, GradingOptions
from grader.execute.record import CellRun, ExecutionRecord
from grader.notebook import load_notebook, locate_answers
from grader.rubric import load_rubric


def _ctx(record: ExecutionRecord, profile: str = "quick") -> GradingContext:
    rubric = load_rubric()
    nb = load_notebook(ROOT / "reference" / "assignment06.ipynb")
    answers = locate_answers(nb, [q.number for q in rubric.questions],
                             {q.number: q.prompt for q in rubric.questions})
    ctx = GradingContext(rubric=rubric, notebook=nb, answers=answers,
                         options=GradingOptions(profile=profile))
    for index in answers["q10"].code_cells:
        record.cells.append(CellRun(index=index, status="ok"))
    ctx._execution = record
    return ctx


def _dense(units: int, activation: str) -> dict:
    return {"class": "Dense", "name": "out", "config": {"units": units, "activation": activation}}


def test_activation_loss_rules():
    model = {"layers": [_dense(10, "sigmoid")], "output_shape": [None, 10]}
    assert "binary" in _activation_loss_problem(model, {"name": "binary_crossentropy"})
    softmax = {"layers": [_dense(10, "softmax")], "output_shape": [None, 10]}
    assert _activation_loss_problem(softmax, {"name": "sparse_categorical_crossentropy"}) is None
    logits_loss = {"name": "scce", "class": "SparseCategoricalCrossentropy", "from_logits": True}
    assert "logits" in _activation_loss_problem(softmax, logits_loss)
    linear = {"layers": [_dense(10, "linear")], "output_shape": [None, 10]}
    assert _activation_loss_problem(linear, {"name": "sparse_categorical_crossentropy"})
    assert _activation_loss_problem(linear, {"name": "x", "class": "SparseCategoricalCrossentropy",
                                             "from_logits": True}) is None


def test_range_through_rescaling_layers():
    base = {"class": "Functional", "name": "mobilenetv2_0.35_96", "nested": True}
    model = {"layers": [{"class": "Resizing", "name": "r", "config": {}},
                        {"class": "Rescaling", "name": "s", "config": {"scale": 1 / 127.5, "offset": -1}},
                        base]}
    assert range_before_base(model, base, 0.0, 255.0) == (-1.0, 1.0)
    lam = {"layers": [{"class": "Lambda", "name": "l", "config": {}}, base]}
    assert range_before_base(lam, base, 0.0, 255.0) is None


def test_missing_pretrained_weights_skip_what_depends_on_them_in_quick():
    base = {"class": "Functional", "name": "mobilenetv2_1.00_96", "nested": True, "params": 1,
            "trainable_params": 0, "weights_source": None, "input_shape": [None, 96, 96, 3]}
    record = ExecutionRecord(status="completed", budget={"missing_weights": [
        {"file": "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"}]})
    record.models = [{"index": 0, "cell": None, "layers": [base], "input_shape": [None, 96, 96, 3]}]
    ctx = _ctx(record)
    cell = ctx.answer("q10").code_cells[1]
    record.models[0]["cell"] = cell
    record.fits = [{"cell": cell, "status": "ok", "model": 0, "trainable": {"bases": []}}]
    item = ctx.rubric.item("q10.pipeline")
    outcome = get_check(item.kind)(item, ctx)
    # the pipeline is still checked, except for the step that needs the weights
    assert outcome.status != "skipped" and "1.0_96" in outcome.feedback
    assert "pretrained base" not in [s["step"] for s in outcome.evidence["steps"]]
    accuracy = ctx.rubric.item("q10.accuracy")
    assert get_check(accuracy.kind)(accuracy, ctx).status == "skipped"
