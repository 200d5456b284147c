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

import contextlib
import json
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.execute.diskquota import DiskWatch, descendants
from grader.execute.integrity import CaptureWatch, step_allowance, trains_outside_fit
from grader.execute.kernelmanager import make_kernel_manager
from grader.execute.record import CellRun, ExecutionProblem, ExecutionRecord
from grader.execute.safefile import read_regular
from grader.execute.sandbox import SandboxPlan, format_bytes, kill_group, parse_memory
from grader.machine import default_data_dir
from grader.notebook import cell_output

INKERNEL_DIR = Path(__file__).parent / "inkernel"
CAPTURE_FILE = ".grader/capture.json"
SETUP_FILE = ".grader/setup.json"
CAPTURE_LIMIT = 64 * 1024**2  # bytes of capture.json the grader reads at most
SETUP_LIMIT = 8 * 1024**2
LIST_LIMIT = 5000  # entries kept per capture list
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
    #: called after each code cell with its index and the working directory (the grader's own
    #: hooks, e.g. accuracy.py warming the evaluator; a failure in one is ignored)
    after_cell: Callable[[int, Path], None] | None = field(default=None, repr=False, compare=False)


def inkernel_sources() -> list[tuple[str, str]]:
    """(name, source) of each in-kernel module, in a fixed order."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(INKERNEL_DIR.glob("*.py"))]


# The in-kernel modules run in a private module namespace, not the notebook's globals: the
# capture state, config and budget are not reachable by name from the student's code.
_BOOT = """def _grader_boot(config, sources):
    import types
    ns = types.ModuleType("grader_private").__dict__
    ns.update(_grader_config=config, get_ipython=get_ipython)
    for name, source in sources:
        exec(compile(source, "grader/execute/inkernel/" + name, "exec"), ns)
_grader_boot({config!r}, {sources!r})
del _grader_boot
"""


def _prelude(options: ExecutionOptions, workdir: Path, nonce: str = "") -> str:
    config = {
        "seed": options.seed,
        "profile": options.profile,
        "data_dir": options.data_dir,
        "budget": options.budget,
        "capture_file": str(workdir / CAPTURE_FILE),
        "capture_dir": str(workdir / ".grader"),
        "setup_file": str(workdir / SETUP_FILE),
        "output_limit": options.output_limit,
        "nonce": nonce,
    }
    return _BOOT.format(config=config, sources=inkernel_sources())  # Python literals (JSON null is not)


def _cell_marker(index: int, nonce: str) -> str:
    """The hidden cell that tells the in-kernel capture which notebook cell runs next."""
    return f"# grader: cell {index} {nonce}"


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
    """Execute a copy of the notebook node; never raises for anything the notebook does, and
    removes the run's folder when it raises for anything else."""
    made: list[SandboxPlan] = []
    try:
        return _execute(node, options, made)
    except BaseException:
        for plan in made:
            plan.cleanup()
            shutil.rmtree(plan.root, ignore_errors=True)
        raise


