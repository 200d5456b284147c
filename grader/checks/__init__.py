"""One module per kind of check, and the table of which module grades which rubric `kind`.

`KINDS` is written out rather than collected by importing the modules: validating a rubric's
kinds, or asking whether a kind needs the notebook executed, must not import every check (their
imports are most of a static self-check's second). A check module is imported when an item of
one of its kinds is graded (`grader.checks.base.get_check`); `register()` refuses a kind that is
missing here or declared differently, and tests/test_checks_registry.py compares the two.

The modules are imported on first use rather than here, so that importing `grader.checks.base`
(as the pytest plugin does at start-up) never pulls in the check modules half-initialised.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Kind(NamedTuple):
    module: str  # under grader.checks
    needs_execution: bool  # graded from the executed notebook, not from the saved file alone


KINDS: dict[str, Kind] = {
    "accuracy": Kind("accuracy", needs_execution=True),
    "architecture": Kind("architecture", needs_execution=True),
    "concepts": Kind("concepts", needs_execution=False),
    "diagnostic": Kind("diagnostics", needs_execution=True),
    "execution": Kind("execution", needs_execution=True),
    "model-built": Kind("execution", needs_execution=True),
    "param-math": Kind("parammath", needs_execution=False),
    "transfer-pipeline": Kind("diagnostics", needs_execution=True),
}

CHECK_MODULES = tuple(sorted({k.module for k in KINDS.values()}))


def load_kind(kind: str) -> None:
    """Import the module that registers `kind` (KeyError for a kind not in KINDS)."""
    importlib.import_module(f"grader.checks.{KINDS[kind].module}")


def load_all() -> None:
    for name in CHECK_MODULES:
        importlib.import_module(f"grader.checks.{name}")
