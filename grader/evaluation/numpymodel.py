"""A simple saved Keras model read with zipfile, json and h5py and run with NumPy (`read_model`),
so that measuring it never imports TensorFlow (about 6 CPU seconds of the evaluator's 8-9).
Runs in the sandboxed evaluator.

What it reads: a Keras 3 `.keras` file of a Sequential model, or a Functional one whose layers
form a single chain, of Keras's own layers of these kinds only: InputLayer, Conv2D, Dense,
MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Flatten, Dropout,
SpatialDropout2D, GaussianNoise, BatchNormalization, Activation, ReLU, Softmax, Rescaling,
Reshape; activations relu, softmax, sigmoid, tanh, linear; padding valid/same, any strides,
channels_last, float32. Every config key of a layer must be one this reader knows the meaning
of (or one that changes nothing at inference: initializers, regularizers, constraints, seeds);
anything else (another layer, a custom or Lambda layer, dilation, groups, channels_first, a
mixed-precision policy, a shared layer, a compiled metric other than accuracy, a weight that is
not the shape the config implies) raises `Unsupported` with the reason, and the evaluator loads
the model with Keras instead, recording why (inprocess.py). The file is the student's: nothing
in it is unpickled, evaluated or imported (class names are looked up in the table below, never
followed), and every weight's shape is checked against the config before it is read, so no
array is larger than the config's parameter count, which inspection.py has capped.

The model it gives has `predict_on_batch` (float32, as Keras predicts) and the description
Keras's loaded model gives (`describe`, description.py's format), checked equal, with predictions
within 1e-4, on real trained models of each kind (tests/test_evaluator_numpy.py)."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from grader.evaluation import fitfile
from grader.evaluation.savedfile import Unsupported, check_keys, read_saved, reshape_target, saved_variables

#: images per forward pass chunk (bounds the im2col matrix of a conv layer)
CHUNK = 128


# ---- layer configs -----------------------------------------------------------------------------

#: keys that change nothing at inference, of any layer
_INERT = {"name", "trainable", "dtype", "kernel_initializer", "bias_initializer", "kernel_regularizer",
          "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "seed",
          "beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
          "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "momentum",
          "synchronized", "noise_shape", "stddev"}
#: per class: the meaningful keys this reader knows
_KEYS = {
    "InputLayer": {"batch_shape", "sparse", "ragged", "optional"},
    "Conv2D": {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups",
               "activation", "use_bias", "lora_rank", "lora_alpha", "quantization_config"},
    "Dense": {"units", "activation", "use_bias", "lora_rank", "lora_alpha", "quantization_config"},
    "MaxPooling2D": {"pool_size", "strides", "padding", "data_format"},
    "AveragePooling2D": {"pool_size", "strides", "padding", "data_format"},
    "GlobalAveragePooling2D": {"data_format", "keepdims"},
    "GlobalMaxPooling2D": {"data_format", "keepdims"},
    "Flatten": {"data_format"},
    "Dropout": {"rate"},
    "SpatialDropout2D": {"rate", "data_format"},
    "GaussianNoise": set(),
    "BatchNormalization": {"axis", "epsilon", "center", "scale", "renorm", "renorm_clipping",
                           "renorm_momentum"},
    "Activation": {"activation"},
    "ReLU": {"max_value", "negative_slope", "threshold"},
    "Softmax": {"axis"},
    "Rescaling": {"scale", "offset"},
    "Reshape": {"target_shape"},
}
_ACTIVATIONS = ("relu", "softmax", "sigmoid", "tanh", "linear")
_METRICS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")
_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")


def _pair(v: Any, what: str) -> tuple[int, int]:
    if isinstance(v, bool):
        raise Unsupported(f"{what} {v!r}")
    if isinstance(v, int):
        v = [v, v]
    if not isinstance(v, (list, tuple)) or len(v) != 2 or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= 4096 for i in v):
        raise Unsupported(f"{what} {v!r}")
    return int(v[0]), int(v[1])


def _activation(v: Any) -> str:
    if v is None:
        return "linear"
    if not isinstance(v, str) or v not in _ACTIVATIONS:
        raise Unsupported(f"activation {str(v)[:80]}")
    return v


def _float32_policy(v: Any) -> None:
    name = v
    if isinstance(v, dict):
        if v.get("class_name") != "DTypePolicy" \
                or v.get("module") not in ("keras", "keras.src.dtype_policies"):
            raise Unsupported("a dtype policy other than DTypePolicy")
        name = (v.get("config") or {}).get("name")
    if name not in (None, "float32"):
        raise Unsupported(f"dtype {str(name)[:40]}")


class _Layer:
    """One layer: its class, name, config, the weights it expects (shapes), and how it runs."""

    def __init__(self, cls: str, cfg: dict[str, Any], shape: tuple[Any, ...]):
        self.cls, self.cfg, self.name = cls, cfg, str(cfg.get("name"))
        self.in_shape = shape
        self.weights: list[np.ndarray] = []
        check_keys(cls, cfg, _KEYS.get(cls), _INERT)
        _float32_policy(cfg.get("dtype"))
        self.trainable = bool(cfg.get("trainable", True))
        self.expect: list[tuple[int, ...]] = []  # weight shapes, in Keras's `weights` order
        self.trainable_count = 0  # how many of them are trainable variables (the first ones)
        getattr(self, f"_setup_{cls}")()

    # setup: check the config, compute the output shape and the weights expected
    def _spatial(self) -> tuple[int, int, int]:
        if len(self.in_shape) != 4 or not all(isinstance(d, int) for d in self.in_shape[1:]):
            raise Unsupported(f"{self.cls} on input of shape {list(self.in_shape)}")
        return self.in_shape[1], self.in_shape[2], self.in_shape[3]

    def _window(self, size: tuple[int, int], strides: tuple[int, int]) -> tuple[int, int]:
        padding = self.cfg.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise Unsupported(f"{self.cls} padding {str(padding)[:20]}")
        h, w, _ = self._spatial()
        self.padding, self.size, self.strides = padding, size, strides
        if padding == "same":
            out = (-(-h // strides[0]), -(-w // strides[1]))
        else:
            out = ((h - size[0]) // strides[0] + 1, (w - size[1]) // strides[1] + 1)
        if out[0] <= 0 or out[1] <= 0:
            raise Unsupported(f"{self.cls} window larger than its input")
        return out

    def _setup_InputLayer(self) -> None:
        if self.cfg.get("sparse") or self.cfg.get("ragged") or self.cfg.get("optional"):
            raise Unsupported("a sparse, ragged or optional input")
        self.out_shape = self.in_shape

    def _setup_Conv2D(self) -> None:
        if _pair(self.cfg.get("dilation_rate", 1), "dilation_rate") != (1, 1):
            raise Unsupported("dilated Conv2D")
        if self.cfg.get("groups", 1) != 1:
            raise Unsupported("grouped Conv2D")
        filters = self.cfg.get("filters")
        if not isinstance(filters, int) or isinstance(filters, bool) or not 0 < filters <= 1 << 16:
            raise Unsupported(f"Conv2D filters {filters!r}")
        self.act = _activation(self.cfg.get("activation"))
        _, _, c = self._spatial()
        k = _pair(self.cfg.get("kernel_size"), "kernel_size")
        oh, ow = self._window(k, _pair(self.cfg.get("strides", 1), "strides"))
        self.out_shape = (None, oh, ow, filters)
        self.expect = [(k[0], k[1], c, filters)] + ([(filters,)] if self.cfg.get("use_bias", True) else [])
        self.trainable_count = len(self.expect)

    def _setup_Dense(self) -> None:
        units = self.cfg.get("units")
        if not isinstance(units, int) or isinstance(units, bool) or not 0 < units <= 1 << 20:
            raise Unsupported(f"Dense units {units!r}")
        last = self.in_shape[-1] if len(self.in_shape) >= 2 else None
        if not isinstance(last, int):
            raise Unsupported(f"Dense on input of shape {list(self.in_shape)}")
        self.act = _activation(self.cfg.get("activation"))
        self.out_shape = (*self.in_shape[:-1], units)
        self.expect = [(last, units)] + ([(units,)] if self.cfg.get("use_bias", True) else [])
        self.trainable_count = len(self.expect)

    def _setup_MaxPooling2D(self) -> None:
        size = _pair(self.cfg.get("pool_size", 2), "pool_size")
        strides = size if self.cfg.get("strides") is None else _pair(self.cfg.get("strides"), "strides")
        oh, ow = self._window(size, strides)
        self.out_shape = (None, oh, ow, self.in_shape[3])

    _setup_AveragePooling2D = _setup_MaxPooling2D

    def _setup_GlobalAveragePooling2D(self) -> None:
        _, _, c = self._spatial()
        self.keepdims = bool(self.cfg.get("keepdims", False))
        self.out_shape = (None, 1, 1, c) if self.keepdims else (None, c)

    _setup_GlobalMaxPooling2D = _setup_GlobalAveragePooling2D

    def _setup_Flatten(self) -> None:
        rest = self.in_shape[1:]
        if not all(isinstance(d, int) for d in rest):
            raise Unsupported(f"Flatten of shape {list(self.in_shape)}")
        self.out_shape = (None, math.prod(rest))

    def _identity(self) -> None:
        self.out_shape = self.in_shape

    _setup_Dropout = _setup_SpatialDropout2D = _setup_GaussianNoise = _identity

    def _setup_BatchNormalization(self) -> None:
        if self.cfg.get("renorm"):
            raise Unsupported("BatchNormalization with renorm")
        axis = self.cfg.get("axis", -1)
        if isinstance(axis, list) and len(axis) == 1:
            axis = axis[0]
        if axis not in (-1, len(self.in_shape) - 1) or not isinstance(self.in_shape[-1], int):
            raise Unsupported(f"BatchNormalization axis {axis!r}")
        eps = self.cfg.get("epsilon", 1e-3)
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not 0 <= eps < 1:
            raise Unsupported(f"BatchNormalization epsilon {eps!r}")
        self.eps = float(eps)
        c = self.in_shape[-1]
        self.scale, self.center = bool(self.cfg.get("scale", True)), bool(self.cfg.get("center", True))
        self.trainable_count = self.scale + self.center
        self.expect = [(c,)] * (self.trainable_count + 2)
        self.out_shape = self.in_shape

    def _setup_Activation(self) -> None:
        self.act = _activation(self.cfg.get("activation"))
        self.out_shape = self.in_shape

    def _setup_ReLU(self) -> None:
        if self.cfg.get("max_value") is not None or self.cfg.get("negative_slope", 0.0) not in (0, 0.0) \
                or self.cfg.get("threshold", 0.0) not in (0, 0.0):
            raise Unsupported("ReLU with max_value, negative_slope or threshold")
        self.act = "relu"
        self.out_shape = self.in_shape

    def _setup_Softmax(self) -> None:
        if self.cfg.get("axis", -1) not in (-1, len(self.in_shape) - 1):
            raise Unsupported("Softmax on another axis")
        self.act = "softmax"
        self.out_shape = self.in_shape

    def _setup_Rescaling(self) -> None:
        scale, offset = self.cfg.get("scale", 1.0), self.cfg.get("offset", 0.0)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (scale, offset)):
            raise Unsupported("Rescaling by an array")
        self.factor, self.shift = float(scale), float(offset)
        self.out_shape = self.in_shape

    def _setup_Reshape(self) -> None:
        self.target = reshape_target(self.cfg.get("target_shape"), self.in_shape[1:])
        self.out_shape = (None, *self.target)

    # running
    def __call__(self, x: np.ndarray) -> np.ndarray:
        cls = self.cls
        if cls == "Conv2D":
            return _act(_conv(x, self.weights[0], self.weights[1] if len(self.weights) > 1 else None,
                              self.strides, self.padding), self.act)
        if cls == "Dense":
            out = x @ self.weights[0]
            if len(self.weights) > 1:
                out += self.weights[1]
            return _act(out, self.act)
        if cls in ("MaxPooling2D", "AveragePooling2D"):
            return _pool(x, self.size, self.strides, self.padding, cls == "MaxPooling2D")
        if cls == "GlobalAveragePooling2D":
            return x.mean(axis=(1, 2), keepdims=self.keepdims, dtype=np.float32)
        if cls == "GlobalMaxPooling2D":
            return x.max(axis=(1, 2), keepdims=self.keepdims)
        if cls == "Flatten":
            return x.reshape(len(x), -1)
        if cls == "BatchNormalization":
            w = list(self.weights)
            gamma = w.pop(0) if self.scale else None
            beta = w.pop(0) if self.center else None
            inv = (1.0 / np.sqrt(w[1] + np.float32(self.eps))).astype(np.float32)
            if gamma is not None:
                inv = inv * gamma
            out = x * inv + (-w[0] * inv if beta is None else beta - w[0] * inv)
            return out.astype(np.float32, copy=False)
        if cls in ("Activation", "ReLU", "Softmax"):
            return _act(x, self.act)
        if cls == "Rescaling":
            return (x * np.float32(self.factor) + np.float32(self.shift)).astype(np.float32, copy=False)
        if cls == "Reshape":
            return x.reshape((len(x), *self.target))
        return x  # InputLayer, Dropout, SpatialDropout2D, GaussianNoise: the identity at inference


def _act(x: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(x, 0, out=x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "sigmoid":
        return (np.tanh(x * np.float32(0.5)) + np.float32(1)) * np.float32(0.5)
    if name == "tanh":
        return np.tanh(x)
    return x


def _same_pad(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's SAME padding of one axis: (before, after)."""
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _pad(x: np.ndarray, size: tuple[int, int], strides: tuple[int, int], value: float) -> np.ndarray:
    ph = _same_pad(x.shape[1], size[0], strides[0])
    pw = _same_pad(x.shape[2], size[1], strides[1])
    if ph == (0, 0) and pw == (0, 0):
        return x
    return np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value)


