"""The param-math check (Q2) on answers written the way students write them.

Each answer in tests/data/q2_answers.yaml is put into a real notebook under a "## Question 2"
heading, located with the real locator and graded with the real rubric items and reference
values; alice and the reference notebook go through the whole engine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.checks.base import get_check
from grader.checks.parammath import grade_text
from grader.context import GradingContext, GradingOptions
from grader.engine import grade_submission
from grader.notebook import load_notebook, locate_answers
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((ROOT / "tests" / "data" / "q2_answers.yaml").read_text(encoding="utf-8"))
PARTS = ("params", "ram_prediction", "ram_batch")


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


def _notebook(tmp_path: Path, case: dict) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("## Question 1\n\nCNNs share weights across the image."))
    nb.cells.append(nbformat.v4.new_markdown_cell("## Question 2"))
    if case["text"].strip():
        nb.cells.append(nbformat.v4.new_markdown_cell(case["text"]))
    if case.get("code"):
        cell = nbformat.v4.new_code_cell(case["code"])
        if case.get("outputs"):  # what the student's run printed, stored in the notebook
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=case["outputs"])]
            cell.execution_count = 1
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Question 3\n\nReduce the batch size."))
    path = tmp_path / f"{case['name']}.ipynb"
    nbformat.write(nb, path)
    return path


def _grade_case(rubric, path: Path) -> dict:
    notebook = load_notebook(path)
    answers = locate_answers(
        notebook, [q.number for q in rubric.questions], {q.number: q.prompt for q in rubric.questions}
    )
    ctx = GradingContext(rubric=rubric, notebook=notebook, answers=answers, options=GradingOptions())
    return {item.id.split(".", 1)[1]: get_check(item.kind)(item, ctx) for item in rubric.question("q2").items}


def test_at_least_fifteen_distinct_answers_cover_every_named_mistake():
    texts = {c["text"] + c.get("code", "") for c in CASES}
    assert len(texts) == len(CASES) >= 15
    codes = {code for c in CASES for exp in c["expect"].values() for code in exp["diagnoses"]}
    assert {
        "missing-biases",
        "arithmetic-error",
        "sum-mismatch",
        "ram-params-only",
        "activations-missing-feature-maps",
        "input-bytes-missing",
        "batch-not-answered",
        "no-number-found",
    } <= codes
    found = {exp.get("found") for c in CASES for exp in c["expect"].values()}
    assert {9027000, 902700, 1343400, 9007200, 3440000, 34500000} <= found
    assert any("903.400" in c["text"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_answer_graded_like_a_ta(case, rubric, tmp_path):
    outcomes = _grade_case(rubric, _notebook(tmp_path, case))
    for part, exp in case["expect"].items():
        o = outcomes[part]
        codes = sorted(d.code for d in o.diagnoses)
        assert (o.credit, codes) == (pytest.approx(exp["credit"]), sorted(exp["diagnoses"])), (
            f"{case['name']} {part}: {o.feedback}"
        )
        row = next(r for r in o.evidence["numbers"] if r["part"] == part)
        json.dumps(o.evidence)  # evidence must serialise
        if "found" in exp:
            value = next(q for q in [_found_value(o)] if q is not None)
            assert value == pytest.approx(exp["found"], rel=1e-6), row
            assert row["found"] and row["found"] in o.feedback  # the student's number is shown
        else:
            assert row["found"] is None
        assert row["expected"] in o.feedback or row["expected"].replace(" MB", "") in o.feedback
        if exp["credit"] < 1 and exp.get("found") is not None:
            assert "expected" in o.feedback


def _found_value(outcome) -> float | None:
    row = next(r for r in outcome.evidence["numbers"] if r["graded_here"])
    return row.get("value")


def test_feedback_names_the_first_wrong_step(rubric, tmp_path):
    alice = next(c for c in CASES if c["name"] == "alice_sample_handin")
    o = _grade_case(rubric, _notebook(tmp_path, alice))["params"]
    assert "100 × (3×3×3 + 1) = 2,800, not 27,000" in o.feedback
    assert "9,027,000" in o.feedback and "903,400" in o.feedback
    slip = next(c for c in CASES if c["name"] == "one_layer_miscomputed_1343400")
    o = _grade_case(rubric, _notebook(tmp_path, slip))["params"]
    assert "720,400, not 1,160,400" in o.feedback


def test_number_decision_is_shown_as_evidence(rubric, tmp_path):
    case = next(c for c in CASES if c["name"] == "mib_everywhere_answer_first")
    o = _grade_case(rubric, _notebook(tmp_path, case))["ram_batch"]
    row = o.evidence["numbers"][0]
    assert row["part"] == "ram_batch" and row["found"] == "539.4 MiB"
    assert "RAM for the training batch" in row["text"]
    assert row["why"]
    assert o.evidence["excerpt"].startswith("Total params")


def test_grade_text_helper_matches_the_check(rubric):
    params = rubric.item("q2.params").params
    o = grade_text("Total: 903,400 parameters", "params", params)
    assert o.credit == 1.0
    o = grade_text("Total: 902,700 parameters", "params", params)
    assert o.credit == 0.0 and [d.code for d in o.diagnoses] == ["missing-biases"]


def test_alice_through_the_engine():
    result = grade_submission(ROOT / "submissions" / "alice.ipynb", options=GradingOptions(questions=["q2"]))
    items = {i.id: i for i in result.items()}
    assert set(items) == {"q2.params", "q2.ram_prediction", "q2.ram_batch"}
    p = items["q2.params"]
    assert p.score == 0 and {"arithmetic-error", "missing-biases"} <= set(p.diagnoses)
    assert "9,027,000" in p.feedback and "903,400" in p.feedback
    r = items["q2.ram_prediction"]
    assert r.score == 0 and r.diagnoses == ["ram-params-only"]
    assert "36.11" in r.feedback
    b = items["q2.ram_batch"]
    assert b.score == 0 and "batch-not-answered" in b.diagnoses
    assert all(i.max_score == 5 for i in items.values())
    json.dumps(result.to_dict())


def test_reference_notebook_full_marks_on_q2():
    result = grade_submission(
        ROOT / "reference" / "assignment06.ipynb", options=GradingOptions(questions=["q2"])
    )
    q2 = result.question("q2")
    assert q2.max_score == 15
    assert q2.score == q2.max_score, [(i.id, i.feedback) for i in q2.items]


def test_cli_q2_never_imports_tensorflow(tmp_path):
    """The static path (`grader run ... --questions q2`) must not import TensorFlow or Keras (its
    speed is a figure of benchmarks/selfcheck_speed.py, not a timed test)."""
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['grader', 'run', 'submissions/alice.ipynb', '--questions', 'q2', '--out', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('grader', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "else:\n"
        "    code = 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print('HEAVY=' + ','.join(heavy))\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HEAVY=\n" in proc.stdout, proc.stdout[-500:]
    data = json.loads((tmp_path / "alice.json").read_text())
    assert [i["id"] for q in data["questions"] for i in q["items"]] == [
        "q2.params",
        "q2.ram_prediction",
        "q2.ram_batch",
    ]


def test_a_guess_is_flagged_for_review_only_when_it_costs_credit(rubric):
    params = rubric.item("q2.params").params
    text = "903,400 parameters\n\n12.6 MB\n\n999 MB"  # no sentence says which amount is which
    pred = grade_text(text, "ram_prediction", params)
    assert pred.credit == 1.0 and not pred.needs_review
    batch = grade_text(text, "ram_batch", params)
    assert batch.credit == 0.0 and batch.needs_review and batch.confidence < 0.6
    assert "no sentence names the batch" in batch.evidence["numbers"][0]["why"]
    sure = grade_text("RAM for one prediction: 30 MB.", "ram_prediction", params)
    assert sure.credit == 0.0 and not sure.needs_review
