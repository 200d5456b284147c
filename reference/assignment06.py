"""Reference values for assignment 06 (CNNs). Each function is referred to by name in
rubrics/assignment06.yaml. Heavy imports stay inside the functions.

The Q9/Q10 reference models (reference/models.py) are solutions: the wheel students install
leaves them out (setup.py), so they are imported only when a value needs them, and a clear
error says where to find them (the source tree, or GRADER_REFERENCE_DIR pointing at the
instructor bundle's reference/ folder).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from reference import (
    q2_memory,  # noqa: F401  (registers conv_net_memory)
    reference_value,
)

REFERENCE_DIR_ENV = "GRADER_REFERENCE_DIR"


class ReferenceUnavailable(RuntimeError):
    """Instructor-only reference code is not installed here (a student's install)."""


def _models() -> ModuleType:
    try:
        from reference import models

        return models
    except ImportError:
        pass
    folder = os.environ.get(REFERENCE_DIR_ENV)
    path = Path(folder or "") / "models.py"
    if folder and path.is_file():
        spec = importlib.util.spec_from_file_location("reference.models", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["reference.models"] = module
        spec.loader.exec_module(module)
        return module
    raise ReferenceUnavailable(
        "reference/models.py (the Q9/Q10 reference models) is not part of this install: the wheel "
        "students install leaves the solutions out. Grade from the source tree (pip install -e .) or "
        f"set {REFERENCE_DIR_ENV} to the reference/ folder of the instructor bundle (grader assign).")


# ---- questions 9 and 10 (the models themselves live in reference/models.py) -----------------


@reference_value("mnist_task")
def mnist_task(params: dict[str, Any]) -> dict[str, Any]:
    """Input shapes and class count for question 9, read off the reference CNN."""
    return _models().mnist_task(params)


@reference_value("base_input_range")
def base_input_range(params: dict[str, Any]) -> dict[str, Any]:
    """The value range a pretrained base expects (its own preprocess_input applied to 0..255)."""
    return _models().base_input_range(params)
