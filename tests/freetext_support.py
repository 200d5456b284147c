"""Grading one free-text answer against the real rubric, for the static free-text tests."""

from __future__ import annotations

from grader.checks.concepts import grade_text, parse_params
from grader.rubric import load_rubric

RUBRIC = load_rubric()


def grade(question: str, text: str):
    """The concept grade of `text` as the answer to `question` (its first item)."""
    q = RUBRIC.question(question)
    item = q.items[0]
    return grade_text(text, parse_params(item.id, item.params), item.points, q.prompt)


def concepts(g) -> set[str]:
    """Concepts credited from statements (not from a bare keyword list)."""
    return {m["concept"] for m in g.matches if not m["bare"]}
