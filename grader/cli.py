"""The `grader` command: run | check | export | report | override.

Exit codes: 0 every submission got a result and all are `graded` (`check`: and every public item
checked has full credit, else 1, unless --exit-zero); 2 usage or configuration
error (bad rubric, no such path); 3 at least one submission ended in another status (the
others are still graded and saved).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import cli_doctor, cli_locate
from grader.executors import ExecutorError, add_executor_options, open_executor

EXIT_OK, EXIT_NOT_FULL_CREDIT, EXIT_USAGE, EXIT_NOT_GRADED = 0, 1, 2, 3


class UsageError(Exception):
    """Bad command-line input; the message says what to do."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.splitlines()[0])
    from grader import __version__

    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="grade notebooks (files or folders of .ipynb)")
    run.add_argument("paths", nargs="+", metavar="PATH", help="a notebook or a folder of them")
    add_grading_options(run)
    run.add_argument("--out", default="reports", help="where results go (default: reports/)")
    run.add_argument("--json", action="store_true",
                     help="print the results as JSON Lines: one JSON object per submission per line")
    run.add_argument("--overrides", default=None, metavar="FILE",
                     help="manual grades (YAML); default: OUT/overrides.yaml if it exists")
    run.add_argument("--student-mode", action="store_true",
                     help="reports hide hidden items' details (for handing back to students)")
    run.add_argument("-j", "--jobs", type=int, default=None,
                     help="submissions graded in parallel (default: number of CPU cores)")
    run.add_argument("--force", action="store_true",
                     help="regrade every submission, even those whose saved result is up to date")
    run.add_argument("--max-trainings", type=int, default=None,
                     help="notebooks executing at once (default: the rubric's "
                          "execution.max_parallel_trainings on a GPU, else no limit beyond -j)")
    add_executor_options(run)

    check = sub.add_parser("check", help="self-check a notebook (public items; static ones in seconds)")
    check.add_argument("notebook", metavar="NOTEBOOK", help="your saved .ipynb")
    check.add_argument("-q", "--questions", default=None, help="only these questions, e.g. q2 or q2,q4")
    check.add_argument("--static", action="store_true",
                       help="only items that need no run of the notebook (answers in about a second)")
    check.add_argument("--rubric", default=None, help="rubric YAML (default: grader-selfcheck/rubric.yaml "
                       "beside the notebook, else the installed rubrics/assignment06.yaml)")
    check.add_argument("--data-dir", default=None,
                       help="offline datasets and weights (default: $GRADER_DATA_DIR, else Keras cache)")
    check.add_argument("--timeout", type=float, default=None, help="seconds for the whole notebook")
    check.add_argument("--json", action="store_true", help="print the result as one line of JSON")
    check.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even when public items miss points (default: exit 1 then)")
    from grader import cli_assign

    cli_assign.add_parser(sub)
    add_gradebook_commands(sub)
    cli_locate.add_parser(sub)
    from grader import cli_review

    cli_review.add_parser(sub)
    cli_doctor.add_parser(sub)
    return parser


DEFAULT_GRADEBOOK = "reports/gradebook.sqlite"


