"""`grader locate NOTEBOOK`: where the grader finds each answer, in about a second.

Nothing is run and TensorFlow is never imported: the saved notebook is read, the answers are
located as grading would locate them, and the map is printed (or written as JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from grader.locate.answer import LOW_CONFIDENCE, ranges, unsure

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser("locate", help="show where each answer was found (no run; about a second)")
    p.add_argument("notebook", metavar="NOTEBOOK", help="a saved .ipynb")
    p.add_argument("--rubric", default=None, help="rubric YAML (default: rubrics/assignment06.yaml)")
    p.add_argument("--json", action="store_true", help="print the map as JSON")


def locate_rows(notebook: str, rubric_path: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """The location map of a notebook and the rubric's name; raises InvalidSubmission/RubricError."""
    from grader.locate import location_map
    from grader.notebook import load_notebook
    from grader.rubric import load_rubric

    rubric = load_rubric(rubric_path, check_kinds=False)
    answers = rubric.locate_answers(load_notebook(notebook))
    return location_map(answers, [q.id for q in rubric.questions]), rubric.assignment


def how_to_label(qid: str) -> str:
    n = qid[1:]
    return f'put a heading "## Question {n}" (or the question\'s text) right above your answer'


def format_map(rows: list[dict[str, Any]], name: str, assignment: str) -> str:
    editions = sorted({r["edition"] for r in rows if r.get("edition")})
    lines = [f"Where the answers in {name} were found ({assignment}; numbering: "
             f"{', '.join(editions) or 'rubric'})", ""]
    lines.append(f"{'question':<9} {'cells':<14} {'how':<13} {'sure':>5}  found under")
    for r in rows:
        if not r["found"]:
            lines.append(f"{r['question']:<9} {'not found':<14} {'-':<13} {'-':>5}  "
                         f"{how_to_label(r['question'])}")
            continue
        sure = f"{round(r['confidence'] * 100)}%"
        flag = "  (check by hand)" if r["confidence"] < LOW_CONFIDENCE else ""
        lines.append(f"{r['question']:<9} {r['cells_text']:<14} {r['how']:<13} {sure:>5}  "
                     f"{(r.get('label') or '')[:70]}{flag}")
    missing, low = unsure(rows)
    lines.append("")
    if missing:
        lines.append(f"Not found: {ranges(missing)}. Label each answer with its question "
                     f'("## Question N" or the question\'s text above it) so it is graded.')
    if low:
        lines.append(f"Found with low confidence: {ranges(low)}: check that these cells are the answers.")
    if not missing and not low:
        lines.append("Every question was found.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from grader.notebook import InvalidSubmission
    from grader.rubric import RubricError

    try:
        rows, assignment = locate_rows(args.notebook, args.rubric)
    except (InvalidSubmission, RubricError) as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(format_map(rows, Path(args.notebook).name, assignment))
    return EXIT_OK
