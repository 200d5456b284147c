"""Model checks on real notebooks, executed in real kernels in the quick profile on CPU:
every diagnosis code is triggered by a behaviour-named notebook and absent from the reference.

One grading run per notebook (module-scoped cache). Notebooks that fine-tune MobileNetV2 or run
a whole assignment are `slow`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from models_support import NOTEBOOKS, ROOT, by_id, offline_variant

from grader.checks.models import FIXES
from grader.context import GradingOptions
from grader.engine import grade_submission

# notebook -> (questions graded, diagnosis codes it must carry, imagenet weights, slow)
EXPECTED = {
    "q9_fake_accuracy": (["q9"], {"reported-accuracy-mismatch", "test-set-as-validation"}, "path", False),
    "q9_sloppy": (["q9"], {"test-data-in-training", "output-activation-loss-mismatch", "not-from-scratch",
                           "unscaled-eval-data"}, "path", False),
    "q10_unfrozen_first": (["q10"], {"base-not-frozen-first"}, "path", True),
    "q10_sloppy": (["q10"], {"base-never-unfrozen", "preprocessing-mismatch", "too-few-images-per-class",
                             "no-test-split"}, "path", True),
    # alice asks for MobileNetV2 alpha 1.0 at 96 px, whose weights are not provided: in the quick
    # profile the grader's setup builds it with random weights and records the missing file
    "alice": (["q9", "q10"], {"input-size-mismatch", "augmented-eval-data"}, "none", False),
    # red team (tests/notebooks/redteam, more in tests/test_redteam_measurement.py)
    "dense_memorises_testset": (["q9"], {"test-set-memorised"}, "path", True),
    "standardised_per_image": (["q9"], {"input-mismatch"}, "path", True),
    # the capture and the model file (more in tests/test_redteam_capture.py)
    "capture_edited_more_layers": (["q9"], {"capture-mismatch"}, "path", True),
    "bigger_model_file_saved_later": (["q9"], {"tampered"}, "path", True),
    # an honest GradientTape loop past the quick caps: measured and reviewed (test_redteam_capture.py)
    "honest_custom_loop": (["q9"], {"over-budget"}, "path", True),
}

REDTEAM = ROOT / "tests" / "notebooks" / "redteam"
_RESULTS: dict[str, dict] = {}


def _source(name: str) -> Path:
    if name == "alice":
        return ROOT / "submissions" / "alice.ipynb"
    if name == "reference":
        return ROOT / "reference" / "assignment06.ipynb"
    if (REDTEAM / f"{name}.ipynb").exists():
        return REDTEAM / f"{name}.ipynb"
    return NOTEBOOKS / f"{name}.ipynb"


def graded(name: str, data_dir: Path, tmp: Path, questions: list[str], imagenet: str) -> dict:
    if name not in _RESULTS:
        nb = offline_variant(_source(name), tmp / f"{name}.ipynb", data_dir, imagenet)
        result = grade_submission(nb, options=GradingOptions(profile="quick", data_dir=str(data_dir),
                                                             questions=questions))
        _RESULTS[name] = {"result": result, "items": by_id(result),
                          "codes": {d.code for d in result.diagnostics}}
    return _RESULTS[name]


def test_every_code_has_a_notebook_and_a_fix():
    covered = set().union(*(codes for _, codes, _, _ in EXPECTED.values()))
    assert covered == set(FIXES)


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if slow else [])
                                  for n, (_, _, _, slow) in EXPECTED.items()])
def test_notebook_carries_its_diagnoses(name, data_dir, tmp_path_factory):
    questions, codes, imagenet, _ = EXPECTED[name]
    run = graded(name, data_dir, tmp_path_factory.mktemp(name), questions, imagenet)
    assert codes <= run["codes"], f"{name}: missing {codes - run['codes']}, got {run['codes']}"
    for d in run["result"].diagnostics:
        assert d.cell is not None and d.fix, d  # every diagnosis says where and what to do


def test_fake_accuracy_gets_no_accuracy_credit(data_dir, tmp_path_factory):
    run = graded("q9_fake_accuracy", data_dir, tmp_path_factory.mktemp("fake"), ["q9"], "path")
    item = run["items"]["q9.accuracy"]
    assert item["score"] == 0 and "reported-accuracy-mismatch" in item["diagnoses"]
    acc = item["evidence"]["accuracy"]
    assert acc["printed"] == pytest.approx(99.9) and acc["measured"] < 60
    assert item["provisional"] is True


def test_sloppy_architecture_and_evidence(data_dir, tmp_path_factory):
    run = graded("q9_sloppy", data_dir, tmp_path_factory.mktemp("sloppy"), ["q9"], "path")
    arch = run["items"]["q9.architecture"]
    assert 0 < arch["score"] < arch["max_score"]
    assert [r["class"] for r in arch["evidence"]["architecture"]][0] == "Conv2D"
    assert run["items"]["q9.methodology"]["score"] == 0


def test_alice_q10_pipeline_fails_on_size_and_augmentation(data_dir, tmp_path_factory):
    run = graded("alice", data_dir, tmp_path_factory.mktemp("alice"), ["q9", "q10"], "none")
    pipeline = run["items"]["q10.pipeline"]
    assert "input-size-mismatch" in pipeline["diagnoses"] and pipeline["score"] < pipeline["max_score"]
    assert "augmented-eval-data" in run["items"]["q10.methodology"]["diagnoses"]
    assert run["items"]["q10.accuracy"]["score"] == 0
    assert run["items"]["q10.accuracy"]["status"] == "skipped"  # her weight file is not provided


def test_alice_missing_weights_are_not_her_zero(data_dir, tmp_path_factory):
    """Her alpha-1.0 96 px weights are the grading environment's gap (grader/gaps.py): the item is
    left out of her maximum, her result is incomplete and the class report says so."""
    from grader.report import render_class_report

    result = graded("alice", data_dir, tmp_path_factory.mktemp("alice"), ["q9", "q10"], "none")["result"]
    acc = result.item("q10.accuracy")
    assert (acc.status, acc.cause) == ("skipped", "environment")
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5" in acc.fix
    assert "weights/" in acc.fix
    q10 = result.question("q10")
    assert q10.max_score == sum(i.max_score for i in q10.items) - acc.max_score
    assert result.incomplete and result.ungraded_points == acc.max_score
    html = render_class_report([result])
    gaps = html.split('id="environment-gaps"')[1].split("</section>")[0]
    assert "1 submission incomplete" in gaps and "alice" in gaps and "q10.accuracy" in gaps
    assert "Every submission was graded" not in html


@pytest.mark.slow
def test_reference_gets_full_marks_on_models(data_dir, tmp_path_factory):
    """The reference notebook, its datasets and ImageNet weights served from the data dir by the
    grader's in-kernel setup, scores full marks on Q9 and Q10 and carries no diagnosis."""
    run = graded("reference", data_dir, tmp_path_factory.mktemp("reference"), ["q9", "q10"], "path")
    not_full = {i: (it["score"], it["feedback"]) for i, it in run["items"].items()
                if it["score"] < it["max_score"]}
    assert not not_full
    assert not run["codes"]
    acc = run["items"]["q9.accuracy"]["evidence"]["accuracy"]
    assert abs(acc["measured"] - acc["keras_evaluate"]) <= 0.1
    assert abs(acc["measured"] - acc["printed"]) <= 0.1  # the notebook's own evaluate


