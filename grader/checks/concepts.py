"""Placeholder for free-text concept rubrics (issue 8): replaced by the real check."""

from __future__ import annotations

from grader.checks.base import Outcome, register


@register("concepts")
def not_yet(item, ctx) -> Outcome:
    return Outcome(credit=0.0, status="error", feedback="check kind 'concepts' is not implemented yet")
