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


def csv_text(results: list[SubmissionResult]) -> str:
    """One row per student: total, max, status, the points of every question, review flags."""
    qids = sorted({q.id for r in results for q in r.questions}, key=_natural)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "student",
            "submission",
            "status",
            "total",
            "max_score",
            *qids,
            "manual_items",
            "needs_review",
            "message",
            "incomplete",  # items the grading environment kept from being graded (grader/gaps.py)
        ]
    )
    for r in sorted(results, key=lambda r: (r.student or r.submission).lower()):
        scores = {q.id: q.score for q in r.questions}
        items = r.items()
        writer.writerow(
            [
                r.student or Path(r.submission).stem,
                r.submission,
                r.status,
                f"{r.score:g}",
                f"{r.max_score:g}",
                *(f"{scores[q]:g}" if q in scores else "" for q in qids),
                ";".join(i.id for i in items if i.manual),
                ";".join(i.id for i in items if i.needs_review),
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


def write_csv(results: list[SubmissionResult], out: Path) -> Path:
    return write_atomic(out, csv_text(results))
