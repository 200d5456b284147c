"""Reference values for Q2: parameters and RAM of a small CNN, computed from the real Keras model.

The network comes from the rubric item's params (`network: {input, dtype, batch_size, layers}`),
so changing the YAML changes the expected values. Building the model needs TensorFlow, which
the static path must not import (the student self-check answers Q2 in under 2 s), so what Keras
reports (parameters and output shape per layer, bytes per value) is cached in
`q2_memory_cache.json`, keyed by a hash of the normalised network description. A network that is
not in the cache is built with Keras on first use (and memoised in the process); run
`python -m reference.q2_memory --update-cache` to add the rubric's networks to the file.
`tests/test_q2_reference.py` proves the cached facts equal what Keras computes.

Everything derived from those facts (totals, bytes, the RAM under each accepted convention) is
plain arithmetic done here, and every value is in bytes; the check converts to MB / MiB.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from reference import reference_value

CACHE_FILE = Path(__file__).with_name("q2_memory_cache.json")
_MEMO: dict[str, dict[str, Any]] = {}

#: RAM for one prediction, by convention (all accepted).
PREDICTION_CONVENTIONS = {
    "optimised-minimum": "two consecutive layers' feature maps at once, plus the parameters",
    "all-layers-kept": "every layer's feature maps kept, plus the parameters",
    "all-layers-and-input": "the input image and every layer's feature maps, plus the parameters",
}
#: RAM for a training mini-batch, by convention (all accepted).
BATCH_CONVENTIONS = {
    "batch-minimum": "every layer's feature maps and the input images for the whole batch, "
    "plus the parameters: an optimistic minimum",
}


class NetworkSpecError(ValueError):
    """The rubric's network description is unusable; the message says which key and why."""


def _pair(value: Any, key: str) -> list[int]:
    if isinstance(value, int) and value > 0:
        return [value, value]
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and v > 0 for v in value)
    ):
        return [int(v) for v in value]
    raise NetworkSpecError(f"network layer {key}: expected a positive integer or a pair, got {value!r}")


def normalize_network(params: dict[str, Any]) -> dict[str, Any]:
    """The canonical form of `params['network']` (defaults filled in), or NetworkSpecError."""
    net = params.get("network")
    if not isinstance(net, dict):
        raise NetworkSpecError("params.network is missing: describe input, dtype, batch_size and layers")
    shape = net.get("input")
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(v, int) and v > 0 for v in shape)):
        raise NetworkSpecError(f"params.network.input: expected [height, width, channels], got {shape!r}")
    layers = net.get("layers")
    if not isinstance(layers, list) or not layers:
        raise NetworkSpecError("params.network.layers: expected a non-empty list of conv2d layers")
    norm_layers = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or layer.get("type", "conv2d") != "conv2d":
            raise NetworkSpecError(
                f"params.network.layers[{i}]: only type conv2d is supported, got {layer!r}"
            )
        filters = layer.get("filters")
        if not isinstance(filters, int) or filters <= 0:
            raise NetworkSpecError(f"params.network.layers[{i}].filters: expected a positive integer")
        padding = str(layer.get("padding", "valid")).lower()
        if padding not in ("same", "valid"):
            raise NetworkSpecError(f"params.network.layers[{i}].padding: 'same' or 'valid', got {padding!r}")
        norm_layers.append(
            {
                "type": "conv2d",
                "filters": filters,
                "kernel": _pair(layer.get("kernel", 3), f"[{i}].kernel"),
                "stride": _pair(layer.get("stride", 1), f"[{i}].stride"),
                "padding": padding,
                "use_bias": bool(layer.get("use_bias", True)),
            }
        )
    batch = net.get("batch_size", 1)
    if not isinstance(batch, int) or batch <= 0:
        raise NetworkSpecError(f"params.network.batch_size: expected a positive integer, got {batch!r}")
    return {
        "input": list(shape),
        "dtype": str(net.get("dtype", "float32")),
        "batch_size": batch,
        "layers": norm_layers,
    }


def spec_key(network: dict[str, Any]) -> str:
    """Cache key: what Keras is asked to build (the batch size does not change its answer)."""
    model_part = {k: network[k] for k in ("input", "dtype", "layers")}
    return hashlib.sha256(json.dumps(model_part, sort_keys=True).encode()).hexdigest()[:16]


