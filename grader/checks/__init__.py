"""One module per kind of check. `load_all()` imports them, which registers every kind.

The modules are imported on first use rather than here, so that importing `grader.checks.base`
(as the pytest plugin does at start-up) never pulls in the check modules half-initialised.
"""

from __future__ import annotations

import importlib

CHECK_MODULES = ("concepts", "execution", "models", "parammath")


def load_all() -> None:
    for name in CHECK_MODULES:
        importlib.import_module(f"grader.checks.{name}")
