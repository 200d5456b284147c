"""Measure the memorisation probe (grader/evaluate.py `memorisation`) on honest and memorising
MNIST models: its false-alarm rate on honest models and whether it catches the memorisers.

    python benchmarks/memorisation_probe.py [--data-dir ../shared/datasets] [--seeds 2]

Honest models are trained the way students do (on the training set, briefly as in the quick
profile and longer); memorisers are built from standard layers (a Dense layer whose weights
are the normalised test images, then their one-hot labels) or trained on the test set. Each
model is saved as .keras and measured by the evaluator's own code (in this process, without the
sandbox), and one line per model is printed with the probe's figures and verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def _models(x_train, y_train, x_test, y_test):
    import keras
    from keras import layers

    def lookup(refs, labels):
        flat = refs.reshape(len(refs), -1)
        flat = flat / np.linalg.norm(flat, axis=1, keepdims=True)
        m = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.UnitNormalization(),
                              layers.Dense(len(refs), use_bias=False), layers.Rescaling(200.0),
                              layers.Softmax(), layers.Dense(10, use_bias=False)])
        m.layers[2].set_weights([flat.T])
        m.layers[5].set_weights([np.eye(10, dtype="float32")[labels]])
        return m

    def mlp():
        return keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                 layers.Dense(128, activation="relu"),
                                 layers.Dense(10, activation="softmax")])

    def small_cnn():
        return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(16, 3, activation="relu"),
                                 layers.MaxPooling2D(), layers.Conv2D(32, 3, activation="relu"),
                                 layers.MaxPooling2D(), layers.Flatten(), layers.Dense(64, activation="relu"),
                                 layers.Dense(10, activation="softmax")])

    def reference_cnn():
        from reference.models import build_mnist_cnn

        return build_mnist_cnn()

    def fit(model, x, y, epochs, n=None):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x[:n], y[:n], epochs=epochs, batch_size=128, verbose=0)
        return model

    quick = 6400  # the quick profile: 50 steps of 128
    yield "honest", "mlp quick (6,400 images)", lambda: fit(mlp(), x_train, y_train, 1, quick)
    yield "honest", "mlp 3 epochs", lambda: fit(mlp(), x_train, y_train, 3)
    yield "honest", "small cnn quick", lambda: fit(small_cnn(), x_train, y_train, 1, quick)
    yield "honest", "small cnn 2 epochs", lambda: fit(small_cnn(), x_train, y_train, 2)
    yield "honest", "reference cnn quick", lambda: fit(reference_cnn(), x_train, y_train, 1, quick)
    yield "honest", "reference cnn 1 epoch", lambda: fit(reference_cnn(), x_train, y_train, 1)
    yield "memorising", "lookup of the 10,000 test images", lambda: lookup(x_test, y_test)
    yield "memorising", "lookup of test + 20,000 training images", lambda: lookup(
        np.concatenate([x_test, x_train[:20000]]), np.concatenate([y_test, y_train[:20000]]))
    yield "memorising", "small cnn trained 5 epochs on the test set", lambda: fit(
        small_cnn(), x_test, y_test, 5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    parser.add_argument("--data-dir", default=str(default_data))
    parser.add_argument("--seeds", type=int, default=1, help="training seeds per honest model")
    parser.add_argument("--only", default="", help="comma-separated substrings of model names")
    args = parser.parse_args()
    import keras

    from grader.evaluate import measure_in_process

    data = np.load(Path(args.data_dir) / "mnist.npz")
    x_train = (data["x_train"] / 255.0).astype("float32")[..., None]
    x_test = (data["x_test"] / 255.0).astype("float32")[..., None]
    y_train, y_test = data["y_train"], data["y_test"]
    spec = {"data_dir": args.data_dir, "dataset": "mnist", "scale": 1 / 255, "offset": 0.0,
            "sample_shape": [28, 28, 1], "dtype": "float32"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, name, build in _models(x_train, y_train, x_test, y_test):
            if args.only and not any(s in name for s in args.only.split(",")):
                continue
            for seed in range(args.seeds if kind == "honest" else 1):
                keras.utils.set_random_seed(seed)
                started = time.monotonic()
                model = build()
                path = Path(tmp) / "model.keras"
                model.save(path)
                out = measure_in_process(dict(spec, model=str(path)))
                memo = out.get("memorisation") or {}
                row = {"kind": kind, "model": name, "seed": seed, "test": round(out.get("accuracy", 0), 4),
                       **{k: memo.get(k) for k in ("train", "test_perturbed", "train_perturbed", "advantage",
                                                   "advantage_perturbed", "memorised")},
                       "s": round(time.monotonic() - started, 1)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    honest = [r for r in rows if r["kind"] == "honest"]
    caught = [r for r in rows if r["kind"] == "memorising"]
    print(f"false alarms: {sum(r['memorised'] for r in honest)} of {len(honest)} honest models; "
          f"caught: {sum(r['memorised'] for r in caught)} of {len(caught)} memorising models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
