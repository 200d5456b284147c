"""End to end through the locator and the concept check: text a reader cannot see earns nothing.

The locator (grader/locate/visible.py) drops HTML comments, hidden elements and white text; the
concept check caps bare keyword lists. Together a keyword list hidden in the markdown of an
otherwise empty answer must not earn a point (issue 13, point 3).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.context import GradingOptions
from grader.engine import grade_submission
from grader.rubric import load_rubric

KEYWORDS = ("weight sharing, fewer parameters, local receptive fields, translation invariance, "
            "spatial hierarchy, partial connectivity, parameter sharing, feature hierarchy")

HIDDEN = {
    "html-comment": f"<!-- {KEYWORDS} -->",
    "display-none": f'<div style="display:none">{KEYWORDS}</div>',
    "white-text": f'<span style="color:white">{KEYWORDS}</span>',
    "hidden-attribute": f"<p hidden>{KEYWORDS}</p>",
}


def _notebook(tmp_path: Path, hidden: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Question 1\nWhat are the advantages of a CNN over a fully "
                                      f"connected DNN for image classification?\n\n{hidden}\n\nidk"),
        nbformat.v4.new_markdown_cell("## Question 2\nnot done yet"),
    ]
    path = tmp_path / "sneaky.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("style", sorted(HIDDEN))
def test_a_hidden_keyword_list_earns_nothing(tmp_path: Path, style: str) -> None:
    path = _notebook(tmp_path, HIDDEN[style])
    result = grade_submission(path, load_rubric(None),
                              GradingOptions(profile="quick", out_dir=str(tmp_path), questions=["q1"]))
    item = result.item("q1.concepts")
    assert item.score == 0, (style, item.feedback)


def test_the_same_list_visible_earns_at_most_the_small_share(tmp_path: Path) -> None:
    """The control: the list is found when visible, so the zero above is the hiding, not a miss."""
    path = _notebook(tmp_path, KEYWORDS)
    result = grade_submission(path, load_rubric(None),
                              GradingOptions(profile="quick", out_dir=str(tmp_path), questions=["q1"]))
    item = result.item("q1.concepts")
    assert 0 < item.score <= 0.25 * item.max_score + 0.5
    assert item.needs_review
