"""One way to grade a Q2 answer in the static layout tests: the rubric's q2 parameters and prompt,
each part's credit, and the figure the grader took for a part."""

from __future__ import annotations

from grader.checks.parammath import grade_answer
from grader.rubric import load_rubric

RUBRIC = load_rubric()
PARAMS = RUBRIC.item("q2.params").params
PROMPT = RUBRIC.question("q2").prompt
PARTS = ("params", "ram_prediction", "ram_batch")


def grade(text: str, code: str = "") -> dict:
    return grade_answer(text, PARAMS, code=code, prompt=PROMPT)


def credits(out: dict) -> list[float]:
    return [out[p].credit for p in PARTS]


def found(outcome) -> str | None:
    return next(n["found"] for n in outcome.evidence["numbers"] if n["graded_here"])
