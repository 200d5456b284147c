"""Free-text items graded through the real engine: alice, the reference, review flags."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.context import GradingOptions
from grader.engine import grade_submission

ROOT = Path(__file__).resolve().parent.parent
FREE_TEXT = ["q1", "q3", "q4", "q5", "q6", "q7", "q8"]


@pytest.fixture(scope="module")
def alice():
    return grade_submission(ROOT / "submissions" / "alice.ipynb", options=GradingOptions(questions=FREE_TEXT))


def test_alice_gets_item_level_scores_with_matched_concepts_as_evidence(alice):
    assert alice.status == "graded"
    assert [q.id for q in alice.questions] == FREE_TEXT
    for item in alice.items():
        assert item.kind == "concepts"
        assert item.status in ("passed", "partial", "failed")
        assert 0 <= item.score <= item.max_score
        assert item.confidence is not None and 0 <= item.confidence <= 1
        assert item.evidence["excerpt"]
        for m in item.evidence["matches"]:
            assert {"concept", "phrase", "sentence"} <= set(m)
            assert m["phrase"].lower() in m["sentence"].lower()  # highlightable in the report
    json.dumps(alice.to_dict())  # evidence is JSON-serialisable
    assert 0 < alice.score < alice.max_score


def test_alice_q4_gets_the_no_weights_concept(alice):
    q4 = alice.item("q4.concepts")
    no_weights = [m for m in q4.evidence["matches"] if m["concept"] == "no-weights"]
    assert no_weights and "without having to learn weights" in no_weights[0]["phrase"]
    assert q4.score >= 4


def test_alice_q5_is_below_full_credit_with_feedback_on_what_lrn_does(alice):
    q5 = alice.item("q5.concepts")
    assert q5.score < q5.max_score
    assert "lrn-boosts-sensitivity" in q5.diagnoses
    assert "inhibit" in q5.feedback and "neighbouring feature maps" in q5.feedback
    assert "lateral-inhibition" in [m["concept"] for m in q5.evidence["missed"]]
    assert any(d.code == "lrn-boosts-sensitivity" and d.fix for d in alice.diagnostics)


def test_alice_typos_and_copied_question_lines(alice):
    q6 = alice.item("q6.concepts")
    assert q6.score == q6.max_score
    # the question she pasted above her answer is recognised and earns nothing
    assert any("main innovations" in s for s in q6.evidence["ignored_question_text"])
    q8 = alice.item("q8.concepts")
    assert 0 < q8.score < q8.max_score
    assert "resolution-loss" in [m["concept"] for m in q8.evidence["missed"]]


def test_reference_gets_full_marks_on_every_free_text_question():
    ref = grade_submission(ROOT / "reference" / "assignment06.ipynb",
                           options=GradingOptions(questions=FREE_TEXT))
    assert [(i.id, i.score) for i in ref.items() if i.score < i.max_score] == []
    assert ref.score == ref.max_score == 50


def _notebook(tmp_path: Path, cells: list) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = tmp_path / "student.ipynb"
    nbformat.write(nb, path)
    return path


def test_answers_as_code_comments_and_review_flag(tmp_path):
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    path = _notebook(tmp_path, [
        md("#### 4. Why would you want to add a max pooling layer rather than a convolutional layer "
           "with the same stride?"),
        code("# pooling layer dosent have any trainable paramters\n# so its faster and uses less memmory\n"
             "x = 1"),
        md("#### 8. What is the main technical difficulty of semantic segmentation?"),
        md("Each pooling step throws away information about where exactly things are, so by the "
           "top of the network the resolution is far too low to label the image precisely."),
    ])
    result = grade_submission(path, options=GradingOptions(questions=["q4", "q8"]))
    q4, q8 = result.item("q4.concepts"), result.item("q8.concepts")
    assert q4.score == 5 and not q4.needs_review
    # issue 13: this paraphrase ("throws away where things are ... resolution far too low") is
    # now read as the resolution-loss concept, so the machine is sure of it
    assert q8.score == 4 and not q8.needs_review


def test_heading_without_answer_text_is_missing(tmp_path):
    md = nbformat.v4.new_markdown_cell
    path = _notebook(tmp_path, [
        md("#### 5. When would you want to add a local response normalization layer?"),
        md("#### 6."),
    ])
    item = grade_submission(path, options=GradingOptions(questions=["q5"])).item("q5.concepts")
    assert item.status == "missing" and item.score == 0


def test_an_answer_to_another_question_is_sent_to_a_human(tmp_path):
    # the pooling answer pasted under the GPU-memory question (issue 13, class 4)
    md = nbformat.v4.new_markdown_cell
    path = _notebook(tmp_path, [
        md("#### 3. If your GPU runs out of memory while training a CNN, what are five things you "
           "could try to solve the problem?"),
        md("i'd go for max pool, it doesnt have any weights to learn so it costs less compute than "
           "a strided conv, plus small shifts of the input barely change the max."),
    ])
    item = grade_submission(path, options=GradingOptions(questions=["q3"])).item("q3.concepts")
    assert item.score <= 2
    assert item.needs_review
    assert "another-question" in item.diagnoses