def _execute(node: Any, options: ExecutionOptions, made: list[SandboxPlan]) -> ExecutionRecord:
    started = time.monotonic()
    data_dir = options.data_dir or default_data_dir()
    given = str(Path(data_dir).expanduser().absolute()) if data_dir else None
    if data_dir:
        data_dir = str(Path(data_dir).expanduser().resolve())
    options.data_dir = data_dir
    root = Path(tempfile.mkdtemp(prefix="grader-run-"))
    try:
        plan = SandboxPlan(
            root=root,
            data_dir=data_dir,
            data_dir_alias=given if given != data_dir else None,
            memory_bytes=parse_memory(options.memory),
            seed=options.seed,
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    made.append(plan)
    workdir = plan.workdir
    (workdir / ".grader").mkdir()
    nonce = secrets.token_hex(8)
    for extra in options.extra_files:
        shutil.copy(extra, workdir)
    nb = nbformat.from_dict(json.loads(json.dumps(node)))
    nbformat.write(nb, workdir / "submission.ipynb")
    record = ExecutionRecord(status="completed", profile=options.profile, workdir=str(workdir))
    watch = CaptureWatch(workdir, record, CAPTURE_FILE)
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
    disk = _disk_watch(plan, client)
    with open(plan.root / "kernel.log", "wb") as kernel_log, disk:  # the kernel process's own output
        try:
            with client.setup_kernel(cwd=str(workdir), env=plan.env(), stdout=kernel_log, stderr=kernel_log):
                pgid = getattr(client.km.provisioner, "pgid", None)
                _run_prelude(client, _prelude(options, workdir, nonce), record)
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
                    run = _run_cell(client, cell, index, options, record, nonce, plan)
                    record.cells.append(run)
                    watch.after_cell(index, trusted_cell=run.status in ("ok", "error"))
                    if options.after_cell is not None:
                        with contextlib.suppress(Exception):
                            options.after_cell(index, workdir)
                    if run.status in ("timeout", "kernel-died"):
                        break
                if record.status == "completed":  # the post-cell hook saves what is left
                    _run_hidden(client, _cell_marker(record.cells[-1].index if record.cells else -1, nonce))
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
            plan.cleanup()  # the cgroup's last processes (a fork that escaped the process group)
    if disk.exceeded:  # stopped for filling the disk: that, not a dead kernel, is what happened
        record.status = "disk-quota"
        stopped = next((p.cell for p in record.problems if p.kind == "kernel-died"), None)
        record.problems = [p for p in record.problems if p.kind != "kernel-died"]
        where = f" while running cell {stopped}; later cells did not run" if stopped is not None else ""
        record.problems.append(ExecutionProblem("disk-quota", disk.exceeded + where, stopped))
    if record.status == "error":  # the grader's failure: say what the kernel process said
        log_lines = (plan.root / "kernel.log").read_text(errors="replace").strip().splitlines()
        if log_lines:
            record.problems[-1].message += f" (kernel log {plan.root / 'kernel.log'}: {log_lines[-1][:300]})"
    for scratch in (plan.home, plan.tmp, plan.ipc):  # the working directory stays for the checks
        shutil.rmtree(scratch, ignore_errors=True)
    _load_capture(record, workdir)
    _load_setup(record, workdir)
    _check_missing_weights(record, data_dir)
    # the kernel and all its processes are gone: nothing can change the capture folder any more
    watch.finish(record.cells[-1].index if record.cells else -1)
    _check_budget(record, options, [c.source for c in nb.cells if c.cell_type == "code"])
    record.duration_s = round(time.monotonic() - started, 3)
    return record


def _disk_watch(plan: SandboxPlan, client: NotebookClient) -> DiskWatch:
    """The run folder's disk bound (grader/execute/diskquota.py): past it, every process of the
    run is killed (its process group and its cgroup), and nbclient sees a dead kernel."""
    def provisioner() -> Any:
        return getattr(client.km, "provisioner", None) if client.km is not None else None

    def stop() -> None:
        kill_group(getattr(provisioner(), "pgid", None))
        if plan.cgroup is not None:
            plan.cgroup.kill_all()

    def pids() -> list[int]:
        if plan.cgroup is not None:
            return plan.cgroup.pids()
        process = getattr(provisioner(), "process", None)
        return descendants(process.pid) if process is not None else []

    return DiskWatch(plan.root, plan.disk_bytes, stop, pids)


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


def _death_reason(client: NotebookClient, options: ExecutionOptions, plan: SandboxPlan | None = None) -> str:
    """Plain words for how the kernel process ended, from its exit status where we have it."""
    if plan is not None and plan.cgroup is not None and plan.cgroup.limit and plan.cgroup.oom_killed():
        return (f"it was killed by the memory limit of {format_bytes(plan.cgroup.limit)} for the whole run "
                "(all its processes, shared memory and files in /tmp and /dev/shm count)")
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
    client: _CappedClient, cell: Any, index: int, options: ExecutionOptions, record: ExecutionRecord,
    nonce: str = "", plan: SandboxPlan | None = None,
) -> CellRun:
    t0 = time.monotonic()
    run = CellRun(index=index, status="ok")
    try:
        _run_hidden(client, _cell_marker(index, nonce))  # the capture hooks record the cell
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
                f"the kernel died while running cell {index}: {_death_reason(client, options, plan)}; "
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