#: floats in one block of the im2col patch matrix (4 MB: it stays in the cache while multiplied)
_COLS_BLOCK = 1 << 20


def _conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, strides: tuple[int, int],
          padding: str) -> np.ndarray:
    """Conv2D (channels_last, no dilation) as im2col and a matrix product, a block of images at
    a time: each block's patches are copied, in the kernel's own (kh, kw, c) order, into one
    reused buffer small enough to stay in the cache, then multiplied by the reshaped kernel."""
    kh, kw, c, f = kernel.shape
    if padding == "same":
        x = _pad(x, (kh, kw), strides, 0.0)
    (sh, sw), (n, h, w) = strides, x.shape[:3]
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    win = win.transpose(0, 1, 2, 4, 5, 3)  # (n, oh, ow, kh, kw, c), a view
    depth = kh * kw * c
    step = max(1, _COLS_BLOCK // (oh * ow * depth))
    weights = kernel.reshape(depth, f)
    out = np.empty((n, oh, ow, f), np.float32)
    buf = np.empty((min(step, n), oh, ow, kh, kw, c), np.float32)
    for start in range(0, n, step):
        m = min(step, n - start)
        if c >= 8:  # one copy of the window view
            np.copyto(buf[:m], win[start:start + m])
        else:  # few channels: a strided slice per kernel position copies faster
            for i in range(kh):
                for j in range(kw):
                    buf[:m, :, :, i, j, :] = x[start:start + m, i:i + (oh - 1) * sh + 1:sh,
                                               j:j + (ow - 1) * sw + 1:sw, :]
        np.matmul(buf[:m].reshape(m * oh * ow, depth), weights,
                  out=out[start:start + m].reshape(m * oh * ow, f))
    if bias is not None:
        out += bias
    return out


def _pool(x: np.ndarray, size: tuple[int, int], strides: tuple[int, int], padding: str,
          is_max: bool) -> np.ndarray:
    """Max or average pooling, one strided slice per window position (np.maximum or a sum of
    them); an average over SAME padding counts only the real pixels, as TensorFlow's does."""
    padded = _pad(x, size, strides, -np.inf if is_max else 0.0) if padding == "same" else x
    (ph, pw), (sh, sw) = size, strides
    h, w = padded.shape[1:3]
    oh, ow = (h - ph) // sh + 1, (w - pw) // sw + 1

    def window(a: np.ndarray, i: int, j: int) -> np.ndarray:
        return a[:, i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw, :]

    out = window(padded, 0, 0).copy()
    for i in range(ph):
        for j in range(pw):
            if i or j:
                if is_max:
                    np.maximum(out, window(padded, i, j), out=out)
                else:
                    out += window(padded, i, j)
    if is_max:
        return out
    if padding == "same" and padded is not x:
        ones = _pad(np.ones((1, *x.shape[1:3], 1), np.float32), size, strides, 0.0)
        count = sum(window(ones, i, j) for i in range(ph) for j in range(pw))
        return out / count
    return out / np.float32(ph * pw)


# ---- the model ---------------------------------------------------------------------------------

class NumpyModel:
    """A chain of layers with their weights; `predict_on_batch` like a Keras model's."""

    def __init__(self, kind: str, name: str, layers: list[_Layer], rows: list[_Layer],
                 compiled: dict[str, Any] | None, steps: int | None):
        self.kind, self.name, self.layers, self.rows = kind, name, layers, rows
        self.compiled, self.steps = compiled, steps

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        want = self.layers[0].in_shape[1:]
        if x.ndim != len(want) + 1 or any(isinstance(d, int) and d != s for d, s in zip(want, x.shape[1:],
                                                                                       strict=True)):
            raise ValueError(f"the model expects inputs of shape {list(want)}, not {list(x.shape[1:])}")
        outs = []
        for start in range(0, len(x), CHUNK):
            h = x[start:start + CHUNK].astype(np.float32)
            for layer in self.layers:
                h = layer(h)
            outs.append(np.asarray(h, dtype=np.float32))
        return np.concatenate(outs) if outs else np.zeros((0, *self.layers[-1].out_shape[1:]), np.float32)

    def keras_accuracy(self, probs: np.ndarray, y: np.ndarray) -> float | None:
        """What Keras's compiled `accuracy` metric says on these predictions (a float32 mean)."""
        if not self.compiled or not self.compiled.get("metrics"):
            return None
        correct = int((probs.argmax(axis=1) == y).sum())
        return float(np.float32(correct) / np.float32(len(y)))

    def describe(self, facts: dict[str, Any] | None = None) -> dict[str, Any]:
        """description.describe_model of this model as Keras loads it."""
        rows = []
        for layer in self.rows[:500]:
            params = sum(int(np.prod(s)) for s in layer.expect)
            trainable = sum(int(np.prod(s)) for s in layer.expect[:layer.trainable_count]) \
                if layer.trainable else 0
            rows.append({"class": layer.cls, "name": layer.name, "output_shape": list(layer.out_shape),
                         "params": params, "trainable": layer.trainable, "trainable_params": trainable,
                         "config": {k: _jsonable(layer.cfg[k]) for k in _CONFIG_KEYS if k in layer.cfg}})
        loss = None
        if self.compiled:
            loss = self.compiled["loss"]
        return {"class": self.kind, "name": self.name, "layers": rows,
                "input_shape": list(self.layers[0].in_shape), "output_shape": list(self.layers[-1].out_shape),
                "params": sum(r["params"] for r in rows),
                "trainable_params": sum(r["trainable_params"] for r in rows), "loss": loss,
                "optimizer_steps": self.steps, "declared_params": (facts or {}).get("declared_params")}


#: description.py's _CONFIG_KEYS (not imported: description imports imagenet, which is fine, but
#: this keeps the reader's own import list short)
_CONFIG_KEYS = ("filters", "kernel_size", "strides", "padding", "activation", "units", "pool_size",
                "rate", "scale", "offset", "height", "width", "from_logits", "axis", "data_format")


def _jsonable(v: Any) -> Any:
    if isinstance(v, (int, float, bool, str, type(None))):
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(i) for i in v]
    return str(v)[:200]


