"""What needs a person: every item of the class's current grades that the grader could not settle.

An item is in the queue when it is flagged `needs review` (an unsure free-text judgement); is
`missing` although the notebook may hold an answer for it (the locator gave cells or an excerpt,
or could not find the question at all: the class report's "not found, check by hand"); belongs
to a question the locator placed with low confidence; was `skipped` because of the grader's
environment (missing weights, data: never the student's zero); or shows a large gap between the
accuracy the notebook printed and the one the grader measured. A queued item is done once an
instructor set its grade (it is `manual`). The queue is ordered by question, then student, so a
TA grades one question across the class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.locate.answer import LOW_CONFIDENCE
from grader.results import ItemResult, SubmissionResult

GAP_POINTS = 2.0  # printed vs measured accuracy, in percentage points, worth a person's look
ANSWER_HINTS = ("excerpt", "candidates", "nearest", "cells")

REASON_WORDS = {
    "needs-review": "the grader is unsure of its judgement",
    "not-located": "no answer was located: check by hand whether the notebook holds one",
    "unsure-location": "the answer was found with low confidence: check the grader read the right cells",
    "environment": "skipped: the grader's environment lacked something (not the student's fault)",
    "accuracy-gap": "the printed accuracy differs from the measured one",
}


@dataclass
class QueueItem:
    student: str
    item_id: str
    question: str
    reasons: list[str]
    score: float
    max_score: float
    status: str
    done: bool  # graded by hand since
    by: str = ""
    words: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.item_id)


def _natural(text: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def accuracy_gap_points(item: ItemResult) -> float | None:
    acc = item.evidence.get("accuracy") if isinstance(item.evidence, dict) else None
    if not isinstance(acc, dict):
        return None
    printed, measured = acc.get("printed"), acc.get("measured")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (printed, measured)):
        return None
    printed = printed * 100 if printed <= 1 else printed
    measured = measured * 100 if measured <= 1 else measured
    return round(printed - measured, 2)


def reasons_for(item: ItemResult, location: dict | None = None) -> list[str]:
    """Why `item` needs a person (empty: it does not). A manual item keeps the reasons it had.
    `location` is its question's row of `result.located` (grader.locate.location_map)."""
    ev = item.evidence if isinstance(item.evidence, dict) else {}
    auto = ev.get("override") if item.manual else None
    needs_review = item.needs_review or bool(isinstance(auto, dict) and auto.get("automatic_needs_review"))
    status = auto.get("automatic_status", item.status) if isinstance(auto, dict) else item.status
    out = []
    if needs_review:
        out.append("needs-review")
    not_found = location is not None and not location.get("found")
    if status == "missing" and (not_found or any(ev.get(k) for k in ANSWER_HINTS)):
        out.append("not-located")
    if location is not None and location.get("found") and (location.get("confidence") or 0) < LOW_CONFIDENCE:
        out.append("unsure-location")
    if status == "skipped":
        out.append("environment")
    gap = accuracy_gap_points(item)
    if gap is not None and abs(gap) > GAP_POINTS:
        out.append("accuracy-gap")
    return out


def build_queue(results: list[SubmissionResult]) -> list[QueueItem]:
    """Every item needing a person across `results` (current grades), by question then student."""
    queue = []
    for r in results:
        student = r.student or r.submission
        where = {row.get("question"): row for row in r.located or []}
        for q in r.questions:
            for item in q.items:
                reasons = reasons_for(item, where.get(q.id))
                if not reasons:
                    continue
                ov = item.evidence.get("override") if item.manual and isinstance(item.evidence, dict) else {}
                queue.append(QueueItem(
                    student=student, item_id=item.id, question=q.id, reasons=reasons, score=item.score,
                    max_score=item.max_score, status=item.status, done=item.manual,
                    by=str((ov or {}).get("by") or ""), words=[REASON_WORDS[x] for x in reasons]))
    queue.sort(key=lambda e: (_natural(e.question), _natural(e.item_id), e.student.lower()))
    return queue


def next_pending(queue: list[QueueItem], after: tuple[str, str] | None = None) -> QueueItem | None:
    """The first item not done after `after` in queue order (wrapping round), same question first."""
    pending = [e for e in queue if not e.done and e.key != after]
    if not pending:
        return None
    if after is None:
        return pending[0]
    keys = [e.key for e in queue]
    here = keys.index(after) if after in keys else -1
    question = queue[here].question if here >= 0 else None
    later = [e for e in queue[here + 1:] if not e.done]
    for e in later:
        if e.question == question:
            return e
    same = [e for e in pending if e.question == question]
    return same[0] if same else (later[0] if later else pending[0])
