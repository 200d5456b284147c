"""Load and validate a submitted notebook, and locate the answer to each question in it.

Loading never raises anything but `InvalidSubmission`, whose message is one line a student can
act on. Locating (grader/locate/) never raises: a question that cannot be found is absent from the map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat.validator import ValidationError


class InvalidSubmission(Exception):
    """The file cannot be graded as a notebook. The message says why and what to do."""


@dataclass
class Cell:
    index: int
    cell_type: str  # "markdown" | "code" | "raw"
    source: str
    outputs_text: str = ""  # text the stored outputs of a code cell show (what was printed)


@dataclass
class Notebook:
    path: Path
    cells: list[Cell]
    node: Any  # the nbformat NotebookNode, for execution

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_type == "code"]


def load_notebook(path: str | Path) -> Notebook:
    """Read and validate an .ipynb file (nbformat 4, any minor version)."""
    path = Path(path)
    if not path.exists():
        raise InvalidSubmission(f"{path}: no such file; check the path and try again")
    if path.is_dir():
        raise InvalidSubmission(f"{path}: is a folder, not a notebook file")
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(
            f"{path}: not a text file (not UTF-8); save the notebook from Jupyter as .ipynb"
        ) from None
    except OSError as exc:
        raise InvalidSubmission(f"{path}: cannot be read ({exc.strerror})") from None
    if not raw.strip():
        raise InvalidSubmission(f"{path}: the file is empty; save the notebook and hand it in again")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidSubmission(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the file is damaged or is not an .ipynb notebook: re-download it from Jupyter"
        ) from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise InvalidSubmission(
            f"{path}: JSON but not a Jupyter notebook (no 'cells'/'nbformat' keys); "
            "hand in the .ipynb file itself"
        )
    major = data.get("nbformat")
    if major != 4:
        raise InvalidSubmission(
            f"{path}: notebook format {major} is not supported; open and save it in Jupyter "
            "(format 4)"
        )
    try:
        node = nbformat.reads(raw, as_version=4)
        nbformat.validate(node)
    except ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        first_line = str(exc.message).splitlines()[0]
        raise InvalidSubmission(
            f"{path}: not a valid notebook at {where}: {first_line}; re-save it from Jupyter"
        ) from None
    except Exception as exc:  # nbformat raises a few unrelated types for odd files
        raise InvalidSubmission(f"{path}: not a valid notebook ({exc}); re-save it from Jupyter") from None
    cells = [
        Cell(index=i, cell_type=c.cell_type, source=c.source, outputs_text=_outputs_text(c))
        for i, c in enumerate(node.cells)
    ]
    if not any(c.source.strip() for c in cells):
        raise InvalidSubmission(
            f"{path}: the notebook has no content (every cell is empty); "
            "hand in the notebook with your answers"
        )
    return Notebook(path=path, cells=cells, node=node)


def cell_output(cell: Any) -> tuple[str, list[tuple[str, str]]]:
    """What a code cell's outputs show as text (streams and text/plain), and its errors as
    (name, value) pairs. Shared by the loader (stored outputs) and the runner (fresh ones)."""
    parts: list[str] = []
    errors: list[tuple[str, str]] = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            errors.append((out.get("ename", ""), out.get("evalue", "")))
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts), errors


def _outputs_text(cell: Any) -> str:
    if cell.cell_type != "code":
        return ""
    text, errors = cell_output(cell)
    return text + "".join(f"{name}: {value}" for name, value in errors)


# ---- locating answers: grader/locate/ (re-exported here; engine, checks and tests import them)

from grader.locate import Answer, QuestionSpec, locate_answers, markdown_to_text  # noqa: E402

__all__ = ["Answer", "Cell", "InvalidSubmission", "Notebook", "QuestionSpec", "cell_output",
           "load_notebook", "locate_answers", "markdown_to_text"]
