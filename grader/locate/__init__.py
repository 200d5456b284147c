"""Find each question's answer in a notebook, whatever layout the student used.

segment.py splits cells into lines and finds question markers; match.py compares text with the
rubric's prompts; assign.py decides where each question starts and builds the answers (and gives
unlabelled model code to the question whose task it does); visible.py reduces markdown/HTML to
what a reader sees. Locating never raises and never runs anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.locate.answer import (
    LOW_CONFIDENCE,
    Alias,
    Answer,
    QuestionSpec,
    location_map,
    ranges,
    unsure,
)
from grader.locate.visible import markdown_to_text, visible_markdown

if TYPE_CHECKING:
    from grader.notebook import Notebook


def locate_answers(
    nb: Notebook,
    question_numbers: list[int] | None = None,
    prompts: dict[int, str] | None = None,
    *,
    specs: list[QuestionSpec] | None = None,
) -> dict[str, Answer]:
    """Map "qN" to the student's answer for each question that can be found.

    `specs` (from Rubric.locate_answers) carries titles, other editions' prompts and the model
    questions' tasks; `question_numbers`/`prompts` is the plain form.
    """
    from grader.locate.assign import locate

    if specs is None:
        prompts = prompts or {}
        specs = [QuestionSpec(id=f"q{n}", number=n, prompt=prompts.get(n, ""))
                 for n in question_numbers or []]
    if not specs:
        return {}
    return locate(nb, specs)


__all__ = ["Alias", "Answer", "LOW_CONFIDENCE", "QuestionSpec", "locate_answers", "location_map",
           "markdown_to_text", "ranges", "unsure", "visible_markdown"]
