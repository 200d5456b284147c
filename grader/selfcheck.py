"""The student's self-check: `grader check NOTEBOOK [-q q2]` and `check("q2")` in a notebook.

Fast by construction: static questions (free text, Q2 math, structure) are graded from the
saved notebook file without starting a kernel and without importing TensorFlow, so they answer
in about a second. Questions with model items run the notebook once in a fresh kernel in the
quick profile (training capped). Only public items are graded; hidden items are reduced to a
count and their points, so nothing about them leaks. The output ends with what to fix next.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.context import GradingOptions
from grader.results import SubmissionResult
from grader.rubric import Rubric, RubricItem, load_rubric

#: Set in the environment of a self-check's grading process, and so of the kernel it starts:
#: a `check()` cell inside a notebook being graded does nothing (no recursion).
INSIDE_ENV = "GRADER_INSIDE_GRADING"

_MARKS = {"passed": "[green]✓[/]", "partial": "[yellow]~[/]", "failed": "[red]✗[/]",
          "missing": "[red]?[/]", "error": "[magenta]![/]", "skipped": "[dim]-[/]"}


@dataclass
class SelfCheck:
    """What a self-check found (returned by `check()`; printed by `grader check`)."""

    notebook: str
    questions: list[str]
    result: SubmissionResult
    hidden_items: int = 0
    hidden_points: float = 0.0
    executed: bool = False
    seconds: float = 0.0
    fix_next: list[dict[str, Any]] = field(default_factory=list)
    reveal: dict[str, str] = field(default_factory=dict)  # item id -> none | hint | answer

    @property
    def full_credit(self) -> bool:
        """Every public item checked here earned all its points (what `grader check` exits 0 on)."""
        return self.result.status == "graded" and all(
            i.score >= i.max_score - 1e-9 for i in self.result.items() if i.status != "skipped")

    def to_dict(self) -> dict[str, Any]:
        """The JSON `grader check --json` prints: the student-facing result and the check's facts."""
        return {**self.result.to_dict(), "self_check": {
            "notebook": self.notebook, "questions": self.questions, "hidden_items": self.hidden_items,
            "hidden_points": self.hidden_points, "executed": self.executed, "seconds": self.seconds,
            "full_credit": self.full_credit, "reveal": self.reveal, "fix_next": self.fix_next}}

    def __repr__(self) -> str:
        return (f"SelfCheck({', '.join(self.questions)}: {self.result.score:g}/"
                f"{self.result.max_score:g} public points)")


#: Where `grader assign` writes a release's self-check rubric, beside the notebook: the same path
#: as grader.assign.STUDENT_RUBRIC (tests/test_selfcheck.py), written out so that a self-check
#: does not import grader.assign (which imports nbformat).
STUDENT_RUBRIC = Path("grader-selfcheck") / "rubric.yaml"


def rubric_for(notebook: str | Path) -> Path | None:
    """The self-check rubric of a release (`grader assign`) next to the notebook, if there is one;
    None means the installed default rubric."""
    path = Path(notebook).parent / STUDENT_RUBRIC
    return path if path.is_file() else None


def question_is_static(rubric: Rubric, question_id: str) -> bool:
    from grader.checks.base import needs_execution

    q = next(q for q in rubric.questions if q.id == question_id)
    return not any(needs_execution(i.kind) for i in q.items if i.visibility == "public")


def check_notebook(
    path: str | Path,
    questions: list[str] | None = None,
    *,
    rubric: Rubric | str | None = None,
    data_dir: str | None = None,
    static_only: bool = False,
    timeout: float | None = None,
) -> SelfCheck:
    """Grade the public items of `questions` (default: all) of the saved notebook at `path`."""
    from grader.checks.base import needs_execution
    from grader.worker import grade_filtered

    started = time.monotonic()
    rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    known = [q.id for q in rubric.questions]
    wanted = [q.strip().lower() for q in questions or known]
    unknown = [q for q in wanted if q not in known]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: no such question; the questions are {', '.join(known)}")

    def keep(spec: RubricItem) -> bool:
        if spec.visibility != "public" or spec.question not in wanted:
            return False
        return not (static_only and needs_execution(spec.kind))

    options = GradingOptions(profile="quick", data_dir=data_dir, questions=wanted, timeout=timeout)
    from grader.engine import _env

    with _env(INSIDE_ENV, "1"):  # inherited by the kernel, if one is started
        result = grade_filtered(path, rubric, options, keep=keep)
    from grader.feedback_levels import SELF_CHECK, level_for, student_result

    result = student_result(result, rubric, SELF_CHECK)  # hints, not the answer key
    levels = {i.id: level_for(rubric.item(i.id), SELF_CHECK) for i in result.items()}
    hidden = [i for i in rubric.items if i.question in wanted and i.visibility == "hidden"]
    report = SelfCheck(
        notebook=str(path), questions=wanted, result=result,
        hidden_items=len(hidden), hidden_points=sum(i.points for i in hidden),
        executed=result.execution is not None, seconds=round(time.monotonic() - started, 3),
        reveal=levels,
    )
    report.fix_next = fix_next(result)
    return report


def fix_next(result: SubmissionResult, limit: int = 3) -> list[dict[str, Any]]:
    """The items to work on first: most points lost first, each with its most concrete advice."""
    todo = [i for i in result.items() if i.status not in ("passed", "skipped")]
    todo.sort(key=lambda i: -(i.max_score - i.score))
    advice = []
    for item in todo[:limit]:
        fixes = [d.fix for d in result.diagnostics if d.item == item.id and d.fix]
        advice.append({"item": item.id, "points_lost": round(item.max_score - item.score, 2),
                       "status": item.status, "advice": fixes[0] if fixes else item.feedback})
    return advice


