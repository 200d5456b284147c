"""Run a notebook in a fresh Jupyter kernel through nbclient, cell by cell, and record the outcome.

nbclient is wrapped, not forked: the per-cell and whole-notebook limits go through one
`timeout_func`, errors are recorded per cell (`allow_errors`), and a dead kernel ends the run
with a status. Code for inside the kernel lives in grader/execute/inkernel/ and is sent as
hidden cells before the first student cell and after the last one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.execute.record import CellRun, ExecutionProblem, ExecutionRecord

INKERNEL_DIR = Path(__file__).parent / "inkernel"
CAPTURE_FILE = ".grader/capture.json"


@dataclass
class ExecutionOptions:
    cell_timeout: float = 900.0
    timeout: float = 3600.0
    profile: str = "quick"  # quick | full (auto is resolved before this point)
    data_dir: str | None = None
    budget: dict[str, Any] = field(default_factory=dict)  # quick-profile training caps
    seed: int = 42
    memory: str | None = None
    output_limit: int = 1_000_000  # characters kept per cell
    extra_files: list[str] = field(default_factory=list)
    keep_workdir: str | None = None  # copy the working directory here when done


def inkernel_sources() -> list[tuple[str, str]]:
    """(name, source) of each in-kernel module, in a fixed order."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(INKERNEL_DIR.glob("*.py"))]


def _prelude(options: ExecutionOptions, workdir: Path) -> str:
    config = {
        "seed": options.seed,
        "profile": options.profile,
        "data_dir": options.data_dir,
        "budget": options.budget,
        "capture_file": str(workdir / CAPTURE_FILE),
        "capture_dir": str(workdir / ".grader"),
    }
    parts = [f"_grader_config = {config!r}\n"]  # a Python literal (JSON null is not)
    parts += [f"# --- grader/execute/inkernel/{name}\n{src}" for name, src in inkernel_sources()]
    return "\n".join(parts)


def execute_notebook(node: Any, options: ExecutionOptions) -> ExecutionRecord:
    """Execute a copy of the notebook node; never raises for anything the notebook does."""
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="grader-run-"))
    (workdir / ".grader").mkdir()
    for extra in options.extra_files:
        shutil.copy(extra, workdir)
    nb = nbformat.from_dict(json.loads(json.dumps(node)))
    record = ExecutionRecord(status="completed", profile=options.profile, workdir=str(workdir))
    deadline = started + options.timeout

    def timeout_func(cell: Any) -> int:
        remaining = deadline - time.monotonic()
        return max(1, int(min(options.cell_timeout, remaining)))

    client = NotebookClient(
        nb,
        timeout_func=timeout_func,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        interrupt_on_timeout=False,
    )
    client.reset_execution_trackers()
    try:
        with client.setup_kernel(cwd=str(workdir)):
            _run_hidden(client, _prelude(options, workdir))
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if time.monotonic() >= deadline:
                    record.status = "timeout"
                    record.problems.append(
                        ExecutionProblem(
                            "timeout",
                            f"the notebook used up its {options.timeout:g} s; cells from "
                            f"{index} on did not run",
                            index,
                        )
                    )
                    break
                run = _run_cell(client, cell, index, options, record)
                record.cells.append(run)
                if run.status in ("timeout", "kernel-died"):
                    break
            if record.status == "completed":
                _run_hidden(client, "_grader_finalize() if '_grader_finalize' in globals() else None")
    except DeadKernelError:
        record.status = "kernel-died"
    except Exception as exc:  # kernel failed to start, zmq trouble: the grader's failure
        record.status = "error"
        record.problems.append(ExecutionProblem("kernel-error", f"the kernel failed: {exc}"))
    _load_capture(record, workdir)
    record.duration_s = round(time.monotonic() - started, 3)
    return record


def _run_hidden(client: NotebookClient, source: str) -> None:
    cell = nbformat.v4.new_code_cell(source)
    # nbclient stores the executed cell at nb.cells[cell_index]: put the last cell back after
    last = client.nb.cells[-1] if client.nb.cells else None
    try:
        client.execute_cell(cell, cell_index=-1, store_history=False)
    finally:
        if last is not None:
            client.nb.cells[-1] = last


def _run_cell(
    client: NotebookClient, cell: Any, index: int, options: ExecutionOptions, record: ExecutionRecord
) -> CellRun:
    t0 = time.monotonic()
    run = CellRun(index=index, status="ok")
    try:
        _run_hidden(client, f"_grader_cell = {index}")  # the capture hooks record the cell
        client.execute_cell(cell, index)
    except CellTimeoutError:
        run.status = "timeout"
        record.status = "timeout"
        record.problems.append(
            ExecutionProblem("cell-timeout", f"cell {index} ran past its time limit", index)
        )
    except DeadKernelError:
        run.status = "kernel-died"
        record.status = "kernel-died"
        record.problems.append(
            ExecutionProblem(
                "kernel-died",
                f"the kernel died while running cell {index} (out of memory, a crash or os._exit)",
                index,
            )
        )
    run.duration_s = round(time.monotonic() - t0, 3)
    text, errors = _cell_output(cell)
    if len(text) > options.output_limit:
        text = text[: options.output_limit]
        run.truncated = True
    run.output_text = text
    if errors and run.status == "ok":
        run.status = "error"
        run.error_name, run.error_value = errors[0]
        record.problems.append(
            ExecutionProblem(
                "cell-error", f"cell {index} raised {run.error_name}: {run.error_value}", index
            )
        )
    return run


def _cell_output(cell: Any) -> tuple[str, list[tuple[str, str]]]:
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
    return "".join(parts), errors


def _load_capture(record: ExecutionRecord, workdir: Path) -> None:
    path = workdir / CAPTURE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(data, dict):
        return
    for key in ("models", "fits", "evaluates", "predicts", "saved_models"):
        value = data.get(key)
        if isinstance(value, list):
            setattr(record, key, value)
    for key in ("seeds", "versions", "budget"):
        value = data.get(key)
        if isinstance(value, dict):
            setattr(record, key, value)
    if isinstance(data.get("device"), str):
        record.device = data["device"]
