"""Measure a student's trained model outside the student's kernel, on data the grader holds.

The kernel saved each trained model as `.keras` (capture dir). `measure()` copies that file
into a fresh sandbox (grader/execute/sandbox.py: bubblewrap, no network, its own memory cap
and a time limit) and runs this file there as a script (`python -c <this source> SPEC.json`:
it needs nothing from the grader's package, so the repository stays hidden from it). The
script:

1. inspects the file before loading it: the zip's member sizes, and the parameter count the
   config declares, computed from each layer's config and build shape without building
   anything (`config_params`), so a 1 KB config declaring 300M parameters is refused with a
   status instead of allocating gigabytes;
2. loads the model with Keras' `safe_mode` (no deserialised Python code);
3. rebuilds the inputs from the official data files with the student's preprocessing as
   captured (an affine map of raw pixels, the sample shape, a resize when the student resized),
   and checks them against the statistics the capture recorded: inputs the grader cannot
   reproduce are a status (`input-mismatch`), not a number;
4. predicts on the official test set with the official labels, never on the student's own
   split or labels;
5. probes memorisation and test-set training: the model's accuracy on the test set against a
   grader-chosen sample of the training set (and, as evidence, shifted noisy copies of both),
   see `memorisation()`.

It prints one JSON object. Student code is never imported or executed here. Every result of a
model that loaded carries `file_model` (`describe_model`): the architecture as the file holds it
(layers, output shapes, parameter counts, loss, optimizer steps), which the checks score from
(grader/checks/modelfile.py), never from the kernel's capture. A spec with `inspect: true` only
loads and describes the model (no data needed), for questions that measure no accuracy; with
`training: true` as well (a model saved after one fit()) it describes how the file was trained
(`describe_training`: optimizer, base trainable flags, base weights against the grader's own
ImageNet weights).

Spec: {"model": path, "data_dir": dir, "dataset": "mnist"|"cifar10", "scale": float,
       "offset": float, "sample_shape": [...], "dtype": str,
       "expect": {"min", "max", "mean", "exact": bool} | None, "max_params": int, "probe": bool}
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: official data sets: file name in the data dir (same table as grader/fingerprint.py)
OFFICIAL = {"mnist": "mnist.npz", "cifar10": "cifar10-10k.npz"}
#: models declaring more parameters than this are not loaded (VGG16 without its top: 14.7M)
MAX_PARAMS = 100_000_000
MAX_CONFIG_BYTES = 16 << 20
MAX_MODEL_BYTES = 2 << 30  # uncompressed size of every member of the .keras zip together
#: training images in the memorisation probe, images per perturbed copy (evidence only), and
#: the decision rule (see `memorisation`)
PROBE_N = 5000
PERTURBED_N = 5000
MEMO_MARGIN = 0.005
MEMO_REL = 0.1
MEMO_Z = 2.0


# ---- the saved model, before loading it -------------------------------------------------------

def _prod(values: list[Any]) -> int:
    out = 1
    for v in values:
        out *= int(v) if isinstance(v, (int, float)) and v and v > 0 else 1
    return out


def _ints(v: Any, n: int = 2) -> list[int]:
    if isinstance(v, (int, float)):
        return [int(v)] * n
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else [1] * n


def _layer_params(cls: str, cfg: dict[str, Any], shape: list[Any] | None) -> int:
    """Weights a layer allocates when built on `shape` (batch axis first), from its config."""
    last = shape[-1] if shape and isinstance(shape[-1], int) else 1
    first = shape[1] if shape and len(shape) > 1 and isinstance(shape[1], int) else 1
    chans = first if cfg.get("data_format") == "channels_first" else last
    bias = 1 if cfg.get("use_bias", True) else 0
    units = int(cfg.get("units") or 0)
    filters = int(cfg.get("filters") or 0)
    if cls == "Dense":
        return last * units + bias * units
    if cls in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        rank = 1 if "1D" in cls else 3 if "3D" in cls else 2
        k = _prod(_ints(cfg.get("kernel_size", 1), rank))
        groups = int(cfg.get("groups") or 1)
        return k * max(chans // groups, 1) * filters + bias * filters
    if cls in ("DepthwiseConv1D", "DepthwiseConv2D"):
        dm = int(cfg.get("depth_multiplier") or 1)
        k = _prod(_ints(cfg.get("kernel_size", 1), 1 if "1D" in cls else 2))
        return k * chans * dm + bias * chans * dm
    if cls in ("SeparableConv1D", "SeparableConv2D"):
        dm = int(cfg.get("depth_multiplier") or 1)
        k = _prod(_ints(cfg.get("kernel_size", 1), 1 if "1D" in cls else 2))
        return k * chans * dm + chans * dm * filters + bias * filters
    if cls == "BatchNormalization":
        return 4 * chans
    if cls in ("LayerNormalization", "GroupNormalization"):
        return 2 * chans
    if cls == "Embedding":
        return int(cfg.get("input_dim") or 0) * int(cfg.get("output_dim") or 0)
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cls]
        biases = 2 if cls == "GRU" and cfg.get("reset_after", True) else 1
        return gates * (units * (last + units) + biases * units)
    if cls == "Normalization":
        return 2 * chans + 1
    return 0


def config_params(node: Any, depth: int = 0) -> int:
    """Parameters a Keras config declares, without building the model: every layer's weights
    from its own config and the input shape it is built on (build_config, or the shape of its
    first inbound tensor), nested models (a pretrained base, a Bidirectional wrapper) counted
    inside. Layers of unknown kinds count 0, so this is a lower bound of what loading costs."""
    if depth > 20 or not isinstance(node, dict):
        return 0
    cfg = node.get("config") if isinstance(node.get("config"), dict) else {}
    cls = str(node.get("class_name", ""))
    total = 0
    if isinstance(cfg.get("layers"), list):  # Sequential / Functional / a nested base
        total += sum(config_params(child, depth + 1) for child in cfg["layers"])
    for key in ("layer", "forward_layer", "backward_layer", "cell"):  # wrappers
        if isinstance(cfg.get(key), dict):
            total += config_params(cfg[key], depth + 1)
    build = node.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    if shape is None:
        for inbound in node.get("inbound_nodes") or []:
            args = inbound.get("args") if isinstance(inbound, dict) else None
            if args and isinstance(args[0], dict):
                shape = (args[0].get("config") or {}).get("shape")
                break
    if isinstance(shape, dict):  # a dict of named inputs: take the first
        shape = next(iter(shape.values()), None)
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        shape = shape[0]
    total += _layer_params(cls, cfg, shape if isinstance(shape, list) else None)
    return total


def inspect_model_file(path: str, max_params: int = MAX_PARAMS) -> dict[str, Any]:
    """{ok, declared_params} or {ok: False, status, error} for a .keras file, without loading it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_MODEL_BYTES:
                return {"ok": False, "status": "model-too-large",
                        "error": f"the saved model unpacks to {total / 2**30:.1f} GiB, more than the "
                                 f"{MAX_MODEL_BYTES / 2**30:.0f} GiB the grader loads"}
            info = next((i for i in infos if i.filename == "config.json"), None)
            if info is None or info.file_size > MAX_CONFIG_BYTES:
                return {"ok": False, "status": "model-unreadable",
                        "error": "the saved model has no readable config.json"}
            config = json.loads(z.read(info).decode("utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile, RecursionError) as exc:
        return {"ok": False, "status": "model-unreadable",
                "error": f"the saved model is not a readable .keras file ({type(exc).__name__})"}
    declared = config_params(config)
    if declared > max_params:
        return {"ok": False, "status": "model-too-large", "declared_params": declared,
                "error": f"the saved model declares {declared:,} parameters, more than the "
                         f"{max_params:,} the grader loads; a model for this task needs far fewer"}
    return {"ok": True, "declared_params": declared}


# ---- the inputs -------------------------------------------------------------------------------

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


# ---- measuring ----------------------------------------------------------------------------------

def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float((np.asarray(model.predict(x, batch_size=256, verbose=0)).argmax(axis=1) == y).mean())


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


_READY = False
#: official arrays per (data dir, data set), loaded once per evaluator process
_OFFICIAL_CACHE: dict[tuple[str, str], dict[str, np.ndarray]] = {}


def _ready() -> None:
    """Tell the grader side that the evaluator itself works (Keras imported, data loaded)."""
    global _READY
    if not _READY:
        _READY = True
        print(json.dumps({"stage": "ready"}), flush=True)


def _official(data_dir: str, dataset: str) -> dict[str, np.ndarray]:
    key = (str(data_dir), dataset)
    if key not in _OFFICIAL_CACHE:
        _OFFICIAL_CACHE[key] = load_official(data_dir, dataset)
    return _OFFICIAL_CACHE[key]


#: layer config keys kept in a file's description (the capture keeps the same, inkernel/50_capture.py)
_CONFIG_KEYS = ("filters", "kernel_size", "strides", "padding", "activation", "units", "pool_size",
                "rate", "scale", "offset", "height", "width", "from_logits", "axis", "data_format")


def _shape(owner: Any, attr: str) -> list[Any] | None:
    """owner.output's shape, or the first of owner.inputs / owner.outputs; None when unbuilt."""
    try:
        value = getattr(owner, attr)
        return list((value if attr == "output" else value[0]).shape)
    except Exception:
        return None


def _count(weights: Any) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def describe_model(model: Any, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The loaded model's architecture, in the capture's row format (so the two can be compared):
    top-level layers with class, name, output shape, parameters, trainable flag and config
    essentials (a nested model, e.g. a pretrained base, is one row with its size), the model's
    input/output shapes, parameter counts, loss and the optimizer steps saved with it."""
    def jsonable(v: Any) -> Any:
        if isinstance(v, (int, float, bool, str, type(None))):
            return v
        if isinstance(v, (list, tuple)):
            return [jsonable(i) for i in v]
        return str(v)[:200]

    rows = []
    for layer in list(getattr(model, "layers", []))[:500]:
        try:
            config = layer.get_config()
        except Exception:
            config = {}
        row = {"class": type(layer).__name__, "name": layer.name, "output_shape": _shape(layer, "output"),
               "params": int(layer.count_params()) if getattr(layer, "built", False) else 0,
               "trainable": bool(layer.trainable), "trainable_params": _count(layer.trainable_weights),
               "config": {k: jsonable(config[k]) for k in _CONFIG_KEYS if k in config}}
        if len(getattr(layer, "layers", None) or []) > 0:
            row.update(nested=True, n_layers=len(layer.layers), input_shape=_shape(layer, "inputs"),
                       trainable_layers=sum(1 for sub in layer.layers if sub.trainable and sub.weights),
                       weighted_layers=sum(1 for sub in layer.layers if sub.weights))
        rows.append(row)
    loss = getattr(model, "loss", None)
    loss_desc = None
    if isinstance(loss, str):
        loss_desc = {"name": loss, "from_logits": False}
    elif loss is not None:
        cfg = {}
        with contextlib.suppress(Exception):
            cfg = loss.get_config()
        loss_desc = {"name": str(getattr(loss, "name", None) or type(loss).__name__),
                     "class": type(loss).__name__, "from_logits": bool(cfg.get("from_logits", False))}
    steps = None
    with contextlib.suppress(Exception):
        steps = int(model.optimizer.iterations.numpy())
    return {"class": type(model).__name__, "name": str(getattr(model, "name", "")), "layers": rows,
            "input_shape": _shape(model, "inputs"), "output_shape": _shape(model, "outputs"),
            "params": int(model.count_params()) if getattr(model, "built", False) else 0,
            "trainable_params": _count(model.trainable_weights), "loss": loss_desc,
            "optimizer_steps": steps, "declared_params": (facts or {}).get("declared_params")}


# ---- how a model with a pretrained base was trained (grader/checks/fitfiles.py) ----------------

#: the ImageNet no-top weight files the grader holds, by alpha (file names as Keras spells them)
IMAGENET_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_224_no_top.h5"
#: a changed tensor still counts as the ImageNet one it started from above this correlation
#: (random initialisations correlate ~0 with it; a few epochs of fine-tuning stay above 0.9)
FROM_IMAGENET_CORR = 0.5
#: a reference MobileNetV2 with the grader's weights, per weight file (built once per process)
_REFERENCE_CACHE: dict[str, dict[str, list[np.ndarray]] | None] = {}
#: off: per-fit files and the ImageNet reference are read by building Keras models, as before the
#: file reader (a spec's `read_file: false`, from GRADER_FAST_FITFILES=0 on the grader's side)
_READ_FILES = {"on": True}
#: the weight shapes in each held weight file's header, per file (read once per process)
_SHAPES_CACHE: dict[str, Counter[tuple[tuple[int, ...], ...]] | None] = {}
_MOVING = ("moving_mean", "moving_variance")


def _kind(var: Any) -> str:
    """"moving" for a BatchNormalization moving statistic, else "learnable"."""
    return "moving" if any(m in str(getattr(var, "path", var.name)) for m in _MOVING) else "learnable"


def _learning_rate(optimizer: Any) -> float | None:
    """The compiled optimizer's learning rate as saved: a float, or a schedule's initial value."""
    try:
        lr = optimizer.get_config().get("learning_rate")
    except Exception:
        return None
    return _rate(lr)


def _rate(lr: Any) -> float | None:
    """An optimizer config's learning rate: a float, or a serialised schedule's initial value."""
    if isinstance(lr, dict):  # a serialised schedule
        cfg = lr.get("config") or {}
        lr = next((cfg[k] for k in ("initial_learning_rate", "learning_rate") if k in cfg), None)
        if isinstance(lr, dict):  # a schedule wrapping another (warm-up)
            lr = (lr.get("config") or {}).get("initial_learning_rate")
    return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None


def _imagenet_path(data_dir: str | None, alpha: str) -> Path | None:
    """The grader's own ImageNet weight file for this alpha, if it holds one."""
    if not data_dir:
        return None
    name = IMAGENET_FILE.format(alpha=alpha)
    return next((p for p in (Path(data_dir) / "weights" / name, Path(data_dir) / name) if p.is_file()), None)


def _reference_shapes(data_dir: str | None, alpha: str) -> Counter[tuple[tuple[int, ...], ...]] | None:
    """The weight shapes of each weighted layer in the grader's ImageNet file, read from the file's
    header with h5py (milliseconds; building the reference model takes about a second). None
    when the file is not in Keras's weights-only layout (then only building it tells)."""
    import h5py

    path = _imagenet_path(data_dir, alpha)
    if path is None:
        return None
    if str(path) in _SHAPES_CACHE:
        return _SHAPES_CACHE[str(path)]
    with h5py.File(path, "r") as f:
        weighted = _legacy_weighted_layers(f)
        shapes = None if weighted is None else Counter(
            tuple(tuple(f[layer][n].shape) for n in names) for layer, names in weighted)
    _SHAPES_CACHE[str(path)] = shapes
    return shapes


def _legacy_weighted_layers(f: Any) -> list[tuple[str, list[str]]] | None:
    """(layer name, its weight names) of each weighted layer of an open h5 file in Keras's
    weights-only layout, in the file's order; None for another layout."""
    def text(v: Any) -> str:
        return v.decode() if isinstance(v, bytes) else str(v)

    if "layer_names" not in f.attrs:
        return None
    layers = [(text(n), [text(w) for w in f[text(n)].attrs.get("weight_names", [])])
              for n in f.attrs["layer_names"]]
    return [(n, w) for n, w in layers if w]


#: the weighted layers of keras.applications.MobileNetV2 without its top, in order, and what each
#: is: its legacy weight files name them otherwise (`mobl0_conv_0_depthwise`, ...) and Keras loads
#: them by this order
_MOBILENET_V2_LAYERS: tuple[tuple[str, str], ...] = (
    ("Conv1", "conv"), ("bn_Conv1", "bn"),
    *((f"expanded_conv_{part}", role) for part, role in (
        ("depthwise", "depthwise"), ("depthwise_BN", "bn"), ("project", "conv"), ("project_BN", "bn"))),
    *((f"block_{b}_{part}", role) for b in range(1, 17) for part, role in (
        ("expand", "conv"), ("expand_BN", "bn"), ("depthwise", "depthwise"), ("depthwise_BN", "bn"),
        ("project", "conv"), ("project_BN", "bn"))),
    ("Conv_1", "conv"), ("Conv_1_bn", "bn"))
_ROLE_WEIGHTS = {"conv": ("kernel",), "depthwise": ("depthwise_kernel",),
                 "bn": ("gamma", "beta", "moving_mean", "moving_variance")}


def _legacy_h5_weights(path: Path) -> dict[str, list[np.ndarray]] | None:
    """{layer name: weights} of a MobileNetV2 loaded with a weight file in Keras's weights-only
    h5 layout, read from the file: its weighted layers in order, each given the name of the
    MobileNetV2 layer Keras would load it into, when every one is the same kind of layer with
    its weights in Keras's order (`_MOBILENET_V2_LAYERS`). None otherwise (then Keras builds the
    reference). The same arrays as building it, without the second that costs
    (tests/test_fitfiles_fast.py)."""
    import h5py

    out: dict[str, list[np.ndarray]] = {}
    with h5py.File(path, "r") as f:
        weighted = _legacy_weighted_layers(f)
        if weighted is None or len(weighted) != len(_MOBILENET_V2_LAYERS):
            return None
        for (layer, names), (canonical, role) in zip(weighted, _MOBILENET_V2_LAYERS, strict=True):
            kinds = [n.rsplit("/", 1)[-1].split(":")[0] for n in names]
            if tuple(kinds) != _ROLE_WEIGHTS[role]:
                return None
            out[canonical] = [np.asarray(f[layer][n][()]) for n in names]
    return out


def _reference_weights(data_dir: str | None, alpha: str, built: bool = False
                       ) -> dict[str, list[np.ndarray]] | None:
    """{layer name: weights} of a fresh MobileNetV2 loaded with the grader's own ImageNet file:
    read from the file (`_legacy_h5_weights`) unless `built` or the file is in another layout,
    else from a MobileNetV2 Keras builds."""
    path = _imagenet_path(data_dir, alpha)
    if path is None:
        return None
    name = path.name
    if not built and _READ_FILES["on"]:
        key = f"{name}:file"
        if key not in _REFERENCE_CACHE:
            _REFERENCE_CACHE[key] = _legacy_h5_weights(path)
        read = _REFERENCE_CACHE[key]
        if read is not None:
            return read
    if name not in _REFERENCE_CACHE:
        import keras

        ref = keras.applications.MobileNetV2(weights=str(path), include_top=False, alpha=float(alpha),
                                             input_shape=(96, 96, 3))
        _REFERENCE_CACHE[name] = {layer.name: [np.asarray(w) for w in layer.get_weights()]
                                  for layer in ref.layers if layer.weights}
        del ref
    return _REFERENCE_CACHE[name]


def _held_alphas(data_dir: str | None) -> list[str]:
    import re

    found = set()
    for folder in (Path(data_dir) / "weights", Path(data_dir)) if data_dir else ():
        with contextlib.suppress(OSError):
            for p in folder.iterdir():
                m = re.fullmatch(IMAGENET_FILE.format(alpha=r"([0-9.]+)"), p.name)
                if m:
                    found.add(m.group(1))
    return sorted(found)


#: a base's weighted layer as compared: (layer name, [(tensor, "learnable" | "moving")]), the
#: tensors in the layer's `weights` order (Keras variables, or arrays read from a saved file)
BaseLayer = tuple[str, list[tuple[Any, str]]]


def _fitting(layers: list[BaseLayer], ref: dict[str, list[np.ndarray]]) -> int:
    """Weighted layers of the base with a reference layer of the same name and weight shapes."""
    return sum(1 for name, weights in layers if name in ref and len(ref[name]) == len(weights)
               and all(tuple(r.shape) == tuple(w.shape)
                       for r, (w, _) in zip(ref[name], weights, strict=True)))


def compare_with_imagenet(base: Any, data_dir: str | None) -> dict[str, Any]:
    """The base's weights against the grader's ImageNet weights, tensor by tensor (layer name,
    position and shape): how many are equal (bitwise, or allclose), and how the changed ones
    correlate. Learnable tensors and BatchNormalization moving statistics are counted apart.
    {"status": "no-reference", "why"} when no weight file the grader holds fits this base."""
    return compare_layers([(sub.name, [(var, _kind(var)) for var in sub.weights])
                           for sub in getattr(base, "layers", []) if sub.weights], data_dir)


def compare_layers(layers: list[BaseLayer], data_dir: str | None) -> dict[str, Any]:
    """`compare_with_imagenet` on a base's weighted layers, however they were read."""
    alphas = _held_alphas(data_dir)
    # A layer matches only with the same weight shapes, so the shapes in a file's header bound how
    # many layers can match: an alpha that cannot reach the 90 % below is not built at all.
    mine = Counter(tuple(tuple(w.shape) for w, _ in weights) for _, weights in layers)
    excluded: dict[str, int] = {}  # alpha -> the most layers that could match, too few
    for alpha in alphas:
        try:
            shapes = _reference_shapes(data_dir, alpha)
        except Exception as exc:  # the grader's own file is unreadable: not the student's
            return {"status": "no-reference", "environment": True,
                    "why": f"the grader's ImageNet weights (alpha {alpha}) could not be read: "
                           f"{type(exc).__name__}: {str(exc)[:200]}"}
        if shapes is None:
            continue
        bound = sum((mine & shapes).values())
        if bound < 0.9 * len(layers) or bound < 0.9 * sum(shapes.values()):
            excluded[alpha] = bound
    if alphas and len(excluded) == len(alphas):
        alpha = max(excluded, key=lambda a: excluded[a])
        return {"status": "no-reference", "why": f"the base is not a MobileNetV2 the grader holds ImageNet "
                f"weights for (at most {excluded[alpha]} of its {len(layers)} weighted layers have the "
                f"weight shapes of alpha {alpha})"}
    best: tuple[int, str, dict[str, list[np.ndarray]]] | None = None
    for alpha in alphas:
        if alpha in excluded:
            continue
        try:
            ref = _reference_weights(data_dir, alpha)
        except Exception as exc:  # the grader's own file or Keras failed: not the student's
            return {"status": "no-reference", "environment": True,
                    "why": f"the grader's ImageNet weights (alpha {alpha}) could not be loaded: "
                           f"{type(exc).__name__}: {str(exc)[:200]}"}
        if not ref:
            continue
        fits = _fitting(layers, ref)
        if fits < 0.9 * len(layers):  # the shapes could match: the names as Keras builds them decide
            built = _reference_weights(data_dir, alpha, built=True)
            if built is not ref and built:
                ref, fits = built, _fitting(layers, built)
        if best is None or fits > best[0]:
            best = (fits, alpha, ref)
    if best is None:
        return {"status": "no-reference", "why": "the grader holds no ImageNet MobileNetV2 weights"}
    fits, alpha, ref = best
    if not layers or fits < 0.9 * len(layers) or fits < 0.9 * len(ref):
        return {"status": "no-reference", "why": f"the base is not a MobileNetV2 the grader holds ImageNet "
                f"weights for ({fits} of its {len(layers)} weighted layers match alpha {alpha})"}
    out: dict[str, Any] = {"status": "ok", "reference": IMAGENET_FILE.format(alpha=alpha), "alpha": alpha,
                           "layers": len(layers), "unmatched_layers": len(layers) - fits}
    counts = {kind: {"n": 0, "bitwise": 0, "close": 0, "changed": 0, "from_imagenet": 0, "corr": []}
              for kind in ("learnable", "moving")}
    changed_layers: list[str] = []
    for name, weights in layers:
        theirs = ref.get(name)
        if theirs is None or len(theirs) != len(weights):
            continue
        for (var, kind), r in zip(weights, theirs, strict=True):
            w = np.asarray(var)
            if w.shape != r.shape:
                continue
            c = counts[kind]
            c["n"] += 1
            if np.array_equal(w, r):
                c["bitwise"] += 1
                c["close"] += 1
                c["from_imagenet"] += 1
                continue
            if np.allclose(w, r, rtol=1e-5, atol=1e-6):
                c["close"] += 1
                c["from_imagenet"] += 1
                continue
            c["changed"] += 1
            if name not in changed_layers:
                changed_layers.append(name)
            a, b = w.reshape(-1).astype(np.float64), r.reshape(-1).astype(np.float64)
            corr = float(np.corrcoef(a, b)[0, 1]) if a.size > 1 and a.std() > 0 and b.std() > 0 else 0.0
            c["corr"].append(corr if math.isfinite(corr) else 0.0)
            if corr >= FROM_IMAGENET_CORR:
                c["from_imagenet"] += 1
    for c in counts.values():
        corr = c.pop("corr")
        c["corr_mean"] = round(float(np.mean(corr)), 4) if corr else None
        c["corr_min"] = round(float(np.min(corr)), 4) if corr else None
    out.update(counts)
    out["changed_layers"] = changed_layers[:10]
    out["changed_layer_count"] = len(changed_layers)
    return out


def describe_training(model: Any, data_dir: str | None) -> dict[str, Any]:
    """What a model file says about how it was trained: the compiled optimizer (class, learning
    rate, initial value of a schedule, iterations), and for each nested base its trainable flags,
    a digest of each weight tensor (so two files of the same model can be compared) and how its
    weights compare with the grader's ImageNet weights (`compare_with_imagenet`)."""
    import hashlib

    opt = getattr(model, "optimizer", None)
    optimizer = None
    if opt is not None:
        steps = None
        with contextlib.suppress(Exception):
            steps = int(opt.iterations.numpy())
        optimizer = {"class": type(opt).__name__, "learning_rate": _learning_rate(opt), "iterations": steps}
    bases = []
    for layer in getattr(model, "layers", []):
        subs = getattr(layer, "layers", None) or []
        if not subs or not layer.weights:
            continue
        digests: dict[str, dict[str, str]] = {"learnable": {}, "moving": {}}
        for sub in subs:
            for i, var in enumerate(sub.weights):
                digests[_kind(var)][f"{sub.name}/{i}"] = hashlib.blake2b(
                    np.ascontiguousarray(np.asarray(var)).tobytes(), digest_size=8).hexdigest()
        weighted = [sub for sub in subs if sub.weights]
        bases.append({"name": layer.name, "class": type(layer).__name__, "trainable": bool(layer.trainable),
                      "trainable_layers": sum(1 for sub in weighted if sub.trainable),
                      "weighted_layers": len(weighted), "trainable_params": _count(layer.trainable_weights),
                      "params": int(layer.count_params()), "digests": digests,
                      "imagenet": compare_with_imagenet(layer, data_dir)})
    return {"optimizer": optimizer, "bases": bases}


# ---- the same description read from the file, without building the model ----------------------
# A per-fit file is a zip of config.json (the architecture, each layer's trainable flag, the
# compiled optimizer), metadata.json and model.weights.h5. Keras 3 stores a layer's variables in
# that h5 under its parent's `layers/<class in snake case, numbered in the parent's layer order>/
# vars/<i>`, i in the layer's `weights` order, with the layer's name as the group's `name`
# attribute; the optimizer's under `optimizer/vars` (0: iterations). `training_from_file` reads
# that, finding each layer both ways (config order and name attribute); anything it does not know
# (a layer class, a custom object, a quantized or LoRA layer, a name or count that disagrees) is
# None, and the evaluator loads the model with Keras instead (`describe_training`), which gives
# the same description (tests/test_fitfiles_fast.py), in about a second more per file.

#: weighted layers whose saved variables the file reader knows: class -> (learnable, moving) count
def _saved_counts(cls: str, cfg: dict[str, Any]) -> tuple[int, int] | None:
    if cls in ("Conv2D", "DepthwiseConv2D", "Dense"):
        return 1 + bool(cfg.get("use_bias", True)), 0
    if cls == "BatchNormalization":
        return bool(cfg.get("scale", True)) + bool(cfg.get("center", True)), 2
    return None


#: classes the file reader accepts anywhere in the config (any other: Keras decides)
_PLAIN_LAYERS = frozenset((
    "InputLayer", "Conv2D", "DepthwiseConv2D", "Dense", "BatchNormalization", "ReLU", "Add",
    "ZeroPadding2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dropout", "Flatten", "Activation",
    "MaxPooling2D", "AveragePooling2D", "Rescaling", "Resizing", "Softmax", "RandomFlip", "RandomRotation",
    "RandomZoom", "RandomTranslation", "RandomContrast", "Reshape", "Concatenate", "SpatialDropout2D",
    "GaussianNoise", "Functional", "Sequential"))
_PLAIN_OPTIMIZERS = frozenset(("Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
                               "Ftrl", "Lion", "Adafactor"))
_PLAIN_MODULES = ("keras", "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
                  "keras.optimizers", "keras.optimizers.schedules", "keras.losses", "keras.metrics",
                  "keras.src.models.functional")


def _plain_config(node: Any, depth: int = 0) -> bool:
    """Only Keras's own serialised objects (no custom, Lambda, quantized or LoRA layer)."""
    if depth > 60:
        return False
    if isinstance(node, list):
        return all(_plain_config(v, depth + 1) for v in node)
    if not isinstance(node, dict):
        return True
    cls = node.get("class_name")
    if (cls is not None and not _plain_object(str(cls), node.get("module"), node.get("registered_name"))) \
            or node.get("lora_rank"):
        return False
    return all(_plain_config(v, depth + 1) for v in node.values())


def _plain_object(cls: str, module: Any, registered: Any) -> bool:
    if module is None:
        return cls in ("__keras_tensor__", "__tuple__")
    if module not in _PLAIN_MODULES or registered not in (None, cls):
        return False
    if module == "keras.layers":
        return cls in _PLAIN_LAYERS
    return module != "keras" or cls in ("Sequential", "DTypePolicy")


def _saved_layers(model: dict[str, Any]) -> list[dict[str, Any]]:
    """A model config's layers as its h5 groups list them (a Sequential's without its input)."""
    layers = (model.get("config") or {}).get("layers") or []
    functional = model.get("class_name") == "Functional"
    return [e for e in layers if functional or e.get("class_name") != "InputLayer"]


def _snake(name: str) -> str:
    """Keras's `naming.to_snake_case`, as the saved file's group names spell a class."""
    import re

    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _children(h5: Any, parent: str, layers: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]] | None:
    """(layer config, its h5 `vars` group) per layer, in config order; None when a group is
    missing or holds another layer (its `name` attribute)."""
    used: dict[str, int] = {}
    out = []
    for entry in layers:
        key = _snake(str(entry.get("class_name")))
        used[key] = used.get(key, -1) + 1
        path = f"{parent}/layers/{key}" + (f"_{used[key]}" if used[key] else "")
        group = h5.get(f"{path}/vars")
        name = (entry.get("config") or {}).get("name")
        if group is None or group.attrs.get("name") != name:
            return None
        out.append((entry, group))
    return out


def _vars(group: Any) -> list[np.ndarray]:
    """A `vars` group's arrays in index order; raises on gaps (the caller falls back to Keras)."""
    keys = sorted(group.keys(), key=int)
    if keys != [str(i) for i in range(len(keys))]:
        raise ValueError("the saved variables are not numbered 0..n-1")
    return [np.asarray(group[k][()]) for k in keys]


def training_from_file(path: str, data_dir: str | None) -> dict[str, Any] | None:
    """`describe_training` of the model saved at `path`, read from the file with h5py (no Keras
    model built), or None when the file holds anything this reader does not know."""
    import hashlib
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("metadata.json"))
        config = json.loads(z.read("config.json"))
        weights = z.read("model.weights.h5")
    if not str(meta.get("keras_version", "")).startswith("3.") or not _plain_config(config):
        return None
    if config.get("class_name") not in ("Sequential", "Functional"):
        return None
    compiled = config.get("compile_config") or {}
    if not all(isinstance(compiled.get(k), (str, list, type(None))) for k in ("loss", "metrics")):
        return None  # a loss object: whether Keras can compile it again is Keras's to say
    if not all(isinstance(m, str) for m in compiled.get("metrics") or []):
        return None
    with h5py.File(io.BytesIO(weights), "r") as h5:
        optimizer = None
        opt = compiled.get("optimizer")
        if opt is not None:
            opt_cfg = opt.get("config") if isinstance(opt, dict) else None
            if not isinstance(opt_cfg, dict) or opt.get("module") != "keras.optimizers" \
                    or opt.get("class_name") not in _PLAIN_OPTIMIZERS or opt_cfg.get("use_ema") \
                    or opt_cfg.get("gradient_accumulation_steps"):
                return None
            group = h5.get("optimizer/vars")
            steps = 0
            if group is not None and len(group):
                first = np.asarray(group["0"][()])
                if first.shape != () or first.dtype.kind not in "iu":
                    return None
                steps = int(first)
            optimizer = {"class": opt["class_name"], "learning_rate": _rate(opt_cfg.get("learning_rate")),
                         "iterations": steps}
        top = _children(h5, "", _saved_layers(config))
        if top is None:
            return None
        if optimizer is not None and not _optimizer_loads(h5, config, top, opt):
            return None
        bases = []
        for entry, _ in top:
            if entry.get("class_name") not in ("Functional", "Sequential"):
                continue
            cfg = entry.get("config") or {}
            entry_path = _group_path(h5, top, entry)
            subs = _children(h5, entry_path, _saved_layers(entry))
            if subs is None:
                return None
            base_on = bool(cfg.get("trainable", True))
            digests: dict[str, dict[str, str]] = {"learnable": {}, "moving": {}}
            layers: list[BaseLayer] = []
            trainable_layers = trainable_params = params = 0
            for sub, group in subs:
                if sub.get("class_name") in ("Functional", "Sequential") or "layers" in group.parent:
                    return None  # a model inside the base: its weights are its layers'
                arrays = _vars(group)
                if not arrays:
                    continue
                sub_cfg = sub.get("config") or {}
                counts = _saved_counts(str(sub.get("class_name")), sub_cfg)
                if counts is None or sum(counts) != len(arrays):
                    return None
                kinds = ["learnable"] * counts[0] + ["moving"] * counts[1]
                name = str(sub_cfg.get("name"))
                for i, (a, kind) in enumerate(zip(arrays, kinds, strict=True)):
                    digests[kind][f"{name}/{i}"] = hashlib.blake2b(
                        np.ascontiguousarray(a).tobytes(), digest_size=8).hexdigest()
                on = bool(sub_cfg.get("trainable", True))
                if on and not base_on:
                    return None  # flags Keras may reconcile on loading: let it say
                trainable_layers += on
                params += sum(int(a.size) for a in arrays)
                if base_on and on:
                    trainable_params += sum(int(a.size) for a, k in zip(arrays, kinds, strict=True)
                                            if k == "learnable")
                layers.append((name, list(zip(arrays, kinds, strict=True))))
            if not layers:
                continue
            bases.append({"name": cfg.get("name"), "class": entry["class_name"], "trainable": base_on,
                          "trainable_layers": trainable_layers,
                          "weighted_layers": len(layers), "trainable_params": trainable_params,
                          "params": params, "digests": digests,
                          "imagenet": compare_layers(layers, data_dir)})
    return {"optimizer": optimizer, "bases": bases}


def _optimizer_slots(cls: str, cfg: dict[str, Any]) -> int | None:
    """Variables Keras's optimizer keeps per trainable variable (None: a class not counted here)."""
    if cls in ("Adam", "AdamW"):
        return 3 if cfg.get("amsgrad") else 2
    if cls == "SGD":
        return 1 if cfg.get("momentum") else 0
    if cls == "RMSprop":
        return 1 + bool(cfg.get("momentum")) + bool(cfg.get("centered"))
    return None


def _optimizer_loads(h5: Any, config: dict[str, Any], top: list[tuple[dict[str, Any], Any]],
                     opt: dict[str, Any]) -> bool:
    """Whether loading the file with Keras restores the saved optimizer's variables (iterations
    among them): Keras builds the optimizer for the model's trainable variables as the config
    flags them and skips the saved ones when their number differs (a model whose trainable
    flags changed after the optimizer was built). The reader agrees only where it can count."""
    group = h5.get("optimizer/vars")
    if group is None or not len(group):
        return True  # nothing saved: Keras's fresh optimizer has 0 iterations, as read
    slots = _optimizer_slots(str(opt.get("class_name")), opt.get("config") or {})
    if slots is None or not bool((config.get("config") or {}).get("trainable", True)):
        return False
    trainable = 0
    for entry, vars_group in top:
        on = bool((entry.get("config") or {}).get("trainable", True))
        if entry.get("class_name") in ("Functional", "Sequential"):
            subs = [(e, (e.get("config") or {})) for e in _saved_layers(entry)]
            if not on:
                continue
            groups = _children(h5, vars_group.parent.name.lstrip("/"), _saved_layers(entry)) or []
            for (sub, sub_cfg), (_, sub_group) in zip(subs, groups, strict=False):
                if len(sub_group) and sub_cfg.get("trainable", True):
                    counts = _saved_counts(str(sub.get("class_name")), sub_cfg)
                    if counts is None:
                        return False
                    trainable += counts[0]
        elif len(vars_group):
            counts = _saved_counts(str(entry.get("class_name")), entry.get("config") or {})
            if counts is None or sum(counts) != len(vars_group):
                return False
            trainable += counts[0] if on else 0
    schedule = isinstance((opt.get("config") or {}).get("learning_rate"), dict)
    return len(group) == (1 if schedule else 2) + slots * trainable


def _group_path(h5: Any, top: list[tuple[dict[str, Any], Any]], entry: dict[str, Any]) -> str:
    """The h5 path of a top-level layer's group (its `vars` group's parent)."""
    return next(g for e, g in top if e is entry).parent.name.lstrip("/")


def measure_in_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Inspect, load, predict, score, probe. Runs in the sandboxed evaluator (imports Keras)."""
    facts = inspect_model_file(spec["model"], int(spec.get("max_params") or MAX_PARAMS))
    if not facts["ok"]:  # refused before Keras is even imported
        return facts
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    clock = [time.monotonic()]
    import keras

    _READ_FILES["on"] = bool(spec.get("read_file", True))
    if spec.get("training") and spec.get("inspect") and _READ_FILES["on"]:
        described = None
        with contextlib.suppress(Exception):  # whatever the reader cannot tell, Keras tells below
            described = training_from_file(spec["model"], spec.get("data_dir"))
        if described is not None:  # a per-fit file needs only this (grader/checks/fitfiles.py)
            if "keras" in sys.modules:
                _ready()
            return {"ok": True, "inspect": True, "training": described, "read": "file"}
    if spec.get("inspect"):  # the architecture only: load and describe, no data
        _ready()
        try:
            model = keras.saving.load_model(spec["model"], safe_mode=True)
        except Exception as exc:
            return {"ok": False, "status": "model-unloadable", "error": "the saved model could not be "
                    f"loaded safely: {type(exc).__name__}: {str(exc)[:300]}"}
        out = {"ok": True, "inspect": True, "file_model": describe_model(model, facts)}
        if spec.get("training"):  # a per-fit file: how it was trained (grader/checks/fitfiles.py)
            out["training"] = describe_training(model, spec.get("data_dir"))
        return out

    arrays = _official(spec["data_dir"], spec["dataset"])
    _ready()  # from here on, failures are the model's
    y = labels_of(arrays["y_test"])
    try:
        x = preprocess(arrays["x_test"], spec)
        check_inputs(x, spec.get("expect"))
    except InputMismatch as exc:
        return {"ok": False, "status": "input-mismatch", "error": str(exc),
                "declared_params": facts["declared_params"]}
    try:
        model = keras.saving.load_model(spec["model"], safe_mode=True)
    except Exception as exc:  # unsafe layers, custom classes, a broken file
        return {"ok": False, "status": "model-unloadable",
                "error": "the saved model could not be loaded safely: "
                         f"{type(exc).__name__}: {str(exc)[:300]}"}
    clock.append(time.monotonic())
    described = describe_model(model, facts)
    try:
        probs = np.asarray(model.predict(x, batch_size=256, verbose=0))
    except Exception as exc:
        return {"ok": False, "status": "input-mismatch", "file_model": described,
                "error": f"the model does not accept the official test images preprocessed as in the "
                         f"notebook ({list(x.shape[1:])}): {type(exc).__name__}: {str(exc)[:200]}"}
    if probs.ndim != 2 or probs.shape[1] < 2:
        return {"ok": False, "status": "bad-output", "file_model": described,
                "error": f"the model's output has shape {list(probs.shape)}, not one score per class"}
    pred = probs.argmax(axis=1)
    correct = pred == y
    per_class = [float(correct[y == c].mean()) if np.any(y == c) else None
                 for c in range(int(max(y.max() + 1, probs.shape[1])))]
    out: dict[str, Any] = {"ok": True, "accuracy": float(correct.mean()), "n": int(len(y)),
                           "per_class": per_class, "input_shape": list(x.shape),
                           "input_range": [float(x.min()), float(x.max())],
                           "file_model": described}
    clock.append(time.monotonic())
    if spec.get("probe", True):
        n = min(int(spec.get("probe_n") or PROBE_N), len(arrays["x_train"]))
        m = min(n, PERTURBED_N, len(y))  # the perturbed copies (evidence only)
        rng = np.random.default_rng(20240607)
        tr = rng.choice(len(arrays["x_train"]), n, replace=False)
        te = rng.choice(len(y), m, replace=False)
        ytr = labels_of(arrays["y_train"])[tr]
        xtr, xte = arrays["x_train"][tr], arrays["x_test"][te]
        probe = {"train": _accuracy(model, preprocess(xtr, spec), ytr),
                 "test_perturbed": _accuracy(model, preprocess(perturb(xte, 1), spec), y[te]),
                 "train_perturbed": _accuracy(model, preprocess(perturb(xtr[:m], 2), spec), ytr[:m])}
        out["memorisation"] = memorisation(out["accuracy"], len(y), probe, n, m)
    clock.append(time.monotonic())
    out["keras_evaluate"] = _keras_evaluate(model, probs, y, spec["model"])
    clock.append(time.monotonic())
    names = ("load_s", "predict_s", "probe_s", "keras_evaluate_s")  # where the evaluator's time went
    out["timings"] = {name: round(clock[i + 1] - clock[i], 3) for i, name in enumerate(names)}
    return out


def _keras_evaluate(model: Any, probs: np.ndarray, y: np.ndarray, path: str) -> float | None:
    """The accuracy Keras's own `evaluate` reports for these inputs, when the model was compiled
    with one, from the predictions already made: the compiled metrics are updated on them
    (`compute_metrics`, what `evaluate`'s test step does after its forward pass, which gives
    the same outputs as `predict` at the same batch size), so the test set is predicted once.
    Labels are one-hot for categorical/binary losses; a second try reloads the model (a failed
    first call can leave the compiled metrics built for the wrong label shape)."""
    import keras

    if getattr(model, "loss", None) is None:
        return None
    classes = probs.shape[1]
    name = str(getattr(model.loss, "name", model.loss)).lower()
    one_hot = np.eye(classes, dtype="float32")[y]
    dense = ("categorical" in name and "sparse" not in name) or "binary" in name
    tries = [one_hot, y] if dense else [y, one_hot]
    for attempt, labels in enumerate(tries):
        try:
            if attempt:
                model = keras.saving.load_model(path, safe_mode=True)
            model.reset_metrics()
            result = model.compute_metrics(None, labels, probs, sample_weight=None)
            result = {k: float(np.asarray(v)) for k, v in dict(result).items()}
        except Exception:
            continue
        for key, value in result.items():
            if "acc" in key:
                return value
        return None
    return None


def _free(keras_loaded: bool) -> None:
    """Between two models of one evaluator process: drop Keras's graph state and garbage."""
    import gc

    if keras_loaded:
        with contextlib.suppress(Exception):
            import keras

            keras.backend.clear_session()
    gc.collect()


def _measure_guarded(spec: dict[str, Any]) -> dict[str, Any]:
    """measure_in_process, with what went wrong classified: before the evaluator was ready it
    is the grader's environment; a MemoryError is the model's size."""
    try:
        return measure_in_process(spec)
    except Exception as exc:  # MemoryError included
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        if not _READY:  # Keras or the official data could not be loaded: the grader's problem
            result.update(environment=True,
                          error="the grader's evaluator could not start: " + result["error"])
        elif isinstance(exc, MemoryError):
            result.update(status="model-too-large", memory_error=True,
                          error="measuring the model ran out of the evaluator's memory limit")
        return result


# ---- the sandboxed run (grader side) -----------------------------------------------------------

#: the evaluator's own limits: private memory (RLIMIT_DATA, like the kernel's) and wall time
#: (per model: each model of a batch has this long from the previous model's result)
EVAL_MEMORY = "6G"
EVAL_TIMEOUT_S = 900.0


def _copy_regular(src: Path, dest: Path, limit: int = MAX_MODEL_BYTES) -> str | None:
    """Copy a capture file into the evaluator's folder: a regular file, opened without following
    a link, at most `limit` bytes. Returns why not, or None."""
    import stat

    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return f"the saved model {src.name} cannot be opened ({exc.strerror})"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return f"the saved model {src.name} is not a regular file"
        if info.st_size > limit:
            return f"the saved model is {info.st_size / 2**30:.1f} GiB, more than the grader loads"
        with open(dest, "wb") as out:
            copied = 0
            while chunk := fh.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    return "the saved model grew while it was copied"
                out.write(chunk)
    return None


def measure(spec: dict[str, Any], workdir: Path, timeout: float = EVAL_TIMEOUT_S,
            memory: str | int | None = None) -> dict[str, Any]:
    """Run the evaluator on `spec` in a fresh sandbox; never raises for what the model does.
    (`workdir`, the capture folder, is kept for callers; nothing is written there.)

    A result with `environment: True` means the grader's own evaluator could not run (bwrap
    failed, Python or Keras could not start): not the student's fault, so not their zero."""
    del workdir  # the capture folder is the student's: the sandbox's folder lives in the grader's TMPDIR
    return measure_many([spec], timeout=timeout, memory=memory)[0]


def measure_many(specs: list[dict[str, Any]], timeout: float = EVAL_TIMEOUT_S,
                 memory: str | int | None = None, early: Evaluator | None = None) -> list[dict[str, Any]]:
    """Measure every spec (one per saved model) in one sandboxed evaluator process, so Keras is
    imported and each official data set loaded once per submission; results in spec order.
    `early`: an evaluator started beforehand (`Evaluator.start`, `evaluator_for`), used first;
    without one, the worker's kept evaluator when there is one (`keep_evaluators`).

    Each model's result is what measuring it alone gives: one that times out, crashes the
    process or runs out of memory while not the first of a fresh process (a model before it
    in this batch, or an earlier submission in a kept evaluator) is measured again as the first
    of a fresh one, and the models after it in a fresh one after that."""
    results: dict[int, dict[str, Any]] = {}
    pending = list(range(len(specs)))
    first = True
    while pending:
        batch = [specs[i] for i in pending]
        evaluator = early if early is not None and early.usable(batch, memory) else None
        if early is not None and evaluator is None:
            early.release()
        early = None
        if evaluator is None:  # a retry always gets a fresh process of its own
            evaluator = (evaluator_for(_data_dir(batch), memory) if first
                         else Evaluator.start(_data_dir(batch), memory))
        first = False
        fresh = evaluator.batches == 0
        got, failure = evaluator.run(batch, timeout)
        for offset, result in got.items():
            results[pending[offset]] = result
        done = set(got)
        if failure is not None:
            first_missing = min(set(range(len(pending))) - done)
            if first_missing == 0 and fresh:  # first in a fresh process: that is its own result
                results[pending[0]] = failure
                done.add(0)
        retry = [i for i, r in got.items() if (i > 0 or not fresh) and r.get("memory_error")]
        for offset in retry:  # ran out of memory after another model: measure it alone
            done.discard(offset)
            del results[pending[offset]]
        pending = [p for offset, p in enumerate(pending) if offset not in done]
    if early is not None:
        early.release()
    for result in results.values():
        result.pop("memory_error", None)
    return [results[i] for i in range(len(specs))]


def _data_dir(specs: list[dict[str, Any]]) -> str | None:
    data_dirs = {str(Path(s["data_dir"]).resolve()) for s in specs if s.get("data_dir")}
    if len(data_dirs) > 1:
        raise ValueError("one evaluator process reads one data directory")
    return next(iter(data_dirs), None)


# ---- a batch worker's kept evaluator -----------------------------------------------------------

#: "on": keep_evaluators was called; "evaluator": the process kept between submissions
_KEPT: dict[str, Any] = {"on": False, "evaluator": None}


def keep_evaluators(on: bool = True) -> None:
    """A batch worker grades one submission after another: with this on, one evaluator process
    is kept between them (`evaluator_for`), so Keras is imported once per worker, not once per
    submission. Same sandbox and limits as a fresh one; nothing of one submission stays in its
    folder for the next; a failure in it closes it, and the model is measured again in a fresh
    process. Off (and at the worker's exit): the kept process is closed. GRADER_KEEP_EVALUATOR=0
    never keeps one (to measure what keeping saves)."""
    _KEPT["on"] = bool(on) and os.environ.get("GRADER_KEEP_EVALUATOR") != "0"
    if not _KEPT["on"] and _KEPT["evaluator"] is not None:
        _KEPT["evaluator"].close()


@contextlib.contextmanager
def one_evaluator_per_submission() -> Iterator[None]:
    """Outside a batch worker, keep one evaluator for the whole submission: its accuracy
    measurements and its per-fit model files (grader/checks/fitfiles.py) are graded by different
    items, and a second process would import Keras again (~6-11 s). Inside a worker, whose
    evaluator is kept already, this changes nothing; at the end the process is closed."""
    if _KEPT["on"]:
        yield
        return
    keep_evaluators(True)
    try:
        yield
    finally:
        keep_evaluators(False)


def evaluator_for(data_dir: str | None, memory: str | int | None = None) -> Evaluator:
    """The kept evaluator when it is alive and set up for this data directory and memory cap;
    otherwise one started now (and kept for the next submission, when keeping is on)."""
    kept: Evaluator | None = _KEPT["evaluator"]
    resolved = str(Path(data_dir).resolve()) if data_dir else None
    if kept is not None:
        if kept.alive() and kept.memory == memory and kept.data_dir == resolved:
            return kept
        kept.close()
    evaluator = Evaluator.start(data_dir, memory)
    if _KEPT["on"]:
        evaluator.keep = True
        _KEPT["evaluator"] = evaluator
    return evaluator


class Evaluator:
    """One sandboxed evaluator process (bubblewrap, no network, its memory cap).

    `start` launches it at once: it imports Keras and waits for a batch on stdin, so that a
    caller can start it while the notebook still runs (the import costs ~6 s). It sees only
    its own folder, where the models are copied when a batch comes; the time limit counts
    from then, per model. Used for one batch and closed, unless `keep` (a batch worker's, see
    `keep_evaluators`): then, after a batch that went well, the models are removed from its
    folder and it waits for the next batch."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.plan: Any = None
        self.proc: Any = None
        self.memory: str | int | None = None
        self.data_dir: str | None = None
        self.error: dict[str, Any] | None = None
        self.sandbox: dict[str, Any] = {}
        self.keep = False
        self.batches = 0  # batches sent to this process
        self.ready = False  # it said that Keras and the official data loaded
        self._lines: Any = None  # the process's stdout lines (a queue; None at its end)
        self._stderr_tail: list[str] = []
        self._readers: list[Any] = []

    @classmethod
    def start(cls, data_dir: str | None, memory: str | int | None = None) -> Evaluator:
        import queue
        import subprocess
        import tempfile
        import threading

        from grader.execute.sandbox import SandboxPlan, parse_memory

        self = cls()
        self.data_dir = str(Path(data_dir).resolve()) if data_dir else None
        self.memory = memory
        self.root = Path(tempfile.mkdtemp(prefix="grader-eval-"))
        try:
            limit = memory if memory is not None else os.environ.get("GRADER_EVAL_MEMORY", EVAL_MEMORY)
            self.plan = SandboxPlan(root=self.root, data_dir=self.data_dir, memory_bytes=parse_memory(limit))
            source = Path(__file__).read_text(encoding="utf-8")
            argv = self.plan.wrap([sys.executable, "-c", source, "--wait"])
            env = dict(self.plan.env(), TF_CPP_MIN_LOG_LEVEL="3")
            self.sandbox = self.plan.summary()
            try:
                self.proc = subprocess.Popen(argv, cwd=self.plan.workdir, env=env, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                             start_new_session=True)
            except OSError as exc:
                self.error = {"ok": False, "environment": True,
                              "error": f"the grader's evaluator could not start ({exc.strerror}: {argv[0]})"}
            else:
                self._lines = queue.Queue()
                proc, lines, tail = self.proc, self._lines, self._stderr_tail

                def read_stdout() -> None:
                    for line in proc.stdout:
                        lines.put(line)
                    lines.put(None)

                def read_stderr() -> None:
                    for line in proc.stderr:
                        tail.append(line)
                        del tail[:-50]

                self._readers = [threading.Thread(target=reader, daemon=True)
                                 for reader in (read_stdout, read_stderr)]
                for reader in self._readers:
                    reader.start()
        except BaseException:
            self.close()
            raise
        return self

    def alive(self) -> bool:
        return self.root is not None and (self.proc is None or self.proc.poll() is None)

    def usable(self, specs: list[dict[str, Any]], memory: str | int | None) -> bool:
        """Started for this batch's data directory and memory cap, and still there to use."""
        return self.alive() and self.memory == memory and self.data_dir == _data_dir(specs)

    def release(self) -> None:
        """Done with it for this submission: a kept evaluator waits for the next, any other closes."""
        if not (self.keep and self.alive() and _KEPT["evaluator"] is self):
            self.close()

    def close(self) -> None:
        import shutil
        import signal

        if _KEPT["evaluator"] is self:
            _KEPT["evaluator"] = None
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.plan is not None:
            self.plan.cleanup()  # the run's memory cgroup, where the machine offers one
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
        self.plan = self.root = None

    def run(self, specs: list[dict[str, Any]], timeout: float
            ) -> tuple[dict[int, dict[str, Any]], dict[str, Any] | None]:
        """Measure `specs`: ({offset: result}, the failure that ended the process early or None).
        Results stop at the first model that timed out or crashed the process."""
        try:
            got, failure = self._run(specs, timeout)
        except BaseException:
            self.close()
            raise
        if failure is not None or not self.keep:
            self.close()
        else:  # nothing of this submission stays for the next one
            for leftover in self.plan.workdir.iterdir():
                if leftover.name.startswith("model-") or leftover.name == "spec.json":
                    leftover.unlink(missing_ok=True)
        return got, failure

    def _run(self, specs: list[dict[str, Any]], timeout: float
             ) -> tuple[dict[int, dict[str, Any]], dict[str, Any] | None]:
        import queue
        import signal

        results: dict[int, dict[str, Any]] = {}
        inner: list[tuple[int, dict[str, Any]]] = []
        for offset, spec in enumerate(specs):
            model = self.plan.workdir / f"model-{offset}.keras"
            why = _copy_regular(Path(spec["model"]), model)
            if why:
                results[offset] = {"ok": False, "status": "model-unreadable", "error": why}
            else:
                inner.append((offset, dict(spec, model=str(model), data_dir=self.data_dir)))
        if not inner:
            return results, None
        if self.error is not None:
            return results, self.error
        proc, lines = self.proc, self._lines
        (self.plan.workdir / "spec.json").write_text(json.dumps({"batch": [s for _, s in inner]}))
        self.batches += 1
        with contextlib.suppress(OSError):  # a process that already died says why below
            proc.stdin.write(str(self.plan.workdir / "spec.json") + "\n")
            proc.stdin.flush()
            if not self.keep:
                proc.stdin.close()
        last_other, timed_out, finished = "", False, False
        deadline = time.monotonic() + timeout
        while not finished:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                timed_out = True
                break
            if line is None:
                break
            if not line.startswith("{"):
                last_other = line.strip() or last_other
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("stage") == "ready":
                self.ready = True
            elif message.get("stage") == "done":  # the batch is over: the process waits for the next
                finished = True
            elif isinstance(message.get("index"), int) and 0 <= message["index"] < len(inner):
                result = dict(message.get("result") or {})
                result["evaluator_sandbox"] = self.sandbox.get("method")
                results[inner[message["index"]][0]] = result
                deadline = time.monotonic() + timeout  # the next model has its own time
            if len(results) == len(specs):
                if not self.keep:
                    break  # every model measured: no need to wait for TensorFlow's slow exit
                deadline = min(deadline, time.monotonic() + 30.0)  # only "done" is still to come
        if len(results) == len(specs):
            if not finished:
                self.keep = False  # not back in a known state: not kept
            return results, None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if timed_out:
            return results, {"ok": False, "status": "timeout",
                             "error": f"measuring the model took longer than {timeout:g} s"}
        for reader in self._readers:  # the process is gone: its last lines are on their way
            reader.join(timeout=5)
        stderr = "".join(self._stderr_tail)
        tail = stderr.strip().splitlines()[-1:] or [last_other or "no output"]
        if not self.ready:  # it never got as far as the model: the grader's environment failed
            return results, {"ok": False, "environment": True,
                             "error": f"the grader's evaluator failed to start (exit {proc.returncode}): "
                                      f"{tail[0][:300]}"}
        killed = proc.returncode in (-9, 137) or "MemoryError" in stderr
        return results, {"ok": False, "status": "model-too-large" if killed else "evaluator-crashed",
                         "error": f"the evaluator failed while measuring the model (exit {proc.returncode}): "
                                  f"{tail[0][:300]}"}


def main(argv: list[str] | None = None) -> int:
    """SPEC.json: one spec (prints its result) or {"batch": [spec, ...]} (prints
    {"index": i, "result": ...} per model as soon as it is measured, then {"stage": "done"}).
    --wait: import Keras first, then measure each SPEC.json path read from stdin, until EOF."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grader.evaluate SPEC.json", file=sys.stderr)
        return 2
    if args[0] != "--wait":
        return _measure_file(args[0])
    with contextlib.suppress(Exception):  # a failure shows again, classified, when measuring
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras  # noqa: F401
    while line := sys.stdin.readline().strip():  # started early, or kept between submissions
        _measure_file(line)
        _free("keras" in sys.modules)
    return 0


def _measure_file(path: str) -> int:
    spec = json.loads(Path(path).read_text())
    if "batch" not in spec:
        print(json.dumps(_measure_guarded(spec)))
        return 0
    for index, one in enumerate(spec["batch"]):
        result = _measure_guarded(one)
        print(json.dumps({"index": index, "result": result}), flush=True)
        if index + 1 < len(spec["batch"]):
            _free("keras" in sys.modules)
    print(json.dumps({"stage": "done"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
