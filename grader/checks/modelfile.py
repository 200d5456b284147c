"""A question's model as the grader read it from the saved file: the only source of the
architecture, parameter counts and training steps that earn points.

The kernel's capture (inkernel/50_capture.py) is reachable by determined student code
(`__globals__`, closure cells, `gc.get_objects()`), so nothing it says earns points by itself.
What the grader holds instead: the `.keras` file the capture saved after the cell, hashed by
the runner between cells (grader/execute/integrity.py), and that file loaded and described in
the sandboxed evaluator (grader/evaluation/description.py `describe_model`). `read` checks, in order:

1. the question has a model, and the capture saved it (`no-file` otherwise);
2. the runner saw the file saved by the capture and its hash is unchanged now (`tampered`);
3. the evaluator loads it (`unreadable`; `environment` when the evaluator itself failed);
4. the file is the model the notebook ran (`capture-mismatch`): its layers (class and name, in
   order), output shapes and parameter counts equal what the capture recorded when it saved
   it. A capture edited to show more layers, or a file swapped for another model, differs;
5. its optimizer took no more steps than the grader's own quick-profile caps allow for the fits
   the capture recorded (`tampered`, kind budget), unless the notebook trains outside fit() (a
   GradientTape loop, train_on_batch): then the model is measured as it is and the accuracy is
   reviewed (`over-budget`). The caps are per fit() call, for cost: a
   loop of capped fits trains as long as it likes, so the bound on training in every profile is
   the runner's cell and notebook time limits and the memory cgroup, all outside the kernel.

A capture forged to agree with the file changes nothing: the file is what is scored, and it
holds a model the kernel really had. Results are cached per question in `ctx.cache`. How a
transfer model was trained (frozen first, fine-tuned, pretrained weights) is read the same way
from the files saved after each fit: grader/checks/fitfiles.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checks.base import Diagnosis
from grader.checks.models import FIXES, question_capture
from grader.context import GradingContext
from grader.execute.integrity import step_allowance, trains_outside_fit

#: statuses after which the question earns no architecture or accuracy credit
FORGED = ("tampered", "capture-mismatch")


@dataclass
class FileModel:
    status: str  # ok | no-model | no-file | tampered | capture-mismatch | unreadable | environment
    message: str = ""
    index: int | None = None
    model: dict[str, Any] | None = None  # the file's description (evaluation/description.py)
    captured: dict[str, Any] | None = None  # the capture's record of the same model (untrusted)
    file: str | None = None
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def diagnosis(self) -> Diagnosis | None:
        if self.status not in FORGED:
            return None
        cell = (self.captured or {}).get("cell")
        return Diagnosis(self.status, self.message, cell if isinstance(cell, int) else None,
                         FIXES[self.status])


def saved_entry(record: Any, index: int | None) -> dict[str, Any] | None:
    """The capture's last save of model `index` (any status)."""
    found = None
    for entry in record.saved_models:
        if isinstance(entry, dict) and entry.get("model") == index:
            found = entry
    return found


def verify_file(ctx: GradingContext, index: int | None) -> tuple[dict[str, Any] | None, str, str]:
    """(saved entry, status, message): whether the model's file is one the grader may read."""
    record = ctx.execution
    entry = saved_entry(record, index)
    if entry is None:
        return None, "no-file", ("the grader's capture never saved this model, so there is no file to "
                                 "read it from")
    name = Path(str(entry.get("file"))).name
    if entry.get("status") == "tampered":
        return entry, "tampered", str(entry.get("error") or f"{name} was changed after the grader saved it")
    if entry.get("status") != "ok":
        return entry, "no-file", f"the grader could not save the model ({str(entry.get('error', ''))[:200]})"
    why = verify_name(record, name)
    return (entry, "tampered", why) if why else (entry, "ok", "")


def verify_name(record: Any, name: str) -> str | None:
    """Why the capture file `name` may not be read (None: the runner saw the grader's capture
    save it, and it still has the hash recorded then)."""
    from grader.execute.integrity import MODEL_LIMIT
    from grader.execute.safefile import sha256_regular

    if not record.model_file_trusted(name):
        why = next((t.get("message") for t in record.tampered if t.get("file") == name), None)
        return why or f"{name} was never seen being saved by the grader's capture"
    try:
        digest, _ = sha256_regular(Path(record.workdir) / ".grader", name, MODEL_LIMIT)
    except OSError as exc:
        return f"{name} cannot be read safely ({exc})"
    if digest != record.model_files[name]["sha256"]:
        return f"{name} is not the file the grader hashed after cell {record.model_files[name]['cell']}"
    return None


def _rows(model: dict[str, Any]) -> list[tuple[Any, Any]]:
    return [(r.get("class"), r.get("name")) for r in model.get("layers") or [] if isinstance(r, dict)]


def _short(rows: list[tuple[Any, Any]]) -> str:
    text = ", ".join(f"{cls} {name}" for cls, name in rows[:8])
    return text + (f" and {len(rows) - 8} more" if len(rows) > 8 else "")


