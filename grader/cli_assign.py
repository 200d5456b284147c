"""`grader assign`: build the student release and the instructor bundle (grader/assign.py)."""

from __future__ import annotations

import argparse
import sys

DEFAULT_REFERENCE = "reference/assignment06.ipynb"


def add_parser(sub) -> None:
    p = sub.add_parser("assign", help="build the student notebook + self-check folder and the instructor "
                                      "bundle from the reference notebook and the rubric")
    p.add_argument("--reference", default=DEFAULT_REFERENCE,
                   help=f"the reference (solution) notebook (default: {DEFAULT_REFERENCE})")
    p.add_argument("--rubric", default=None, help="rubric YAML (default: rubrics/assignment06.yaml)")
    p.add_argument("--out", default="release", help="output folder (default: release/)")
    p.add_argument("--force", action="store_true", help="replace the output folder if it is not empty")


def run(args: argparse.Namespace) -> int:
    from grader.assign import AssignError, build_release
    from grader.rubric import load_rubric

    rubric = load_rubric(args.rubric)
    try:
        release = build_release(args.reference, rubric, args.out, force=args.force)
    except AssignError as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 2
    print(f"student notebook: {release.notebook}")
    print(f"student folder:   {release.student} ({len(release.student_files())} files: hand this out)")
    print(f"instructor:       {release.instructor} (solutions and hidden items: keep it private)")
    return 0
