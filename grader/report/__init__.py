"""HTML reports rendered with Jinja from result objects.

Each page is one self-contained file: CSS is inlined, charts are inline SVG (grader.report.svg),
and nothing refers to any URL, so reports open offline, from a zip, or on a phone. What the
templates show is computed in grader.report.view; the templates only lay it out.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.report import view
from grader.results import SubmissionResult

_env = Environment(
    loader=PackageLoader("grader", "report/templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(number_ok=view.number_ok, report_name=view.report_name,
                    report_href=view.report_href)


def render_submission(result: SubmissionResult, *, student_mode: bool = False) -> str:
    """One student's report. `student_mode` hides hidden items' feedback, evidence, diagnoses.

    Never raises for odd result data: if the full report cannot be rendered, a plain report of
    the scores and feedback (honouring `student_mode`) says so, so every submission has a page.
    """
    try:
        return _render_submission(result, student_mode)
    except Exception as exc:  # a report must exist whatever a check put into the result
        return _env.get_template("fallback.html.j2").render(
            r=result, student_mode=student_mode, error=f"{type(exc).__name__}: {exc}")


def _render_submission(result: SubmissionResult, student_mode: bool) -> str:
    def shown(item) -> bool:
        return view.shown(item, student_mode)

    return _env.get_template("submission.html.j2").render(
        r=result,
        student_mode=student_mode,
        shown=shown,
        evidence=lambda item: view.evidence_view(item.evidence),
        hidden_count=sum(1 for i in result.items() if not shown(i)),
        diagnostics=view.visible_diagnostics(result, student_mode),
        problems=view.problems(result),
        cells=view.cell_views(result, student_mode),
        env=view.environment_rows(result),
    )


def render_class_report(results: list[SubmissionResult], similarity: list[dict] | None = None) -> str:
    """The class overview (OUT/index.html). `similarity`: groups from grader.similarity."""
    results = sorted(results, key=lambda r: (r.student or r.submission).lower())
    qids = sorted({q.id for r in results for q in r.questions}, key=view._natural)

    def qscore(r: SubmissionResult, qid: str) -> float | None:
        return next((q.score for q in r.questions if q.id == qid), None)

    def flags(r: SubmissionResult) -> list[tuple[str, str]]:
        out = []
        items = r.items()
        if n := sum(i.needs_review for i in items):
            out.append((f"{n} to review", "review"))
        if n := sum(i.manual for i in items):
            out.append((f"{n} manual", "manual"))
        if n := sum(i.provisional for i in items):
            out.append((f"{n} provisional", "provisional"))
        return out

    return _env.get_template("class.html.j2").render(
        v=view.class_view(results), results=results, similarity=view.similarity_groups(similarity), qids=qids,
        qscore=qscore, flags=flags,
    )
