"""The official test and training images as the student's model expects them: loaded from the
grader's data files, preprocessed as the capture describes (`preprocess`), checked against the
statistics the capture recorded (`check_inputs`), and the perturbed copies of the memorisation
probe (`perturb`). Runs in the sandboxed evaluator."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

#: official data sets: file name in the data dir (same table as grader/fingerprint.py)
OFFICIAL = {"mnist": "mnist.npz", "cifar10": "cifar10-10k.npz"}


def load_official(data_dir: str, dataset: str) -> dict[str, np.ndarray]:
    with np.load(Path(data_dir) / OFFICIAL[dataset], allow_pickle=False) as data:
        return {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}


def labels_of(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    y = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    return y.astype(np.int64)


def preprocess(raw: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """The student's preprocessing of raw 0..255 pixels as captured: affine map, sample shape
    (a reshape, or a bilinear resize when only the image size differs), dtype."""
    try:
        dtype = np.dtype(spec.get("dtype") or "float32")
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "fiu":
        raise InputMismatch(f"the model was evaluated on data of type {spec.get('dtype')!r}, not numbers")
    x = raw.astype(np.float64) * float(spec.get("scale", 1 / 255)) + float(spec.get("offset", 0.0))
    shape = [int(s) for s in spec.get("sample_shape") or []]
    if shape and math.prod(shape) == math.prod(x.shape[1:]):
        x = x.reshape((len(x), *shape))
    elif shape:
        if x.ndim == 3:
            x = x[..., None]
        if len(shape) != 3 or shape[2] != x.shape[3]:
            raise InputMismatch(f"the model was evaluated on samples of shape {shape}, which the official "
                                f"images of shape {list(raw.shape[1:])} cannot be turned into")
        import tensorflow as tf

        x = np.concatenate([tf.image.resize(x[i:i + 500], shape[:2]).numpy() for i in range(0, len(x), 500)])
    return x.astype(dtype)


class InputMismatch(Exception):
    """The grader cannot rebuild the inputs the student's model was evaluated on."""


def check_inputs(x: np.ndarray, expect: dict[str, Any] | None) -> None:
    """Raise InputMismatch when the rebuilt inputs do not have the captured statistics. `exact`:
    the captured array was the official split itself (then they must agree closely); otherwise
    it was the student's own data, preprocessed the same way (min/max exact, mean close)."""
    if not expect or expect.get("min") is None or expect.get("max") is None:
        return
    lo, hi = float(x.min()), float(x.max())
    span = max(abs(float(expect["max"]) - float(expect["min"])), 1e-6)
    tol = 0.01 * span
    problems = []
    if abs(lo - expect["min"]) > tol or abs(hi - expect["max"]) > tol:
        problems.append(f"range [{lo:.4g}, {hi:.4g}] instead of [{expect['min']:.4g}, {expect['max']:.4g}]")
    if expect.get("mean") is not None:
        mean = float(x.mean(dtype=np.float64))
        # official train and test means differ by 0.2% of the range (MNIST and CIFAR-10)
        mtol = (0.01 if expect.get("exact") else 0.03) * span
        if abs(mean - float(expect["mean"])) > mtol:
            problems.append(f"mean {mean:.4g} instead of {float(expect['mean']):.4g}")
    if problems:
        raise InputMismatch("the official images preprocessed the way the capture describes (an affine "
                            "rescaling of the pixels) have " + " and ".join(problems)
                            + ", so the grader cannot reproduce the model's inputs")


def perturb(raw: np.ndarray, seed: int = 1) -> np.ndarray:
    """A copy no student has: each image shifted by one pixel in a random direction (of 8),
    plus Gaussian noise of 5% of the pixel range, in raw pixel units."""
    rng = np.random.default_rng(seed)
    x = raw.astype(np.float32)
    out = np.empty_like(x)
    dirs = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
    pick = rng.integers(0, len(dirs), len(x))
    for k, (dy, dx) in enumerate(dirs):
        idx = np.where(pick == k)[0]
        out[idx] = np.roll(x[idx], (dy, dx), axis=(1, 2))
    out += rng.normal(0.0, 0.05 * 255.0, out.shape).astype(np.float32)
    return np.clip(out, 0.0, 255.0)
