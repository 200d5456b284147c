"""Reference solutions and the code that computes every expected value the rubric refers to.

A rubric names its reference module (`reference: reference.assignment06`); items refer to values
in it by name (`params: {reference: conv_net_memory}`). A module registers its value functions
with `@reference_value("name")`; each takes the item's params and returns a dict of values.
Modules must stay cheap to import: heavy libraries (TensorFlow) are imported inside functions.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

ValueFunction = Callable[[dict[str, Any]], dict[str, Any]]
_VALUES: dict[str, dict[str, ValueFunction]] = {}

DEFAULT_MODULE = "reference.assignment06"


def reference_value(name: str) -> Callable[[ValueFunction], ValueFunction]:
    def decorate(fn: ValueFunction) -> ValueFunction:
        _VALUES.setdefault(fn.__module__, {})[name] = fn
        return fn

    return decorate


def _module(module_name: str) -> dict[str, ValueFunction]:
    module = importlib.import_module(module_name or DEFAULT_MODULE)
    values = dict(_VALUES.get(module.__name__, {}))
    for attr in vars(module).values():  # values registered by modules it imports count too
        if isinstance(attr, types.ModuleType):
            values.update(_VALUES.get(attr.__name__, {}))
    return values


def reference_names(module_name: str) -> set[str]:
    return set(_module(module_name))


def compute(module_name: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The reference values `name` for an item's params (e.g. a network described in YAML)."""
    return _module(module_name)[name](params)
