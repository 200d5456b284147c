"""The out-of-kernel evaluator (grader/evaluation/) against hostile model files: parameter counts
read from the config without building, absurd configs refused, memorisation probed, links and
FIFOs refused, and the evaluator itself sandboxed with its own limits (a failure to start it is
the grader's environment, not the student's zero). Small Keras models are built in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.evaluate import (
    InputMismatch,
    check_inputs,
    config_params,
    inspect_model_file,
    measure,
    measure_in_process,
)

MNIST_SPEC = {"dataset": "mnist", "scale": 1 / 255, "offset": 0.0, "sample_shape": [28, 28, 1],
              "dtype": "float32"}


def _config(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def test_parameter_count_from_the_config_equals_keras(keras, tmp_path):
    from keras import layers

    seq = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                            layers.BatchNormalization(), layers.DepthwiseConv2D(3),
                            layers.SeparableConv2D(4, 3),
                            layers.MaxPooling2D(), layers.Flatten(), layers.Dense(32), layers.Dense(10)])
    inputs = keras.Input((32, 32, 3))
    inner = keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(4, 3, use_bias=False)], name="base")
    x = layers.GlobalAveragePooling2D()(inner(inputs))
    x = layers.LayerNormalization()(x)
    functional = keras.Model(inputs, layers.Dense(10)(x))
    rnn = keras.Sequential([keras.Input((5,), dtype="int32"), layers.Embedding(50, 8), layers.LSTM(6),
                            layers.Dense(3)])
    for model in (seq, functional, rnn):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        assert config_params(_config(path)) == model.count_params(), model.name


def _huge_config_file(path: Path) -> Path:
    cfg = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 784]}},
        {"class_name": "Dense", "config": {"name": "d", "units": 400_000},
         "build_config": {"input_shape": [None, 784]}}]}}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("metadata.json", "{}")
    return path


def test_huge_config_is_refused_without_loading(data_dir, tmp_path):
    """Red team: a 1 KB config declaring 314M parameters once took the evaluator to 4.6 GB."""
    path = _huge_config_file(tmp_path / "huge.keras")
    assert path.stat().st_size < 2000
    facts = inspect_model_file(str(path))
    assert not facts["ok"] and facts["status"] == "model-too-large"
    assert facts["declared_params"] == 784 * 400_000 + 400_000
    started = time.monotonic()
    result = measure(dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir)), tmp_path)
    assert result["status"] == "model-too-large" and "314,000,000 parameters" in result["error"]
    assert time.monotonic() - started < 120  # refused before Keras is even imported


def test_links_and_fifos_are_not_followed(data_dir, tmp_path):
    target = _huge_config_file(tmp_path / "elsewhere.keras")
    link = tmp_path / "model_0.keras"
    link.symlink_to(target)
    fifo = tmp_path / "model_1.keras"
    os.mkfifo(fifo)
    for path in (link, fifo):
        result = measure(dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir)), tmp_path)
        assert not result["ok"] and result["status"] == "model-unreadable", result


def _lookup_model(keras, images: np.ndarray, labels: np.ndarray):
    """A memoriser from standard layers: cosine nearest neighbour over the test images."""
    from keras import layers

    flat = images.reshape(len(images), -1).astype("float32")
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.UnitNormalization(),
                              layers.Dense(len(flat), use_bias=False), layers.Rescaling(200.0),
                              layers.Softmax(), layers.Dense(10, use_bias=False)])
    model.layers[2].set_weights([flat.T])
    model.layers[5].set_weights([np.eye(10, dtype="float32")[labels]])
    return model


# Slow (the default suite was over its 15 minutes): test_memorisation_rule.py measures a memoriser and
# honest models through the evaluator
@pytest.mark.slow
def test_memoriser_is_flagged_and_honest_cnn_is_not(keras, mnist, data_dir, tmp_path):
    """Red team: a Dense layer holding the test images scores 100 % on the test set. The probe
    flags it (sandboxed evaluator); an honest small CNN trained briefly is not flagged."""
    from keras import layers

    x_test = (mnist["x_test"] / 255.0)[..., None]
    memo_path = tmp_path / "memo.keras"
    _lookup_model(keras, x_test, mnist["y_test"]).save(memo_path)
    memo = measure(dict(MNIST_SPEC, model=str(memo_path), data_dir=str(data_dir)), tmp_path)
    assert memo["ok"], memo
    assert memo["accuracy"] == 1.0 and memo["memorisation"]["memorised"] is True
    assert memo["file_model"]["params"] == memo["file_model"]["declared_params"] == 784 * 10_000 + 10 * 10_000
    assert memo["evaluator_sandbox"] in ("bubblewrap", "process")

    keras.utils.set_random_seed(3)
    cnn = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                            layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")])
    cnn.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    cnn.fit((mnist["x_train"][:6400] / 255.0)[..., None], mnist["y_train"][:6400], epochs=1, verbose=0)
    honest_path = tmp_path / "honest.keras"
    cnn.save(honest_path)
    honest = measure_in_process(dict(MNIST_SPEC, model=str(honest_path), data_dir=str(data_dir),
                                     probe_n=2000))
    assert honest["ok"] and honest["accuracy"] > 0.8
    assert honest["memorisation"]["memorised"] is False
    assert abs(honest["memorisation"]["advantage"]) < 0.02


def test_inputs_that_do_not_match_the_capture_are_a_status():
    x = np.linspace(0, 1, 1000, dtype="float32").reshape(10, 100)
    check_inputs(x, {"min": 0.0, "max": 1.0, "mean": 0.5, "exact": True})
    with pytest.raises(InputMismatch, match="mean"):  # per-image standardised: mean 0 after all
        check_inputs(x, {"min": 0.0, "max": 1.0, "mean": 0.0, "exact": False})
    with pytest.raises(InputMismatch, match="range"):
        check_inputs(x, {"min": -1.0, "max": 1.0, "mean": 0.5, "exact": True})


def test_evaluator_that_cannot_start_is_an_environment_problem(data_dir, tmp_path, monkeypatch):
    """Too little memory to import Keras, or no interpreter: the grader's failure, said so."""
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as z:  # a tiny valid config: inspection passes
        z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": []}}))
    spec = dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir))
    # the evaluator's own memory cap applies (RLIMIT_DATA): 64 MiB is not enough for Python + numpy
    result = measure(spec, tmp_path, memory="64M")
    assert not result["ok"] and result.get("environment") is True, result
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    result = measure(spec, tmp_path)
    assert not result["ok"] and result.get("environment") is True, result


