"""The sandboxed evaluator, grader side: `Evaluator` starts `python -c <program>` in a fresh
sandbox (grader/execute/sandbox.py: bubblewrap, no network, its own memory cap and a time limit),
copies the models into its folder and reads one JSON result per model; `measure_many` retries a
model that failed after another one alone; a batch worker keeps one evaluator between
submissions (`keep_evaluators`).

The program (`program()`) is the evaluator's own modules (SANDBOX_MODULES) as source, with a
loader that imports them from that source: in the sandbox the grader's package is hidden."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.evaluation.inspection import MAX_MODEL_BYTES
from grader.evaluation.threads import thread_env

#: the evaluator's own limits: private memory (RLIMIT_DATA, like the kernel's) and wall time
#: (per model: each model of a batch has this long from the previous model's result)
EVAL_MEMORY = "6G"
EVAL_TIMEOUT_S = 900.0


def _copy_regular(src: Path, dest: Path, limit: int = MAX_MODEL_BYTES) -> str | None:
    """Copy a capture file into the evaluator's folder: a regular file, opened without following
    a link, at most `limit` bytes. Returns why not, or None."""
    import stat

    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return f"the saved model {src.name} cannot be opened ({exc.strerror})"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return f"the saved model {src.name} is not a regular file"
        if info.st_size > limit:
            return f"the saved model is {info.st_size / 2**30:.1f} GiB, more than the grader loads"
        with open(dest, "wb") as out:
            copied = 0
            while chunk := fh.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    return "the saved model grew while it was copied"
                out.write(chunk)
    return None


def measure(spec: dict[str, Any], workdir: Path, timeout: float = EVAL_TIMEOUT_S,
            memory: str | int | None = None) -> dict[str, Any]:
    """Run the evaluator on `spec` in a fresh sandbox; never raises for what the model does.
    (`workdir`, the capture folder, is kept for callers; nothing is written there.)

    A result with `environment: True` means the grader's own evaluator could not run (bwrap
    failed, Python or Keras could not start): not the student's fault, so not their zero."""
    del workdir  # the capture folder is the student's: the sandbox's folder lives in the grader's TMPDIR
    return measure_many([spec], timeout=timeout, memory=memory)[0]


def measure_many(specs: list[dict[str, Any]], timeout: float = EVAL_TIMEOUT_S,
                 memory: str | int | None = None, early: Evaluator | None = None) -> list[dict[str, Any]]:
    """Measure every spec (one per saved model) in one sandboxed evaluator process, so Keras is
    imported and each official data set loaded once per submission; results in spec order.
    `early`: an evaluator started beforehand (`Evaluator.start`, `evaluator_for`), used first;
    without one, the worker's kept evaluator when there is one (`keep_evaluators`).

    Each model's result is what measuring it alone gives: one that times out, crashes the
    process or runs out of memory while not the first of a fresh process (a model before it
    in this batch, or an earlier submission in a kept evaluator) is measured again as the first
    of a fresh one, and the models after it in a fresh one after that."""
    results: dict[int, dict[str, Any]] = {}
    pending = list(range(len(specs)))
    first = True
    while pending:
        batch = [specs[i] for i in pending]
        evaluator = early if early is not None and early.usable(batch, memory) else None
        if early is not None and evaluator is None:
            early.release()
        early = None
        if evaluator is None:  # a retry always gets a fresh process of its own
            evaluator = (evaluator_for(_data_dir(batch), memory) if first
                         else Evaluator.start(_data_dir(batch), memory))
        first = False
        fresh = evaluator.batches == 0
        got, failure = evaluator.run(batch, timeout)
        for offset, result in got.items():
            results[pending[offset]] = result
        done = set(got)
        if failure is not None:
            first_missing = min(set(range(len(pending))) - done)
            if first_missing == 0 and fresh:  # first in a fresh process: that is its own result
                results[pending[0]] = failure
                done.add(0)
        retry = [i for i, r in got.items() if (i > 0 or not fresh) and r.get("memory_error")]
        for offset in retry:  # ran out of memory after another model: measure it alone
            done.discard(offset)
            del results[pending[offset]]
        pending = [p for offset, p in enumerate(pending) if offset not in done]
    if early is not None:
        early.release()
    for result in results.values():
        result.pop("memory_error", None)
    return [results[i] for i in range(len(specs))]


