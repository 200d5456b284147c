"""Reference values for assignment 06 (CNNs). Each function is referred to by name in
rubrics/assignment06.yaml. Heavy imports stay inside the functions.

The Q9/Q10 reference models (reference/models.py) are solutions: the wheel students install
leaves them out (setup.py), so they are imported only when a value needs them, and a clear
error says where to find them (the source tree, or GRADER_REFERENCE_DIR pointing at the
instructor bundle's reference/ folder).
"""

from __future__ import annotations

import importlib.util
import json
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
#: What the Q9/Q10 values are for every params a check asks with (input shapes, each base
#: family's input range), computed from reference/models.py by `python -m reference.assignment06
#: --update-cache`, so that a student's install (no models.py) still self-checks Q9 and Q10, and
#: so that grading never imports TensorFlow to read a constant off a reference model (5-6 s per
#: process, issue 18). The cache records the SHA-256 of the models.py it was computed from
#: (SOURCE_KEY); where models.py is present and differs, values are computed afresh.
#: tests/test_released_values.py proves it equals what models.py computes.
RELEASED_VALUES = Path(__file__).with_name("released_values.json")
SOURCE_KEY = "_models_sha256"


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


def _key(params: dict[str, Any]) -> str:
    return json.dumps(params or {}, sort_keys=True)


def _released() -> dict[str, Any]:
    if not RELEASED_VALUES.is_file():
        return {}
    return json.loads(RELEASED_VALUES.read_text(encoding="utf-8"))


def _models_sha256() -> str | None:
    """SHA-256 of the models.py that would be imported (the source tree's, or GRADER_REFERENCE_DIR's)."""
    import hashlib

    here = Path(__file__).with_name("models.py")
    folder = os.environ.get(REFERENCE_DIR_ENV)
    path = here if here.is_file() else Path(folder or "") / "models.py"
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _value(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The released value for these params when it was computed from this models.py (or there is
    no models.py: a wheel); else `models.<name>(params)`, which imports TensorFlow."""
    released = _released()
    value = released.get(name, {}).get(_key(params))
    source = _models_sha256()
    if value is not None and (source is None or released.get(SOURCE_KEY) == source):
        return value
    try:
        models = _models()
    except ReferenceUnavailable:
        if value is None:
            raise
        return value
    return getattr(models, name)(params)


def released_params() -> dict[str, list[dict[str, Any]]]:
    """Every params the checks ask the Q9/Q10 values with (checks/models.py: a base family)."""
    families = sorted(_models()._PREPROCESS_MODULES)
    return {"mnist_task": [{}], "base_input_range": [{"family": f} for f in families]}


def update_released_values() -> Path:
    values: dict[str, Any] = {name: {_key(p): getattr(_models(), name)(p) for p in params}
                              for name, params in released_params().items()}
    values[SOURCE_KEY] = _models_sha256()
    RELEASED_VALUES.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return RELEASED_VALUES


# ---- questions 9 and 10 (the models themselves live in reference/models.py) -----------------


@reference_value("mnist_task")
def mnist_task(params: dict[str, Any]) -> dict[str, Any]:
    """Input shapes and class count for question 9, read off the reference CNN."""
    return _value("mnist_task", params)


@reference_value("base_input_range")
def base_input_range(params: dict[str, Any]) -> dict[str, Any]:
    """The value range a pretrained base expects (its own preprocess_input applied to 0..255)."""
    return _value("base_input_range", params)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Q9/Q10 reference values for installs without models.py")
    parser.add_argument("--update-cache", action="store_true", help=f"recompute {RELEASED_VALUES.name}")
    if parser.parse_args().update_cache:
        print(f"wrote {update_released_values()}")