def render(report: SelfCheck, console: Any = None) -> None:
    """Print the self-check with rich: per item status and feedback, then what to fix next."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console(highlight=False)
    r = report.result
    if r.status == "invalid":
        console.print(f"[red]Cannot check this notebook:[/] {escape(r.message)}")
        return
    table = Table(title=f"Self-check of {Path(report.notebook).name}: {r.score:g} / {r.max_score:g} "
                        f"public points", title_justify="left", show_lines=False)
    table.add_column("", width=1)
    table.add_column("item")
    table.add_column("points", justify="right")
    table.add_column("feedback", overflow="fold")
    for q in r.questions:
        for item in q.items:
            table.add_row(_MARKS.get(item.status, "?"), item.id, f"{item.score:g}/{item.max_score:g}",
                          escape(item.feedback))
    console.print(table)
    _print_not_found(report, console)
    if report.hidden_items:
        console.print(f"[dim]+ {report.hidden_items} hidden item(s) worth {report.hidden_points:g} "
                      "points, graded by your instructor after hand-in.[/]")
    if r.status != "graded" and r.message:
        console.print(f"[yellow]Running your notebook:[/] {escape(r.message)}")
    if report.fix_next:
        console.print("[bold]Fix next:[/]")
        steps = Table.grid(padding=(0, 1))  # a grid: wrapped advice stays indented under its item
        steps.add_column(justify="right", no_wrap=True)
        steps.add_column(overflow="fold")
        for n, fix in enumerate(report.fix_next, 1):
            steps.add_row(f"  {n}.", f"[bold]{escape(fix['item'])}[/] ({fix['points_lost']:g} points): "
                                     f"{escape(fix['advice'])}")
        console.print(steps)
    else:
        console.print("[green]Every public item checked here passes.[/]")
    if any(level != "answer" for level in report.reveal.values()):
        console.print("[dim]Feedback here gives hints, not the answers; the answers come with your "
                      "graded report.[/]")
    how = ("ran your notebook in a fresh kernel, quick profile" if report.executed
           else "from the saved file, without running it")
    console.print(f"[dim]Checked in {report.seconds:.1f} s ({how}). Save the notebook before "
                  "checking: the saved file is what is graded.[/]")


def _print_not_found(report: SelfCheck, console: Any) -> None:
    """Which questions the locator could not find (or is unsure of), and how to label them."""
    from rich.markup import escape

    from grader.locate.answer import ranges, unsure

    missing, low = unsure(report.result.located)
    name = escape(Path(report.notebook).name)
    if missing:
        first = missing[0][1:]
        console.print(f"[yellow]Could not find your answer to {ranges(missing)}.[/] Put a heading such as "
                      f"[bold]## Question {first}[/] (or the question's own text) right above each answer, "
                      f"save, and check again; `grader locate {name}` shows where each answer was found.")
    if low:
        console.print(f"[yellow]Not sure which cells answer {ranges(low)}[/] (found by what they contain): "
                      "label them the same way so they are graded from the right cells.")


# ---- from inside a notebook ------------------------------------------------------------------

class NotebookUnknown(FileNotFoundError):
    """`check()` cannot tell which notebook it runs in; the message says how to name it."""


def find_notebook(explicit: str | None = None) -> Path:
    """The notebook this kernel belongs to: the explicit path, else the one the front end names
    (Jupyter's `JPY_SESSION_NAME` / `__session__`, VS Code's `__vsc_ipynb_file__`).

    Never a guess such as the newest .ipynb in the folder: grading the wrong notebook is worse
    than saying so.
    """
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise NotebookUnknown(f"{explicit}: no such notebook; give the path of your saved .ipynb")
        return path
    main = sys.modules.get("__main__")
    candidates = [os.environ.get("JPY_SESSION_NAME", "")]
    candidates += [getattr(main, name, "") for name in ("__session__", "__vsc_ipynb_file__")]
    for value in candidates:
        if isinstance(value, str) and value:
            path = Path(value)
            if path.suffix == ".ipynb" and path.is_file():
                return path
    raise NotebookUnknown(
        "cannot tell which notebook this kernel runs (the front end did not say); name it: "
        "check('q2', notebook='my_notebook.ipynb')")


def inside_grading() -> bool:
    main = sys.modules.get("__main__")
    return os.environ.get(INSIDE_ENV) == "1" or hasattr(main, "_grader_config")


def check_in_notebook(*questions: str, notebook: str | None = None) -> SelfCheck | None:
    """`check("q2")` in a notebook: grades the saved file; static questions never run it again."""
    from rich.console import Console

    console = Console(highlight=False)
    if inside_grading():
        console.print("[dim]grader.check() does nothing while the grader runs this notebook.[/]")
        return None
    try:
        path = find_notebook(notebook)
    except NotebookUnknown as exc:
        console.print(f"[red]grader.check():[/] {exc}")
        return None
    rubric = load_rubric(rubric_for(path))
    wanted = [q.lower() for q in questions] or [q.id for q in rubric.questions]
    ids = {x.id for x in rubric.questions}
    dynamic = [q for q in wanted if q in ids and not question_is_static(rubric, q)]
    static_only = not questions  # check() with no question: static ones only, no kernel
    report = check_notebook(path, wanted, rubric=rubric, static_only=static_only)
    saved = time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime))
    console.print(f"[dim]Checking {path} (saved {saved})[/]")
    render(report, console)
    if static_only and dynamic:
        console.print(f"[dim]Model questions ({', '.join(dynamic)}) need a run of the notebook: "
                      f"check('{dynamic[0]}') or `grader check {path.name}` in a terminal.[/]")
    return report
