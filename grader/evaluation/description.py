"""A loaded Keras model described as JSON: its architecture in the capture's row format
(`describe_model`, which grader/checks/modelfile.py scores from) and how a model with a
pretrained base was trained (`describe_training`, grader/checks/fitfiles.py). Runs in the
sandboxed evaluator."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from grader.evaluation.imagenet import compare_with_imagenet, weight_kind

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


def _learning_rate(optimizer: Any) -> float | None:
    """The compiled optimizer's learning rate as saved: a float, or a schedule's initial value."""
    try:
        lr = optimizer.get_config().get("learning_rate")
    except Exception:
        return None
    return initial_rate(lr)


def initial_rate(lr: Any) -> float | None:
    """An optimizer config's learning rate: a float, or a serialised schedule's initial value."""
    if isinstance(lr, dict):  # a serialised schedule
        cfg = lr.get("config") or {}
        lr = next((cfg[k] for k in ("initial_learning_rate", "learning_rate") if k in cfg), None)
        if isinstance(lr, dict):  # a schedule wrapping another (warm-up)
            lr = (lr.get("config") or {}).get("initial_learning_rate")
    return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None


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
                digests[weight_kind(var)][f"{sub.name}/{i}"] = hashlib.blake2b(
                    np.ascontiguousarray(np.asarray(var)).tobytes(), digest_size=8).hexdigest()
        weighted = [sub for sub in subs if sub.weights]
        bases.append({"name": layer.name, "class": type(layer).__name__, "trainable": bool(layer.trainable),
                      "trainable_layers": sum(1 for sub in weighted if sub.trainable),
                      "weighted_layers": len(weighted), "trainable_params": _count(layer.trainable_weights),
                      "params": int(layer.count_params()), "digests": digests,
                      "imagenet": compare_with_imagenet(layer, data_dir)})
    return {"optimizer": optimizer, "bases": bases}