@pytest.mark.slow  # 1-4 min of training; the default suite keeps the same agreement on a small
# model (test_capture.py::test_measured_accuracy_equals_kernel_evaluate) and alice's graded q9
def test_reference_q9_measured_accuracy_matches_keras(data_dir, tmp_path):
    """The reference Q9 CNN trained on real MNIST on CPU (quick budget): the grader's measured
    accuracy (outside the kernel, official test set rebuilt with the captured preprocessing) is
    within 0.1 point of Keras's evaluate in the kernel and of Keras's evaluate in the evaluator."""
    import nbformat

    from tools.make_reference_notebook import Q9_CELLS

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Question 9")]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in Q9_CELLS]
    nbformat.write(nb, tmp_path / "q9_src.ipynb")
    path = offline_variant(tmp_path / "q9_src.ipynb", tmp_path / "reference_q9.ipynb", data_dir)
    result = grade_submission(path, options=GradingOptions(profile="quick", data_dir=str(data_dir),
                                                           questions=["q9"]))
    acc = by_id(result)["q9.accuracy"]["evidence"]["accuracy"]
    kernel = result.to_dict()["execution"]["evaluates"][-1]["metrics"]["accuracy"] * 100
    assert acc["n"] == 10000
    assert abs(acc["measured"] - kernel) <= 0.1
    assert abs(acc["measured"] - acc["keras_evaluate"]) <= 0.1
