"""A saved .keras file before it is loaded: its zip's member sizes and the parameter count its
config declares, computed from each layer's config and build shape without building anything
(`config_params`), so a 1 KB config declaring 300M parameters is refused with a status instead of
allocating gigabytes. Runs in the sandboxed evaluator (grader/evaluation/__init__.py)."""

from __future__ import annotations

import json
from typing import Any

#: models declaring more parameters than this are not loaded (VGG16 without its top: 14.7M)
MAX_PARAMS = 100_000_000
MAX_CONFIG_BYTES = 16 << 20
MAX_MODEL_BYTES = 2 << 30  # uncompressed size of every member of the .keras zip together


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
