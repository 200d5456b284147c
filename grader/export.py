"""Exports from the gradebook: a CSV grade sheet and Gradescope's results.json.

The Gradescope form follows the "Output format" of Gradescope's autograder specification; the
JSON schema written from it (grader/schemas/gradescope_results.json) is checked with
jsonschema before anything is written, so an upload never fails on a malformed file.

Hidden items: by default (`hidden="points"`) a hidden item is a visible test that shows only its
points, exactly like the student-mode HTML report, and its details go into a separate
informational test (no score) with visibility `hidden`, which only instructors see. This keeps
the student's total visible (Gradescope hides the total when a scored test is hidden). With
`hidden="hidden"|"after_due_date"|"after_published"` the item's own test gets that visibility
and its full output instead.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from grader.results import ItemResult, QuestionResult, SubmissionResult, write_atomic

HIDDEN_MODES = ("points", "hidden", "after_due_date", "after_published")


# ---- CSV -----------------------------------------------------------------------------------


def _natural(qid: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", qid))


POINTS_POSSIBLE = "Points Possible"  # the row LMS gradebooks (Canvas, Moodle) read maxima from


class RosterError(Exception):
    """The roster file is unusable; the message names the file, the line and the fix."""


_STEM_HEADERS = ("stem", "notebook", "submission", "file", "student")
_ID_HEADERS = ("id", "student_id", "sis_id", "sis user id", "email", "login", "login_id", "user")


def load_roster(path: str | Path) -> dict[str, str]:
    """notebook stem -> student identifier (id or email) from a CSV of two columns, with or
    without a header (`stem,id`, `notebook,email`, ...). A file name `alice.ipynb` counts as
    the stem `alice`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except OSError as exc:
        raise RosterError(f"{path}: cannot be read ({exc.strerror}); give a CSV of notebook stem, "
                          "student id") from None
    except csv.Error as exc:
        raise RosterError(f"{path}: not valid CSV ({exc})") from None
    if rows and rows[0][0].strip().lower() in _STEM_HEADERS and len(rows[0]) > 1 \
            and rows[0][1].strip().lower() in _ID_HEADERS:
        rows = rows[1:]
    out: dict[str, str] = {}
    for n, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise RosterError(f"{path}: line {n}: needs two columns, the notebook stem and the student's "
                              f"id or email (got {','.join(row)!r})")
        stem = Path(row[0].strip()).stem if row[0].strip().endswith(".ipynb") else row[0].strip()
        if stem in out and out[stem] != row[1].strip():
            raise RosterError(f"{path}: line {n}: {stem} is listed twice with different ids")
        out[stem] = row[1].strip()
    return out


def csv_text(results: list[SubmissionResult], roster: dict[str, str] | None = None) -> str:
    """One row per student (their current grade): identifier, status, total, the points of every
    question (empty when the question was not graded: missing, not 0), flags; the first data row
    holds the points possible. `roster` maps notebook stems to the LMS's student ids."""
    from grader.gradebook import run_scope

    qids = sorted({q.id for r in results for q in r.questions}, key=_natural)
    qmax: dict[str, float] = {}
    for r in results:
        for q in r.questions:
            qmax[q.id] = max(qmax.get(q.id, 0.0), q.max_score)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "student_id", "submission", "status", "total", "max_score", *qids,
                     "manual_items", "needs_review", "partial", "message", "incomplete"])
    writer.writerow([POINTS_POSSIBLE, "", "", "", f"{sum(qmax.values()):g}", f"{sum(qmax.values()):g}",
                     *(f"{qmax[q]:g}" for q in qids), "", "", "", "", ""])
    for r in sorted(results, key=lambda r: (r.student or r.submission).lower()):
        scores = {q.id: q.score for q in r.questions}
        items = r.items()
        stem = Path(r.submission).stem or r.student
        scope, why = run_scope(r)
        writer.writerow(
            [
                r.student or stem,
                (roster or {}).get(stem, (roster or {}).get(r.student, "")),
                r.submission,
                r.status,
                f"{r.score:g}",
                f"{r.max_score:g}",
                *(f"{scores[q]:g}" if q in scores else "" for q in qids),
                ";".join(i.id for i in items if i.manual),
                ";".join(i.id for i in items if i.needs_review),
                why if scope != "complete" else "",
                r.message,
                ";".join(i.id for i in items if i.environment_skipped),
            ]
        )
    return buf.getvalue()


# ---- Gradescope ----------------------------------------------------------------------------


