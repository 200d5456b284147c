"""What every check receives and returns, and the registry from rubric `kind` to check.

A check is a plain function `check(item: RubricItem, ctx: GradingContext) -> Outcome`.
It never raises for a student's mistake: it returns an Outcome with credit 0 and feedback.
An exception escaping a check is a grader bug and is reported as status `error`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grader.checks import KINDS, load_kind
from grader.checks import load_all as load_all  # re-exported: tests call base.load_all()

if TYPE_CHECKING:
    from grader.context import GradingContext
    from grader.notebook import Answer
    from grader.rubric import RubricItem


@dataclass
class Diagnosis:
    """A known mistake found by a check. `code` is a stable kebab-case name."""

    code: str
    message: str
    cell: int | None = None
    fix: str | None = None


@dataclass
class Outcome:
    """The verdict of one check on one rubric item.

    `credit` is the fraction of the item's points earned, 0..1. `status` is derived from it
    unless the check sets one of `missing`, `skipped` or `error` explicitly.
    """

    credit: float
    feedback: str
    status: str | None = None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    needs_review: bool = False
    provisional: bool = False
    cause: str = ""  # "environment": the grading environment's gap, never the student's 0
    fix: str = ""  # for the instructor: what to install, which file to put where

    def resolved_status(self) -> str:
        if self.status is not None:
            return self.status
        if self.credit >= 1.0 - 1e-9:
            return "passed"
        if self.credit <= 1e-9:
            return "failed"
        return "partial"

    @classmethod
    def missing(cls, feedback: str, **evidence: Any) -> Outcome:
        return cls(credit=0.0, feedback=feedback, status="missing", evidence=dict(evidence))

    @classmethod
    def skipped(cls, feedback: str, **evidence: Any) -> Outcome:
        return cls(credit=0.0, feedback=feedback, status="skipped", evidence=dict(evidence))

    @classmethod
    def environment(cls, feedback: str, fix: str, **evidence: Any) -> Outcome:
        """Not graded because of the grading environment (grader/gaps.py): left out of the max."""
        return cls(credit=0.0, feedback=feedback, status="skipped", evidence=dict(evidence),
                   cause="environment", fix=fix)


Check = Callable[["RubricItem", "GradingContext"], Outcome]

#: Check kinds that need the notebook to have been executed (the others are static).
DYNAMIC_KINDS: set[str] = {kind for kind, entry in KINDS.items() if entry.needs_execution}
_REGISTRY: dict[str, Check] = {}


def register(kind: str, *, needs_execution: bool = False) -> Callable[[Check], Check]:
    """Decorator: make `fn` the check for rubric items of this `kind`, as declared in KINDS."""

    def decorate(fn: Check) -> Check:
        entry = KINDS.get(kind)
        module = fn.__module__.removeprefix("grader.checks.")
        if entry != (module, needs_execution):
            declared = f"declared as {tuple(entry)}" if entry else "missing"
            raise ValueError(
                f"check kind {kind!r} registered by {fn.__module__} (needs_execution={needs_execution}) "
                f"is {declared} in grader.checks.KINDS; make the two agree")
        if kind in _REGISTRY and _REGISTRY[kind] is not fn:
            raise ValueError(f"check kind {kind!r} registered twice")
        _REGISTRY[kind] = fn
        return fn

    return decorate


def get_check(kind: str) -> Check:
    """The check for `kind`, importing only the module that registers it."""
    load_kind(kind)
    return _REGISTRY[kind]


def known_kinds() -> set[str]:
    """The kinds a rubric may use, without importing any check module."""
    return set(KINDS)


def needs_execution(kind: str) -> bool:
    return kind in DYNAMIC_KINDS


class AnswerMissing(Exception):
    """Raised by `require_answer` when a question's answer cannot be located."""


def require_answer(item: RubricItem, ctx: GradingContext) -> Answer:
    """The item's located answer; a missing one ends the check with status `missing`."""
    answer = ctx.answer(item.question)
    if answer is None:
        raise AnswerMissing(item.question)
    return answer
