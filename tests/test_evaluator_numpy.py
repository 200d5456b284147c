"""The evaluator's NumPy reader (grader/evaluation/numpymodel.py): real Keras models of each kind it
supports, trained a few steps on real MNIST and saved as the kernel saves them, predict within
1e-4 of Keras with the same argmax, and the evaluator's figures and file description through it
equal the Keras path's; anything else falls back to Keras with the reason recorded; a hostile
or malformed file is a recorded error, never a crash."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.evaluation.inprocess import measure_in_process
from grader.evaluation.numpymodel import Unsupported, read_model

MNIST_SPEC = {"dataset": "mnist", "scale": 1 / 255, "offset": 0.0, "sample_shape": [28, 28, 1],
              "dtype": "float32", "probe_n": 1000}


def _models(keras):
    """name -> (builder, loss, metrics): each supported layer kind at least once."""
    from keras import layers

    inp = (28, 28, 1)

    def alice():  # the assignment's own q9 model, as alice writes it
        m = keras.Sequential()
        m.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=inp))
        m.add(layers.MaxPooling2D((2, 2)))
        m.add(layers.Conv2D(64, (3, 3), activation="relu"))
        m.add(layers.MaxPooling2D((2, 2)))
        m.add(layers.Flatten())
        m.add(layers.Dense(64, activation="relu"))
        m.add(layers.Dense(10, activation="softmax"))
        return m

    def same_strided():
        return keras.Sequential([keras.Input(inp), layers.Rescaling(2.0, offset=-1.0),
                                 layers.Conv2D(8, 5, strides=2, padding="same", activation="tanh"),
                                 layers.BatchNormalization(), layers.ReLU(),
                                 layers.MaxPooling2D(3, strides=2, padding="same"),
                                 layers.Conv2D(8, 3, strides=(1, 2), use_bias=False, activation="sigmoid"),
                                 layers.AveragePooling2D(2, padding="same"), layers.Flatten(),
                                 layers.Dropout(0.3), layers.Dense(10), layers.Softmax()])

    def functional():
        x0 = keras.Input(inp)
        x = layers.Conv2D(6, 3, padding="same")(x0)
        x = layers.Activation("relu")(x)
        x = layers.AveragePooling2D(2)(x)
        x = layers.BatchNormalization(center=False)(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(16, activation="relu")(x)
        return keras.Model(x0, layers.Dense(10, activation="softmax")(x))

    def mlp():
        return keras.Sequential([keras.Input(inp), layers.Reshape((784,)),
                                 layers.Dense(32, activation="relu"), layers.Dropout(0.2),
                                 layers.Dense(10, activation="softmax")])

    def logits():
        return keras.Sequential([keras.Input(inp), layers.Conv2D(4, 3, activation="relu"),
                                 layers.GlobalMaxPooling2D(), layers.Dense(10)])

    return {"alice": (alice, "categorical_crossentropy", ["accuracy"]),
            "same_strided": (same_strided, "sparse_categorical_crossentropy", ["accuracy"]),
            "functional": (functional, "sparse_categorical_crossentropy", []),
            "mlp": (mlp, "sparse_categorical_crossentropy", ["sparse_categorical_accuracy"]),
            "logits": (logits, "sparse_categorical_crossentropy", ["accuracy"])}


@pytest.fixture(scope="module")
def saved(keras, mnist, tmp_path_factory):
    """Each model trained 20 steps on MNIST and saved with model.save (the kernel's capture)."""
    folder = tmp_path_factory.mktemp("numpy")
    x = (mnist["x_train"][:1280] / 255.0)[..., None].astype("float32")
    y = mnist["y_train"][:1280]
    paths = {}
    for n, (name, (build, loss, metrics)) in enumerate(_models(keras).items()):
        keras.utils.set_random_seed(40 + n)
        model = build()
        model.compile(optimizer="adam", loss=loss, metrics=metrics)
        labels = np.eye(10)[y] if loss == "categorical_crossentropy" else y
        model.fit(x, labels, epochs=1, batch_size=64, verbose=0)
        paths[name] = folder / f"{name}.keras"
        model.save(paths[name])
    return paths


def test_numpy_predictions_equal_keras_for_each_supported_kind(keras, mnist, saved):
    from grader.evaluation.description import describe_model

    x = (mnist["x_test"][:2000] / 255.0)[..., None].astype("float32")
    for name, path in saved.items():
        fast = read_model(str(path))
        model = keras.saving.load_model(path, safe_mode=True)
        want = np.asarray(model.predict(x, batch_size=256, verbose=0))
        got = fast.predict_on_batch(x)
        assert got.dtype == np.float32 and got.shape == want.shape, name
        assert np.array_equal(got.argmax(axis=1), want.argmax(axis=1)), name
        assert np.abs(got - want).max() < 1e-4, (name, float(np.abs(got - want).max()))
        assert fast.describe({"declared_params": 1}) == describe_model(model, {"declared_params": 1}), name


def test_the_evaluator_figures_through_numpy_equal_the_keras_path(saved, data_dir):
    for name, path in saved.items():
        spec = dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir))
        fast = measure_in_process(spec)
        slow = measure_in_process(dict(spec, numpy=False))
        assert fast["reader"] == {"used": "numpy"}, (name, fast.get("reader"))
        assert slow["reader"]["used"] == "keras"
        for key in ("ok", "accuracy", "per_class", "n", "input_shape", "input_range", "memorisation",
                    "keras_evaluate", "file_model"):
            assert fast[key] == slow[key], (name, key, fast[key], slow[key])
        inspected = measure_in_process({"model": str(path), "inspect": True})
        assert inspected["reader"] == {"used": "numpy"} and inspected["file_model"] == fast["file_model"]


