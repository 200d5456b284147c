"""Grader-side record of the model files the capture saved, so a file swapped later is caught.

The in-kernel hook saves each trained model as `.grader/model_<i>.keras` right after the cell
that trained or evaluated it, and a model with a pretrained base also right after each fit()
(`.grader/model_<i>_fit<k>.keras`), and notes that cell in capture.json. The runner calls
`CaptureWatch.after_cell` between cells (it sees the working directory from outside the
kernel): a model file that appears or changes in the cell the capture names is recorded as
`record.model_files[name] = {"sha256", "size", "cell"}`; one that changes in any other cell, or
becomes a link or a FIFO, is tampering, recorded in `record.tampered`. Once the kernel is dead
(nothing can write any more) `finish` checks every saved model against its recorded hash,
marks the ones that fail `status: "tampered"` (checks measure only `status == "ok"`), and
removes links, FIFOs and other non-regular files from the capture folder so no later reader
can be sent elsewhere or hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from grader.execute.record import ExecutionProblem, ExecutionRecord
from grader.execute.safefile import read_regular, sha256_regular

MODEL_FILE = re.compile(r"model_\d+(?:_fit\d+)?\.keras")
#: a model saved right after one fit() (a model with a pretrained base): model_<i>_fit<k>.keras
FIT_FILE = re.compile(r"model_(\d+)_fit(\d+)\.keras")
MODEL_LIMIT = 4 * 1024**3  # a model file larger than this is not measured
CAPTURE_LIMIT = 64 * 1024**2


class CaptureWatch:
    def __init__(self, workdir: Path, record: ExecutionRecord, capture_file: str) -> None:
        self.workdir = workdir
        self.capture_dir = workdir / ".grader"
        self.record = record
        self.capture_file = capture_file
        self.seen: dict[str, tuple[int, int, int]] = {}  # name -> (inode, size, mtime_ns)

    def _saved_cells(self) -> dict[str, Any]:
        """file name -> the cell the capture says it was saved in (the capture is untrusted,
        but it can only claim a save in the cell that really just ran)."""
        try:
            data = json.loads(read_regular(self.workdir, self.capture_file, CAPTURE_LIMIT))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        saved = data.get("saved_models") if isinstance(data.get("saved_models"), list) else []
        cells = {str(s.get("file")): s.get("cell") for s in saved if isinstance(s, dict)}
        fits = data.get("fits") if isinstance(data.get("fits"), list) else []
        for fit in fits:
            entry = fit.get("saved_fit") if isinstance(fit, dict) else None
            if isinstance(entry, dict) and FIT_FILE.fullmatch(str(entry.get("file"))):
                cells[str(entry["file"])] = entry.get("cell")
        return cells

    def _entries(self) -> list[tuple[str, os.stat_result]]:
        try:
            fd = os.open(self.capture_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return []
        try:
            return [(name, os.stat(name, dir_fd=fd, follow_symlinks=False)) for name in os.listdir(fd)]
        except OSError:
            return []
        finally:
            os.close(fd)

    def after_cell(self, cell: int, trusted_cell: bool = True) -> None:
        """Record what the cell `cell` saved; `trusted_cell` False (timed out, kernel died) means a
        half-written file is expected, so a change is noted as unverified, not as tampering."""
        saved_cells = None
        for name, st in self._entries():
            if not MODEL_FILE.fullmatch(name):
                continue
            if not stat.S_ISREG(st.st_mode):
                self._tamper(name, cell, f"{name} was replaced by {_kind(st.st_mode)}")
                continue
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
            if self.seen.get(name) == key:
                continue
            self.seen[name] = key
            try:
                digest, size = sha256_regular(self.capture_dir, name, MODEL_LIMIT)
            except OSError as exc:
                self._tamper(name, cell, f"{name} could not be read safely: {exc}")
                continue
            known = self.record.model_files.get(name)
            if known and known["sha256"] == digest:
                continue
            if known and FIT_FILE.fullmatch(name) and not known.get("unverified"):
                self._tamper(name, cell, f"{name} changed in cell {cell}; the grader saves a fit's file "
                             f"once, in the cell of that fit (cell {known['cell']})")
                continue
            if saved_cells is None:
                saved_cells = self._saved_cells()
            if saved_cells.get(name) == cell:
                self.record.model_files[name] = {"sha256": digest, "size": size, "cell": cell}
            elif not trusted_cell:
                self.record.model_files[name] = {"sha256": digest, "size": size, "cell": cell,
                                                 "unverified": True}
            else:
                what = "changed" if known else "appeared"
                self._tamper(name, cell, f"{name} {what} in cell {cell}, which did not save it "
                             "(the file was written by the notebook, not by the grader's capture)")

    def finish(self, last_cell: int) -> None:
        """After the kernel is gone: verify saved models, then clear out non-regular files."""
        self.after_cell(last_cell)
        bad = {t["file"] for t in self.record.tampered}
        for entry in self.record.saved_models:
            if not isinstance(entry, dict) or entry.get("status") != "ok":
                continue
            name = str(entry.get("file"))
            known = self.record.model_files.get(name)
            why = ""
            if name in bad:
                why = next(t["message"] for t in self.record.tampered if t["file"] == name)
            elif known is None:
                why = f"{name} was never seen being saved by the grader's capture"
            elif known.get("unverified"):
                why = f"{name} was written in a cell that did not finish; it is not measured"
            else:
                try:
                    digest, _ = sha256_regular(self.capture_dir, name, MODEL_LIMIT)
                except OSError as exc:
                    digest, why = "", f"{name} cannot be read safely: {exc}"
                if digest and digest != known["sha256"]:
                    why = f"{name} changed after cell {known['cell']} saved it"
            if why:
                entry["status"], entry["error"] = "tampered", why
                if name not in bad:
                    self._tamper(name, last_cell, why)
        self._check_fit_files(last_cell, bad)
        self._remove_special_files()

    def _check_fit_files(self, last_cell: int, bad: set[str]) -> None:
        """Every per-fit file the runner recorded must still be the file it hashed."""
        for name, known in list(self.record.model_files.items()):
            if not FIT_FILE.fullmatch(name) or name in bad or known.get("unverified"):
                continue
            try:
                digest, _ = sha256_regular(self.capture_dir, name, MODEL_LIMIT)
            except OSError as exc:
                self._tamper(name, last_cell, f"{name} cannot be read safely: {exc}")
                continue
            if digest != known["sha256"]:
                self._tamper(name, last_cell, f"{name} changed after cell {known['cell']} saved it")

    def _remove_special_files(self) -> None:
        for name, st in self._entries():
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 or stat.S_ISDIR(st.st_mode):
                continue
            with contextlib.suppress(OSError):
                fd = os.open(self.capture_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
                try:
                    os.unlink(name, dir_fd=fd)
                finally:
                    os.close(fd)
            if MODEL_FILE.fullmatch(name) is None:
                self.record.problems.append(ExecutionProblem(
                    "capture-file-removed",
                    f"the capture folder held {name}, {_kind(st.st_mode)}; the grader removed it "
                    "and does not read it"))

    def _tamper(self, name: str, cell: int, message: str) -> None:
        if any(t["file"] == name and t["message"] == message for t in self.record.tampered):
            return
        self.record.tampered.append({"kind": "model-file", "file": name, "cell": cell, "message": message})
        self.record.problems.append(ExecutionProblem("capture-tampered", message + "; this model "
                                                     "is not measured", cell))


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISREG(mode):
        return "a hard link to another file"
    return "not a regular file"


#: training that no fit() cap reaches: a loop the student wrote (GradientTape, train_on_batch).
#: Optimizer steps past the quick caps are honest there; with nothing but fit(), the caps were lifted.
OWN_TRAINING = re.compile(r"GradientTape|train_on_batch|apply_gradients|\.minimize\(")


def trains_outside_fit(sources: list[str]) -> bool:
    return any(OWN_TRAINING.search(s) for s in sources)


def step_allowance(fits: list[dict[str, Any]], caps: dict[str, Any]) -> dict[int, int]:
    """Optimizer steps the quick caps allow each model (by capture index) for the fits recorded:
    per fit, max_epochs (or, without that cap, the epochs the fit ran) x max_steps_per_epoch.
    The one definition the runner (`_check_budget`) and the file check (modelfile.budget_problem)
    share; empty without a step cap."""
    max_epochs, max_steps = caps.get("max_epochs"), caps.get("max_steps_per_epoch")
    allowed: dict[int, int] = {}
    if not max_steps:
        return allowed
    for fit in fits:
        model = fit.get("model")
        if not isinstance(model, int) or isinstance(model, bool):
            continue
        history = fit.get("history") if isinstance(fit.get("history"), dict) else {}
        epochs = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
        allowed[model] = allowed.get(model, 0) + int(max_epochs or epochs or 1) * int(max_steps)
    return allowed
