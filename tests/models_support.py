"""Helpers for the model-check tests: offline variants of notebooks and one grading run each.

Notebooks are graded as students wrote them: the in-kernel setup serves datasets and weights
from the data directory. Notebooks under tests/notebooks/models use the placeholder __DATA_DIR__.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "tests" / "notebooks" / "models"
REDTEAM = ROOT / "tests" / "notebooks" / "redteam"


def offline_variant(src: Path, dest: Path, data_dir: Path, imagenet: str | None = "path") -> Path:
    """Copy a notebook with the placeholder __DATA_DIR__ filled in.

    Datasets and pretrained weights are not rewritten: the grader's in-kernel setup serves
    `keras.datasets.*.load_data()` and `weights="imagenet"` from the data directory, and in the
    quick profile builds a model with random weights when a weight file is missing (alice's
    alpha-1.0 MobileNetV2). `imagenet` is kept for the callers' readability only.
    """
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace("__DATA_DIR__", str(data_dir))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


def by_id(result) -> dict:
    data = result.to_dict() if hasattr(result, "to_dict") else json.loads(json.dumps(result))
    return {i["id"]: i for q in data["questions"] for i in q["items"]}


def grade_batch(folder: Path, names: tuple[str, ...], data_dir: Path, *, env: dict | None = None,
                expect_rc: int = 0) -> Callable[[str], dict]:
    """Grade the red-team notebooks `names` for Q9 in one `grader run DIR -j 2` (a real batch, as
    an instructor runs it); returns items(name) -> {item id: item} of each graded result."""
    subs, out = folder / "subs", folder / "out"
    for name in names:
        offline_variant(REDTEAM / f"{name}.ipynb", subs / f"{name}.ipynb", data_dir)
    proc = subprocess.run([sys.executable, "-m", "grader", "run", str(subs), "--out", str(out), "--questions",
                           "q9", "--data-dir", str(data_dir), "-j", "2"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == expect_rc, proc.stdout[-3000:] + proc.stderr[-3000:]

    def items(name: str) -> dict:
        data = json.loads((out / f"{name}.json").read_text())
        assert data["status"] == "graded", data["message"]
        return {i["id"]: i for q in data["questions"] for i in q["items"]}

    return items
