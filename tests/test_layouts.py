"""Every layout notebook in tests/layouts/ is located question by question as a careful reader
would: the cells of each question, and the questions that are not there (static, no kernel)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.notebook import load_notebook
from grader.rubric import load_rubric

LAYOUTS = sorted((Path(__file__).parent / "layouts").glob("*.ipynb"))


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


def test_there_are_enough_layouts():
    assert len(LAYOUTS) >= 25


@pytest.mark.parametrize("path", LAYOUTS, ids=[p.stem for p in LAYOUTS])
def test_layout_is_located(rubric, path):
    spec = json.loads(path.read_text(encoding="utf-8"))["metadata"]["layout"]
    answers = rubric.locate_answers(load_notebook(path))
    found = {q: a.cells for q, a in answers.items()}
    expected = {q: sorted(cells) for q, cells in spec["expected"].items()}
    assert found == expected, spec["style"]
    assert not set(answers) & set(spec["absent"])
    if spec.get("edition"):
        assert {a.edition for a in answers.values()} == {spec["edition"]}
    for a in answers.values():
        assert 0 < a.confidence <= 1 and a.how in ("heading", "number", "prompt-match", "content")


def test_print_cells_stay_code_unless_they_print_labelled_answers(rubric, tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('print("5) LRN: strong neurons inhibit the maps next to them")'),
        nbformat.v4.new_markdown_cell("## Question 9"),
        nbformat.v4.new_code_cell("print('Training the model now, please wait')"),
    ])
    path = tmp_path / "prints.ipynb"
    nbformat.write(nb, path)
    answers = rubric.locate_answers(load_notebook(path))
    assert answers["q9"].code_cells == [2]
    assert answers["q5"].cells == [0] and answers["q5"].code_cells == []
    assert "inhibit" in answers["q5"].text


def test_roman_numerals_need_a_label_or_a_delimiter() -> None:
    """A numeral after a label or before a delimiter numbers a question; the pronoun "I" does not."""
    from grader.locate.segment import line_marker

    assert line_marker("## Question IV: Why pooling?", first_line=True)[:2] == (4, "heading")
    assert line_marker("### vii) fully convolutional", first_line=True)[:2] == (7, "heading")
    assert line_marker("**Exercise ix.** MNIST", first_line=True)[:2] == (9, "bold")
    assert line_marker("Question X", first_line=False)[:2] == (10, "label")
    for pronoun in ("**I** think the pooling layer is cheaper", "## I think CNNs are better",
                    "I think pooling has no weights."):
        found = line_marker(pronoun, first_line=False)
        assert found is None or found[0] is None, pronoun
