"""What a Keras layer's config implies without building it: the shape of its output for given
input shapes, and the shapes of the variables it owns (`infer`), as Keras 3 computes them for
the layers a course's models (a pretrained keras.applications base with a small head) are made
of. Anything else raises `Unsupported` (numpymodel.py), and the evaluator asks Keras instead.

Used by filedescription.py to describe a saved model from its config and weight shapes. Only
channels_last, and for every layer that changes a shape only config keys whose meaning is known
here: an unknown key could change the shape, so it is Keras's to say."""

from __future__ import annotations

import math
from typing import Any

from grader.evaluation import numpymodel
from grader.evaluation.savedfile import Unsupported, check_keys, reshape_target

Shape = tuple[Any, ...]  # batch axis first; None where unknown

#: layers whose output has their input's shape and that own no variables (their config keys
#: cannot change a shape: rates, factors, seeds, fill modes, activations)
_SAME_SHAPE = frozenset((
    "Activation", "ReLU", "LeakyReLU", "Softmax", "Dropout", "SpatialDropout2D", "GaussianNoise",
    "GaussianDropout", "Rescaling", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
    "RandomContrast", "RandomBrightness"))
_COMMON = {"name", "trainable", "dtype"}
_WEIGHT_KEYS = {"kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint", "activation", "use_bias"}
#: per class that changes a shape or owns variables: the config keys whose meaning is known
_KEYS: dict[str, set[str]] = {
    "InputLayer": {"batch_shape", "sparse", "ragged", "optional"},
    "Conv2D": _WEIGHT_KEYS | {"filters", "kernel_size", "strides", "padding", "data_format",
                              "dilation_rate", "groups", "lora_rank", "lora_alpha"},
    "DepthwiseConv2D": _WEIGHT_KEYS | {"depth_multiplier", "kernel_size", "strides", "padding",
                                       "data_format", "dilation_rate", "depthwise_initializer",
                                       "depthwise_regularizer", "depthwise_constraint"},
    "Dense": _WEIGHT_KEYS | {"units", "quantization_config", "lora_rank", "lora_alpha"},
    "BatchNormalization": {"axis", "epsilon", "center", "scale", "momentum", "synchronized", "renorm",
                           "renorm_clipping", "renorm_momentum", "beta_initializer", "gamma_initializer",
                           "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
                           "gamma_regularizer", "beta_constraint", "gamma_constraint"},
    "ZeroPadding2D": {"padding", "data_format"},
    **{cls: numpymodel._KEYS[cls] for cls in (  # the same meaning as when the NumPy reader runs them
        "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten")},
    "Reshape": {"target_shape"},
    "Resizing": {"height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio",
                 "fill_mode", "fill_value", "antialias", "data_format"},
    "Add": set(),
    "Concatenate": {"axis"},
}


def _int(v: Any, what: str, low: int = 1) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= 1 << 20:
        raise Unsupported(f"{what} {str(v)[:40]}")
    return v


def _pair(v: Any, what: str, low: int = 1) -> tuple[int, int]:
    if isinstance(v, int) and not isinstance(v, bool):
        v = [v, v]
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise Unsupported(f"{what} {str(v)[:40]}")
    return _int(v[0], what, low), _int(v[1], what, low)


def _spatial(cls: str, shape: Shape) -> tuple[Any, Any, int]:
    if len(shape) != 4 or not isinstance(shape[3], int):
        raise Unsupported(f"{cls} on input of shape {list(shape)}")
    return shape[1], shape[2], shape[3]


def _window(n: Any, k: int, s: int, d: int, padding: Any) -> Any:
    """One spatial axis after a conv or pooling window (None stays None)."""
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)
    if padding != "valid":
        raise Unsupported(f"padding {str(padding)[:20]}")
    out = (n - (k - 1) * d - 1) // s + 1
    if out <= 0:
        raise Unsupported("a window larger than its input")
    return out


