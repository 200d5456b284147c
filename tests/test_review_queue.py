"""The review queue reads where the locator found each answer (result.located), like the class
report: a question it could not find, or placed with low confidence, needs a person."""

from __future__ import annotations

from grader.results import ItemResult, QuestionResult, SubmissionResult
from grader.review.queue import build_queue


def _result(located: list[dict]) -> SubmissionResult:
    def item(iid: str, status: str, score: float) -> ItemResult:
        return ItemResult(id=iid, score=score, max_score=5.0, status=status, feedback="")

    questions = [
        QuestionResult(id="q3", score=0.0, max_score=5.0, items=[item("q3.concepts", "missing", 0.0)]),
        QuestionResult(id="q4", score=5.0, max_score=5.0, items=[item("q4.concepts", "passed", 5.0)]),
        QuestionResult(id="q5", score=5.0, max_score=5.0, items=[item("q5.concepts", "passed", 5.0)]),
    ]
    return SubmissionResult(submission="dana.ipynb", status="graded", score=10.0, max_score=15.0,
                            profile="quick", device="cpu", questions=questions, student="dana",
                            located=located)


def _reasons(result: SubmissionResult) -> dict[str, list[str]]:
    return {e.item_id: e.reasons for e in build_queue([result])}


def test_question_not_found_is_queued_even_without_hints() -> None:
    located = [{"question": "q3", "found": False, "confidence": 0.0},
               {"question": "q4", "found": True, "confidence": 0.9},
               {"question": "q5", "found": True, "confidence": 0.9}]
    assert _reasons(_result(located)) == {"q3.concepts": ["not-located"]}


def test_low_confidence_location_queues_the_graded_items() -> None:
    located = [{"question": "q3", "found": True, "confidence": 0.9},
               {"question": "q4", "found": True, "confidence": 0.3},
               {"question": "q5", "found": True, "confidence": 0.9}]
    reasons = _reasons(_result(located))
    assert reasons == {"q4.concepts": ["unsure-location"]}  # q3 was found: a real blank, no queue


def test_result_without_location_map_keeps_the_evidence_rule() -> None:
    r = _result([])
    assert _reasons(r) == {}
    r.questions[0].items[0].evidence = {"nearest": {"cells": [7]}}
    assert _reasons(r) == {"q3.concepts": ["not-located"]}
