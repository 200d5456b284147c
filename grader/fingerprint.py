"""Per-sample fingerprints of image arrays, and which official data set an array comes from.

The kernel-side capture (grader/execute/inkernel/50_capture.py, `_grader_fingerprint`) hashes
every array a notebook trains or evaluates on with the same function as `fingerprint` here
(tests/test_capture.py keeps the two equal). Hashes are invariant to an affine rescaling of the
whole array (x/255, x/127.5 - 1, standardisation) and to a trailing channel axis of 1, so the
grader can tell that a student's preprocessed `x_test` is the official MNIST test set, measure
overlaps between training, validation and test data, and rebuild the student's preprocessing
(`vmin`, `vmax` of the array map back to raw 0..255 pixels) from the official files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from grader.machine import cache_root

#: official data sets: (file name in the data dir, key prefix)
OFFICIAL = {"mnist": "mnist.npz", "cifar10": "cifar10-10k.npz"}


def fingerprint(x: Any) -> tuple[np.ndarray, float, float]:
    """(per-sample uint64 hashes, global min, global max) of an array of samples."""
    a = np.asarray(x)
    n = a.shape[0]
    flat = a.reshape(n, -1)
    d = flat.shape[1]
    idx = np.linspace(0, d - 1, num=min(d, 128)).astype(np.int64)
    sub = flat[:, idx].astype(np.float64)
    vmin, vmax = float(flat.min()), float(flat.max())
    q = np.rint((sub - vmin) / (vmax - vmin) * 255.0) if vmax > vmin else np.zeros_like(sub)
    q = np.clip(q, 0, 255).astype(np.uint64)
    weights = np.random.default_rng(20240607).integers(1, 2**62, size=len(idx), dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = (q * weights).sum(axis=1, dtype=np.uint64) + np.uint64(d)
    return h, vmin, vmax


@lru_cache(maxsize=8)
def official_arrays(data_dir: str, dataset: str) -> dict[str, np.ndarray]:
    path = Path(data_dir) / OFFICIAL[dataset]
    with np.load(path) as data:
        return {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}


@lru_cache(maxsize=8)
def official_hashes(data_dir: str, dataset: str, split: str) -> np.ndarray:
    """The official split's hashes, from a file cache when the data file and this module are
    unchanged (unpacking and hashing MNIST takes about a second per process otherwise)."""
    path = Path(data_dir) / OFFICIAL[dataset]
    cached = _hash_cache_file(path, split)
    if cached is not None:
        with contextlib.suppress(OSError, ValueError):
            return np.load(cached, allow_pickle=False)
    hashes = fingerprint(official_arrays(data_dir, dataset)[f"x_{split}"])[0]
    if cached is not None:
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.npy")
            np.save(tmp, hashes)
            os.replace(tmp, cached)
    return hashes


def _hash_cache_file(path: Path, split: str) -> Path | None:
    """Where the hashes of `path`'s split are cached: the key covers the file (resolved path,
    size, modification time, inode) and this module's code. None: no cache (GRADER_CACHE_DIR=off)."""
    root = cache_root()
    if root is None:
        return None
    try:
        info = path.resolve().stat()
        code = Path(__file__).read_bytes()
    except OSError:
        return None
    facts = (str(path.resolve()), info.st_size, info.st_mtime_ns, info.st_ino, split)
    key = hashlib.sha256(repr(facts).encode() + code).hexdigest()[:32]
    return Path(root) / "official-hashes" / f"{path.stem}-{split}-{key}.npy"


def load_hashes(capture_dir: Path, info: dict[str, Any] | None) -> np.ndarray | None:
    """The hashes a capture record points at (a file the kernel wrote), or None."""
    if not info or not isinstance(info.get("file"), str) or "/" in info["file"]:
        return None
    try:
        return np.load(capture_dir / info["file"], allow_pickle=False)
    except (OSError, ValueError):
        return None


def overlap(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Fraction of the samples of `a` that also occur in `b`."""
    if a is None or b is None or len(a) == 0:
        return 0.0
    return float(np.isin(a, b).mean())


def identify(hashes: np.ndarray | None, data_dir: str | None) -> dict[str, float]:
    """Overlap of an array's samples with each official split: {"mnist:test": 1.0, ...}."""
    out: dict[str, float] = {}
    if hashes is None or not data_dir:
        return out
    for dataset, name in OFFICIAL.items():
        if not (Path(data_dir) / name).exists():
            continue
        for split in ("test", "train"):
            frac = overlap(hashes, official_hashes(data_dir, dataset, split))
            if frac > 0:
                out[f"{dataset}:{split}"] = round(frac, 4)
    return out
