"""Per-fit files read without building the model (grader/evaluation/fitfile.py `training_from_file`) give
what loading them with Keras gives (`describe_training`), on real files: MobileNetV2 alpha 0.35
with the grader's ImageNet weights, trained a few steps on CIFAR-10 images frozen, then partly
unfrozen at a lower rate, then with a schedule; a randomly initialised base; a Functional head.
And anything the reader does not know goes to Keras."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader import evaluate
from grader.evaluation import imagenet

ALPHA_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"


def _keras_way(path: Path, data_dir: Path) -> dict:
    import keras

    model = keras.saving.load_model(str(path), safe_mode=True)
    return json.loads(json.dumps(evaluate.describe_training(model, str(data_dir))))


def _file_way(path: Path, data_dir: Path) -> dict | None:
    got = evaluate.training_from_file(str(path), str(data_dir))
    return None if got is None else json.loads(json.dumps(got))


@pytest.fixture(scope="module")
def fit_files(data_dir, tmp_path_factory) -> dict[str, Path]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    out = tmp_path_factory.mktemp("fits")
    raw = np.load(data_dir / "cifar10-10k.npz")
    x = raw["x_train"][:32].astype("float32") / 127.5 - 1.0
    y = raw["y_train"][:32].reshape(-1)
    weights = str(data_dir / "weights" / ALPHA_035)

    def fit(model, lr, name):
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        model.save(out / name)

    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                          weights=weights)
    model = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")])
    base.trainable = False
    fit(model, 1e-3, "frozen.keras")
    base.trainable = True
    for layer in base.layers[:-12]:
        layer.trainable = False
    fit(model, 1e-4, "partly_unfrozen.keras")
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-5, decay_steps=10, decay_rate=0.9)
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    model.save(out / "schedule.keras")

    inputs = keras.Input((32, 32, 3))
    random = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                            weights=None)
    head = keras.layers.Dense(10, activation="softmax")(keras.layers.GlobalAveragePooling2D()(random(inputs)))
    fit(keras.Model(inputs, head), 1e-3, "random_functional.keras")
    return {p.stem: p for p in out.glob("*.keras")}


@pytest.mark.slow
def test_reading_the_file_gives_what_loading_it_with_keras_gives(fit_files, data_dir):
    for name, path in fit_files.items():
        fast, slow = _file_way(path, data_dir), _keras_way(path, data_dir)
        assert fast is not None, name
        assert fast == slow, name
    frozen = _file_way(fit_files["frozen"], data_dir)
    base = frozen["bases"][0]
    assert base["imagenet"]["status"] == "ok" and base["imagenet"]["learnable"]["bitwise"] == 156
    assert base["imagenet"]["moving"]["changed"] == 0 and base["trainable_params"] == 0
    assert frozen["optimizer"]["iterations"] == 2
    tuned = _file_way(fit_files["partly_unfrozen"], data_dir)["bases"][0]
    assert 0 < tuned["imagenet"]["learnable"]["changed"] < 156 and tuned["trainable_params"] > 0
    assert _file_way(fit_files["schedule"], data_dir)["optimizer"]["learning_rate"] == pytest.approx(1e-5)
    random = _file_way(fit_files["random_functional"], data_dir)["bases"][0]["imagenet"]
    assert random["learnable"]["from_imagenet"] < 10


@pytest.mark.slow  # builds a MobileNetV2 per held alpha (with Keras's import, ~20 s on a busy machine)
def test_the_reference_read_from_the_weight_file_is_the_one_keras_builds(data_dir):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for alpha in imagenet._held_alphas(str(data_dir)):
        read = imagenet._reference_weights(str(data_dir), alpha)
        built = imagenet._reference_weights(str(data_dir), alpha, built=True)
        assert read is not built and read.keys() == built.keys(), alpha
        for name, arrays in built.items():
            assert len(read[name]) == len(arrays)
            assert all(np.array_equal(a, b) and a.dtype == b.dtype
                       for a, b in zip(read[name], arrays, strict=True))


def _rewrite(src: Path, dest: Path, edit) -> Path:
    """A copy of a .keras file with its config.json edited."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dest, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    return dest


def _base_config(config: dict) -> dict:
    return next(e for e in config["config"]["layers"] if e["class_name"] == "Functional")["config"]