def infer(cls: str, cfg: dict[str, Any], inputs: list[Shape]) -> tuple[Shape, list[Shape], int]:
    """(output shape, variable shapes in Keras's `weights` order, how many of them are
    trainable variables, the first ones) of one layer called on tensors of `inputs` shapes."""
    check_keys(cls, cfg, set(cfg) if cls in _SAME_SHAPE else _KEYS.get(cls), _COMMON)
    if cls in ("Add", "Concatenate"):
        return _merge(cls, cfg, inputs), [], 0
    if len(inputs) != 1:
        raise Unsupported(f"{cls} called on {len(inputs)} tensors")
    shape = inputs[0]
    if cls in _SAME_SHAPE or cls == "InputLayer":
        return shape, [], 0
    bias = bool(cfg.get("use_bias", True))
    if cls == "Conv2D":
        h, w, c = _spatial(cls, shape)
        filters, groups = _int(cfg.get("filters"), "filters"), _int(cfg.get("groups", 1), "groups")
        if c % groups or filters % groups:
            raise Unsupported("Conv2D groups that do not divide the channels")
        k = _pair(cfg.get("kernel_size"), "kernel_size")
        s, d = _pair(cfg.get("strides", 1), "strides"), _pair(cfg.get("dilation_rate", 1), "dilation_rate")
        if s != (1, 1) and d != (1, 1):
            raise Unsupported("Conv2D with both strides and dilation")
        out = (shape[0], _window(h, k[0], s[0], d[0], cfg.get("padding", "valid")),
               _window(w, k[1], s[1], d[1], cfg.get("padding", "valid")), filters)
        weights = [(k[0], k[1], c // groups, filters)] + ([(filters,)] if bias else [])
        return out, weights, len(weights)
    if cls == "DepthwiseConv2D":
        h, w, c = _spatial(cls, shape)
        dm = _int(cfg.get("depth_multiplier", 1), "depth_multiplier")
        k = _pair(cfg.get("kernel_size"), "kernel_size")
        s, d = _pair(cfg.get("strides", 1), "strides"), _pair(cfg.get("dilation_rate", 1), "dilation_rate")
        out = (shape[0], _window(h, k[0], s[0], d[0], cfg.get("padding", "valid")),
               _window(w, k[1], s[1], d[1], cfg.get("padding", "valid")), c * dm)
        weights = [(k[0], k[1], c, dm)] + ([(c * dm,)] if bias else [])
        return out, weights, len(weights)
    if cls == "Dense":
        units = _int(cfg.get("units"), "units")
        if len(shape) < 2 or not isinstance(shape[-1], int):
            raise Unsupported(f"Dense on input of shape {list(shape)}")
        weights = [(shape[-1], units)] + ([(units,)] if bias else [])
        return (*shape[:-1], units), weights, len(weights)
    if cls == "BatchNormalization":
        axis = cfg.get("axis", -1)
        if isinstance(axis, list) and len(axis) == 1:
            axis = axis[0]
        if axis not in (-1, len(shape) - 1) or not isinstance(shape[-1], int) or cfg.get("renorm"):
            raise Unsupported(f"BatchNormalization axis {str(axis)[:20]} or renorm")
        learnable = bool(cfg.get("scale", True)) + bool(cfg.get("center", True))
        return shape, [(shape[-1],)] * (learnable + 2), learnable
    return _reshaping(cls, cfg, shape), [], 0


def _reshaping(cls: str, cfg: dict[str, Any], shape: Shape) -> Shape:
    """The output shape of a layer without variables that changes its input's shape."""
    if cls == "ZeroPadding2D":
        h, w, c = _spatial(cls, shape)
        pad = cfg.get("padding", 1)
        if isinstance(pad, int) and not isinstance(pad, bool):
            pad = [[pad, pad], [pad, pad]]
        elif isinstance(pad, (list, tuple)) and len(pad) == 2 and all(isinstance(p, int) for p in pad):
            pad = [[pad[0], pad[0]], [pad[1], pad[1]]]
        if not isinstance(pad, (list, tuple)) or len(pad) != 2:
            raise Unsupported(f"ZeroPadding2D padding {str(pad)[:40]}")
        (top, bottom), (left, right) = _pair(pad[0], "padding", 0), _pair(pad[1], "padding", 0)
        return (shape[0], None if h is None else h + top + bottom, None if w is None else w + left + right, c)
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        h, w, c = _spatial(cls, shape)
        size = _pair(cfg.get("pool_size", 2), "pool_size")
        s = size if cfg.get("strides") is None else _pair(cfg.get("strides"), "strides")
        padding = cfg.get("padding", "valid")
        return (shape[0], _window(h, size[0], s[0], 1, padding), _window(w, size[1], s[1], 1, padding), c)
    if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        _, _, c = _spatial(cls, shape)
        return (shape[0], 1, 1, c) if cfg.get("keepdims") else (shape[0], c)
    if cls == "Flatten":
        if not all(isinstance(d, int) for d in shape[1:]):
            raise Unsupported(f"Flatten of shape {list(shape)}")
        return (shape[0], math.prod(shape[1:]))
    if cls == "Reshape":
        return (shape[0], *reshape_target(cfg.get("target_shape"), shape[1:]))
    if cls == "Resizing":
        _, _, c = _spatial(cls, shape)
        return (shape[0], _int(cfg.get("height"), "height"), _int(cfg.get("width"), "width"), c)
    raise Unsupported(f"layer class {cls[:60]}")  # InputLayer and the rest are handled by infer


def _merge(cls: str, cfg: dict[str, Any], inputs: list[Shape]) -> Shape:
    """Add (equal shapes) or Concatenate (equal but on its axis, which is summed)."""
    if len(inputs) < 2 or len({len(s) for s in inputs}) != 1:
        raise Unsupported(f"{cls} of {len(inputs)} tensors of different ranks")
    if cls == "Add":
        if len(set(inputs)) != 1:
            raise Unsupported(f"Add of shapes {[list(s) for s in inputs][:3]}")
        return inputs[0]
    rank = len(inputs[0])
    axis = cfg.get("axis", -1)
    if not isinstance(axis, int) or isinstance(axis, bool) or not -rank < axis < rank or axis % rank == 0:
        raise Unsupported(f"Concatenate axis {str(axis)[:20]}")
    axis %= rank
    others = {tuple(d for i, d in enumerate(s) if i != axis) for s in inputs}
    sizes = [s[axis] for s in inputs]
    if len(others) != 1 or not all(isinstance(d, int) for d in sizes):
        raise Unsupported(f"Concatenate of shapes {[list(s) for s in inputs][:3]}")
    out = list(inputs[0])
    out[axis] = sum(sizes)
    return tuple(out)
