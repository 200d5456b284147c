"""Reference values for assignment 06 (CNNs). Each function is referred to by name in
rubrics/assignment06.yaml. Heavy imports stay inside the functions."""

from __future__ import annotations

from typing import Any

from reference import models as _models
from reference import (
    q2_memory,  # noqa: F401  (registers conv_net_memory)
    reference_value,
)

# ---- questions 9 and 10 (the models themselves live in reference/models.py) -----------------


@reference_value("mnist_task")
def mnist_task(params: dict[str, Any]) -> dict[str, Any]:
    """Input shapes and class count for question 9, read off the reference CNN."""
    return _models.mnist_task(params)


@reference_value("base_input_range")
def base_input_range(params: dict[str, Any]) -> dict[str, Any]:
    """The value range a pretrained base expects (its own preprocess_input applied to 0..255)."""
    return _models.base_input_range(params)
