"""grader: grading and testing harness for deep-learning notebook assignments."""

from __future__ import annotations

__version__ = "0.1.0"


def check(*questions: str, notebook: str | None = None) -> object:
    """Self-check from inside a notebook: `from grader import check; check("q2")`."""
    from grader.selfcheck import check_in_notebook

    return check_in_notebook(*questions, notebook=notebook)