def keras_facts(network: dict[str, Any]) -> dict[str, Any]:
    """Build the real Keras model and read what it reports. Imports TensorFlow (seconds)."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    inputs = keras.Input(shape=tuple(network["input"]), dtype=network["dtype"])
    x = inputs
    rows = []
    for i, spec in enumerate(network["layers"]):
        layer = keras.layers.Conv2D(
            spec["filters"],
            tuple(spec["kernel"]),
            strides=tuple(spec["stride"]),
            padding=spec["padding"],
            use_bias=spec["use_bias"],
            dtype=network["dtype"],
            name=f"conv{i + 1}",
        )
        x = layer(x)
        rows.append(
            {
                "name": layer.name,
                "params": int(layer.count_params()),
                "output_shape": [int(d) for d in x.shape[1:]],
            }
        )
    model = keras.Model(inputs, x)
    return {
        "keras_version": keras.__version__,
        "bytes_per_value": int(np.dtype(network["dtype"]).itemsize),
        "total_params": int(model.count_params()),
        "layers": rows,
    }


def load_cache() -> dict[str, Any]:
    if not CACHE_FILE.is_file():
        return {}
    return json.loads(CACHE_FILE.read_text(encoding="utf-8"))


def facts_for(network: dict[str, Any], *, use_cache: bool = True) -> tuple[dict[str, Any], str]:
    """(Keras facts, where they came from: 'cache' | 'keras')."""
    key = spec_key(network)
    if use_cache:
        cached = load_cache().get(key)
        if cached is not None:
            return cached["facts"], "cache"
        if key in _MEMO:
            return _MEMO[key], "keras"
    facts = keras_facts(network)
    _MEMO[key] = facts
    return facts, "keras"


def update_cache(networks: list[dict[str, Any]]) -> Path:
    """Compute each network with Keras and store its facts in the cache file."""
    cache = load_cache()
    for net in networks:
        cache[spec_key(net)] = {
            "network": {k: net[k] for k in ("input", "dtype", "layers")},
            "facts": keras_facts(net),
        }
    CACHE_FILE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return CACHE_FILE


def derive(network: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Every expected Q2 value, from the network description and what Keras reported."""
    b = facts["bytes_per_value"]
    h, w, c = network["input"]
    in_channels = c
    layers = []
    for spec, row in zip(network["layers"], facts["layers"], strict=True):
        kh, kw = spec["kernel"]
        weights = kh * kw * in_channels * spec["filters"]
        values = math.prod(row["output_shape"])
        oh, ow, _ = row["output_shape"]
        layers.append(
            {
                "name": row["name"],
                "filters": spec["filters"],
                "kernel": [kh, kw],
                "stride": spec["stride"],
                "padding": spec["padding"],
                "in_channels": in_channels,
                "params": row["params"],
                "weights": weights,
                "biases": row["params"] - weights,
                "output_shape": row["output_shape"],
                "spatial": oh * ow,
                "values": values,
                "bytes": values * b,
            }
        )
        in_channels = spec["filters"]
    input_values = h * w * c
    input_bytes = input_values * b
    total = facts["total_params"]
    param_bytes = total * b
    map_bytes = [layer["bytes"] for layer in layers]
    chain = [input_bytes, *map_bytes]
    peak_pair = max(chain[i] + chain[i + 1] for i in range(len(chain) - 1))
    n = network["batch_size"]
    return {
        "network": network,
        "keras_version": facts["keras_version"],
        "bytes_per_value": b,
        "batch_size": n,
        "input_shape": [h, w, c],
        "input_values": input_values,
        "input_bytes": input_bytes,
        "layers": layers,
        "params_total": total,
        "param_bytes": param_bytes,
        "maps_bytes": sum(map_bytes),
        "peak_pair_bytes": peak_pair,
        "ram_prediction": {
            "optimised-minimum": peak_pair + param_bytes,
            "all-layers-kept": sum(map_bytes) + param_bytes,
            "all-layers-and-input": sum(map_bytes) + input_bytes + param_bytes,
        },
        "ram_batch": {
            "batch-minimum": n * (sum(map_bytes) + input_bytes) + param_bytes,
        },
        "conventions": {**PREDICTION_CONVENTIONS, **BATCH_CONVENTIONS},
    }


@reference_value("conv_net_memory")
def conv_net_memory(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters, shapes and RAM of the network in `params['network']` (all sizes in bytes)."""
    network = normalize_network(params)
    facts, source = facts_for(network)
    values = derive(network, facts)
    values["source"] = source
    return values


def _rubric_networks(path: str | None = None) -> list[dict[str, Any]]:
    import yaml

    from grader.rubric import DEFAULT_RUBRIC

    data = yaml.safe_load(Path(path or DEFAULT_RUBRIC).read_text(encoding="utf-8"))
    nets = {}
    for q in data.get("questions", []):
        for item in q.get("items", []):
            params = item.get("params") or {}
            if params.get("reference") == "conv_net_memory":
                net = normalize_network(params)
                nets[spec_key(net)] = net
    return list(nets.values())


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--update-cache",
        action="store_true",
        help="build the rubric's networks with Keras and store their facts",
    )
    parser.add_argument("--rubric", default=None, help="rubric YAML (default: the assignment's)")
    args = parser.parse_args(argv)
    nets = _rubric_networks(args.rubric)
    if args.update_cache:
        print(f"wrote {update_cache(nets)} ({len(nets)} network(s))")
    for net in nets:
        values = conv_net_memory({"network": net})
        print(json.dumps({k: values[k] for k in ("params_total", "ram_prediction", "ram_batch", "source")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
