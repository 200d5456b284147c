"""Result objects of a grading run and their JSON form.

Everything here is a plain dataclass that round-trips through JSON (`to_dict` / `from_dict`),
so results can be cached, stored in the gradebook, rendered or exported by separate stages.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

SubmissionStatus = Literal["graded", "invalid", "error", "timeout"]
ItemStatus = Literal["passed", "partial", "failed", "missing", "error", "skipped"]

ITEM_STATUSES: tuple[str, ...] = ("passed", "partial", "failed", "missing", "error", "skipped")


@dataclass
class Diagnostic:
    """A named, known mistake (e.g. `missing-biases`) with where it was found."""

    code: str
    question: str
    message: str
    item: str | None = None
    cell: int | None = None  # index of the notebook cell it comes from, when known
    fix: str | None = None  # what the student can do about it


@dataclass
class ItemResult:
    id: str
    score: float
    max_score: float
    status: ItemStatus
    feedback: str
    diagnoses: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    title: str = ""
    visibility: Literal["public", "hidden"] = "public"
    confidence: float | None = None  # 0..1 for automatically judged items (free text)
    needs_review: bool = False
    manual: bool = False  # score set by an instructor override
    provisional: bool = False  # depends on a quick-profile training threshold
    # "environment" when the grading environment, not the student, kept the item from being
    # graded (grader/environment.py): it is `skipped`, left out of max_score, and `fix` tells
    # the instructor what to install or where to put which file
    cause: str = ""
    fix: str = ""

    @property
    def environment_skipped(self) -> bool:
        return self.status == "skipped" and self.cause == "environment" and not self.manual


@dataclass
class QuestionResult:
    id: str
    score: float
    max_score: float
    items: list[ItemResult]
    title: str = ""


@dataclass
class SubmissionResult:
    submission: str
    status: SubmissionStatus
    score: float
    max_score: float
    profile: str
    device: str
    questions: list[QuestionResult]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    message: str = ""  # one line: why the status is not `graded`, or empty
    student: str = ""
    path: str = ""
    rubric: str = ""
    grader_version: str = ""
    cache_key: str = ""
    started_at: str = ""
    duration_s: float = 0.0
    environment: dict[str, Any] = field(default_factory=dict)  # versions, seeds, device, budget
    execution: dict[str, Any] | None = None  # ExecutionRecord.to_dict() when the notebook ran
    # where each graded question's answer was found: grader.locate.location_map rows
    # {question, found, cells, how, confidence, edition, label, ...}
    located: list[dict[str, Any]] = field(default_factory=list)
    # Gaps of the grading environment that kept items from being graded (grader/environment.py):
    # [{"kind", "what", "fix", "items": [...]}]. `incomplete` until every such item is regraded
    # or graded by hand; `ungraded_points` are the points left out of max_score meanwhile.
    incomplete: bool = False
    gaps: list[dict[str, Any]] = field(default_factory=list)
    ungraded_points: float = 0.0

    # ---- derived views -------------------------------------------------------------------
    def items(self) -> list[ItemResult]:
        return [item for q in self.questions for item in q.items]

    def item(self, item_id: str) -> ItemResult:
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def question(self, question_id: str) -> QuestionResult:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def recompute_scores(self) -> None:
        """Sum item scores into question and submission totals (after overrides, say).

        Items the grading environment kept from being graded count neither way: the totals are
        the points earned out of the points that could be graded."""
        for q in self.questions:
            counted = [i for i in q.items if not i.environment_skipped]
            q.score = round(sum(i.score for i in counted), 4)
            q.max_score = round(sum(i.max_score for i in counted), 4)
        self.score = round(sum(q.score for q in self.questions), 4)
        self.max_score = round(sum(q.max_score for q in self.questions), 4)
        ungraded = [i for i in self.items() if i.environment_skipped]
        self.ungraded_points = round(sum(i.max_score for i in ungraded), 4)
        self.incomplete = bool(ungraded)

    # ---- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        data = dict(data)
        data["questions"] = [
            QuestionResult(
                **{
                    **_known(QuestionResult, q),
                    "items": [ItemResult(**_known(ItemResult, i)) for i in q["items"]],
                }
            )
            for q in data.get("questions", [])
        ]
        data["diagnostics"] = [Diagnostic(**_known(Diagnostic, d)) for d in data.get("diagnostics", [])]
        return cls(**_known(cls, data))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SubmissionResult:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: str | os.PathLike[str]) -> Path:
        return write_atomic(Path(path), self.to_json())


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Keep only the keys `cls` declares, so newer JSON with extra fields still loads."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def write_atomic(path: Path, text: str) -> Path:
    """Write `text` so that readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