def _read_json(record: ExecutionRecord, workdir: Path, relative: str, limit: int) -> dict[str, Any] | None:
    """A JSON object the kernel wrote, read as untrusted data: a regular file (no link, FIFO or
    device), at most `limit` bytes. A refusal is a problem in the record, never a hang."""
    try:
        data = json.loads(read_regular(workdir, relative, limit))
    except FileNotFoundError:
        return None
    except OSError as exc:
        record.problems.append(ExecutionProblem(
            "capture-rejected", f"the grader did not read {relative}: {exc}; what the notebook's "
            "capture recorded (models, fits, saved models) is not used"))
        record.tampered.append({"kind": "capture", "file": relative, "cell": None, "message": str(exc)})
        return None
    except (ValueError, RecursionError):
        record.problems.append(ExecutionProblem(
            "capture-rejected", f"{relative} is not valid JSON (written by the notebook's kernel, "
            "perhaps cut short by a crash); what it recorded is not used"))
        return None
    return data if isinstance(data, dict) else None


def _int_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _valid_entry(entry: Any) -> bool:
    """The fields every capture list entry shares, with the types the checks rely on."""
    return (isinstance(entry, dict) and _int_or_none(entry.get("cell"))
            and _int_or_none(entry.get("model")) and _int_or_none(entry.get("index"))
            and isinstance(entry.get("status", ""), str) and isinstance(entry.get("file", ""), str))


def _load_capture(record: ExecutionRecord, workdir: Path) -> None:
    data = _read_json(record, workdir, CAPTURE_FILE, CAPTURE_LIMIT)
    if data is None:
        return
    dropped = 0
    for key in ("models", "fits", "evaluates", "predicts", "saved_models"):
        value = data.get(key)
        if isinstance(value, list):
            kept = [e for e in value[:LIST_LIMIT] if _valid_entry(e)]
            dropped += len(value) - len(kept)
            setattr(record, key, kept)
    for key in ("seeds", "versions"):
        value = data.get(key)
        if isinstance(value, dict):
            setattr(record, key, value)
    if isinstance(data.get("budget"), dict):
        record.budget = dict(data["budget"])
    if isinstance(data.get("device"), str):
        record.device = data["device"][:200]
    if dropped:
        record.problems.append(ExecutionProblem(
            "capture-rejected", f"{dropped} entries of the capture file were malformed or over the "
            f"{LIST_LIMIT:,}-entry limit and were dropped"))
    for note in data.get("tampered") or []:
        if isinstance(note, dict) and note.get("kind") == "budget":
            record.tampered.append({"kind": "budget", "file": None, "cell": note.get("cell"),
                                    "message": f"a fit ran {note.get('ran')} past the quick "
                                    f"profile's caps {note.get('caps')}"})


