"""Placeholder for Q2 parameter and memory math (issue 4): replaced by the real check."""

from __future__ import annotations

from grader.checks.base import Outcome, register


@register("param-math")
def not_yet(item, ctx) -> Outcome:
    return Outcome(credit=0.0, status="error", feedback="check kind 'param-math' is not implemented yet")
