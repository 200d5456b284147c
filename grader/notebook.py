"""Load and validate a submitted notebook, and locate the answer to each question in it.

Loading never raises anything but `InvalidSubmission`, whose message is one line a student can
act on. Locating (grader/locate/) never raises: a question that cannot be found is absent from the map.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import marshal
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.machine import cache_root


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
    _node: Any = field(default=None, repr=False)
    _text: str = field(default="", repr=False)  # the file, for reading `node` on first use
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_type == "code"]

    @property
    def node(self) -> Any:
        """The nbformat NotebookNode, for execution: read on first use, so that grading static
        items never imports nbformat (with jsonschema and traitlets, a fifth of a self-check)."""
        with self._lock:  # the execution thread and a check may both ask
            if self._node is None:
                self._node = _read_node(self._text, self.path)
            return self._node


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
    cells = _cells_if_valid(data)
    if cells is None:  # nbformat decides, with its own message for an invalid file
        node = _read_node(raw, path)
        notebook = Notebook(path=path, cells=_cells(node.cells), _node=node)
    else:
        notebook = Notebook(path=path, cells=cells, _text=raw)
    if not any(c.source.strip() for c in notebook.cells):
        raise InvalidSubmission(
            f"{path}: the notebook has no content (every cell is empty); "
            "hand in the notebook with your answers"
        )
    return notebook


def _read_node(raw: str, path: Path) -> Any:
    """The file read and validated by nbformat (as every notebook was before the fast path)."""
    import nbformat
    from nbformat.validator import ValidationError

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
    return node


def _cells(cells: list[Any]) -> list[Cell]:
    """Cells from nbformat's nodes or from the file's own dicts (lists of lines joined, as
    nbformat's reader joins them)."""
    return [Cell(index=i, cell_type=c["cell_type"], source=_joined(c["source"]),
                 outputs_text=_outputs_text(c)) for i, c in enumerate(cells)]


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def _cells_if_valid(data: dict[str, Any]) -> list[Cell] | None:
    """The cells, when the file is certainly a valid notebook; None when nbformat must decide.

    Certainly valid: the schema nbformat itself validates this minor version with (its own
    file, fastjsonschema as nbformat uses it) accepts the file as saved, and nothing needs the
    repairs nbformat makes before validating (a missing or repeated cell id). nbformat reads
    the same data (lines joined, transient metadata dropped: neither makes a valid file
    invalid), so it would accept it too. Anything else, invalid files included, goes to nbformat.
    """
    minor = data.get("nbformat_minor")
    if type(minor) is not int or not isinstance(data.get("cells"), list):
        return None
    validate = _schema_validator(minor)
    if validate is None:
        return None
    if minor >= 5:
        ids = [c.get("id") if isinstance(c, dict) else None for c in data["cells"]]
        if None in ids or len(set(map(str, ids))) != len(ids):
            return None
    try:
        validate(data)
    except Exception:  # fastjsonschema's JsonSchemaException, or anything odd: nbformat decides
        return None
    return _cells(data["cells"])


@functools.cache
def _schema_validator(minor: int) -> Callable[[Any], Any] | None:
    """nbformat's schema for notebook format 4.`minor`, compiled as nbformat compiles it
    (fastjsonschema), found without importing nbformat; None when there is no such file."""
    try:
        import fastjsonschema

        spec = importlib.util.find_spec("nbformat")
        folder = Path(next(iter(spec.submodule_search_locations or [])))  # type: ignore[union-attr]
        schema = (folder / "v4" / f"nbformat.v4.{minor}.schema.json").read_bytes()
        return _compiled_validator(schema, fastjsonschema)
    except Exception:  # not installed as expected: nbformat reads every file
        return None


def _compiled_validator(schema: bytes, fastjsonschema: Any) -> Callable[[Any], Any]:
    """fastjsonschema's validator for `schema`. Generating and compiling its code takes 70 ms,
    a tenth of a static self-check: the code object is kept in the user's cache, keyed by the
    schema's bytes, fastjsonschema's version and the interpreter's bytecode magic (as Python
    keeps a module's .pyc), and made anew whenever one of them changes or the file is unusable."""
    cached = _validator_cache_file(schema, fastjsonschema.VERSION)
    if cached is not None:
        try:
            namespace: dict[str, Any] = {}
            exec(marshal.loads(cached.read_bytes()), namespace)  # noqa: S102
            if callable(namespace.get("validate")):
                return namespace["validate"]
        except Exception:  # missing, partly written or from elsewhere: made anew below
            pass
    code = compile(fastjsonschema.compile_to_code(json.loads(schema)), "<nbformat schema>", "exec")
    namespace = {}
    exec(code, namespace)  # noqa: S102
    if cached is not None:
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(code))
            os.replace(tmp, cached)
    return namespace["validate"]


def _validator_cache_file(schema: bytes, version: str) -> Path | None:
    """Under GRADER_CACHE_DIR (`off`: no cache), else $XDG_CACHE_HOME/grader or ~/.cache/grader."""
    root = cache_root()
    if root is None:
        return None
    key = hashlib.sha256(schema + b"\0" + version.encode() + b"\0" + importlib.util.MAGIC_NUMBER).hexdigest()
    return Path(root) / "notebook-schema" / f"{key[:32]}.marshal"


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
    if cell.get("cell_type") != "code":
        return ""
    text, errors = cell_output(cell)
    return text + "".join(f"{name}: {value}" for name, value in errors)


# ---- locating answers: grader/locate/ (re-exported here; engine, checks and tests import them)

from grader.locate import Answer, QuestionSpec, locate_answers, markdown_to_text  # noqa: E402

__all__ = ["Answer", "Cell", "InvalidSubmission", "Notebook", "QuestionSpec", "cell_output",
           "load_notebook", "locate_answers", "markdown_to_text"]
