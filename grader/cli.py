"""The `grader` command: run | check | export.

Exit codes: 0 every submission got a result and all are `graded`; 2 usage or configuration
error (bad rubric, no such path); 3 at least one submission ended in another status (the
others are still graded and saved).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_NOT_GRADED = 0, 2, 3


class UsageError(Exception):
    """Bad command-line input; the message says what to do."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="grade notebooks (files or folders of .ipynb)")
    run.add_argument("paths", nargs="+", metavar="PATH", help="a notebook or a folder of them")
    add_grading_options(run)
    run.add_argument("--out", default="reports", help="where results go (default: reports/)")
    run.add_argument("--json", action="store_true", help="print the result JSON to stdout")
    run.add_argument("--student-mode", action="store_true",
                     help="reports hide hidden items' details (for handing back to students)")
    return parser


def add_grading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rubric", default=None, help="rubric YAML (default: rubrics/assignment06.yaml)")
    p.add_argument("--data-dir", default=None,
                   help="offline datasets and weights (default: $GRADER_DATA_DIR, else Keras cache)")
    p.add_argument("--profile", default="auto", choices=["quick", "full", "auto"],
                   help="training budget: quick caps fit(); full runs as written; auto = full on GPU")
    p.add_argument("--questions", default=None, help="only these questions, e.g. q2,q9")
    p.add_argument("--memory", default=None, help="kernel memory cap, e.g. 4G")
    p.add_argument("--cell-timeout", type=float, default=None, help="seconds per cell")
    p.add_argument("--timeout", type=float, default=None, help="seconds for the whole notebook")


def grading_options(args: argparse.Namespace):
    from grader.context import GradingOptions

    questions = None
    if args.questions:
        questions = [q.strip().lower() for q in args.questions.split(",") if q.strip()]
    return GradingOptions(
        profile=args.profile,
        data_dir=args.data_dir,
        out_dir=getattr(args, "out", "reports"),
        questions=questions,
        cell_timeout=args.cell_timeout,
        timeout=args.timeout,
        memory=args.memory,
        student_mode=getattr(args, "student_mode", False),
    )


def collect_notebooks(paths: list[str]) -> list[Path]:
    """Expand folders into the notebooks they hold (sorted); every path must exist."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".ipynb")
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    if not found:
        raise UsageError(f"no .ipynb files in {', '.join(paths)}")
    return found


def cmd_run(args: argparse.Namespace) -> int:
    from grader.engine import grade_submission
    from grader.output import write_outputs
    from grader.rubric import load_rubric

    rubric = load_rubric(args.rubric)
    options = grading_options(args)
    unknown = [q for q in options.questions or [] if q not in {x.id for x in rubric.questions}]
    if unknown:
        raise UsageError(f"--questions: {', '.join(unknown)} not in the rubric "
                         f"({', '.join(q.id for q in rubric.questions)})")
    try:
        from grader.execute.sandbox import parse_memory

        parse_memory(args.memory)
    except ValueError as exc:
        raise UsageError(f"--memory: {exc}") from None
    notebooks = collect_notebooks(args.paths)
    out = Path(args.out)
    exit_code = EXIT_OK
    for path in notebooks:
        result = grade_submission(path, rubric, grading_options(args))
        write_outputs(result, out, student_mode=args.student_mode)
        if args.json:
            print(result.to_json())
        else:
            print_summary(result, out)
        if result.status != "graded":
            exit_code = EXIT_NOT_GRADED
    return exit_code


def print_summary(result, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False, highlight=False)
    table = Table(title=f"{result.submission}: {result.score:g} / {result.max_score:g} "
                        f"({result.status}, profile {result.profile})")
    table.add_column("question")
    table.add_column("score", justify="right")
    table.add_column("items")
    for q in result.questions:
        marks = " ".join(f"{i.id.split('.', 1)[1]}:{i.status}" for i in q.items)
        table.add_row(f"{q.id} {q.title}", f"{q.score:g} / {q.max_score:g}", marks)
    console.print(table)
    if result.message:
        console.print(f"[bold]{result.status}[/bold]: {result.message}")
    stem = Path(result.submission).stem
    console.print(f"report: {out / (stem + '.html')}  result: {out / (stem + '.json')}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from grader.rubric import RubricError

    try:
        if args.command == "run":
            return cmd_run(args)
    except (UsageError, RubricError) as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())



