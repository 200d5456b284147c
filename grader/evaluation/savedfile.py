"""The parts of a saved `.keras` file the evaluator's own readers use (numpymodel.py runs simple
models, filedescription.py describes pretrained ones): its members read with size limits and
the checks both make before trusting any of it, and `Unsupported`, which sends the file to Keras.
Also the one shape rule both need (`reshape_target`)."""

from __future__ import annotations

import json
import math
from typing import Any

from grader.evaluation import fitfile

#: the weights member read into memory at most (float32 of inspection.MAX_PARAMS is 400 MB; a
#: bigger one is Keras's to load)
MAX_WEIGHTS_BYTES = 512 << 20


class Unsupported(Exception):
    """The file holds something this reader does not run: Keras decides (the reason is recorded)."""


def read_saved(path: str) -> tuple[dict[str, Any], bytes]:
    """(config, weights file bytes) of a file Keras 3 saved that holds only Keras's own objects;
    raises Unsupported for anything else, a malformed file or members larger than read here."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            infos = {i.filename: i for i in z.infolist()}
            for member in ("config.json", "metadata.json", "model.weights.h5"):
                if member not in infos:
                    raise Unsupported(f"no {member} in the file")
            if infos["model.weights.h5"].file_size > MAX_WEIGHTS_BYTES or infos["config.json"].file_size \
                    > 16 << 20 or infos["metadata.json"].file_size > 1 << 20:
                raise Unsupported("members larger than the reader reads")
            meta = json.loads(z.read("metadata.json"))
            config = json.loads(z.read("config.json"))
            weights = z.read("model.weights.h5")
    except (OSError, ValueError, zipfile.BadZipFile, RecursionError, EOFError) as exc:
        raise Unsupported(f"malformed file ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if not isinstance(meta, dict) or not str(meta.get("keras_version", "")).startswith("3."):
        raise Unsupported("not saved by Keras 3")
    if not isinstance(config, dict) or not fitfile._plain_config(config):
        raise Unsupported("objects that are not Keras's own layers")
    return config, weights


def check_keys(cls: str, cfg: dict[str, Any], known: set[str] | None, ignored: set[str]) -> None:
    """A layer's config holds only keys whose meaning is `known` (or `ignored`), channels_last
    and no quantization or LoRA; else Unsupported (an unknown key could change what it does)."""
    if known is None:
        raise Unsupported(f"layer class {cls[:60]}")
    extra = set(cfg) - known - ignored
    if extra:
        raise Unsupported(f"{cls} config keys {sorted(extra)[:5]}")
    if cfg.get("data_format") not in (None, "channels_last"):
        raise Unsupported(f"{cls} data_format {str(cfg.get('data_format'))[:30]}")
    if cfg.get("lora_rank") or cfg.get("quantization_config"):
        raise Unsupported(f"{cls} quantized or LoRA")


def reshape_target(target: Any, rest: tuple[Any, ...]) -> tuple[int, ...]:
    """A Reshape layer's output shape (batch axis left out) for inputs of shape `rest`, its -1
    resolved; Unsupported unless every size is a known positive integer and the sizes agree."""
    if not isinstance(target, list) or not target or not all(
            isinstance(d, int) and not isinstance(d, bool) and (d > 0 or d == -1) for d in target) \
            or target.count(-1) > 1 or not all(isinstance(d, int) for d in rest):
        raise Unsupported(f"Reshape to {str(target)[:60]}")
    total, known = math.prod(rest), math.prod(d for d in target if d != -1)
    if -1 in target:
        if total % known:
            raise Unsupported("Reshape that does not divide")
        target = [total // known if d == -1 else d for d in target]
    if math.prod(target) != total:
        raise Unsupported("Reshape to another size")
    return tuple(target)


def saved_variables(group: Any, layer: str, shapes: list[tuple[int, ...]]) -> list[Any]:
    """A layer's saved variables (h5py datasets, in order) when they are exactly the float arrays
    of `shapes` its config implies (else Keras would refuse the file, or see another model)."""
    import h5py

    keys = sorted(group.keys(), key=lambda k: int(k) if str(k).isdigit() else -1)
    if keys != [str(i) for i in range(len(shapes))]:
        raise Unsupported(f"layer {layer[:40]} has {len(keys)} saved variables, not {len(shapes)}")
    out = []
    for key, want in zip(keys, shapes, strict=True):
        ds = group[key]
        if not isinstance(ds, h5py.Dataset) or tuple(ds.shape) != tuple(want) or ds.dtype.kind != "f":
            raise Unsupported(f"weight {key} of {layer[:40]} is not a float array of shape {list(want)}")
        out.append(ds)
    return out