@cache
def gradescope_schema() -> dict[str, Any]:
    text = resources.files("grader").joinpath("schemas/gradescope_results.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate_gradescope(data: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError (with the failing path) if `data` breaks the spec."""
    import jsonschema

    jsonschema.Draft202012Validator(gradescope_schema()).validate(data)


def _question_number(q: QuestionResult, position: int) -> str:
    digits = re.sub(r"\D", "", q.id)
    return digits or str(position)


def item_output(item: ItemResult, result: SubmissionResult) -> str:
    """Plain text a student can act on: status, feedback, diagnoses with fixes, key evidence."""
    lines = [f"{item.status}: {item.score:g} / {item.max_score:g} points"]
    flags = [
        name
        for name, on in (
            ("set by an instructor", item.manual),
            ("needs review", item.needs_review),
            ("provisional (quick training run)", item.provisional),
        )
        if on
    ]
    if flags:
        lines.append("(" + ", ".join(flags) + ")")
    if item.feedback:
        lines += ["", item.feedback]
    for d in result.diagnostics:
        if d.item == item.id:
            where = f" (cell {d.cell})" if d.cell is not None else ""
            lines.append(f"- {d.code}{where}: {d.message}" + (f" Fix: {d.fix}" if d.fix else ""))
    ev = item.evidence if isinstance(item.evidence, dict) else {}
    for row in ev.get("numbers") or []:
        if isinstance(row, dict):
            lines.append(
                f"- {row.get('part', '')}: found {row.get('found')}, expected {row.get('expected')} "
                f"{row.get('unit') or ''}".rstrip()
            )
    acc = ev.get("accuracy")
    if isinstance(acc, dict):
        lines.append(f"- accuracy printed {acc.get('printed')}, measured by the grader {acc.get('measured')}")
    return "\n".join(lines)


def gradescope_results(result: SubmissionResult, *, hidden: str = "points") -> dict[str, Any]:
    """The results.json document for one submission (validated against the schema)."""
    if hidden not in HIDDEN_MODES:
        raise ValueError(f"hidden must be one of {', '.join(HIDDEN_MODES)}, not {hidden!r}")
    tests: list[dict[str, Any]] = []
    for qpos, q in enumerate(result.questions, start=1):
        qnum = _question_number(q, qpos)
        for ipos, item in enumerate(q.items, start=1):
            name = f"{item.id}" + (f": {item.title}" if item.title else (f": {q.title}" if q.title else ""))
            full = item_output(item, result)
            status = "passed" if item.status == "passed" else "failed"
            test = {
                "name": name,
                "number": f"{qnum}.{ipos}",
                "score": item.score,
                "max_score": item.max_score,
                "status": status,
                "output": full,
                "tags": [q.id, item.kind, *item.diagnoses],
                "visibility": "visible",
            }
            if item.visibility == "hidden":
                if hidden == "points":
                    test.update(
                        name=f"{item.id} (hidden check)",
                        output=f"Hidden check: {item.score:g} / {item.max_score:g} points.",
                        tags=[q.id],
                    )
                    tests.append(test)
                    tests.append(
                        {
                            "name": f"{item.id} (details, instructors only)",
                            "number": f"{qnum}.{ipos}.1",
                            "status": status,
                            "output": full,
                            "tags": [q.id, item.kind, *item.diagnoses],
                            "visibility": "hidden",
                        }
                    )
                    continue
                test["visibility"] = hidden
            test["tags"] = [t for t in test["tags"] if t]
            tests.append(test)
    summary = [
        f"{result.student or result.submission}: {result.score:g} / {result.max_score:g} points "
        f"(status {result.status}, profile {result.profile}, device {result.device})"
    ]
    if result.message:
        summary.append(f"{result.status}: {result.message}")
    if result.incomplete:  # grader/gaps.py: not the student's 0, to be regraded
        summary.append(f"incomplete: {result.ungraded_points:g} points not graded because of the grading "
                       "machine (not your mistake); they will be regraded")
    summary += [
        f"{q.id} {q.title}: {q.score:g} / {q.max_score:g}".replace("  ", " ") for q in result.questions
    ]
    problems = (result.execution or {}).get("problems") or []
    summary += [f"execution problem: {p.get('message')}" for p in problems if isinstance(p, dict)]
    data = {
        "score": result.score,
        "execution_time": max(0, math.ceil(result.duration_s or 0)),
        "output": "\n".join(summary),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "status": result.status,
            "submission": result.submission,
            "profile": result.profile,
            "device": result.device,
            "grader_version": result.grader_version,
            "max_score": result.max_score,
            "needs_review": [i.id for i in result.items() if i.needs_review],
            "manual": [i.id for i in result.items() if i.manual],
            "incomplete": [i.id for i in result.items() if i.environment_skipped],
        },
        "tests": tests,
    }
    validate_gradescope(data)
    return data


def write_gradescope(result: SubmissionResult, out: Path, *, hidden: str = "points") -> Path:
    return write_atomic(out, json.dumps(gradescope_results(result, hidden=hidden), indent=2) + "\n")


def write_csv(results: list[SubmissionResult], out: Path, roster: dict[str, str] | None = None) -> Path:
    return write_atomic(out, csv_text(results, roster))