@pytest.mark.slow
def test_what_the_reader_does_not_know_is_left_to_keras(fit_files, data_dir, tmp_path):
    frozen = fit_files["frozen"]

    def swap_names(config):  # two layers' names exchanged: the h5 groups' names disagree
        layers = _base_config(config)["layers"]
        a, b = layers[1]["config"], layers[2]["config"]
        a["name"], b["name"] = b["name"], a["name"]

    def custom_layer(config):
        _base_config(config)["layers"][-1]["class_name"] = "MyReLU"

    def lambda_head(config):
        config["config"]["layers"][-1]["class_name"] = "Lambda"

    def one_sub_unfrozen(config):  # base frozen, one layer in it not: Keras's flags decide
        _base_config(config)["layers"][1]["config"]["trainable"] = True

    for edit in (swap_names, custom_layer, lambda_head, one_sub_unfrozen):
        edited = _rewrite(frozen, tmp_path / f"{edit.__name__}.keras", edit)
        assert _file_way(edited, data_dir) is None, edit.__name__
    # the evaluator then loads it with Keras: the same description as before the fast path
    edited = tmp_path / "one_sub_unfrozen.keras"
    result = evaluate.measure_in_process({"model": str(edited), "inspect": True, "training": True,
                                          "data_dir": str(data_dir)})
    assert result["ok"] and result.get("read") != "file" and "file_model" in result
    assert result["training"] == json.loads(json.dumps(evaluate.describe_training(
        __import__("keras").saving.load_model(str(edited), safe_mode=True), str(data_dir))))
    fast = evaluate.measure_in_process({"model": str(frozen), "inspect": True, "training": True,
                                        "data_dir": str(data_dir)})
    assert fast["read"] == "file" and fast["training"] == _keras_way(frozen, data_dir)


@pytest.mark.slow  # Keras's import and three small fits: ~23 s on the shared machine
def test_a_small_own_base_reads_as_keras_loads_it_and_a_model_inside_a_base_goes_to_keras(data_dir, tmp_path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    x = np.random.default_rng(0).standard_normal((8, 8, 8, 3)).astype("float32")
    y = np.arange(8) % 2
    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c"),
                             keras.layers.BatchNormalization(center=False, name="bn"),
                             keras.layers.ReLU(), keras.layers.DepthwiseConv2D(3, use_bias=True, name="dw")],
                            name="own_base")
    model = keras.Sequential([base, keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    base.layers[0].trainable = False
    model.compile(optimizer=keras.optimizers.RMSprop(3e-4), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "own.keras")
    fast = _file_way(tmp_path / "own.keras", data_dir)
    assert fast is not None and fast == _keras_way(tmp_path / "own.keras", data_dir)
    assert fast["bases"][0]["trainable_layers"] == 2 and fast["optimizer"]["iterations"] == 2
    assert fast["bases"][0]["imagenet"]["status"] == "no-reference"
    # unfrozen after the optimizer was built, saved without compiling again: Keras builds a larger
    # optimizer on loading and skips the saved one (0 iterations); the reader leaves it to Keras
    base.layers[0].trainable = True
    model.save(tmp_path / "flags_changed.keras")
    assert _keras_way(tmp_path / "flags_changed.keras", data_dir)["optimizer"]["iterations"] == 0
    assert _file_way(tmp_path / "flags_changed.keras", data_dir) is None

    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)], name="inner")
    nested = keras.Sequential([keras.Input((8, 8, 3)), keras.Sequential([inner, keras.layers.ReLU()]),
                               keras.layers.Flatten(), keras.layers.Dense(2)])
    nested.compile(optimizer="adam", loss="mse")
    nested.save(tmp_path / "nested.keras")
    assert _file_way(tmp_path / "nested.keras", data_dir) is None


@pytest.mark.slow  # Keras's import and a small model: ~15 s on the shared machine
def test_an_optimizer_never_stepped_reads_as_keras_loads_it(data_dir, tmp_path):
    """A fit that failed before its first batch (a student's images of the wrong size, as in
    submissions/alice.ipynb) leaves the optimizer unbuilt: its file holds only iterations (0) and
    the learning rate. Keras skips them on loading (a count that differs) or restores them; either
    way 0 iterations, which the reader gives without loading the model."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    inputs = keras.Input((8, 8, 3))  # a functional base, as keras.applications builds them
    features = keras.layers.BatchNormalization(name="bn")(keras.layers.Conv2D(4, 3, name="c")(inputs))
    base = keras.Model(inputs, features, name="own_base")
    model = keras.Sequential([keras.Input((8, 8, 3)), base, keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    base.trainable = False
    for name, optimizer in (("adam", keras.optimizers.Adam(1e-3)),
                            ("schedule", keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(
                                1e-2, decay_steps=10, decay_rate=0.9), momentum=0.9))):
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        with pytest.raises(ValueError):  # 4x4 images for an 8x8 model: fails before the first step
            model.fit(np.zeros((4, 4, 4, 3), "float32"), np.zeros(4, "int64"), epochs=1, verbose=0)
        model.save(tmp_path / f"{name}.keras")
        fast = _file_way(tmp_path / f"{name}.keras", data_dir)
        assert fast is not None, name
        assert fast == _keras_way(tmp_path / f"{name}.keras", data_dir), name
        assert fast["optimizer"]["iterations"] == 0 and fast["bases"][0]["trainable_layers"] == 0