def add_gradebook_commands(sub) -> None:
    """`export`, `report` and `override`: they read (or amend) a gradebook, never grade."""
    export = sub.add_parser("export", help="write grades from a gradebook as CSV or Gradescope results.json")
    export.add_argument("--gradebook", default=DEFAULT_GRADEBOOK, help=f"default: {DEFAULT_GRADEBOOK}")
    export.add_argument("--format", default="csv", choices=["csv", "gradescope"])
    export.add_argument("--out", default=None,
                        help="file to write (default: grades.csv or results.json; '-' for stdout)")
    export.add_argument("--student", default=None,
                        help="gradescope: whose submission (needed when the gradebook holds several)")
    export.add_argument("--roster", default=None, metavar="CSV",
                        help="csv: notebook stem -> student id/email, for the student_id column")
    export.add_argument("--hidden", default="points",
                        choices=["points", "hidden", "after_due_date", "after_published"],
                        help="gradescope: how hidden items appear (default points: points only, details "
                             "in an instructors-only test)")
    report = sub.add_parser("report", help="re-render the HTML reports and index.html from a gradebook")
    report.add_argument("--gradebook", default=DEFAULT_GRADEBOOK, help=f"default: {DEFAULT_GRADEBOOK}")
    report.add_argument("--out", default=None, help="folder for the reports (default: the gradebook's)")
    report.add_argument("--student-mode", action="store_true", help="hide hidden items' details")
    report.add_argument("--similarity", default=None, help="JSON file of similarity groups to list")
    override = sub.add_parser("override", help="set one item's score by hand (kept as a new, manual run)")
    override.add_argument("--gradebook", default=DEFAULT_GRADEBOOK, help=f"default: {DEFAULT_GRADEBOOK}")
    override.add_argument("--student", required=True)
    override.add_argument("--item", required=True, help="rubric item id, e.g. q4.concepts")
    override.add_argument("--score", required=True, type=float)
    override.add_argument("--comment", default="", help="shown to the student with the item (optional)")
    override.add_argument("--note", default="", help="private note for instructors (never in student copies)")
    override.add_argument("--by", default=None, help="who made the change (default: $USER)")
    override.add_argument("--overrides", default=None, metavar="FILE",
                          help="the overrides file to write (default: overrides.yaml beside the gradebook)")


def open_gradebook(path: str):
    """The gradebook at `path`; a missing file is a usage error (never silently created)."""
    from grader.gradebook import Gradebook

    if not Path(path).is_file():
        raise UsageError(f"{path}: no gradebook there; grade first (grader run ... --out DIR writes "
                         "DIR/gradebook.sqlite) or pass --gradebook FILE")
    return Gradebook(path)


def cmd_export(args: argparse.Namespace) -> int:
    from grader.export import gradescope_results, write_csv

    with open_gradebook(args.gradebook) as book:
        if args.format == "csv":
            results = book.current()
            if not results:
                raise UsageError(f"{args.gradebook}: the gradebook holds no graded submission yet")
            if args.out == "-":
                from grader.export import csv_text

                sys.stdout.write(csv_text(results, _roster(args.roster)))
            else:
                out = write_csv(results, Path(args.out or "grades.csv"), _roster(args.roster))
                print(f"wrote {out} ({len(results)} students)")
            return EXIT_OK
        result = book.current_for(args.student) if args.student else None
        if result is None:
            listed = book.students()
            if len(listed) != 1:
                names = ", ".join(s["student"] for s in listed) or "none"
                raise UsageError(f"--student is needed: Gradescope takes one submission per results.json "
                                 f"and {args.gradebook} holds {len(listed)} (students: {names})")
            result = book.current_for(listed[0]["student"])
    import json

    text = json.dumps(gradescope_results(result, hidden=args.hidden), indent=2) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        from grader.results import write_atomic

        out = write_atomic(Path(args.out or "results.json"), text)
        print(f"wrote {out} ({result.student}: {result.score:g} / {result.max_score:g}, {result.status})")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from grader.report.publish import publish

    similarity = None
    if args.similarity:
        try:
            similarity = json.loads(Path(args.similarity).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{args.similarity}: cannot read similarity groups ({exc})") from None
    out = Path(args.out) if args.out else Path(args.gradebook).parent
    with open_gradebook(args.gradebook) as book:
        results = publish(book, out, student_mode=args.student_mode, similarity=similarity)
    print(f"wrote {len(results)} reports, {out / 'index.html'} and {out / 'grades.csv'}")
    return EXIT_OK


def cmd_override(args: argparse.Namespace) -> int:
    """Amend the gradebook, then re-render that student's report, the class report and the CSV
    from it (no notebook runs: a fraction of a second)."""
    from grader.report.publish import publish

    with open_gradebook(args.gradebook) as book:
        overrides = Path(args.overrides) if args.overrides else None
        result = book.override(args.student, args.item, args.score, overrides, comment=args.comment,
                               note=args.note, by=args.by)
        out = Path(args.gradebook).parent
        publish(book, out, [result.student], overrides=overrides)
    print(f"{result.student}: {args.item} set to {args.score:g} (manual); total now "
          f"{result.score:g} / {result.max_score:g}; updated {out / (result.student + '.html')}, "
          f"index.html and grades.csv")
    return EXIT_OK


def _roster(path: str | None) -> dict[str, str] | None:
    from grader.export import RosterError, load_roster

    try:
        return load_roster(path) if path else None
    except RosterError as exc:
        raise UsageError(str(exc)) from None


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
    """Expand folders into the notebooks they hold (sorted); every path must exist. A link in a
    folder that leads out of it or to another notebook in it is refused, with a warning."""
    from grader.inputs import refuse_link
    from grader.terminal import plain

    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".ipynb"):
                why = refuse_link(p, path)
                if why:
                    print(f"grader: warning: not grading {plain(p)}: {plain(why)}", file=sys.stderr)
                else:
                    found.append(p)
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    if not found:
        raise UsageError(f"no .ipynb files in {', '.join(paths)}")
    return found


