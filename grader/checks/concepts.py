"""The `concepts` check: a free-text answer graded by grader.freetext (see its docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.checks.base import Diagnosis, Outcome, register, require_answer
from grader.freetext.elsewhere import answers_other_question
from grader.freetext.rubric import ConceptRubric, ConceptRubricError, parse_params
from grader.freetext.scoring import Grade, grade_text
from grader.textmatch import split_sentences

if TYPE_CHECKING:
    from grader.context import GradingContext
    from grader.rubric import RubricItem

__all__ = ["ConceptRubric", "ConceptRubricError", "Grade", "check_concepts", "feedback", "grade_text",
           "parse_params"]

EXCERPT_CHARS = 1500
ANOTHER_QUESTION_CONFIDENCE = 0.3  # below any review threshold: a human decides



@register("concepts")
def check_concepts(item: RubricItem, ctx: GradingContext) -> Outcome:
    answer = require_answer(item, ctx)
    rubric = parse_params(item.id, item.params)
    question = ctx.rubric.question(item.question)
    text = answer.text or ""
    cells = list(answer.text_cells or answer.cells)
    if not text.strip():
        return Outcome.missing(
            f"Question {question.number} has a heading but no answer text under it. Write your "
            "answer in a markdown cell (or as # comments) below the question.", cells=cells)
    grade = grade_text(text, rubric, item.points, question.prompt)
    threshold = ctx.rubric.review_threshold
    cell = cells[0] if cells else None
    diagnoses = [
        Diagnosis(code=m["misconception"], message=f"{m['label']}: \"{m['sentence']}\"", cell=cell,
                  fix=m["correction"])
        for m in grade.misconceptions
    ]
    elsewhere = answers_other_question(text, grade, item.question, ctx.rubric)
    if elsewhere is not None:
        # a TA reads it as the answer to another question and sends it back: a human decides
        grade.confidence = min(grade.confidence, ANOTHER_QUESTION_CONFIDENCE)
        grade.reasons.append(f"reads as the answer to question {elsewhere.number} (it would earn "
                             f"{elsewhere.share:.0%} there): a human should decide")
        diagnoses.append(Diagnosis(code="another-question", cell=cell,
                                   message=f"this looks like the answer to question {elsewhere.number}",
                                   fix=f"Answer question {question.number} here; put that text under "
                                       f"question {elsewhere.number}."))
    if not grade.matches and not grade.misconceptions and len(split_sentences(text)) == len(
            grade.ignored_sentences):
        diagnoses.append(Diagnosis(code="copied-question", cell=cell,
                                   message="the answer only repeats the question",
                                   fix="Answer the question in your own words."))
    evidence: dict[str, Any] = {
        "excerpt": text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else ""),
        "matches": [{k: m[k] for k in ("concept", "phrase", "sentence", "label", "points")}
                    for m in grade.matches],
        "missed": grade.missed,
        "misconceptions": [{k: v for k, v in m.items() if k != "span"} for m in grade.misconceptions],
        "points": {"concepts": round(sum(m["points"] for m in grade.matches), 2),
                   "deductions": sum(m["deduction"] for m in grade.misconceptions),
                   "score": grade.score, "max": item.points},
        "confidence": grade.confidence,
        "confidence_reasons": grade.reasons,
        "cells": cells,
    }
    if grade.ignored_sentences:
        evidence["ignored_question_text"] = grade.ignored_sentences
    return Outcome(
        credit=grade.credit,
        feedback=feedback(grade),
        diagnoses=diagnoses,
        evidence=evidence,
        confidence=grade.confidence,
        needs_review=grade.confidence < threshold,
    )


def feedback(grade: Grade) -> str:
    """What the student reads: what earned points, what to add, what to correct."""
    parts: list[str] = []
    if grade.matches:
        parts.append("Credit for: " + "; ".join(m["label"] for m in grade.matches) + ".")
    else:
        parts.append("None of the key points of this question was found in your answer.")
    for m in grade.misconceptions:
        parts.append(f"Correction (-{m['deduction']:g}): {m['correction']}")
    missing = [m["hint"] or m["label"] for m in grade.missed]
    if missing and grade.score < grade.points:
        parts.append("To improve: " + " ".join(h if h.endswith(".") else h + "." for h in missing))
    if grade.ignored_sentences:
        parts.append(f"{len(grade.ignored_sentences)} sentence(s) repeating the question earned nothing.")
    return " ".join(parts)
