"""The tripwire for notebook code that reaches into the grader's capture (grader/checks/introspection.py):
the red-team notebooks trip it, honest notebooks of every style in the repository do not."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.checks.base import Outcome
from grader.checks.introspection import guard, scan

ROOT = Path(__file__).resolve().parent.parent

HONEST = [
    "history = model.fit(X_train, y_train, epochs=5, validation_split=0.1)\n"
    "test_loss, test_acc = model.evaluate(X_test, y_test)",
    "model.compile(loss='sparse_categorical_crossentropy', optimizer=keras.optimizers.Adam(1e-3))",
    "import re, gc\npattern = re.compile(r'\\d+')\ngc.collect()\nkeras.backend.clear_session()",
    "import inspect\nprint(inspect.signature(keras.layers.Conv2D))",
    "# sent to the auto_grader later, keep it tidy\nbase = keras.applications.MobileNetV2(include_top=False)",
    "for layer in base.layers[:100]:\n    layer.trainable = False\nprint(getattr(layer, 'name'))",
    "!pip install tensorflow-datasets\n%matplotlib inline",
    "evaluation = model.evaluate(test_ds)  # eval on the held-out split",
]
REACHING = [
    ("for o in gc.get_objects():\n    if isinstance(o, dict) and 'fits' in o:\n        o['fits'].clear()",
     "gc.get_objects"),
    ("g = keras.Model.fit.__globals__", "__globals__"),
    ("cells = dict(zip(f.__code__.co_freevars, f.__closure__))", "__code__"),
    ("import sys\nframe = sys._getframe(1)", "_getframe"),
    ("open('.grader/capture.json', 'w').write('{}')", "'.grader"),
    ("print(_grader_capture['fits'])", "_grader"),
    ("import inspect\ninspect.getclosurevars(keras.Model.fit)", "inspect.getclosurevars"),
]
DYNAMIC = [
    "exec(bytes.fromhex('7072696e74283129').decode())",
    "import base64\ncode = base64.b64decode(blob)",
    "getattr(fn, '__clo' + 'sure__')",
    "cells = getattr(keras.Model.fit, ''.join(['__clo', 'sure__']))",
    "setattr(cell, name, {})",
    "x = eval('3 * 4')",
]


@pytest.mark.parametrize("source", HONEST)
def test_honest_code_is_not_flagged(source):
    assert scan([(0, source)]) == []


@pytest.mark.parametrize(("source", "text"), REACHING)
def test_code_reaching_into_the_capture_is_found(source, text):
    found = scan([(3, source)])
    assert [(f.kind, f.cell) for f in found][:1] == [("reach", 3)]
    assert found[0].text == text


@pytest.mark.parametrize("source", DYNAMIC)
def test_code_built_at_run_time_is_only_dynamic(source):
    assert {f.kind for f in scan([(1, source)])} == {"dynamic"}


def test_no_honest_notebook_in_the_repository_trips_it():
    """Every notebook that is not an attack (submissions, reference, model and honest red-team
    notebooks, the hostile corpus's good one) scans clean; every capture attack trips it."""
    attacks = {"capture_edited_more_layers", "capture_saves_a_bigger_model", "lift_quick_caps",
               "lift_quick_caps_train_forever", "bigger_model_file_saved_later", "forged_frozen_first",
               "forged_weights_source"}
    checked = 0
    for path in sorted(ROOT.glob("**/*.ipynb")):
        if ".tox" in path.parts or "hostile" in path.parts and path.stem != "good":
            continue
        nb = nbformat.read(path, as_version=4)
        found = scan([(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"])
        if path.stem in attacks:
            assert any(f.kind == "reach" for f in found), path
        else:
            assert found == [], (path, found)
            checked += 1
    assert checked >= 10


class _Ctx:
    def __init__(self, sources):
        from grader.notebook import Cell

        self.cache = {}
        self.notebook = type("NB", (), {"code_cells": [Cell(i, "code", s) for i, s in enumerate(sources)]})()


def test_guard_holds_capture_read_credit_and_leaves_file_measured_items_alone():
    ctx = _Ctx(["model.fit(x, y)", "g = keras.Model.fit.__globals__\ng['_grader_capture']['fits'].clear()"])
    held = guard("diagnostic", ctx, Outcome(1.0, "No methodological problem was found."))
    assert held.credit == 0 and held.needs_review
    assert held.diagnoses[0].code == "grader-introspection" and held.diagnoses[0].cell == 1
    assert "Held for review" in held.feedback
    kept = guard("accuracy", ctx, Outcome(0.75, "measured from the model file"))
    assert kept.credit == 0.75 and not kept.needs_review


def test_guard_only_flags_dynamic_code():
    ctx = _Ctx(["model.fit(x, y)", "cfg = eval(open('cfg.txt').read())"])
    out = guard("transfer-pipeline", ctx, Outcome(0.5, "Transfer learning: ..."))
    assert out.credit == 0.5 and out.needs_review and not out.diagnoses