def cmd_run(args: argparse.Namespace) -> int:
    """Grade every notebook in parallel (see grader/batch.py), then print the summary."""
    from grader.batch import BatchBusy, run_batch
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
    cli_doctor.before_run(rubric, notebooks, options, remote=getattr(args, "executor", "local") != "local")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j/--jobs: give a number of parallel submissions of at least 1")
    from grader.batch import duplicate_stems

    clash = duplicate_stems(notebooks)
    if clash:
        raise UsageError(f"{', '.join(map(str, clash[0]))} would overwrite each other's results in "
                         f"{args.out}; rename one, or grade each folder with its own --out")
    out = Path(args.out)
    import sqlite3

    from grader.inputs import check_writable, write_failure

    problem = check_writable(out, "--out")
    if problem:
        raise UsageError(problem)
    progress = BatchProgress(enabled=len(notebooks) > 1)
    try:
        with progress, open_executor(args, rubric, options) as executor:
            outcome = run_batch(notebooks, rubric, options, out=out, jobs=args.jobs, force=args.force,
                                executor=executor,
                                max_trainings=args.max_trainings,
                                finish=_manual_grades(args, out, rubric),
                                on_start=progress.start, on_result=progress.advance)
    except BatchBusy as exc:
        raise UsageError(str(exc)) from None
    except (OSError, sqlite3.OperationalError) as exc:  # a full or read-only --out: what was
        raise UsageError(write_failure(exc, out, "--out")) from None  # saved before stays intact
    if args.json:  # JSON Lines: one compact object per submission
        import json

        for result in outcome.results:
            print(json.dumps(result.to_dict(), default=str))
    elif len(outcome.results) == 1:
        print_summary(outcome.results[0], out)
    else:
        print_batch_summary(outcome, out)
    return EXIT_OK if all(r.status == "graded" for r in outcome.results) else EXIT_NOT_GRADED


def _manual_grades(args: argparse.Namespace, out: Path, rubric):
    """Apply the overrides file (grader.overrides) to each fresh result before it is saved."""
    from grader.overrides import apply_overrides
    from grader.overrides import resolve_path as resolve_overrides

    path = resolve_overrides(getattr(args, "overrides", None), out, rubric)
    if path is None:
        return None
    return lambda result: apply_overrides(result, path)


