"""Helpers for the model-check tests: offline variants of notebooks and one grading run each.

Until the sandbox branch provisions `keras.datasets.*.load_data()` and
`keras.applications.*(weights="imagenet")` from the data directory inside the kernel, the tests
rewrite those calls in a copy of the notebook to read the same files directly
(`offline_variant`). Notebooks under tests/notebooks/models use the placeholder __DATA_DIR__.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "tests" / "notebooks" / "models"
WEIGHTS_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"


def offline_variant(src: Path, dest: Path, data_dir: Path, imagenet: str | None = "path") -> Path:
    """Copy a notebook, reading datasets straight from `data_dir` and pretrained weights from
    its weights folder (imagenet="path") or not at all (imagenet="none": the quick profile's
    random-weights stand-in for a weight file that is not provided)."""
    nb = nbformat.read(src, as_version=4)
    mnist = f'__import__("numpy").load({str(data_dir / "mnist.npz")!r})'
    cifar = f'__import__("numpy").load({str(data_dir / "cifar10-10k.npz")!r})'
    loader = "((lambda d: ((d['x_train'], d['y_train']), (d['x_test'], d['y_test'])))({}))"
    weights = (repr(str(data_dir / "weights" / WEIGHTS_035)) if imagenet == "path" else "None")
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        s = cell.source.replace("__DATA_DIR__", str(data_dir))
        s = re.sub(r"(?:keras\.datasets\.)?mnist\.load_data\(\)", loader.format(mnist), s)
        s = re.sub(r"(?:keras\.datasets\.)?cifar10\.load_data\(\)", loader.format(cifar), s)
        s = re.sub(r"""weights\s*=\s*["']imagenet["']""", f"weights={weights}", s)
        cell.source = s
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


def by_id(result) -> dict:
    data = result.to_dict() if hasattr(result, "to_dict") else json.loads(json.dumps(result))
    return {i["id"]: i for q in data["questions"] for i in q["items"]}
