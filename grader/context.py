"""Everything a check may look at for one submission.

The notebook is executed lazily, the first time a check asks for `ctx.execution`, so static
items (free text, Q2 math) are graded first and without running any student code, and a
`-k q2` run never starts a kernel.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.execute.record import ExecutionRecord
from grader.notebook import Answer, Notebook
from grader.rubric import Rubric


@dataclass
class GradingOptions:
    profile: str = "quick"  # resolved: quick | full
    data_dir: str | None = None
    out_dir: str = "reports"
    questions: list[str] | None = None  # only these question ids ("q2", "q9")
    cell_timeout: float | None = None  # overrides the rubric's execution defaults
    timeout: float | None = None
    memory: str | None = None
    seed: int = 42
    student_mode: bool = False

    def resolved_data_dir(self) -> str | None:
        return self.data_dir or os.environ.get("GRADER_DATA_DIR") or None


@dataclass
class GradingContext:
    rubric: Rubric
    notebook: Notebook
    answers: dict[str, Answer]
    options: GradingOptions
    _execution: ExecutionRecord | None = field(default=None, repr=False)
    cache: dict[str, Any] = field(default_factory=dict)  # shared by checks (reference values...)
    # An execution that raised: every later item gets the same error, the notebook is not run
    # again once per item.
    _execution_error: BaseException | None = field(default=None, repr=False)
    # The engine may start the execution in a thread while static items are graded
    # (engine.py `_ExecuteEarly`): whoever asks next waits for that run instead of starting one.
    _execution_lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    #: the grader's hook after each code cell of the run (ExecutionOptions.after_cell), set before it
    after_cell: Callable[[int, Path], None] | None = field(default=None, repr=False, compare=False)

    def answer(self, question_id: str) -> Answer | None:
        return self.answers.get(question_id)

    @property
    def executed(self) -> bool:
        return self._execution is not None

    @property
    def execution(self) -> ExecutionRecord:
        if self._execution is None:
            with self._execution_lock:
                if self._execution is None:
                    if self._execution_error is not None:
                        raise self._execution_error
                    from grader.execute import execute_submission

                    try:
                        self._execution = execute_submission(self.notebook, self.rubric, self.options,
                                                             self.after_cell)
                    except Exception as exc:
                        self._execution_error = exc
                        raise
        return self._execution

    def reference(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Reference values by name, computed once per grading run."""
        from reference import compute

        key = f"{name}:{sorted(params.items())!r}"
        if key not in self.cache:
            self.cache[key] = compute(self.rubric.reference, name, params)
        return self.cache[key]
