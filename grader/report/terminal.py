"""The batch summary printed by `grader run` on a terminal: one row per submission that fits in
80 columns, with the profile and the provisional / review / partial flags a person acts on.
Per-question points go in the table only while it still fits; grades.csv always has them."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.table import Table

from grader.results import SubmissionResult
from grader.terminal import markup_safe, plain

WIDTH = 80


def _flags(r: SubmissionResult) -> str:
    items = r.items()
    parts = []
    if n := sum(i.needs_review for i in items):
        parts.append(f"{n} review")
    if n := sum(i.provisional for i in items):
        parts.append(f"{n} prov")
    if n := sum(i.status == "skipped" for i in items):
        parts.append(f"{n} skip")
    if n := sum(i.manual for i in items):
        parts.append(f"{n} manual")
    return ", ".join(parts)


def batch_table(results: list[SubmissionResult], width: int = WIDTH) -> tuple[Table, str]:
    """(table, heading line): the heading names the profile(s) and totals of the flags."""
    # escaped: a file name is the student's text (no escape sequences, no rich markup)
    names = [markup_safe(plain(Path(r.submission).stem or r.student)[:20]) for r in results]
    qids: list[str] = []
    for r in results:
        qids += [q.id for q in r.questions if q.id not in qids]
    rows = []
    for name, r in zip(names, results, strict=True):
        scores = {q.id: f"{q.score:g}" for q in r.questions}
        rows.append([name, r.status, f"{r.score:g}/{r.max_score:g}", _flags(r),
                     [scores.get(q, "–") for q in qids]])
    headings = ("student", "status", "total", "flags")
    fixed = [max([len(h), *(len(row[k]) for row in rows)]) for k, h in enumerate(headings)]
    qwidths = [max([len(q), *(len(row[4][k]) for row in rows)]) for k, q in enumerate(qids)]
    with_questions = sum(fixed) + sum(qwidths) + 3 * (4 + len(qids)) + 1 <= width
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    table.add_column("student", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for q in qids if with_questions else []:
        table.add_column(q, justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    table.add_column("flags", no_wrap=True, overflow="ellipsis", max_width=max(8, width - 50))
    for name, status, total, flags, qs in rows:
        table.add_row(name, status, *(qs if with_questions else []), total, flags)
    profiles = sorted({r.profile for r in results})
    items = [i for r in results for i in r.items()]
    heading = (f"profile {', '.join(profiles)} · {sum(i.needs_review for i in items)} to review · "
               f"{sum(i.provisional for i in items)} provisional")
    if not with_questions:
        heading += " · per question: grades.csv"
    return table, heading