def _data_dir(specs: list[dict[str, Any]]) -> str | None:
    data_dirs = {str(Path(s["data_dir"]).resolve()) for s in specs if s.get("data_dir")}
    if len(data_dirs) > 1:
        raise ValueError("one evaluator process reads one data directory")
    return next(iter(data_dirs), None)


# ---- the program the sandbox runs -------------------------------------------------------------

#: the evaluator's modules (grader/evaluation/): all that runs in the sandbox; each imports only
#: these, the standard library, numpy, h5py and Keras
SANDBOX_MODULES = ("inspection", "inputs", "predicting", "memorisation", "imagenet", "description", "fitfile",
                   "savedfile", "numpymodel", "shapes", "filedescription", "inprocess")
#: one argument of a command line may be at most this long (Linux's MAX_ARG_STRLEN)
MAX_ARG_BYTES = 128 * 1024

_LOADER = """
import importlib.abc, importlib.util, sys

class _Bundled(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    \"\"\"The grader's evaluator modules from the sources below (its package is hidden here).\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name not in SOURCES:
            return None
        return importlib.util.spec_from_loader(name, self, is_package=name in ("grader", "grader.evaluation"))

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        exec(compile(SOURCES[name], "<" + name.replace(".", "/") + ".py>", "exec"), module.__dict__)

sys.meta_path.insert(0, _Bundled())
from grader.evaluation.inprocess import main
raise SystemExit(main())
"""


@functools.cache
def program() -> str:
    """The evaluator's program for `python -c`: the sources of SANDBOX_MODULES (and of this
    package's `__init__`, an empty `grader`) and a loader that imports them from there, then
    `grader.evaluation.inprocess.main`."""
    folder = Path(__file__).parent
    sources = {"grader": "", "grader.evaluation": (folder / "__init__.py").read_text(encoding="utf-8")}
    for name in SANDBOX_MODULES:
        sources[f"grader.evaluation.{name}"] = (folder / f"{name}.py").read_text(encoding="utf-8")
    # compressed: the sources would otherwise fill the one argument `python -c` has (128 KiB)
    blob = base64.b85encode(zlib.compress(json.dumps(sources).encode(), 9)).decode()
    text = ("# grader.evaluation.inprocess: the sandboxed evaluator\nimport base64, json, zlib\n"
            f"SOURCES = json.loads(zlib.decompress(base64.b85decode({blob!r})))\n{_LOADER}")
    if len(text.encode()) >= MAX_ARG_BYTES:
        raise RuntimeError(f"the evaluator's program is {len(text.encode())} bytes, more than one "
                           f"command-line argument may hold ({MAX_ARG_BYTES})")
    return text


# ---- a batch worker's kept evaluator -----------------------------------------------------------

#: "on": keep_evaluators was called; "evaluator": the process kept between submissions
_KEPT: dict[str, Any] = {"on": False, "evaluator": None}


def keep_evaluators(on: bool = True) -> None:
    """A batch worker grades one submission after another: with this on, one evaluator process
    is kept between them (`evaluator_for`), so Keras is imported once per worker, not once per
    submission. Same sandbox and limits as a fresh one; nothing of one submission stays in its
    folder for the next; a failure in it closes it, and the model is measured again in a fresh
    process. Off (and at the worker's exit): the kept process is closed. GRADER_KEEP_EVALUATOR=0
    never keeps one (to measure what keeping saves)."""
    _KEPT["on"] = bool(on) and os.environ.get("GRADER_KEEP_EVALUATOR") != "0"
    if not _KEPT["on"] and _KEPT["evaluator"] is not None:
        _KEPT["evaluator"].close()


@contextlib.contextmanager
def one_evaluator_per_submission() -> Iterator[None]:
    """Outside a batch worker, keep one evaluator for the whole submission: its accuracy
    measurements and its per-fit model files (grader/checks/fitfiles.py) are graded by different
    items, and a second process would import Keras again (~6-11 s). Inside a worker, whose
    evaluator is kept already, this changes nothing; at the end the process is closed."""
    if _KEPT["on"]:
        yield
        return
    keep_evaluators(True)
    try:
        yield
    finally:
        keep_evaluators(False)


def evaluator_for(data_dir: str | None, memory: str | int | None = None) -> Evaluator:
    """The kept evaluator when it is alive and set up for this data directory and memory cap;
    otherwise one started now (and kept for the next submission, when keeping is on)."""
    kept: Evaluator | None = _KEPT["evaluator"]
    resolved = str(Path(data_dir).resolve()) if data_dir else None
    if kept is not None:
        if kept.alive() and kept.memory == memory and kept.data_dir == resolved:
            return kept
        kept.close()
    evaluator = Evaluator.start(data_dir, memory)
    if _KEPT["on"]:
        evaluator.keep = True
        _KEPT["evaluator"] = evaluator
    return evaluator