def tie(captured: dict[str, Any] | None, described: dict[str, Any]) -> list[str]:
    """How the file differs from the model the capture recorded (empty: consistent). A capture
    with no layers recorded (its summary failed) has nothing to compare."""
    if not captured or not (captured.get("layers") or captured.get("params")):
        return []
    problems = []
    cap, got = _rows(captured), _rows(described)
    if cap != got:
        problems.append(f"the notebook's model has {len(cap)} layer(s) ({_short(cap)}) but the saved file "
                        f"has {len(got)} ({_short(got)})")
    else:
        for c, f in zip(captured["layers"], described["layers"], strict=True):
            if isinstance(c.get("params"), int) and c["params"] > 0 and c["params"] != f.get("params"):
                problems.append(f"layer {f['name']} has {f.get('params'):,} parameters in the file, "
                                f"{c['params']:,} in the notebook")
            shape, fshape = c.get("output_shape"), f.get("output_shape")
            if shape and fshape and list(shape) != list(fshape):
                problems.append(f"layer {f['name']} outputs {tuple(fshape)} in the file, {tuple(shape)} "
                                "in the notebook")
    params, fparams = captured.get("params"), described.get("params")
    if isinstance(params, int) and params > 0 and fparams != params:
        problems.append(f"the file has {fparams:,} parameters, the notebook's model {params:,}")
    return problems[:5]


def budget_problem(ctx: GradingContext, index: int | None,
                   described: dict[str, Any]) -> tuple[str, str] | None:
    """The file's optimizer steps against the grader's own quick caps x the fits recorded:
    None within them; ("over-budget", why) when the notebook trains outside fit() (a custom loop
    or train_on_batch, which no fit() cap reaches: honest, measured as it is, and reviewed);
    ("tampered", why) when nothing but fit() trains, so the caps were lifted."""
    steps = described.get("optimizer_steps")
    key = f"models:budget:{index}:{steps}"  # asked by the accuracy item twice (_forged, _over_budget)
    if key not in ctx.cache:
        ctx.cache[key] = _budget_problem(ctx, index, steps)
    return ctx.cache[key]


def _budget_problem(ctx: GradingContext, index: int | None, steps: Any) -> tuple[str, str] | None:
    caps = ctx.execution.budget.get("caps") or {}  # the runner's copy, never the kernel's
    if ctx.execution.profile != "quick" or not caps.get("max_steps_per_epoch") or not isinstance(steps, int):
        return None
    fits = sum(1 for f in ctx.execution.fits if f.get("model") == index)
    allowed = step_allowance(ctx.execution.fits, caps).get(index, 0) if isinstance(index, int) else 0
    if steps <= allowed:
        return None
    what = (f"the saved model's optimizer took {steps:,} steps, but the quick profile allows "
            f"{allowed:,} for the {fits} fit() call(s) the grader saw (at most "
            f"{caps.get('max_epochs') or 'all'} epoch(s) of {caps['max_steps_per_epoch']} steps each)")
    if trains_outside_fit([c.source for c in ctx.notebook.code_cells]):
        return "over-budget", (what + ": the notebook trains outside fit() (a custom loop or "
                               "train_on_batch), which the quick caps do not reach")
    return "tampered", what + ": it was trained past the budget"


def check_described(ctx: GradingContext, index: int | None, described: dict[str, Any]) -> tuple[str, str]:
    """(status, message) of a loaded file against the capture and the budget."""
    models = ctx.execution.models
    captured = next((m for m in models if isinstance(m, dict) and m.get("index") == index), None)
    problems = tie(captured, described)
    if problems:
        return "capture-mismatch", ("the saved model is not the model the notebook's capture recorded: "
                                    + "; ".join(problems))
    over = budget_problem(ctx, index, described)
    if over and over[0] == "tampered":
        return over
    return "ok", ""


def read(ctx: GradingContext, question: str) -> FileModel:
    """The question's final model, read from its verified file (cached per question)."""
    key = f"models:file:{question}"
    if key in ctx.cache:
        return ctx.cache[key]
    qc = question_capture(ctx, question)
    captured = qc.final_model()
    if captured is None:
        result = FileModel("no-model", "no Keras model was built in this question's cells")
    else:
        result = _read(ctx, question, captured)
    ctx.cache[key] = result
    return result


def _read(ctx: GradingContext, question: str, captured: dict[str, Any]) -> FileModel:
    index = captured.get("index")
    entry, status, message = verify_file(ctx, index)
    result = FileModel(status, message, index, captured=captured, file=(entry or {}).get("file"))
    if status != "ok":
        return result
    measured = _from_measurement(ctx, question, index)
    if measured is None or not measured.get("file_model"):
        measured = _inspect(ctx, Path(ctx.execution.workdir) / ".grader" / Path(str(entry["file"])).name)
    if measured.get("environment"):
        result.status, result.message = "environment", str(measured.get("error"))
        return result
    if not measured.get("file_model"):
        result.status = "unreadable"
        result.message = str(measured.get("error") or "the saved model could not be read")
        result.details = [str(measured.get("status") or "")]
        return result
    result.model = measured["file_model"]
    result.status, result.message = check_described(ctx, index, result.model)
    return result


def _from_measurement(ctx: GradingContext, question: str, index: int | None) -> dict[str, Any] | None:
    """The accuracy measurement of the same model, when this run makes one (it loads the file
    anyway, in the one evaluator process of the submission)."""
    from grader.checks.accuracy import _wanted, measurement

    m = ctx.cache.get(f"models:measure:{question}")
    if m is None:
        dataset = next((d for q, d in _wanted(ctx) if q == question), None)
        if dataset is None:  # no accuracy item of this run measures this question
            return None
        m = measurement(ctx, question, dataset)
    return m if m.get("model") == index else None


def _inspect(ctx: GradingContext, path: Path) -> dict[str, Any]:
    """Load and describe the file alone in the sandboxed evaluator (no accuracy measured)."""
    from grader.evaluation.process import measure_many

    data_dir = ctx.options.resolved_data_dir()
    spec: dict[str, Any] = {"model": str(path), "inspect": True}
    if data_dir:
        spec["data_dir"] = data_dir
    return measure_many([spec])[0]