def test_time_limit_ends_the_evaluator(data_dir, tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"not a zip")
    result = measure(dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir)), tmp_path, timeout=0.01)
    assert not result["ok"] and result["status"] in ("timeout", "model-unreadable")


def test_sandbox_modules_import_only_each_other_from_the_grader_package():
    """The evaluator runs in the sandbox as `python -c <program>` (the modules' sources), where the
    repository is hidden: a grader import outside the bundle would fail only there."""
    import ast

    from grader.evaluation import process

    bundled = {f"grader.evaluation.{name}" for name in process.SANDBOX_MODULES} | {"grader.evaluation"}
    folder = Path(process.__file__).parent
    for name in (*process.SANDBOX_MODULES, "__init__"):
        for node in ast.walk(ast.parse((folder / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
                targets = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
                assert node.module in bundled and targets & bundled, (name, node.module)
            elif isinstance(node, ast.Import):
                assert all(not a.name.startswith("grader") or a.name in bundled for a in node.names), name
    assert len(process.program().encode()) < process.MAX_ARG_BYTES


def test_program_runs_without_the_grader_package(tmp_path):
    """The program alone, in a Python where `grader` cannot be imported (its folders off the path,
    the editable install's finder removed), measures a spec: here a file that is no model."""
    from grader.evaluation import process

    (tmp_path / "m.keras").write_bytes(b"not a zip")
    (tmp_path / "spec.json").write_text(json.dumps(dict(MNIST_SPEC, model=str(tmp_path / "m.keras"))))
    (tmp_path / "program.py").write_text(process.program())
    program = str(tmp_path / "program.py")
    hide = ("import importlib.util, os, sys\n"
            "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
            "sys.path[:] = [p for p in sys.path if not os.path.isdir(os.path.join(p or '.', 'grader'))]\n"
            "assert importlib.util.find_spec('grader') is None\n"
            "sys.argv = ['-c', sys.argv[1]]\n"
            f"exec(compile(open({program!r}).read(), '<program>', 'exec'))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", hide, str(tmp_path / "spec.json")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] is False and result["status"] == "model-unreadable"


def _small_cnn(keras, loss: str, metrics: list[str], activation: str = "softmax"):
    from keras import layers

    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                              layers.MaxPooling2D(4), layers.Flatten(),
                              layers.Dense(10, activation=activation)])
    model.compile(optimizer="adam", loss=loss, metrics=metrics)
    return model


def test_keras_evaluate_figure_from_the_predictions_equals_keras_evaluate(keras, mnist, data_dir, tmp_path):
    """The evaluator predicts once and derives Keras's own figure from those predictions; it must
    be what `model.evaluate` says, for sparse labels, one-hot labels, top-k and no accuracy metric."""
    x, y = (mnist["x_test"] / 255.0)[..., None].astype("float32"), mnist["y_test"].astype("int64")
    xs, ys = (mnist["x_train"][:2000] / 255.0)[..., None], mnist["y_train"][:2000]
    cases = [("sparse_categorical_crossentropy", ["accuracy"], ys, y),
             ("categorical_crossentropy", ["accuracy"], np.eye(10)[ys], np.eye(10)[y]),
             ("sparse_categorical_crossentropy", ["sparse_top_k_categorical_accuracy"], ys, y),
             ("sparse_categorical_crossentropy", [], ys, None)]
    for n, (loss, metrics, train_labels, test_labels) in enumerate(cases):
        keras.utils.set_random_seed(n)
        model = _small_cnn(keras, loss, metrics)
        model.fit(xs, train_labels, epochs=1, batch_size=64, verbose=0)
        path = tmp_path / f"m{n}.keras"
        model.save(path)
        got = measure_in_process(dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir), probe=False))
        assert got["ok"], got
        if test_labels is None:
            assert got["keras_evaluate"] is None
            continue
        want = keras.saving.load_model(path).evaluate(x, test_labels, batch_size=256, verbose=0,
                                                      return_dict=True)
        want_acc = next(v for k, v in want.items() if "acc" in k)
        assert round(100 * got["keras_evaluate"], 2) == round(100 * want_acc, 2), (loss, metrics, got, want)


