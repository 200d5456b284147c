"""Has the model seen the test set? The probe's figures (accuracy on a grader-chosen sample of the
training set and on shifted noisy copies of both sets, `probe`) and the decision rule on them
(`memorisation`). Runs in the sandboxed evaluator."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.evaluation.inputs import labels_of, perturb, preprocess
from grader.evaluation.predicting import predict_batches

#: training images in the memorisation probe, images per perturbed copy (evidence only), and
#: the decision rule (see `memorisation`). The perturbed copies decide nothing: 2,000 each
#: (standard error of their advantage about 0.5 points at 97 %, against the several points a
#: memoriser shows) instead of 5,000 saves 6,000 of the probe's 15,000 forward passes
PROBE_N = 5000
PERTURBED_N = 2000
MEMO_MARGIN = 0.005
MEMO_REL = 0.1
MEMO_Z = 2.0


#: the probe's raw images and labels per (data dir, data set, n, m): the same for every model, so
#: a batch worker's kept evaluator picks and perturbs them once
_PROBE_CACHE: dict[tuple[str, str, int, int], dict[str, np.ndarray]] = {}


def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict_batches(model, x).argmax(axis=1) == y).mean())


def probe_images(arrays: dict[str, np.ndarray], y: np.ndarray, n: int, m: int) -> dict[str, np.ndarray]:
    """The probe's raw images (0..255) and labels: `n` training images the grader picks (a fixed
    seed), shifted noisy copies (`perturb`) of `m` test images and of the first `m` of those."""
    rng = np.random.default_rng(20240607)
    tr = rng.choice(len(arrays["x_train"]), n, replace=False)
    te = rng.choice(len(y), m, replace=False)
    ytr = labels_of(arrays["y_train"])[tr]
    xtr, xte = arrays["x_train"][tr], arrays["x_test"][te]
    return {"train": xtr, "y_train": ytr, "test_perturbed": perturb(xte, 1), "y_test_perturbed": y[te],
            "train_perturbed": perturb(xtr[:m], 2), "y_train_perturbed": ytr[:m]}


def probe(model: Any, arrays: dict[str, np.ndarray], y: np.ndarray, spec: dict[str, Any]
          ) -> tuple[dict[str, float], int, int]:
    """The probe's figures for `memorisation`: the model's accuracy on `probe_images`, each set
    preprocessed as the spec says; with n, m. `y`: the official test labels."""
    n = min(int(spec.get("probe_n") or PROBE_N), len(arrays["x_train"]))
    m = min(n, PERTURBED_N, len(y))  # the perturbed copies (evidence only)
    key = (str(spec.get("data_dir")), str(spec.get("dataset")), n, m)
    if key not in _PROBE_CACHE:
        while len(_PROBE_CACHE) >= 4:  # a worker grades one assignment: one or two data sets
            del _PROBE_CACHE[next(iter(_PROBE_CACHE))]
        _PROBE_CACHE[key] = probe_images(arrays, y, n, m)
    images = _PROBE_CACHE[key]
    figures = {name: _accuracy(model, preprocess(images[name], spec), images[f"y_{name}"])
               for name in ("train", "test_perturbed", "train_perturbed")}
    return figures, n, m


def memorisation(test_acc: float, n_test: int, probe: dict[str, float], n_probe: int,
                 n_perturbed: int | None = None) -> dict[str, Any]:
    """Has the model seen the test set? Its accuracy on the official test set against a sample
    of the training set the grader chose (`probe["train"]`, `n_probe` images).

    Why this works although the student has the whole MNIST training set: the argument is the
    asymmetry between the two sets, not data the student never had. A model fitted on the
    training set scores at least as well on training images as on the test set (it was fitted
    on them, or, when it saw only a small subset, they are unseen images of the same kind); a
    model that does clearly better on the test set than on training images has learnt the test
    images (a lookup of them, a branch for them, training on them in a loop the capture does not
    see), whatever it does elsewhere. The grader picks the training sample (a fixed seed), so
    the student cannot choose which images it is compared on.

    The one honest exception: an under-trained model does slightly better on the MNIST test
    set (its digits are a little easier), and the weaker the model, the more: up to +1.4 points
    for an 82 % model, at most +0.5 above 95 % (30 honest models, benchmarks/memorisation_probe.py).
    So the advantage must exceed MEMO_Z standard errors (binomial, both sets) plus a margin of
    MEMO_MARGIN or MEMO_REL of the training-sample error rate, whichever is larger.

    Caught (same benchmark): 6 of 17 cheating models, every lookup of the test images alone or
    mixed at weight 0.5 (average or branch), a small CNN trained on the test set for 8 epochs
    and an MLP for 5. Missed: CNNs trained on the test set for 1-3 epochs (91-97.8 %, below an
    honest CNN trained for 2 epochs on the training set, 98.1 %), training + test images together,
    and mixtures at weight 0.1-0.25 (+0.2 to +0.7 points over their honest part).

    The perturbed copies (1-pixel shift + noise, `perturb`) are images no one has; their
    advantage is evidence only: a branch that answers from a lookup only for an exact test image
    shows none, so requiring one missed it. Not caught: a cheat that gains less than the margin
    plus 2 standard errors on the test set (training + test images together gain almost nothing
    on MNIST; a CNN trained on the test set for an epoch or two does about as well on training
    images, so it gains nothing over honest training either)."""
    def se(p: float, n: int) -> float:
        return math.sqrt(max(p * (1 - p), 1e-9) / max(n, 1))

    m = n_perturbed or n_probe
    clean = test_acc - probe["train"]
    shifted = probe["test_perturbed"] - probe["train_perturbed"]
    clean_se = math.hypot(se(test_acc, n_test), se(probe["train"], n_probe))
    shifted_se = math.hypot(se(probe["test_perturbed"], m), se(probe["train_perturbed"], m))
    threshold = MEMO_Z * clean_se + max(MEMO_MARGIN, MEMO_REL * (1.0 - probe["train"]))
    return {"memorised": bool(clean >= threshold), "advantage": round(clean, 4),
            "threshold": round(threshold, 4), "advantage_perturbed": round(shifted, 4),
            "se": round(clean_se, 4), "se_perturbed": round(shifted_se, 4), "n_probe": n_probe,
            "n_perturbed": m, **{k: round(v, 4) for k, v in probe.items()}}
