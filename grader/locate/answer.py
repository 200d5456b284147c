"""What the locator returns: one Answer per question found, and what it was told to look for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

How = Literal["heading", "number", "prompt-match", "content"]
#: under this the map says "check by hand"
LOW_CONFIDENCE = 0.5


@dataclass
class Alias:
    """Another wording of a question (another edition's exercise list, a paraphrase)."""

    prompt: str = ""
    edition: str | None = None  # e.g. "1st": the numbering this wording comes with
    number: int | None = None


@dataclass
class QuestionSpec:
    """A question as the locator sees it."""

    id: str  # "q9"
    number: int
    prompt: str = ""
    title: str = ""
    aliases: list[Alias] = field(default_factory=list)
    task: str | None = None  # "scratch" | "transfer": code recognised by what it does

    def texts(self) -> list[str]:
        return [t for t in (self.prompt, self.title, *(a.prompt for a in self.aliases)) if t]


@dataclass
class Answer:
    """What a student wrote for one question, the cells it came from, and how it was found."""

    question: str  # "q2"
    number: int
    heading_cell: int
    cells: list[int] = field(default_factory=list)  # every cell the answer touches
    text: str = ""  # the prose answer: visible markdown plus code comments, prompt removed
    code: str = ""  # the code cells' source (and fenced code typed in prose), joined
    outputs_text: str = ""  # what the code cells' stored outputs show
    code_cells: list[int] = field(default_factory=list)
    text_cells: list[int] = field(default_factory=list)  # cells that contributed to `text`
    how: How = "heading"  # heading | number | prompt-match | content
    confidence: float = 1.0  # 0..1: how sure the locator is that this is the question's answer
    edition: str = "rubric"  # the numbering the student followed
    label: str = ""  # the line the answer was found under, as the student wrote it (capped)
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (cell, first, last line)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "heading_cell": self.heading_cell,
            "cells": self.cells,
            "text_cells": self.text_cells,
            "code_cells": self.code_cells,
            "how": self.how,
            "confidence": self.confidence,
            "edition": self.edition,
            "label": self.label,
        }


def location_map(answers: dict[str, Answer], question_ids: list[str]) -> list[dict[str, Any]]:
    """One row per question, found or not: what the report, `grader locate` and the class
    report show."""
    rows = []
    for qid in question_ids:
        a = answers.get(qid)
        if a is None:
            rows.append({"question": qid, "found": False, "cells": [], "how": None, "confidence": 0.0,
                         "edition": None, "label": "", "cells_text": "not found",
                         "unsure": True})
        else:
            rows.append({"found": True, **a.to_dict(), "cells_text": cell_span(a.cells),
                         "unsure": a.confidence < LOW_CONFIDENCE})
    return rows


def cell_span(cells: list[int]) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'."""
    return ranges([f"q{c}" for c in cells]).replace("q", "") if cells else ""


def flags(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(text, badge kind) for the class report: questions a person should look for by hand."""
    missing, low = unsure(rows or [])
    out = []
    if missing:
        out.append((f"not found: {ranges(missing)}, check by hand", "review"))
    if low:
        out.append((f"unsure where: {ranges(low)}", "review"))
    return out


def unsure(rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(questions not found, questions found with low confidence)."""
    missing = [r["question"] for r in rows if not r.get("found")]
    low = [r["question"] for r in rows if r.get("found") and (r.get("confidence") or 0) < LOW_CONFIDENCE]
    return missing, low


def ranges(qids: list[str]) -> str:
    """['q3', 'q4', 'q5', 'q8'] -> 'q3-q5, q8'."""
    nums = sorted(int(q[1:]) for q in qids if q[1:].isdigit())
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(f"q{nums[i]}" if i == j else f"q{nums[i]}-q{nums[j]}")
        i = j + 1
    return ", ".join(parts)