# Slow (the default suite was over its 15 minutes): test_evaluator_kept.py measures a submission's
# models in one process against fresh ones
@pytest.mark.slow
def test_one_process_measures_every_model_as_measuring_each_alone_would(keras, data_dir, tmp_path):
    """measure_many: the models of a submission in one sandboxed evaluator, each result equal to
    its own `measure`; an unreadable file and a refused one in the same batch stay theirs."""
    from grader.evaluate import measure_many

    paths = []
    for n in range(2):
        keras.utils.set_random_seed(10 + n)
        model = _small_cnn(keras, "sparse_categorical_crossentropy", ["accuracy"])
        paths.append(tmp_path / f"good{n}.keras")
        model.save(paths[-1])
    huge = _huge_config_file(tmp_path / "huge.keras")
    specs = [dict(MNIST_SPEC, model=str(p), data_dir=str(data_dir), probe_n=500)
             for p in (paths[0], tmp_path / "missing.keras", huge, paths[1])]
    together = measure_many(specs)
    assert [r.get("ok") for r in together] == [True, False, False, True], together
    assert together[1]["status"] == "model-unreadable" and together[2]["status"] == "model-too-large"
    for spec, got in zip((specs[0], specs[3]), (together[0], together[3]), strict=True):
        alone = measure(spec, tmp_path)
        for key in ("accuracy", "per_class", "keras_evaluate", "memorisation", "file_model"):
            assert got[key] == alone[key], key
    assert together[0]["accuracy"] != together[3]["accuracy"]  # two different models, not one twice


def test_a_model_that_ends_the_process_late_is_measured_alone(data_dir, tmp_path, monkeypatch):
    """A model that times out first in its process gets the timeout; the models after it are
    measured in a fresh process each (never given a timeout that was another model's)."""
    from grader import evaluate as ev

    calls = []
    real = ev.Evaluator.run

    def spy(self, specs, timeout):
        calls.append([Path(s["model"]).name for s in specs])
        return real(self, specs, timeout)

    monkeypatch.setattr(ev.Evaluator, "run", spy)
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    specs = [dict(MNIST_SPEC, model=str(bad), data_dir=str(data_dir)) for _ in range(3)]
    results = ev.measure_many(specs, timeout=0.01)
    assert all(not r["ok"] and r["status"] in ("timeout", "model-unreadable") for r in results), results
    assert calls[0] == ["bad.keras"] * 3
    if all(r["status"] == "timeout" for r in results):
        assert [len(c) for c in calls] == [3, 2, 1]


# Slow (the default suite was over its 15 minutes): every graded run in the default suite (alice's
# diagnoses) measures with the early evaluator
@pytest.mark.slow
def test_an_evaluator_started_early_measures_like_a_fresh_one(keras, data_dir, tmp_path):
    """Evaluator.start (Keras imported while the notebook runs): same figures as a fresh
    process, same sandbox; one started for another data directory is closed, not used."""
    from grader.evaluate import Evaluator, measure_many

    keras.utils.set_random_seed(21)
    path = tmp_path / "m.keras"
    _small_cnn(keras, "sparse_categorical_crossentropy", ["accuracy"]).save(path)
    spec = dict(MNIST_SPEC, model=str(path), data_dir=str(data_dir), probe_n=500)
    early = Evaluator.start(str(data_dir))
    [warm] = measure_many([spec], early=early)
    assert early.root is None  # used once, then closed
    fresh = measure(spec, tmp_path)
    assert warm["ok"] and warm["evaluator_sandbox"] == fresh["evaluator_sandbox"]
    for key in ("accuracy", "per_class", "keras_evaluate", "memorisation", "file_model"):
        assert warm[key] == fresh[key], key
    elsewhere = Evaluator.start(str(tmp_path))
    [other] = measure_many([spec], early=elsewhere)
    assert elsewhere.root is None and other["accuracy"] == fresh["accuracy"]
