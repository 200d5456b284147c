"""The answer locator on layouts students really hand in.

Each layout is a small notebook built the way a student would write it; the expectations say
which cells belong to which question and what text the graders will read.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.notebook import load_notebook, locate_answers

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
ALL = list(range(1, 11))


def write(tmp_path: Path, cells: list, name: str = "nb.ipynb") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def locate(tmp_path: Path, cells: list, prompts: dict[int, str] | None = None):
    return locate_answers(load_notebook(write(tmp_path, cells)), ALL, prompts)


def test_hash_number_headings_with_code_blocks(tmp_path):
    """alice's layout: '#### 1.\\tquestion' then a markdown cell with a <code> answer."""
    answers = locate(tmp_path, [
        md("# Assignment 06 Solutions"),
        md("#### 1.\tWhat are the advantages of a CNN?"),
        md("<code>Weight sharing.\nFewer parameters."),
        md("#### 2.\tHow many parameters?"),
        md("<code>Total Parameters = 9,027,000 parameters"),
    ])
    assert set(answers) == {"q1", "q2"}
    assert answers["q1"].cells == [1, 2]
    assert "Weight sharing." in answers["q1"].text
    assert "<code>" not in answers["q1"].text
    assert "9,027,000" in answers["q2"].text
    assert answers["q2"].text_cells == [3, 4] or answers["q2"].text_cells == [4]


def test_question_word_headings_answer_below(tmp_path):
    answers = locate(tmp_path, [
        md("## Question 1\nWhat are the advantages of a CNN over a DNN?"),
        md("CNNs share weights."),
        md("## Question 2"),
        md("903,400 parameters"),
        md("## Question 3"),
        md("Reduce the batch size."),
    ], prompts={1: "What are the advantages of a CNN over a DNN?"})
    assert [answers[f"q{n}"].heading_cell for n in (1, 2, 3)] == [0, 2, 4]
    assert answers["q1"].text == "CNNs share weights."  # the copied prompt is removed
    assert answers["q3"].cells == [4, 5]


def test_bold_labels_answer_in_same_cell(tmp_path):
    answers = locate(tmp_path, [
        md("**Q3.** If your GPU runs out of memory, what could you try?\n\n"
           "Use a smaller batch and mixed precision."),
        md("**Q4.** Why max pooling?\n\nIt has no weights to learn."),
    ], prompts={3: "If your GPU runs out of memory, what could you try?"})
    assert set(answers) == {"q3", "q4"}
    assert "smaller batch" in answers["q3"].text
    assert "If your GPU runs out" not in answers["q3"].text
    assert answers["q4"].text.endswith("It has no weights to learn.")


def test_parenthesis_numbers_are_not_confused_with_numbered_lists(tmp_path):
    """'3) ...' questions whose answers are numbered lists '1. ...' themselves."""
    answers = locate(tmp_path, [
        md("1) What are the advantages of a CNN?"),
        md("1. fewer parameters\n2. translation invariance"),
        md("2) How many parameters?"),
        md("about 903400"),
        md("3) Out of GPU memory: five things?"),
        md("1. smaller batches\n2. fewer layers\n3. mixed precision"),
        md("4) Why max pooling?"),
        md("no parameters"),
    ])
    assert [answers[f"q{n}"].heading_cell for n in (1, 2, 3, 4)] == [0, 2, 4, 6]
    assert "mixed precision" in answers["q3"].text
    assert answers["q4"].text.endswith("no parameters")


def test_answers_as_comments_in_code_cells(tmp_path):
    answers = locate(tmp_path, [
        code("# Question 4\n# Max pooling has no weights to learn, unlike a strided conv."),
        code("# Question 5\n# LRN makes strongly activated neurons inhibit neighbouring maps"),
        code("# Question 9\nimport keras\nmodel = keras.Sequential()"),
        code("model.summary()"),
    ])
    assert answers["q4"].code_cells == [0]
    assert "no weights to learn" in answers["q4"].text
    assert "inhibit" in answers["q5"].text
    assert answers["q9"].code_cells == [2, 3]
    assert "keras.Sequential" in answers["q9"].code


def test_html_and_exercise_labels(tmp_path):
    answers = locate(tmp_path, [
        md("<h3>Question 7</h3>\n<p>An FCN has only convolutional layers.</p>"),
        md("Exercise 8: What is the main difficulty of semantic segmentation?"),
        md("Spatial resolution is lost as the CNN goes deeper."),
    ])
    assert "only convolutional layers" in answers["q7"].text
    assert answers["q8"].cells == [1, 2]


def test_code_cells_belong_to_the_question_between_headings(tmp_path):
    answers = locate(tmp_path, [
        md("### 9. Build your own CNN"),
        code("import keras"),
        code("# 3 layers are enough here\nmodel = keras.Sequential()"),
        md("### 10. Transfer learning"),
        code("base = keras.applications.MobileNetV2()"),
    ])
    assert answers["q9"].code_cells == [1, 2]
    assert answers["q10"].code_cells == [4]
    assert "3 layers are enough" in answers["q9"].text  # a comment, not a heading


def test_a_question_that_is_not_there_is_absent(tmp_path):
    answers = locate(tmp_path, [md("## 1. advantages"), md("weight sharing"), md("## 3. memory"),
                                md("smaller batch")])
    assert "q2" not in answers
    assert set(answers) == {"q1", "q3"}


def test_out_of_order_heading_inside_an_answer_is_ignored(tmp_path):
    """'# 2 ways' inside answer 7 must not steal question 2's heading."""
    answers = locate(tmp_path, [
        md("## 2. Parameters"), md("903,400"),
        md("## 7. FCN"), md("# 2 ways to convert\nuse a kernel as large as the input"),
    ])
    assert answers["q2"].cells == [0, 1]
    assert answers["q7"].cells == [2, 3]


@pytest.mark.parametrize("path,expected", [
    ("submissions/alice.ipynb", {"q1": 1, "q2": 3, "q9": 17, "q10": 22}),
    ("reference/assignment06.ipynb", {"q1": 1, "q2": 3, "q9": 17, "q10": 21}),
])
def test_sample_notebooks_have_all_ten_questions(root, path, expected):
    answers = locate_answers(load_notebook(root / path), ALL)
    assert set(answers) == {f"q{n}" for n in ALL}
    for qid, cell in expected.items():
        assert answers[qid].heading_cell == cell
