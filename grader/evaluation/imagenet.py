"""A pretrained base's weights against the grader's own ImageNet MobileNetV2 weights
(`compare_layers`): the reference read from the weight file the grader holds (Keras's legacy
weights-only h5 layout, `_legacy_h5_weights`) or, when the file is in another layout, from a
MobileNetV2 Keras builds. Runs in the sandboxed evaluator."""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

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


def weight_kind(var: Any) -> str:
    """"moving" for a BatchNormalization moving statistic, else "learnable"."""
    return "moving" if any(m in str(getattr(var, "path", var.name)) for m in _MOVING) else "learnable"


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
    return compare_layers([(sub.name, [(var, weight_kind(var)) for var in sub.weights])
                           for sub in getattr(base, "layers", []) if sub.weights], data_dir)


def _reference_failed(alpha: str, verb: str, exc: Exception) -> dict[str, Any]:
    """The grader's own ImageNet weights failed: an environment gap, never the student's zero."""
    return {"status": "no-reference", "environment": True,
            "why": f"the grader's ImageNet weights (alpha {alpha}) could not be {verb}: "
                   f"{type(exc).__name__}: {str(exc)[:200]}"}


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
            return _reference_failed(alpha, "read", exc)
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
            return _reference_failed(alpha, "loaded", exc)
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