class BatchProgress:
    """A rich progress bar with ETA on stderr (a line per submission when stderr is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.enabled = enabled
        self.bar = None
        self.task = None
        self.total = 0
        self.done = 0

    def __enter__(self) -> BatchProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start(self, total: int, cached: int) -> None:
        self.total = total
        if not self.enabled:
            return
        if cached:
            self.console.print(f"{cached} of {total} up to date (cached); grading {total - cached} "
                               "(--force regrades all)")
        if self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                TextColumn("{task.description}"), console=self.console)
            self.bar.start()
            self.task = self.bar.add_task("", total=total - cached)

    def advance(self, result, cached: bool) -> None:
        from grader.terminal import markup_safe

        self.done += 1
        if not self.enabled or cached:
            return
        line = (f"{markup_safe(result.submission)}: {result.status} {result.score:g}/{result.max_score:g} "
                f"({result.duration_s:.1f} s)")
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=line)
        else:
            self.console.print(f"[{self.done}/{self.total}] {line}")


def print_batch_summary(outcome, out: Path) -> None:
    """One row per submission, within 80 columns (grader/report/terminal.py)."""
    from rich.console import Console

    from grader.report.terminal import batch_table
    from grader.terminal import markup_safe

    console = Console(highlight=False, width=80)
    table, heading = batch_table(outcome.results)
    console.print(heading)
    console.print(table)
    console.print(f"{len(outcome.results)} submissions ({outcome.graded} graded now, {outcome.cached} "
                  f"cached) in {outcome.duration_s:.1f} s")
    if outcome.similarity:
        console.print(f"{len(outcome.similarity)} group(s) of similar answers: see the class report")
    console.print(f"class report: {markup_safe(out / 'index.html')}\ngradebook: "
                  f"{markup_safe(out / 'gradebook.sqlite')}", soft_wrap=True)


def cmd_check(args: argparse.Namespace) -> int:
    """The student's self-check (grader/selfcheck.py)."""
    from grader.rubric import load_rubric
    from grader.selfcheck import check_notebook, render, rubric_for

    rubric = load_rubric(args.rubric or rubric_for(args.notebook))
    questions = [q for q in (args.questions or "").split(",") if q.strip()] or None
    try:
        report = check_notebook(args.notebook, questions, rubric=rubric, data_dir=args.data_dir,
                                static_only=args.static, timeout=args.timeout)
    except ValueError as exc:
        raise UsageError(f"-q: {exc}") from None
    if args.json:
        import json

        print(json.dumps(report.to_dict(), default=str))
    else:
        render(report)
    if report.result.status != "graded":
        return EXIT_NOT_GRADED
    return EXIT_OK if report.full_credit or args.exit_zero else EXIT_NOT_FULL_CREDIT


def print_summary(result, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from grader.terminal import markup_safe

    console = Console(stderr=False, highlight=False)
    table = Table(title=f"{markup_safe(result.submission)}: {result.score:g} / {result.max_score:g} "
                        f"({result.status}, profile {result.profile})")
    table.add_column("question")
    table.add_column("score", justify="right")
    table.add_column("items")
    for q in result.questions:
        marks = " ".join(f"{i.id.split('.', 1)[1]}:{i.status}" for i in q.items)
        table.add_row(f"{q.id} {q.title}", f"{q.score:g} / {q.max_score:g}", marks)
    console.print(table)
    if result.message:
        console.print(f"[bold]{result.status}[/bold]: {markup_safe(result.message)}")
    stem = Path(result.submission).stem
    console.print(f"report: {markup_safe(out / (stem + '.html'))}  "
                  f"result: {markup_safe(out / (stem + '.json'))}")


GRADEBOOK_COMMANDS = {"export": cmd_export, "report": cmd_report, "override": cmd_override}


def run_gradebook_command(args: argparse.Namespace) -> int:
    from grader.gradebook import GradebookError

    try:
        return GRADEBOOK_COMMANDS[args.command](args)
    except (UsageError, GradebookError) as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in GRADEBOOK_COMMANDS:
        return run_gradebook_command(args)
    from grader import cli_assign

    if args.command == "locate":
        return cli_locate.run(args)
    if args.command == "review":
        from grader import cli_review

        return cli_review.run(args)
    if args.command == "doctor":
        return cli_doctor.run(args)
    from grader.rubric import RubricError

    usage_errors: tuple[type[Exception], ...] = (UsageError, RubricError, ExecutorError)
    if args.command == "run":  # only a run reads an overrides file (grader.overrides imports PyYAML)
        from grader.overrides import OverridesError

        usage_errors += (OverridesError,)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "assign":
            return cli_assign.run(args)
    except usage_errors as exc:
        from grader.terminal import plain

        print(f"grader: error: {plain(exc)}", file=sys.stderr)
        return EXIT_USAGE
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())



