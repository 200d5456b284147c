"""HTML reports rendered with Jinja from result objects.

Each page is one self-contained file: CSS is inlined, charts are inline SVG (grader.report.svg),
and nothing refers to any URL, so reports open offline, from a zip, or on a phone. What the
templates show is computed in grader.report.view; the templates only lay it out.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from typing import Any

import jinja2
from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, select_autoescape

from grader.locate.answer import flags as locate_flags
from grader.machine import cache_root
from grader.report import view
from grader.results import SubmissionResult

_OPTIONS: dict[str, Any] = {"trim_blocks": True, "lstrip_blocks": True}


class _QuietBytecodeCache(FileSystemBytecodeCache):
    """Jinja's compiled templates kept between processes (compiling the report's 16 templates
    costs about a second of every `grader run`); a cache that cannot be read or written only
    means compiling again."""

    def load_bytecode(self, bucket: Any) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:
            bucket.reset()

    def dump_bytecode(self, bucket: Any) -> None:
        with contextlib.suppress(Exception):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    """Under the grader's cache folder (GRADER_CACHE_DIR, or ~/.cache/grader; `off`: none), in a
    folder per Jinja version and environment options (which the template's own key, its name and
    source, does not cover). The folder must be this user's alone: the cache holds code."""
    root = cache_root()
    if root is None:
        return None
    tag = hashlib.sha256(repr((jinja2.__version__, sorted(_OPTIONS.items()))).encode()).hexdigest()[:16]
    folder = os.path.join(root, f"jinja-{tag}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return _QuietBytecodeCache(folder)


_env = Environment(
    loader=PackageLoader("grader", "report/templates"),
    autoescape=select_autoescape(["html", "j2"]),
    bytecode_cache=_bytecode_cache(),
    **_OPTIONS,
)
_env.globals.update(number_ok=view.number_ok, report_name=view.report_name,
                    report_href=view.report_href)
_env.globals["located_flags"] = locate_flags


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
        override=lambda item: view.override_view(item, student_mode),
        qpanel=lambda q: view.question_panel(q, result.diagnostics, student_mode),
        hidden_count=sum(1 for i in result.items() if not shown(i)),
        diagnostics=view.visible_diagnostics(result, student_mode),
        problems=view.problems(result),
        cells=view.cell_views(result, student_mode),
        env=view.environment_rows(result),
    )


def render_class_report(results: list[SubmissionResult], similarity: list[dict] | None = None,
                        out_hint: str = "OUT") -> str:
    """The class overview (OUT/index.html): who needs attention first, then the sortable student
    table, then the statistics. `similarity`: groups from grader.similarity."""
    results = sorted(results, key=lambda r: (r.student or r.submission).lower())
    qids = sorted({q.id for r in results for q in r.questions}, key=view._natural)
    rows = view.student_rows(results, qids)
    return _env.get_template("class.html.j2").render(
        v=view.class_view(results), results=results, similarity=view.similarity_groups(similarity), qids=qids,
        rows=rows, attn=view.attention(rows), out_hint=out_hint,
    )
