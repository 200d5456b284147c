"""Running a submission's code: options from the rubric and the command line, then the runner.

The runner (and with it nbclient and jupyter_client, about 0.3 s of imports) loads on first use:
a static self-check imports this package through grader.context and never runs a kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.execute.record import ExecutionRecord

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from grader.context import GradingOptions
    from grader.execute.runner import ExecutionOptions
    from grader.notebook import Notebook
    from grader.rubric import Rubric

__all__ = ["ExecutionOptions", "ExecutionRecord", "execute_submission", "execution_options"]


def __getattr__(name: str) -> object:
    if name in ("ExecutionOptions", "execute_notebook"):
        from grader.execute import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def execution_options(rubric: Rubric, options: GradingOptions,
                      after_cell: Callable[[int, Path], None] | None = None) -> ExecutionOptions:
    """Rubric defaults, overridden by what the user passed on the command line; `after_cell`:
    the grader's own hook after each code cell (ExecutionOptions.after_cell)."""
    from grader.execute.runner import ExecutionOptions

    defaults = rubric.execution
    return ExecutionOptions(
        cell_timeout=float(options.cell_timeout or defaults.get("cell_timeout", 900)),
        timeout=float(options.timeout or defaults.get("timeout", 3600)),
        profile=options.profile,
        data_dir=options.resolved_data_dir(),
        budget=rubric.profile(options.profile),
        seed=options.seed,
        memory=_checked_memory(options.memory or defaults.get("memory")),
        output_limit=int(defaults.get("output_limit", 1_000_000)),
        extra_files=[str(rubric.path.parent / f) for f in defaults.get("files", [])],
        after_cell=after_cell,
    )


def _checked_memory(value: object) -> str | None:
    """The memory cap as given ('4G'), after checking that it parses (ValueError says why not)."""
    from grader.execute.sandbox import parse_memory

    if value in (None, ""):
        return None
    parse_memory(str(value))
    return str(value)


def execute_submission(notebook: Notebook, rubric: Rubric, options: GradingOptions,
                       after_cell: Callable[[int, Path], None] | None = None) -> ExecutionRecord:
    from grader.execute.runner import execute_notebook

    return execute_notebook(notebook.node, execution_options(rubric, options, after_cell))
