"""Which units a concept may be credited from (Q6: the text about that architecture)."""

from __future__ import annotations

from grader.freetext.reading import Unit
from grader.freetext.rubric import ConceptRubric


def about(subject: str | None, unit: Unit, rubric: ConceptRubric) -> str | None:
    """'yes', 'bare' (no subject named anywhere before: counts like a bare term) or None."""
    if subject is None or not rubric.subjects:
        return "bare" if unit.bare else "yes"
    if unit.subject == subject:
        # "GoogLeNet:" then "- inception modules": a term listed under its name is attributed,
        # which is what "name the innovations" asks for
        return "yes"
    return "bare" if unit.subject is None else None