def _compiled(config: dict[str, Any]) -> dict[str, Any] | None:
    """The compile config this reader can stand in for (None: not compiled)."""
    compiled = config.get("compile_config")
    if not compiled:  # Keras compiles only from a non-empty config (an uncompiled model saves {})
        return None
    if not isinstance(compiled, dict):
        raise Unsupported("a compile config that is not a dict")
    extra = set(compiled) - {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics",
                             "run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"}
    if extra or compiled.get("loss_weights") or compiled.get("weighted_metrics"):
        raise Unsupported(f"compile config {sorted(extra)[:3]}")
    loss = compiled.get("loss")
    if isinstance(loss, str) and loss in _LOSSES:
        desc = {"name": loss, "from_logits": False}
    else:
        raise Unsupported(f"loss {str(loss)[:80]}")
    metrics = compiled.get("metrics") or []
    if not isinstance(metrics, list) or len(metrics) > 1 or any(m not in _METRICS for m in metrics):
        raise Unsupported(f"metrics {str(metrics)[:80]}")
    return {"loss": desc, "metrics": list(metrics)}


def _chain(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The layer entries of a Sequential, or of a Functional model whose layers form one chain."""
    kind = config.get("class_name")
    cfg = config.get("config") if isinstance(config.get("config"), dict) else {}
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not layers or len(layers) > 500:
        raise Unsupported("no list of layers")
    if any(not isinstance(e, dict) or not isinstance(e.get("config"), dict) for e in layers):
        raise Unsupported("a layer entry that is not a dict")
    if kind == "Sequential":
        if layers[0].get("class_name") != "InputLayer":
            raise Unsupported("a Sequential model without an InputLayer")
        return layers
    if kind != "Functional":
        raise Unsupported(f"model class {str(kind)[:40]}")
    names = [str(e.get("name") or e["config"].get("name")) for e in layers]
    if layers[0].get("class_name") != "InputLayer" or cfg.get("input_layers") not in (
            [[names[0], 0, 0]], [names[0], 0, 0]) or cfg.get("output_layers") not in (
            [[names[-1], 0, 0]], [names[-1], 0, 0]) or len(set(names)) != len(names):
        raise Unsupported("a Functional model that is not one chain")
    for prev, entry in zip(names, layers[1:], strict=False):
        nodes = entry.get("inbound_nodes")
        ok = isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], dict)
        args = nodes[0].get("args") if ok else None
        kwargs = nodes[0].get("kwargs") if ok else None  # {"mask": None} after BatchNormalization
        ok = ok and isinstance(kwargs or {}, dict) and all(v is None for v in (kwargs or {}).values()) \
            and isinstance(args, list) and len(args) == 1 \
            and isinstance(args[0], dict) and args[0].get("class_name") == "__keras_tensor__" \
            and (args[0].get("config") or {}).get("keras_history") == [prev, 0, 0]
        if not ok:
            raise Unsupported("a Functional model that is not one chain")
    return layers


def read_model(path: str) -> NumpyModel:
    """The model saved at `path`, ready to predict with NumPy; raises Unsupported (with the
    reason) for anything it does not run exactly as Keras would."""
    import h5py

    config, weights = read_saved(path)
    entries = _chain(config)
    compiled = _compiled(config)
    top_cfg = config.get("config") or {}
    if top_cfg.get("trainable", True) is not True:
        raise Unsupported("a model marked not trainable")
    _float32_policy(top_cfg.get("dtype"))
    first = entries[0]["config"]
    shape = first.get("batch_shape")
    if not isinstance(shape, list) or len(shape) < 2 or shape[0] is not None or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 1 << 16 for d in shape[1:]):
        raise Unsupported(f"input shape {str(shape)[:60]}")
    if first.get("dtype") not in (None, "float32") and not isinstance(first.get("dtype"), dict):
        raise Unsupported(f"input dtype {str(first.get('dtype'))[:30]}")
    layers: list[_Layer] = []
    current: tuple[Any, ...] = tuple(shape)
    for entry in entries:
        layer = _Layer(str(entry.get("class_name")), entry["config"], current)
        layers.append(layer)
        current = tuple(layer.out_shape)
    kind = str(config["class_name"])
    rows = layers[1:] if kind == "Sequential" else layers  # Keras's `model.layers`
    try:
        with h5py.File(io.BytesIO(weights), "r") as h5:
            saved = fitfile._children(h5, "", fitfile._saved_layers(config))
            if saved is None:
                raise Unsupported("the weights file's layers do not match the config")
            by_name = {layer.name: layer for layer in layers}
            for entry, group in saved:
                layer = by_name[str(entry["config"].get("name"))]
                for key, ds in enumerate(saved_variables(group, layer.name, layer.expect)):
                    array = np.asarray(ds[()], dtype=np.float32)
                    if not np.isfinite(array).all():
                        raise Unsupported(f"weight {key} of {layer.name[:40]} is not finite")
                    layer.weights.append(array)
            steps = _steps(h5, config, saved)
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise Unsupported(f"malformed weights ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if any(len(layer.weights) != len(layer.expect) for layer in layers):
        raise Unsupported("a layer's weights are missing from the file")
    if compiled is not None and compiled["metrics"] and not (
            len(current) == 2 and isinstance(current[1], int) and current[1] >= 2):
        raise Unsupported("an accuracy metric on an output that is not one score per class")
    return NumpyModel(kind, str(top_cfg.get("name", "")), layers, rows, compiled, steps)


def _steps(h5: Any, config: dict[str, Any], saved: list[tuple[dict[str, Any], Any]]) -> int | None:
    """The saved optimizer's iterations as Keras's loaded model reports them."""
    compiled = config.get("compile_config")
    if not compiled:  # Keras compiles only from a non-empty config (an uncompiled model saves {})
        return None
    opt = compiled.get("optimizer")
    if isinstance(opt, str) and opt in ("adam", "sgd", "rmsprop"):
        opt = {"module": "keras.optimizers", "class_name": {"adam": "Adam", "sgd": "SGD",
                                                             "rmsprop": "RMSprop"}[opt], "config": {}}
    if not isinstance(opt, dict) or opt.get("module") != "keras.optimizers" \
            or opt.get("class_name") not in ("Adam", "AdamW", "SGD", "RMSprop") \
            or not isinstance(opt.get("config"), dict) or opt["config"].get("use_ema") \
            or opt["config"].get("gradient_accumulation_steps"):
        raise Unsupported(f"optimizer {str(opt)[:80]}")
    group = h5.get("optimizer/vars")
    if group is None or not len(group):
        return 0
    if not fitfile._optimizer_loads(h5, config, saved, opt):
        raise Unsupported("optimizer variables Keras may not restore")
    if fitfile._never_stepped(group):
        return 0
    first = np.asarray(group["0"][()])
    if first.shape != () or first.dtype.kind not in "iu":
        raise Unsupported("optimizer iterations that are not an integer")
    return int(first)
