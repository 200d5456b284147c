"""`describe_training` of a per-fit model file read with h5py, without building the model
(`training_from_file`, about a second less per file than loading it with Keras). Runs in the
sandboxed evaluator."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from grader.evaluation.description import initial_rate
from grader.evaluation.imagenet import BaseLayer, compare_layers

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
            rate = initial_rate(opt_cfg.get("learning_rate"))
            optimizer = {"class": opt["class_name"], "learning_rate": rate, "iterations": steps}
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
    schedule = isinstance((opt.get("config") or {}).get("learning_rate"), dict)
    if len(group) == (1 if schedule else 2) and _never_stepped(group):
        # never built (compiled, then saved, or a fit that failed before its first step): Keras
        # restores these or skips them, and either way has 0 iterations and the config's rate
        return True
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
    return len(group) == (1 if schedule else 2) + slots * trainable


def _never_stepped(group: Any) -> bool:
    """Whether the saved optimizer's first variable (its iterations) is an integer 0."""
    first = np.asarray(group["0"][()]) if "0" in group else None
    return first is not None and first.shape == () and first.dtype.kind in "iu" and int(first) == 0


def _group_path(h5: Any, top: list[tuple[dict[str, Any], Any]], entry: dict[str, Any]) -> str:
    """The h5 path of a top-level layer's group (its `vars` group's parent)."""
    return next(g for e, g in top if e is entry).parent.name.lstrip("/")
