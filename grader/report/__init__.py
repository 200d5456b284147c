"""HTML reports rendered with Jinja from result objects."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.results import SubmissionResult

_env = Environment(
    loader=PackageLoader("grader", "report/templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_submission(result: SubmissionResult, *, student_mode: bool = False) -> str:
    return _env.get_template("submission.html.j2").render(r=result, student_mode=student_mode)


def render_class_report(results: list[SubmissionResult], similarity: list[dict] | None = None) -> str:
    """The class overview (OUT/index.html). `similarity`: groups from grader.similarity."""
    return _env.get_template("class.html.j2").render(results=results, similarity=similarity or [])