class Evaluator:
    """One sandboxed evaluator process (bubblewrap, no network, its memory cap).

    `start` launches it at once: it imports Keras and waits for a batch on stdin, so that a
    caller can start it while the notebook still runs (the import costs ~6 s). It sees only
    its own folder, where the models are copied when a batch comes; the time limit counts
    from then, per model. Used for one batch and closed, unless `keep` (a batch worker's, see
    `keep_evaluators`): then, after a batch that went well, the models are removed from its
    folder and it waits for the next batch."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.plan: Any = None
        self.proc: Any = None
        self.memory: str | int | None = None
        self.data_dir: str | None = None
        self.error: dict[str, Any] | None = None
        self.sandbox: dict[str, Any] = {}
        self.keep = False
        self.preimport = "0"  # GRADER_EVAL_PREIMPORT as the process got it
        self.warmed = False  # `warm` was sent
        self._stdin_lock = threading.Lock()  # `warm` comes from the thread running the notebook
        self.batches = 0  # batches sent to this process
        self.ready = False  # it said that Keras and the official data loaded
        self._lines: Any = None  # the process's stdout lines (a queue; None at its end)
        self._stderr_tail: list[str] = []
        self._readers: list[Any] = []

    @classmethod
    def start(cls, data_dir: str | None, memory: str | int | None = None) -> Evaluator:
        import queue
        import subprocess
        import tempfile
        import threading

        from grader.execute.sandbox import SandboxPlan, parse_memory

        self = cls()
        self.data_dir = str(Path(data_dir).resolve()) if data_dir else None
        self.memory = memory
        self.root = Path(tempfile.mkdtemp(prefix="grader-eval-"))
        try:
            limit = memory if memory is not None else os.environ.get("GRADER_EVAL_MEMORY", EVAL_MEMORY)
            self.plan = SandboxPlan(root=self.root, data_dir=self.data_dir, memory_bytes=parse_memory(limit))
            argv = self.plan.wrap([sys.executable, "-c", program(), "--wait"])
            budget = thread_env()
            # alone on the machine (no budget): Keras is imported while the notebook runs once
            # `warm` says a model will need it; a GRADER_EVAL_PREIMPORT of the caller's wins (1:
            # always, 0: never ahead; the benchmark measures each)
            self.preimport = os.environ.get("GRADER_EVAL_PREIMPORT") or ("0" if budget else "warm")
            env = dict(self.plan.env(), TF_CPP_MIN_LOG_LEVEL="3", **budget,
                       GRADER_EVAL_PREIMPORT=self.preimport)
            self.sandbox = self.plan.summary()
            try:
                self.proc = subprocess.Popen(argv, cwd=self.plan.workdir, env=env, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                             start_new_session=True)
            except OSError as exc:
                self.error = {"ok": False, "environment": True,
                              "error": f"the grader's evaluator could not start ({exc.strerror}: {argv[0]})"}
            else:
                self._lines = queue.Queue()
                proc, lines, tail = self.proc, self._lines, self._stderr_tail

                def read_stdout() -> None:
                    for line in proc.stdout:
                        lines.put(line)
                    lines.put(None)

                def read_stderr() -> None:
                    for line in proc.stderr:
                        tail.append(line)
                        del tail[:-50]

                self._readers = [threading.Thread(target=reader, daemon=True)
                                 for reader in (read_stdout, read_stderr)]
                for reader in self._readers:
                    reader.start()
        except BaseException:
            self.close()
            raise
        return self

    def warm(self) -> None:
        """A model only Keras runs is coming (the notebook built a pretrained base with its real
        weights): the process imports Keras now, while the notebook runs, when it was started
        to (alone on its machine); otherwise nothing."""
        if self.preimport != "warm" or self.warmed or not self.alive() or self.proc is None:
            return
        self.warmed = True
        with self._stdin_lock, contextlib.suppress(OSError, ValueError):
            self.proc.stdin.write("warm\n")
            self.proc.stdin.flush()

    def alive(self) -> bool:
        return self.root is not None and (self.proc is None or self.proc.poll() is None)

    def usable(self, specs: list[dict[str, Any]], memory: str | int | None) -> bool:
        """Started for this batch's data directory and memory cap, and still there to use."""
        return self.alive() and self.memory == memory and self.data_dir == _data_dir(specs)

    def release(self) -> None:
        """Done with it for this submission: a kept evaluator waits for the next, any other closes."""
        if not (self.keep and self.alive() and _KEPT["evaluator"] is self):
            self.close()

    def close(self) -> None:
        import shutil
        import signal

        if _KEPT["evaluator"] is self:
            _KEPT["evaluator"] = None
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.plan is not None:
            self.plan.cleanup()  # the run's memory cgroup, where the machine offers one
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
        self.plan = self.root = None

    def run(self, specs: list[dict[str, Any]], timeout: float
            ) -> tuple[dict[int, dict[str, Any]], dict[str, Any] | None]:
        """Measure `specs`: ({offset: result}, the failure that ended the process early or None).
        Results stop at the first model that timed out or crashed the process."""
        try:
            got, failure = self._run(specs, timeout)
        except BaseException:
            self.close()
            raise
        if failure is not None or not self.keep:
            self.close()
        else:  # nothing of this submission stays for the next one
            for leftover in self.plan.workdir.iterdir():
                if leftover.name.startswith("model-") or leftover.name == "spec.json":
                    leftover.unlink(missing_ok=True)
        return got, failure

    def _run(self, specs: list[dict[str, Any]], timeout: float
             ) -> tuple[dict[int, dict[str, Any]], dict[str, Any] | None]:
        import queue
        import signal

        results: dict[int, dict[str, Any]] = {}
        inner: list[tuple[int, dict[str, Any]]] = []
        for offset, spec in enumerate(specs):
            model = self.plan.workdir / f"model-{offset}.keras"
            why = _copy_regular(Path(spec["model"]), model)
            if why:
                results[offset] = {"ok": False, "status": "model-unreadable", "error": why}
            else:
                inner.append((offset, dict(spec, model=str(model), data_dir=self.data_dir)))
                if os.environ.get("GRADER_EVAL_NUMPY") == "0":  # Keras only, to measure what NumPy saves
                    inner[-1][1]["numpy"] = False
        if not inner:
            return results, None
        if self.error is not None:
            return results, self.error
        proc, lines = self.proc, self._lines
        (self.plan.workdir / "spec.json").write_text(json.dumps({"batch": [s for _, s in inner]}))
        self.batches += 1
        with self._stdin_lock, contextlib.suppress(OSError):  # a dead process says why below
            proc.stdin.write(str(self.plan.workdir / "spec.json") + "\n")
            proc.stdin.flush()
            if not self.keep:
                proc.stdin.close()
        last_other, timed_out, finished = "", False, False
        deadline = time.monotonic() + timeout
        while not finished:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                timed_out = True
                break
            if line is None:
                break
            if not line.startswith("{"):
                last_other = line.strip() or last_other
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("stage") == "ready":
                self.ready = True
            elif message.get("stage") == "done":  # the batch is over: the process waits for the next
                finished = True
            elif isinstance(message.get("index"), int) and 0 <= message["index"] < len(inner):
                result = dict(message.get("result") or {})
                result["evaluator_sandbox"] = self.sandbox.get("method")
                results[inner[message["index"]][0]] = result
                deadline = time.monotonic() + timeout  # the next model has its own time
            if len(results) == len(specs):
                if not self.keep:
                    break  # every model measured: no need to wait for TensorFlow's slow exit
                deadline = min(deadline, time.monotonic() + 30.0)  # only "done" is still to come
        if len(results) == len(specs):
            if not finished:
                self.keep = False  # not back in a known state: not kept
            return results, None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if timed_out:
            return results, {"ok": False, "status": "timeout",
                             "error": f"measuring the model took longer than {timeout:g} s"}
        for reader in self._readers:  # the process is gone: its last lines are on their way
            reader.join(timeout=5)
        stderr = "".join(self._stderr_tail)
        tail = stderr.strip().splitlines()[-1:] or [last_other or "no output"]
        if not self.ready:  # it never got as far as the model: the grader's environment failed
            return results, {"ok": False, "environment": True,
                             "error": f"the grader's evaluator failed to start (exit {proc.returncode}): "
                                      f"{tail[0][:300]}"}
        killed = proc.returncode in (-9, 137) or "MemoryError" in stderr
        return results, {"ok": False, "status": "model-too-large" if killed else "evaluator-crashed",
                         "error": f"the evaluator failed while measuring the model (exit {proc.returncode}): "
                                  f"{tail[0][:300]}"}
