"""What the locator found is visible: the report's "where your answers were found" section, the
class report's "not found, check by hand" flag, the self-check's labelling advice; the rubric's
aliases are validated; a model question whose cells built no model takes the captured model
that does its task (a built capture, no kernel)."""

from __future__ import annotations

import io
from pathlib import Path

import nbformat
import pytest
import yaml
from rich.console import Console

from grader.context import GradingContext, GradingOptions
from grader.engine import grade_submission
from grader.execute.record import ExecutionRecord
from grader.notebook import load_notebook
from grader.report import render_class_report, render_submission
from grader.report.selfcheck import html_errors
from grader.rubric import DEFAULT_RUBRIC, RubricError, load_rubric
from grader.selfcheck import SelfCheck, render

LAYOUTS = Path(__file__).parent / "layouts"
STATIC = [f"q{n}" for n in range(1, 9)]


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


@pytest.fixture(scope="module")
def half_done(rubric):
    """The handout's questions copied, only q1 and q2 answered (graded statically)."""
    return grade_submission(LAYOUTS / "prompts_only_mostly.ipynb", rubric,
                            GradingOptions(questions=STATIC))


@pytest.fixture(scope="module")
def alice(rubric, root):
    return grade_submission(root / "submissions" / "alice.ipynb", rubric, GradingOptions(questions=STATIC))


def test_result_records_where_each_answer_was_found(half_done, alice):
    rows = {r["question"]: r for r in half_done.located}
    assert list(rows) == STATIC
    assert rows["q1"]["found"] and rows["q1"]["cells"] == [0, 1] and rows["q1"]["how"] == "heading"
    assert not rows["q3"]["found"] and rows["q3"]["cells_text"] == "not found"
    assert all(r["found"] and r["confidence"] > 0.9 for r in alice.located)


def test_report_section_lists_questions_cells_how_and_confidence(half_done):
    html = render_submission(half_done)
    assert not html_errors(html)
    section = html.split('id="located"', 1)[1].split("</section>", 1)[0]
    assert "Where your answers were found" in html
    assert "q1" in section and "heading" in section and "0-1" in section and "97 %" in section
    assert section.count("not found") >= 6 and "## Question 3" in section


def test_class_report_flags_missing_questions_for_a_person(half_done, alice):
    html = render_class_report([half_done, alice])
    assert not html_errors(html)
    assert "not found: q3-q8, check by hand" in html
    students = html.split('id="students"', 1)[1]
    assert "not found: q3-q8" in students  # in the student's row of flags too
    assert html.count("not found: q3-q8") == 2  # and only for the student concerned


def test_selfcheck_says_what_it_could_not_find_and_how_to_label_it(half_done):
    out = io.StringIO()
    render(SelfCheck(notebook="hw6.ipynb", questions=STATIC, result=half_done),
           Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "Could not find your answer to q3-q8" in text
    assert "## Question 3" in text and "grader locate hw6.ipynb" in text


def test_rubric_alias_needs_number_with_edition(tmp_path):
    data = yaml.safe_load(DEFAULT_RUBRIC.read_text(encoding="utf-8"))
    data["questions"][8]["aliases"] = [{"edition": "1st", "prompt": "Build a CNN on MNIST"}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(RubricError, match=r"aliases.*number"):
        load_rubric(path)


def test_unlabelled_model_is_assigned_by_what_the_capture_shows(rubric, tmp_path):
    """q10's heading holds only prose; its model was built in an early cell through a helper
    the static locator cannot read. The capture shows a pretrained base there: q10 gets it."""
    from grader.checks.models import question_capture

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from helpers import make_model\nclf = make_model()\nclf.fit(xs, ys)"),
        nbformat.v4.new_markdown_cell("## Question 9"),
        nbformat.v4.new_code_cell("net = build()\nnet.fit(x_train, y_train)"),
        nbformat.v4.new_markdown_cell("## Question 10\nI fine tuned a pretrained mobilenet, see top cell"),
    ]
    path = tmp_path / "helper.ipynb"
    nbformat.write(nb, path)
    notebook = load_notebook(path)
    answers = rubric.locate_answers(notebook)
    assert answers["q10"].code_cells == []
    base = {"class": "Functional", "name": "mobilenetv2_1.00_96", "nested": True,
            "weights_source": "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"}
    record = ExecutionRecord(status="completed", models=[
        {"index": 0, "cell": 0, "class": "Functional", "layers": [base, {"class": "Dense", "name": "d"}]},
        {"index": 1, "cell": 2, "class": "Sequential", "layers": [{"class": "Conv2D", "name": "c"}]},
    ], fits=[
        {"cell": 0, "status": "ok", "model": 0, "x": {"kind": "array", "shape": [800, 32, 32, 3]}},
        {"cell": 2, "status": "ok", "model": 1, "x": {"kind": "array", "shape": [600, 28, 28, 1]}},
    ])
    ctx = GradingContext(rubric=rubric, notebook=notebook, answers=answers, options=GradingOptions(),
                         _execution=record)
    q10 = question_capture(ctx, "q10")
    assert list(q10.models) == [0] and q10.cells == [0]
    assert answers["q10"].how == "content" and answers["q10"].code_cells == [0]
    assert answers["q10"].confidence <= 0.7
    q9 = question_capture(ctx, "q9")  # its own cells hold its model: nothing moves
    assert list(q9.models) == [1] and answers["q9"].how == "heading"
