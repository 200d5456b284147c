"""Measure the memorisation check (grader/evaluate.py `memorisation`) on honest and cheating
MNIST models: its false-alarm rate on honest models and its detection rate on cheating ones.

    nice python benchmarks/memorisation_probe.py [--data-dir ../shared/datasets] [--seeds 2]
        [--only NAME,...] [--rows rows.jsonl] [--from-rows rows.jsonl]

Honest models are trained the way students do (MLP, small CNN, the reference CNN; with dropout
or augmentation; on the whole training set, the quick profile's 6,400 images, or a small subset
of 1,000 or 5,000 images, which leaves most of the grader's training sample unseen), a few
seeds each. Cheating models have seen the test set: trained on it (what a GradientTape loop or
a `fit` the capture does not see would do), trained on training + test images, or an honest CNN
mixed with a lookup table of the test images (an average at weight w, or a branch that answers
from the table only for an exact test image). Training is short (CPU). Each model is saved as
.keras and measured by the evaluator's own code (in this process, without the sandbox); one
line per model is printed with the probe's figures and verdict, then the rates.
`--rows` saves the rows; `--from-rows` re-reads saved rows and only prints the table; `--keep`
saves the models and `--from-models` measures saved models again (a new statistic, no training).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

Build = Callable[[], object]


def _models(x_train, y_train, x_test, y_test) -> Iterator[tuple[str, str, Build]]:
    import keras
    from keras import layers

    def lookup(refs, labels, gate: float | None = None):
        """Cosine nearest neighbour over `refs` from standard layers. `gate`: answer only for a
        near-exact copy of a stored image (cosine above the gate), else a flat 0.1 per class."""
        flat = refs.reshape(len(refs), -1)
        flat = flat / np.linalg.norm(flat, axis=1, keepdims=True)
        stack = [keras.Input((28, 28, 1)), layers.Flatten(), layers.UnitNormalization(),
                 layers.Dense(len(refs), use_bias=gate is not None)]
        stack += [layers.ReLU(), layers.Rescaling(1e4)] if gate is not None else [layers.Rescaling(200.0)]
        stack += [layers.Softmax(), layers.Dense(10, use_bias=False)]
        m = keras.Sequential(stack)
        bias = [np.full(len(refs), -gate, "float32")] if gate is not None else []
        m.layers[2].set_weights([flat.T, *bias])
        m.layers[-1].set_weights([np.eye(10, dtype="float32")[labels]])
        return m

    def mixed(honest, table, w: float):
        inputs = keras.Input((28, 28, 1))
        a = layers.Rescaling(1.0 - w)(honest(inputs))
        b = layers.Rescaling(w)(table(inputs))
        return keras.Model(inputs, layers.Add()([a, b]))

    def augment():
        return [layers.RandomRotation(0.05), layers.RandomTranslation(0.1, 0.1)]

    def mlp(dropout: float = 0.0, aug: bool = False):
        return keras.Sequential([keras.Input((28, 28, 1)), *(augment() if aug else []), layers.Flatten(),
                                 layers.Dense(128, activation="relu"), layers.Dropout(dropout),
                                 layers.Dense(10, activation="softmax")])

    def small_cnn(dropout: float = 0.0, aug: bool = False):
        return keras.Sequential([keras.Input((28, 28, 1)), *(augment() if aug else []),
                                 layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(),
                                 layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
                                 layers.Flatten(), layers.Dropout(dropout),
                                 layers.Dense(64, activation="relu"),
                                 layers.Dense(10, activation="softmax")])

    def reference_cnn(aug: bool = False):
        from reference.models import build_mnist_cnn

        ref = build_mnist_cnn()
        return keras.Sequential([keras.Input((28, 28, 1)), *augment(), *ref.layers]) if aug else ref

    def fit(model, x, y, epochs, n=None, pick=None):
        if pick is not None:  # a random subset of `pick` images
            idx = np.random.default_rng(pick).choice(len(x), pick, replace=False)
            x, y = x[idx], y[idx]
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x[:n], y[:n], epochs=epochs, batch_size=128, verbose=0)
        return model

    q = 6400  # the quick profile: 50 steps of 128
    honest = [
        ("mlp quick (6,400 images, 1 epoch)", lambda: fit(mlp(), x_train, y_train, 1, q)),
        ("mlp 3 epochs", lambda: fit(mlp(), x_train, y_train, 3)),
        ("mlp dropout 0.3, 3 epochs", lambda: fit(mlp(0.3), x_train, y_train, 3)),
        ("mlp 5,000 images, 10 epochs", lambda: fit(mlp(), x_train, y_train, 10, 5000)),
        ("small cnn quick", lambda: fit(small_cnn(), x_train, y_train, 1, q)),
        ("small cnn 2 epochs", lambda: fit(small_cnn(), x_train, y_train, 2)),
        ("small cnn dropout 0.5, 2 epochs", lambda: fit(small_cnn(0.5), x_train, y_train, 2)),
        ("small cnn augmented, 2 epochs", lambda: fit(small_cnn(aug=True), x_train, y_train, 2)),
        ("small cnn 1,000 images, 15 epochs", lambda: fit(small_cnn(), x_train, y_train, 15, 1000)),
        ("small cnn 5,000 random images, 6 epochs", lambda: fit(small_cnn(), x_train, y_train, 6, pick=5000)),
        ("small cnn 20,000 images, 3 epochs", lambda: fit(small_cnn(), x_train, y_train, 3, 20000)),
        ("reference cnn quick", lambda: fit(reference_cnn(), x_train, y_train, 1, q)),
        ("reference cnn 1 epoch", lambda: fit(reference_cnn(), x_train, y_train, 1)),
        ("reference cnn 5,000 images, 4 epochs", lambda: fit(reference_cnn(), x_train, y_train, 4, 5000)),
        ("reference cnn augmented quick", lambda: fit(reference_cnn(aug=True), x_train, y_train, 1, q)),
    ]
    for name, build in honest:
        yield "honest", name, build

    cache: dict[str, object] = {}

    def base():
        """One honest small CNN (2 epochs) for the mixtures, trained once."""
        if "cnn" not in cache:
            keras.utils.set_random_seed(0)
            cache["cnn"] = fit(small_cnn(), x_train, y_train, 2)
        return cache["cnn"]

    x_both, y_both = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    x_q, y_q = np.concatenate([x_train[:q], x_test]), np.concatenate([y_train[:q], y_test])
    cheating = [
        ("lookup of the 10,000 test images", lambda: lookup(x_test, y_test)),
        ("lookup of test + 20,000 training images", lambda: lookup(
            np.concatenate([x_test, x_train[:20000]]), np.concatenate([y_test, y_train[:20000]]))),
        ("small cnn trained on the test set, 1 epoch", lambda: fit(small_cnn(), x_test, y_test, 1)),
        ("small cnn trained on the test set, 3 epochs", lambda: fit(small_cnn(), x_test, y_test, 3)),
        ("small cnn trained on the test set, 8 epochs", lambda: fit(small_cnn(), x_test, y_test, 8)),
        ("small cnn trained on half the test set, 3 epochs",
         lambda: fit(small_cnn(), x_test, y_test, 3, 5000)),
        ("mlp trained on the test set, 5 epochs", lambda: fit(mlp(), x_test, y_test, 5)),
        ("reference cnn trained on the test set, 2 epochs", lambda: fit(reference_cnn(), x_test, y_test, 2)),
        ("small cnn on quick train + test, 2 epochs", lambda: fit(small_cnn(), x_q, y_q, 2)),
        ("small cnn on train + test, 2 epochs", lambda: fit(small_cnn(), x_both, y_both, 2)),
        ("reference cnn on train + test, 1 epoch", lambda: fit(reference_cnn(), x_both, y_both, 1)),
    ]
    for w in (0.1, 0.25, 0.5):
        cheating.append((f"small cnn averaged with a test lookup, w={w}",
                         lambda w=w: mixed(base(), lookup(x_test, y_test), w)))
    for w in (0.1, 0.25, 0.5):
        cheating.append((f"small cnn + lookup branch for exact test images, w={w}",
                         lambda w=w: mixed(base(), lookup(x_test, y_test, gate=0.995), w)))
    for name, build in cheating:
        yield "cheating", name, build


def table(rows: list[dict]) -> str:
    """The per-model gaps (points) and verdicts, then the false-alarm and detection rates. gap: test
    minus training-sample accuracy; gap-2se: the gap less two standard errors; thresh: the gap
    from which the rule flags; gap_p: the same gap on shifted noisy copies (evidence only)."""
    head = (f"{'kind':8} {'model':56} {'seed':>4} {'test':>6} {'train':>6} {'gap':>6} {'gap-2se':>7} "
            f"{'thresh':>6} {'t_pert':>6} {'tr_pert':>7} {'gap_p':>6} {'flag':>5}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['kind']:8} {r['model'][:56]:56} {r['seed']:>4} {100 * r['test']:6.2f} "
                     f"{100 * r['train']:6.2f} {100 * r['advantage']:+6.2f} "
                     f"{100 * (r['advantage'] - 2 * r['se']):+7.2f} {100 * r['threshold']:6.2f} "
                     f"{100 * r['test_perturbed']:6.2f} {100 * r['train_perturbed']:7.2f} "
                     f"{100 * r['advantage_perturbed']:+6.2f} {'YES' if r['memorised'] else 'no':>5}")
    honest = [r for r in rows if r["kind"] == "honest"]
    cheat = [r for r in rows if r["kind"] == "cheating"]
    gaps = [100 * r["advantage"] for r in honest]
    lines.append("")
    if gaps:
        lines.append(f"honest gaps (test - training sample, points): min {min(gaps):+.2f}, "
                     f"max {max(gaps):+.2f}, mean {np.mean(gaps):+.2f}")
    lines.append(f"false alarms: {sum(r['memorised'] for r in honest)} of {len(honest)} honest models "
                 f"({100 * sum(r['memorised'] for r in honest) / max(len(honest), 1):.0f}%)")
    lines.append(f"detected: {sum(r['memorised'] for r in cheat)} of {len(cheat)} cheating models")
    missed = [r for r in cheat if not r["memorised"]]
    for r in missed:
        lines.append(f"  missed: {r['model']} (test {100 * r['test']:.2f}%, "
                     f"{100 * r['advantage']:+.2f} points against the training sample)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    parser.add_argument("--data-dir", default=str(default_data))
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per honest model")
    parser.add_argument("--only", default="", help="comma-separated substrings of model names")
    parser.add_argument("--kind", choices=("honest", "cheating"), help="only honest or only cheating models")
    parser.add_argument("--rows", default="", help="append each row to this JSON Lines file")
    parser.add_argument("--from-rows", default="", help="print the table of saved rows, train nothing")
    parser.add_argument("--keep", default="", help="save each model in this folder (to measure it again)")
    parser.add_argument("--from-models", default="", help="measure the models --keep saved, train nothing")
    args = parser.parse_args()
    from grader.evaluate import memorisation

    if args.from_rows:
        rows = [json.loads(line) for line in Path(args.from_rows).read_text().splitlines() if line.strip()]
        for r in rows:  # the verdict of the rule as it is now, from the saved figures
            probe = {k: r[k] for k in ("train", "test_perturbed", "train_perturbed")}
            r.update(memorisation(r["test"], 10000, probe, r.get("n_probe") or 5000))
        print(table(rows))
        return 0
    import keras

    data = np.load(Path(args.data_dir) / "mnist.npz")
    x_train = (data["x_train"] / 255.0).astype("float32")[..., None]
    x_test = (data["x_test"] / 255.0).astype("float32")[..., None]
    y_train, y_test = data["y_train"], data["y_test"]
    spec = {"data_dir": args.data_dir, "dataset": "mnist", "scale": 1 / 255, "offset": 0.0,
            "sample_shape": [28, 28, 1], "dtype": "float32"}
    rows = []
    if args.from_models:  # models saved by --keep: measured again, nothing trained
        for path in sorted(Path(args.from_models).glob("*.keras")):
            kind, rest = path.stem.split("-", 1)
            name, seed = rest.rsplit("-", 1)
            if args.kind not in (None, kind) or not _picked(name, args.only):
                continue
            rows.append(_measure(spec, path, kind, name, int(seed), time.monotonic(), args.rows))
        print(table(rows))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind, name, build in _models(x_train, y_train, x_test, y_test):
            if not _picked(name, args.only) or args.kind not in (None, kind):
                continue
            seeds = args.seeds if kind == "honest" else 1
            for seed in range(seeds):
                keras.utils.set_random_seed(seed)
                started = time.monotonic()
                model = build()
                path = Path(args.keep or tmp) / f"{kind}-{name.replace('/', '_')}-{seed}.keras"
                model.save(path)
                rows.append(_measure(spec, path, kind, name, seed, started, args.rows))
    print(table(rows))
    return 0


def _picked(name: str, only: str) -> bool:
    return not only or any(s in name for s in only.split(","))


def _measure(spec: dict, path: Path, kind: str, name: str, seed: int, started: float, rows_file: str) -> dict:
    from grader.evaluate import measure_in_process

    out = measure_in_process(dict(spec, model=str(path)))
    memo = out.get("memorisation") or {}
    row = {"kind": kind, "model": name, "seed": seed, "test": round(out.get("accuracy", 0), 4),
           **{k: memo.get(k) for k in ("train", "test_perturbed", "train_perturbed", "advantage",
                                       "advantage_perturbed", "se", "threshold", "memorised",
                                       "n_probe")},
           "s": round(time.monotonic() - started, 1)}
    print(json.dumps(row), flush=True)
    if rows_file:
        with open(rows_file, "a") as fh:
            fh.write(json.dumps(row) + "\n")
    return row


if __name__ == "__main__":
    raise SystemExit(main())
