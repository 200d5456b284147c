"""The capture's model save (grader/execute/inkernel/50_capture.py `_grader_save`): Keras's saver
with its per-object attribute skip sets looked up instead of rebuilt (a throwaway Layer() per
layer walked, Keras 3's get_attr_skipset caching under another key than it reads), writing the
same file as `model.save`, and leaving the student's own saves as Keras runs them."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import zipfile

import numpy as np
import pytest

from grader.execute.runner import INKERNEL_DIR


def _capture_save():
    """`_grader_save` and what it needs, compiled alone from the in-kernel source (no hooks)."""
    tree = ast.parse((INKERNEL_DIR / "50_capture.py").read_text())
    wanted = {"_grader_save", "_GRADER_SKIPSET_TYPES", "_grader_skipsets"}
    body = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name in wanted)
            or (isinstance(n, ast.Assign) and any(getattr(t, "id", None) in wanted for t in n.targets))]
    namespace: dict = {"_grader_contextlib": contextlib}
    exec(compile(ast.Module(body=body, type_ignores=[]), "50_capture.py", "exec"), namespace)
    return namespace["_grader_save"]


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


@pytest.mark.slow  # Keras's import, a MobileNetV2 and a fit: ~20 s on the shared machine
def test_the_capture_save_writes_what_keras_writes_without_rebuilding_skip_sets(tmp_path, monkeypatch):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from keras.src.backend.common import global_state
    from keras.src.layers.layer import Layer

    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                          weights=None)
    model = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(np.zeros((8, 32, 32, 3), "float32"), np.arange(8) % 10, epochs=1, verbose=0)
    save = _capture_save()
    save(model, str(tmp_path / "warm.keras"))  # computes the skip sets once

    built = []
    real_init = Layer.__init__

    def counting_init(self, *args, **kwargs):
        built.append(type(self).__name__)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Layer, "__init__", counting_init)
    model.save(tmp_path / "keras.keras")
    by_keras = len(built)
    del built[:]
    save(model, str(tmp_path / "capture.keras"))
    assert by_keras > len(base.layers) and built == []  # Keras: a throwaway Layer per layer walked

    theirs, ours = _members(tmp_path / "keras.keras"), _members(tmp_path / "capture.keras")
    assert theirs.keys() == ours.keys()
    assert theirs["config.json"] == ours["config.json"]
    assert theirs["model.weights.h5"] == ours["model.weights.h5"]
    meta_theirs, meta_ours = json.loads(theirs["metadata.json"]), json.loads(ours["metadata.json"])
    assert {k: v for k, v in meta_theirs.items() if k != "date_saved"} == \
        {k: v for k, v in meta_ours.items() if k != "date_saved"}
    for obj_type in ("Layer", "Functional", "Sequential", "Optimizer"):  # the student's saves: Keras's way
        assert global_state.get_global_attribute(f"saving_attr_skiplist_{obj_type}", None) is None
