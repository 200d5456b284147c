"""Run a notebook in a fresh, sandboxed Jupyter kernel through nbclient, cell by cell, and record
the outcome.

nbclient is wrapped, not forked: the per-cell and whole-notebook limits go through one
`timeout_func`, errors are recorded per cell (`allow_errors`), a dead kernel ends the run with a
status, and the only override is `output()`, which caps what a cell may print as messages
arrive. Where and how the kernel process runs (bubblewrap, ipc sockets, memory cap, clean-up)
is grader/execute/sandbox.py. Code for inside the kernel lives in grader/execute/inkernel/ and
is sent as hidden cells before the first student cell and after the last one.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.execute.record import CellRun, ExecutionProblem, ExecutionRecord
from grader.execute.sandbox import SandboxPlan, format_bytes, kill_group, make_kernel_manager, parse_memory
from grader.notebook import cell_output

INKERNEL_DIR = Path(__file__).parent / "inkernel"
CAPTURE_FILE = ".grader/capture.json"
SETUP_FILE = ".grader/setup.json"
SETUP_TIMEOUT = 180.0  # seconds for the grader's own in-kernel setup (TensorFlow import on a busy CPU)
_warned: set[str] = set()
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # terminal colours in Keras messages and tracebacks


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
        "setup_file": str(workdir / SETUP_FILE),
        "output_limit": options.output_limit,
    }
    parts = [f"_grader_config = {config!r}\n"]  # a Python literal (JSON null is not)
    parts += [f"# --- grader/execute/inkernel/{name}\n{src}" for name, src in inkernel_sources()]
    return "\n".join(parts)


def default_data_dir() -> str | None:
    """The Keras cache of the user running the grader (the kernel has its own private HOME)."""
    keras_home = Path.home() / ".keras"
    return str(keras_home) if keras_home.is_dir() else None


class _CappedClient(NotebookClient):
    """NotebookClient that keeps at most `output_limit` characters of output per cell.

    Outputs are dropped as their messages arrive, so a cell printing 100 MB never makes the
    grader hold 100 MB per cell; one note says where the output was cut.
    """

    output_limit: int = 1_000_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output_chars: dict[int, int] = {}
        self.truncated: set[int] = set()
        self.replies: dict[int, dict[str, Any]] = {}
        self.on_cell_executed = self._remember_reply

    def _remember_reply(self, cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        """The kernel's own verdict: an error whose traceback could not be formatted (e.g. out of
        memory) still shows up here even when no `error` output arrived."""
        self.replies[cell_index] = execute_reply.get("content", {}) if execute_reply else {}

    def output(self, outs: list, msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        size = _message_size(msg)
        used = self.output_chars.get(cell_index, 0)
        self.output_chars[cell_index] = used + size
        if used + size <= self.output_limit:
            return super().output(outs, msg, display_id, cell_index)
        if cell_index in self.truncated:
            return None
        self.truncated.add(cell_index)
        room = self.output_limit - used
        content = msg.get("content", {})
        if msg.get("msg_type") == "stream" and room > 0:
            head = dict(msg, content=dict(content, text=content.get("text", "")[:room]))
            super().output(outs, head, display_id, cell_index)
        note = nbformat.v4.new_output(
            "stream", name="stderr",
            text=f"\n[grader: output truncated: this cell printed more than {self.output_limit:,} "
            "characters; the rest was not kept]\n",
        )
        outs.append(note)
        return note


def _message_size(msg: dict[str, Any]) -> int:
    content = msg.get("content", {})
    if msg.get("msg_type") == "stream":
        return len(content.get("text", ""))
    data = content.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values()) + 100


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(f"grader: warning: {message}", file=sys.stderr)


def execute_notebook(node: Any, options: ExecutionOptions) -> ExecutionRecord:
    """Execute a copy of the notebook node; never raises for anything the notebook does."""
    started = time.monotonic()
    data_dir = options.data_dir or default_data_dir()
    given = str(Path(data_dir).expanduser().absolute()) if data_dir else None
    if data_dir:
        data_dir = str(Path(data_dir).expanduser().resolve())
    options.data_dir = data_dir
    plan = SandboxPlan(
        root=Path(tempfile.mkdtemp(prefix="grader-run-")),
        data_dir=data_dir,
        data_dir_alias=given if given != data_dir else None,
        memory_bytes=parse_memory(options.memory),
        seed=options.seed,
    )
    workdir = plan.workdir
    (workdir / ".grader").mkdir()
    for extra in options.extra_files:
        shutil.copy(extra, workdir)
    nb = nbformat.from_dict(json.loads(json.dumps(node)))
    nbformat.write(nb, workdir / "submission.ipynb")
    record = ExecutionRecord(status="completed", profile=options.profile, workdir=str(workdir))
    record.sandbox = plan.summary()
    record.sandbox.update(cell_timeout_s=options.cell_timeout, timeout_s=options.timeout,
                          output_limit_chars=options.output_limit)
    warning = plan.warning()
    if warning:
        _warn_once(warning)
    # The notebook's own time starts after the grader's setup cells (kernel start, imports).
    deadline = started + options.timeout + SETUP_TIMEOUT

    def timeout_func(cell: Any) -> int:
        if cell.get("metadata", {}).get("grader_hidden"):
            return int(SETUP_TIMEOUT)
        remaining = deadline - time.monotonic()
        return max(1, int(min(options.cell_timeout, remaining)))

    client = _CappedClient(
        nb,
        km=make_kernel_manager(plan),
        timeout_func=timeout_func,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        interrupt_on_timeout=False,
        shutdown_kernel="immediate",
        startup_timeout=120,
    )
    client.output_limit = options.output_limit
    client.reset_execution_trackers()
    pgid = None
    with open(plan.root / "kernel.log", "wb") as kernel_log:  # the kernel process's own output
        try:
            with client.setup_kernel(cwd=str(workdir), env=plan.env(), stdout=kernel_log, stderr=kernel_log):
                pgid = getattr(client.km.provisioner, "pgid", None)
                _run_prelude(client, _prelude(options, workdir), record)
                deadline = min(deadline, time.monotonic() + options.timeout)
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
            if not any(p.kind == "kernel-died" for p in record.problems):
                record.problems.append(ExecutionProblem(
                    "kernel-died",
                    "the kernel died outside the notebook's cells (the grader's setup or finalisation)"))
        except Exception as exc:  # kernel failed to start, zmq trouble: the grader's failure
            record.status = "error"
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            record.problems.append(ExecutionProblem("kernel-error", f"the kernel failed: {first_line}"))
        finally:
            kill_group(pgid)
    if record.status == "error":  # the grader's failure: say what the kernel process said
        log_lines = (plan.root / "kernel.log").read_text(errors="replace").strip().splitlines()
        if log_lines:
            record.problems[-1].message += f" (kernel log {plan.root / 'kernel.log'}: {log_lines[-1][:300]})"
    for scratch in (plan.home, plan.tmp, plan.ipc):  # the working directory stays for the checks
        shutil.rmtree(scratch, ignore_errors=True)
    _load_capture(record, workdir)
    _load_setup(record, workdir)
    record.duration_s = round(time.monotonic() - started, 3)
    return record


def _run_hidden(client: NotebookClient, source: str) -> Any:
    """Run grader code in the kernel as a cell that is not part of the notebook.

    nbclient stores the executed cell back at `nb.cells[cell_index]`, so the hidden cell gets
    a slot of its own at the end, removed afterwards (index -1 would overwrite, and then
    re-run, the student's last cell).
    """
    cell = nbformat.v4.new_code_cell(source, metadata={"grader_hidden": True})
    client.nb.cells.append(cell)
    index = len(client.nb.cells) - 1
    try:
        client.execute_cell(cell, cell_index=index, store_history=False)
    finally:
        client.nb.cells.pop()
        client.output_chars.pop(index, None)
        client.truncated.discard(index)
    return cell


def _run_prelude(client: NotebookClient, source: str, record: ExecutionRecord) -> None:
    """The grader's own setup cells; an error there is the grader's problem, so it is recorded."""
    cell = _run_hidden(client, source)
    _, errors = _cell_output(cell)
    for name, value in errors:
        record.problems.append(ExecutionProblem("setup-error", f"the grader's in-kernel setup failed: "
                                                f"{name}: {value}"))


def _death_reason(client: NotebookClient, options: ExecutionOptions) -> str:
    """Plain words for how the kernel process ended, from its exit status where we have it."""
    code = None
    try:
        process = client.km.provisioner.process  # type: ignore[union-attr]
        code = process.poll() if process is not None else None
    except AttributeError:
        pass
    memory = f"; the memory limit is {format_bytes(parse_memory(options.memory))}" if options.memory else ""
    if code is None:
        return f"out of memory, a crash or os._exit{memory}"
    if code in (-11, 139, 128 + 11):
        return "a segmentation fault (native code crashed)"
    if code in (-9, 137, 128 + 9):
        return f"it was killed, most likely for running out of memory{memory}"
    if code in (-6, 134):
        return f"an abort in native code (often out of memory{memory})"
    return f"the process exited with status {code} (os._exit, exit() or a crash)"


def _run_cell(
    client: _CappedClient, cell: Any, index: int, options: ExecutionOptions, record: ExecutionRecord
) -> CellRun:
    t0 = time.monotonic()
    run = CellRun(index=index, status="ok")
    try:
        _run_hidden(client, f"_grader_cell = {index}")  # the capture hooks record the cell
        client.execute_cell(cell, index)
    except CellTimeoutError:
        run.status = "timeout"
        record.status = "timeout"
        limit = client.timeout_func(cell) if client.timeout_func else options.cell_timeout
        if limit < options.cell_timeout:
            why = f"the notebook's time limit of {options.timeout:g} s ran out after {limit:g} s in this cell"
        else:
            why = f"it ran past the {options.cell_timeout:g} s limit per cell"
        message = f"cell {index} was stopped: {why}; later cells did not run"
        record.problems.append(ExecutionProblem("cell-timeout", message, index))
    except DeadKernelError:
        run.status = "kernel-died"
        record.status = "kernel-died"
        record.problems.append(
            ExecutionProblem(
                "kernel-died",
                f"the kernel died while running cell {index}: {_death_reason(client, options)}; "
                "later cells did not run",
                index,
            )
        )
    run.duration_s = round(time.monotonic() - t0, 3)
    text, errors = _cell_output(cell)
    reply = client.replies.pop(index, {})
    if not errors and reply.get("status") == "error":
        errors = [(str(reply.get("ename") or "Error"), _ANSI.sub("", str(reply.get("evalue") or "")))]
    if len(text) > options.output_limit:
        text = text[: options.output_limit]
        run.truncated = True
    if index in client.truncated:
        run.truncated = True
    if run.truncated:
        record.problems.append(
            ExecutionProblem(
                "output-truncated",
                f"cell {index} printed more than {options.output_limit:,} characters; only the first "
                f"{options.output_limit:,} were kept",
                index,
            )
        )
    run.output_text = text
    if errors and run.status == "ok":
        run.status = "error"
        run.error_name, run.error_value = errors[0]
        message = f"cell {index} raised {run.error_name}: {run.error_value}"
        if run.error_name == "MemoryError" and options.memory:
            message += f" (the notebook may use at most {format_bytes(parse_memory(options.memory))})"
        message += "; later cells still ran"
        record.problems.append(ExecutionProblem("cell-error", message, index))
    return run


def _cell_output(cell: Any) -> tuple[str, list[tuple[str, str]]]:
    """The cell's text and errors (grader.notebook.cell_output) without terminal colour codes."""
    text, errors = cell_output(cell)
    return _ANSI.sub("", text), [(name, _ANSI.sub("", value)) for name, value in errors]


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


def _load_setup(record: ExecutionRecord, workdir: Path) -> None:
    """Seeds, versions, device and data substitutions written by inkernel/10_setup.py."""
    try:
        data = json.loads((workdir / SETUP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(data, dict):
        return
    for key in ("seeds", "versions"):
        if isinstance(data.get(key), dict):
            getattr(record, key).update({str(k): v for k, v in data[key].items()})
    if isinstance(data.get("device"), str):
        record.device = data["device"]
    for key in ("substitutions", "missing_weights", "adaptations"):
        if isinstance(data.get(key), list):
            setattr(record, key, [d for d in data[key] if isinstance(d, dict)])
    if isinstance(data.get("data_files"), list):
        record.data_files = [str(f) for f in data["data_files"]]
