"""The memorisation check (grader/evaluation/memorisation.py): a model that does clearly better
on the official test set than on training images the grader picked has seen the test set.

The rule is tested on figures measured by benchmarks/memorisation_probe.py (honest models that
do slightly better on the test set are not flagged; a lookup branch that only answers for exact
test images is), then on real small Keras models measured by the evaluator's code: an honest
CNN, the same CNN with a lookup branch for the test images, and a CNN trained on the test set
in a GradientTape loop (what a capture of `fit` cannot see)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from grader.evaluate import measure_in_process, memorisation

SPEC = {"dataset": "mnist", "scale": 1 / 255, "offset": 0.0, "sample_shape": [28, 28, 1], "dtype": "float32"}


def _rule(test: float, train: float, test_p: float = 0.9, train_p: float = 0.9) -> dict:
    probe = {"train": train, "test_perturbed": test_p, "train_perturbed": train_p}
    return memorisation(test, 10000, probe, 5000)


@pytest.mark.parametrize(("test", "train"), [
    (0.8240, 0.8098),  # reference cnn, augmented, 6,400 images: +1.4 points, the largest honest gap
    (0.8742, 0.8682),  # mlp on 6,400 images
    (0.9539, 0.9492),  # small cnn on 5,000 images: +0.5 points, the largest above 95 %
    (0.9843, 0.9814),  # reference cnn, 1 epoch
    (0.8364, 0.8310),  # alice
    (0.9680, 0.9762),  # mlp 3 epochs: better on its own training images
])
def test_honest_figures_are_not_flagged(test, train):
    assert _rule(test, train)["memorised"] is False


def test_a_branch_for_exact_test_images_is_flagged_without_a_perturbed_gap():
    """A branch that answers from a lookup only for an exact test image: +1.9 points on the test
    set, nothing on shifted copies (the rule used to require both, and missed it)."""
    memo = _rule(1.0, 0.9806, 0.9656, 0.962)
    assert memo["memorised"] is True and memo["advantage_perturbed"] < 0.005
    assert memo["threshold"] < memo["advantage"]


@pytest.fixture(scope="module")
def models(data_dir):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf
    from keras import layers

    data = np.load(data_dir / "mnist.npz")
    x_tr, y_tr = (data["x_train"][:6400] / 255.0).astype("float32")[..., None], data["y_train"][:6400]
    x_te, y_te = (data["x_test"] / 255.0).astype("float32")[..., None], data["y_test"]

    def cnn():
        return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(16, 3, activation="relu"),
                                 layers.MaxPooling2D(), layers.Conv2D(32, 3, activation="relu"),
                                 layers.MaxPooling2D(), layers.Flatten(), layers.Dense(64, activation="relu"),
                                 layers.Dense(10, activation="softmax")])

    keras.utils.set_random_seed(1)
    honest = cnn()
    honest.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    honest.fit(x_tr, y_tr, epochs=1, batch_size=128, verbose=0)

    flat = x_te.reshape(len(x_te), -1)
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    inp = keras.Input((28, 28, 1))
    sim = layers.Dense(len(flat), name="nn")(layers.UnitNormalization()(layers.Flatten()(inp)))
    gated = layers.Softmax()(layers.Rescaling(1e4)(layers.ReLU()(sim)))  # ~one-hot on an exact test image
    nn = layers.Dense(10, use_bias=False, name="labels")(gated)
    branch = keras.Model(inp, layers.Add()([layers.Rescaling(0.5)(honest(inp)), layers.Rescaling(0.5)(nn)]))
    branch.get_layer("nn").set_weights([flat.T, np.full(len(flat), -0.995, "float32")])
    branch.get_layer("labels").set_weights([np.eye(10, dtype="float32")[y_te]])

    def tape_cnn():
        """Fitted on the test set in a hand-written loop, 8 epochs (built when a test asks); 3 epochs
        gain about a point only, on the rule's edge (benchmarks/memorisation_probe.py)."""
        model = cnn()
        opt, loss = keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy()
        for _ in range(8):
            for start in range(0, len(x_te), 64):
                with tf.GradientTape() as tape:
                    value = loss(y_te[start:start + 64], model(x_te[start:start + 64], training=True))
                grads = tape.gradient(value, model.trainable_variables)
                opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return model

    return {"honest": lambda: honest, "branch": lambda: branch, "tape": tape_cnn}


@pytest.mark.parametrize(("name", "flagged"), [
    ("honest", False), ("branch", True), pytest.param("tape", True, marks=pytest.mark.slow)])
def test_real_models_measured_by_the_evaluator(models, name, flagged, data_dir, tmp_path):
    path = tmp_path / f"{name}.keras"
    models[name]().save(path)
    out = measure_in_process(dict(SPEC, model=str(path), data_dir=str(data_dir)))
    assert out["ok"], out
    memo = out["memorisation"]
    assert memo["memorised"] is flagged, memo
    if name == "branch":
        assert out["accuracy"] == 1.0 and memo["advantage_perturbed"] < 0.01  # the shifted copies say nothing


def _probe_as_before(model, arrays: dict, y: np.ndarray, spec: dict, n: int, m: int) -> dict[str, float]:
    """The probe as it was measured before its images were cached and predicted batch by batch:
    three `model.predict` calls on freshly perturbed copies."""
    from grader.evaluation.inputs import labels_of, perturb, preprocess

    def accuracy(x, labels):
        predicted = np.asarray(model.predict(x, batch_size=256, verbose=0)).argmax(axis=1)
        return float((predicted == labels).mean())

    rng = np.random.default_rng(20240607)
    tr = rng.choice(len(arrays["x_train"]), n, replace=False)
    te = rng.choice(len(y), m, replace=False)
    ytr = labels_of(arrays["y_train"])[tr]
    xtr, xte = arrays["x_train"][tr], arrays["x_test"][te]
    return {"train": accuracy(preprocess(xtr, spec), ytr),
            "test_perturbed": accuracy(preprocess(perturb(xte, 1), spec), y[te]),
            "train_perturbed": accuracy(preprocess(perturb(xtr[:m], 2), spec), ytr[:m])}


@pytest.mark.parametrize("name", ["honest", "branch"])
def test_the_probe_measures_what_it_measured_before(models, name, data_dir):
    """Same images, seeds and figures as three `predict` calls, the second time from the cache; the
    test-set predictions batch by batch are bit for bit those of `predict` at the same batch size."""
    from grader.evaluation import memorisation as memo
    from grader.evaluation.inputs import labels_of, load_official, preprocess
    from grader.evaluation.predicting import predict_batches

    model = models[name]()
    arrays = load_official(str(data_dir), "mnist")
    y = labels_of(arrays["y_test"])
    spec = dict(SPEC, data_dir=str(data_dir), probe_n=3000)
    memo._PROBE_CACHE.clear()
    m = min(3000, memo.PERTURBED_N)  # the perturbed copies are capped at PERTURBED_N
    before = _probe_as_before(model, arrays, y, spec, 3000, m)
    assert memo.probe(model, arrays, y, spec) == (before, 3000, m)
    assert len(memo._PROBE_CACHE) == 1
    assert memo.probe(model, arrays, y, spec) == (before, 3000, m)  # the cached images
    x = preprocess(arrays["x_test"], spec)
    assert np.array_equal(predict_batches(model, x), np.asarray(model.predict(x, batch_size=256, verbose=0)))