def _check_budget(record: ExecutionRecord, options: ExecutionOptions,
                  sources: list[str] | None = None) -> None:
    """The quick profile's caps as the grader set them, never as the kernel reports them: a fit
    whose history is longer than max_epochs, or a saved model whose optimizer took more steps
    than its fits were allowed in a notebook that trains only through fit(), ran with a lifted
    budget; its model is not measured. A notebook with its own training loop (`sources`:
    integrity.trains_outside_fit) is out of the caps' reach and is measured, then reviewed. The
    kernel's step count can be forged lower: checks/modelfile.py judges the file's own count."""
    record.budget["caps"] = dict(options.budget or {})  # the grader's own copy
    record.budget["profile"] = options.profile
    caps = options.budget or {}
    if options.profile != "quick" or not caps:
        return
    max_epochs, max_steps = caps.get("max_epochs"), caps.get("max_steps_per_epoch")
    allowed = step_allowance(record.fits, caps)
    lifted: set[int] = set()
    for fit in record.fits:
        model = fit.get("model")
        history = fit.get("history") if isinstance(fit.get("history"), dict) else {}
        epochs = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
        if max_epochs and epochs > max_epochs and isinstance(model, int):
            lifted.add(model)
    for note in record.tampered:
        if note.get("kind") == "budget":
            for fit in record.fits:
                if fit.get("cell") == note.get("cell") and isinstance(fit.get("model"), int):
                    lifted.add(fit["model"])
    steps_note: dict[int, str] = {}
    own_loop = trains_outside_fit(sources or [])
    for entry in record.saved_models:
        model, steps = entry.get("model"), entry.get("optimizer_steps")
        if isinstance(model, int) and isinstance(steps, int) and max_steps and not own_loop \
                and steps > allowed.get(model, 0):
            lifted.add(model)
            steps_note[model] = (f": its optimizer took {steps} steps, the fits the grader saw allow "
                                 f"{allowed.get(model, 0)}")
    for entry in record.saved_models:
        if entry.get("model") in lifted and entry.get("status") == "ok":
            message = (f"model {entry['model']} was trained past the quick profile's budget (at most "
                       f"{max_epochs or 'all'} epoch(s) of {max_steps or 'all'} steps per fit)"
                       + steps_note.get(entry["model"], ""))
            entry["status"], entry["error"] = "tampered", message
            record.tampered.append({"kind": "budget", "file": entry.get("file"), "cell": entry.get("cell"),
                                    "message": message})
            record.problems.append(ExecutionProblem("capture-tampered", message + "; it is not measured",
                                                    entry.get("cell")))


def _check_missing_weights(record: ExecutionRecord, data_dir: str | None) -> None:
    """The kernel reports weight files the grader could not provide, and checks skip the items
    that need them (left out of the maximum): a claim is kept only when the grader's own data
    directory really lacks that file, so claiming one earns no skipped item."""
    from grader.gaps import data_file_present

    def genuine(entries: Any) -> list[Any]:
        kept = []
        for entry in entries if isinstance(entries, list) else []:
            name = Path(str(entry.get("file") if isinstance(entry, dict) else entry)).name
            if data_file_present(data_dir, name):
                record.problems.append(ExecutionProblem(
                    "capture-tampered", f"the kernel reported the weight file {name[:200]} as missing, but "
                    "the grader has it; the report is ignored"))
                record.tampered.append({"kind": "capture", "file": None, "cell": None,
                                        "message": f"missing weights claimed for {name[:200]}"})
            else:
                kept.append(entry)
        return kept

    record.missing_weights = genuine(record.missing_weights)
    if "missing_weights" in record.budget:
        record.budget["missing_weights"] = genuine(record.budget["missing_weights"])


def pretrained_weights_used(workdir: Path) -> bool:
    """Whether the kernel has so far read a pretrained weights file from the data directory (its
    setup record lists the files it used). Written by the student's kernel, so only a hint: it
    decides when the evaluator imports Keras, nothing that is graded."""
    try:  # a regular file of bounded size (no link, FIFO or device: never a hang)
        files = json.loads(read_regular(workdir, SETUP_FILE, SETUP_LIMIT)).get("data_files")
    except (OSError, ValueError, RecursionError, AttributeError):
        return False
    return isinstance(files, list) and any(str(f).endswith((".h5", ".keras")) for f in files[:LIST_LIMIT])


def _load_setup(record: ExecutionRecord, workdir: Path) -> None:
    """Seeds, versions, device and data substitutions written by inkernel/10_setup.py."""
    data = _read_json(record, workdir, SETUP_FILE, SETUP_LIMIT)
    if data is None:
        return
    for key in ("seeds", "versions"):
        if isinstance(data.get(key), dict):
            getattr(record, key).update({str(k): v for k, v in data[key].items()})
    if isinstance(data.get("device"), str):
        record.device = data["device"][:200]
    for key in ("substitutions", "missing_weights", "adaptations"):
        if isinstance(data.get(key), list):
            setattr(record, key, [d for d in data[key][:LIST_LIMIT] if isinstance(d, dict)])
    if isinstance(data.get("data_files"), list):
        record.data_files = [str(f)[:1000] for f in data["data_files"][:LIST_LIMIT]]
