"""Only what a reader sees is graded: HTML comments, hidden elements and white or transparent
text never reach an answer's text (issue 13 point 3 relies on it), and visible text is kept."""

from __future__ import annotations

import nbformat
import pytest

from grader.locate import markdown_to_text, visible_markdown
from grader.notebook import load_notebook, locate_answers

SECRET = "inhibit neighbouring feature maps"


@pytest.mark.parametrize("hidden", [
    f"<!-- {SECRET} -->",
    f"<!--\n{SECRET}\nmore lines\n-->",
    f'<div style="display:none">{SECRET}</div>',
    f'<div style="display: none !important"><p>{SECRET}</p></div>',
    f'<span style="visibility:hidden">{SECRET}</span>',
    f"<p hidden>{SECRET}</p>",
    f'<font color="white">{SECRET}</font>',
    f'<font color="#FFFFFF">{SECRET}</font>',
    f'<span style="color: #fff">{SECRET}</span>',
    f'<span style="color:rgb(255, 255, 255)">{SECRET}</span>',
    f'<span style="color:transparent">{SECRET}</span>',
    f'<span style="color: rgba(0,0,0,0)">{SECRET}</span>',
    f'<span style="font-size:0px">{SECRET}</span>',
    f'<span style="opacity:0">{SECRET}</span>',
    f"$\\color{{white}}{{{SECRET}}}$",
    f"$\\textcolor{{white}}{{{SECRET}}}$",
    f'<div style="display:none"><div>nested</div>{SECRET}</div>',
    # moved off the page or clipped away: the screen-reader-only tricks a cheater copies
    f'<span style="position:absolute; left:-9999px">{SECRET}</span>',
    f'<div style="text-indent: -10000px">{SECRET}</div>',
    f'<span style="position:absolute;top:-500em">{SECRET}</span>',
    f'<span style="position:absolute;clip:rect(0 0 0 0)">{SECRET}</span>',
    f'<span style="clip-path: inset(50%)">{SECRET}</span>',
    f'<span style="transform:scale(0)">{SECRET}</span>',
    f'<div style="width:0;height:0;overflow:hidden">{SECRET}</div>',
    f'<div style="max-height:0px; overflow: hidden">{SECRET}</div>',
])
def test_hidden_text_is_dropped(hidden):
    text = markdown_to_text(f"Visible start.\n{hidden}\nVisible end.")
    assert SECRET not in text
    assert "Visible start." in text and "Visible end." in text


@pytest.mark.parametrize("shown", [
    f'<span style="position:relative; left:-4px">{SECRET}</span>',  # a nudge, still on the page
    f'<div style="margin-left:-20px">{SECRET}</div>',
    f'<div style="overflow:hidden; height:200px">{SECRET}</div>',  # a scroll box shows its text
    f'<span style="transform:scale(0.9)">{SECRET}</span>',
    f'<span style="font-size:0.9em; opacity:0.8">{SECRET}</span>',
    f'<span style="width:">{SECRET}</span>',  # an empty value hides nothing
])
def test_styled_but_visible_text_is_kept(shown):
    assert SECRET in markdown_to_text(f"Visible start.\n{shown}\nVisible end.")


def test_visible_html_is_kept_and_headings_survive():
    out = visible_markdown('<h3>Question 5</h3><p>LRN makes <b>strong</b> neurons '
                           '<span style="color:red">inhibit</span> others &amp; more</p>')
    assert "### Question 5" in out
    assert "**strong**" in out and "inhibit" in out and "& more" in out


def test_fenced_code_is_not_parsed_as_html():
    src = "Answer:\n```python\nif a<b and c>d:\n    x = '<!-- not a comment -->'\n```"
    assert "if a<b and c>d:" in visible_markdown(src)
    assert "<!-- not a comment -->" in visible_markdown(src)


def test_a_question_answered_only_in_hidden_text_is_missing(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Question 4\nPooling has no weights to learn."),
        nbformat.v4.new_markdown_cell(f'## Question 5\n<!-- {SECRET} -->\n'
                                      f'<span style="color:white">{SECRET}</span>'),
        nbformat.v4.new_markdown_cell("## Question 6\nResNet: skip connections."),
    ]
    path = tmp_path / "hidden.ipynb"
    nbformat.write(nb, path)
    answers = locate_answers(load_notebook(path), list(range(1, 11)))
    assert set(answers) == {"q4", "q6"}
    assert all(SECRET not in a.text for a in answers.values())