def test_models_the_reader_does_not_run_fall_back_to_keras_with_the_reason(keras, data_dir, tmp_path):
    from keras import layers

    inp = (28, 28, 1)
    cases = {
        "dilated": keras.Sequential([keras.Input(inp), layers.Conv2D(4, 3, dilation_rate=2), layers.Flatten(),
                                     layers.Dense(10, activation="softmax")]),
        "other_layer": keras.Sequential([keras.Input(inp), layers.Conv2D(4, 3), layers.LayerNormalization(),
                                         layers.Flatten(), layers.Dense(10, activation="softmax")]),
        "elu": keras.Sequential([keras.Input(inp), layers.Flatten(), layers.Dense(10, activation="elu")]),
        "top_k": keras.Sequential([keras.Input(inp), layers.Flatten(),
                                   layers.Dense(10, activation="softmax")]),
    }
    i = keras.Input(inp)
    flat = layers.Flatten()(i)
    cases["branching"] = keras.Model(i, layers.Dense(10, activation="softmax")(
        layers.Concatenate()([flat, layers.Dense(4)(flat)])))
    for name, model in cases.items():
        metrics = ["sparse_top_k_categorical_accuracy"] if name == "top_k" else ["accuracy"]
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=metrics)
        path = tmp_path / f"{name}.keras"
        model.save(path)
        with pytest.raises(Unsupported):
            read_model(str(path))
        got = measure_in_process(dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir), probe=False))
        assert got["ok"] and got["reader"]["used"] == "keras" and got["reader"]["why"], (name, got)


def _rewrite(src: Path, dest: Path, config=None, weights: bytes | None = None) -> Path:
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    if config is not None:
        members["config.json"] = json.dumps(config).encode()
    if weights is not None:
        members["model.weights.h5"] = weights
    with zipfile.ZipFile(dest, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    return dest


def test_hostile_or_malformed_files_are_a_recorded_error_not_a_crash(saved, data_dir, tmp_path):
    import h5py

    src = saved["alice"]
    with zipfile.ZipFile(src) as z:
        config = json.loads(z.read("config.json"))
        weights = z.read("model.weights.h5")
    # a config whose class names point at arbitrary code: never followed
    evil = json.loads(json.dumps(config))
    evil["config"]["layers"][1]["module"] = "os"
    evil["config"]["layers"][1]["class_name"] = "system"
    # a kernel of another shape than the config says (a 10,000 x 10,000 dataset declared)
    buf = io.BytesIO()
    with h5py.File(io.BytesIO(weights), "r") as h5, h5py.File(buf, "w") as out:
        for key in h5:
            h5.copy(key, out)
        del out["layers/dense/vars/0"]
        out["layers/dense/vars"].create_dataset("0", shape=(10_000, 10_000), dtype="f4")
    files = {"evil_class": _rewrite(src, tmp_path / "evil.keras", config=evil),
             "wrong_shape": _rewrite(src, tmp_path / "shape.keras", weights=buf.getvalue()),
             "garbage_weights": _rewrite(src, tmp_path / "garbage.keras",
                                         weights=b"\x89HDF\r\n" + os.urandom(4096)),
             "not_a_zip": tmp_path / "junk.keras"}
    files["not_a_zip"].write_bytes(b"PK\x03\x04" + os.urandom(2000))
    for name, path in files.items():
        if name != "not_a_zip":
            with pytest.raises(Unsupported):
                read_model(str(path))
        got = measure_in_process(dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir), probe=False))
        assert got["ok"] is False and got["status"] in ("model-unloadable", "model-unreadable"), (name, got)
        assert got["error"], name
        if name != "not_a_zip":  # refused by inspection before any reader
            assert got["reader"]["used"] == "keras" and got["reader"]["why"], (name, got)


def test_measuring_a_simple_model_never_imports_tensorflow(saved, data_dir):
    """The point of the reader (issue 18): a fresh evaluator process measures alice's model
    without importing Keras or TensorFlow (about 6 CPU s each time)."""
    import subprocess
    import sys

    spec = dict(MNIST_SPEC, model=str(saved["alice"]), data_dir=str(data_dir))
    code = ("import json, sys; from grader.evaluation.inprocess import measure_in_process; "
            f"out = measure_in_process({spec!r}); "
            "print(json.dumps([out['ok'], out['reader'], 'keras' in sys.modules, "
            "'tensorflow' in sys.modules]))")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=root, env=dict(os.environ, PYTHONPATH=str(root)))
    assert done.returncode == 0, done.stderr[-2000:]
    ok, reader, keras_loaded, tf_loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert ok and reader == {"used": "numpy"} and not keras_loaded and not tf_loaded
