"""The fairness rule: which failures are the grading environment's, never the student's 0.

A failure is the *environment's* when the grading machine, not the student's code, caused it:
a module the assignment environment does not provide, a dataset or weight file missing from
the data dir, network access (the sandbox has none), a kernel the grader could not start, or a
grader bug. The items it kept from being graded end `skipped` with cause `environment`, the
reason, and a `fix` for the instructor; results.py leaves them out of the maximum and marks
the submission incomplete. Everything else (the student's typo, their own crash, a timeout, a
missing answer) still costs points. README "What counts against the student" states the rule.

The kernel is hostile, so nothing it wrote is taken on trust: a "missing file" must really be
missing from the data dir and a "missing module" must really be unimportable here (the kernel
runs this same Python). A module name one typo away from an installed one is the student's.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.checks.base import Outcome, needs_execution

if TYPE_CHECKING:
    from grader.context import GradingContext
    from grader.execute.record import ExecutionRecord

#: pip names of modules whose import name differs (for the fix message)
PIP_NAMES = {"sklearn": "scikit-learn", "PIL": "pillow", "cv2": "opencv-python-headless",
             "skimage": "scikit-image", "yaml": "pyyaml", "tensorflow_datasets": "tensorflow-datasets",
             "tensorflow_hub": "tensorflow-hub", "bs4": "beautifulsoup4"}
#: top-level packages whose removed submodules are a version gap (Keras 2 code on Keras 3)
VERSIONED = ("keras", "tensorflow", "tf_keras")
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_OFFLINE = re.compile(r"no (TFDS )?copy of (?:the dataset )?'([^']+)'")
_NETWORK_NAMES = {"URLError", "HTTPError", "ConnectionError", "gaierror", "ConnectTimeout",
                  "NewConnectionError", "MaxRetryError", "ConnectTimeoutError", "RemoteDisconnected"}
_NETWORK_TEXT = re.compile(r"name resolution|Network is unreachable|Name or service not known|"
                           r"Failed to establish a new connection|nodename nor servname|"
                           r"getaddrinfo failed|No route to host", re.I)
_DRIVE_PATH = re.compile(r"'?(/content/[^'\s]*|/gdrive/[^'\s]*)")
REPORTED_NOTE = "reported by the notebook, not verified"


@dataclass
class Gap:
    """One thing the grading environment lacked."""

    kind: str  # module | api | data | weights | tfds | drive | network | kernel | grader
    what: str  # the module, file, dataset, URL or message
    fix: str  # for the instructor: what to install, which file to put where
    cell: int | None = None  # the cell it surfaced in; None: the whole run
    blocking: bool = True  # False: the run went on (random weights stood in); only skipped items

    def reason(self) -> str:
        return {
            "module": f"the grading machine does not have the Python module '{self.what}'",
            "api": f"the grading machine's library version has no '{self.what}' (removed in Keras 3)",
            "data": f"the grader's data directory has no '{self.what}'",
            "weights": f"the grader's data directory has no pretrained weights file '{self.what}'",
            "tfds": f"the grader's data directory has no TensorFlow Datasets copy of '{self.what}'",
            "drive": f"the notebook reads '{self.what}' from Google Drive/Colab, which the grader lacks",
            "network": f"the notebook needs the internet ({self.what}), which the grader's sandbox blocks",
            "kernel": f"the grader could not start the notebook's kernel ({self.what})",
            "grader": f"the grader itself failed (an internal error: {self.what})",
        }.get(self.kind, self.what)


# ---- what the environment provides ---------------------------------------------------------

def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def declared_packages(rubric_env: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((rubric_env or {}).get("packages") or {}).items()}


def data_file_present(data_dir: str | None, name: str) -> bool:
    """Where the in-kernel setup looks for a file (inkernel/10_setup.py `_grader_find_file`)."""
    if not data_dir or not name:
        return False
    root = Path(data_dir)
    return any((root / sub / name).exists() for sub in ("", "datasets", "weights", "models"))


def tfds_present(data_dir: str | None, name: str) -> bool:
    if not data_dir or not name:
        return False
    base = name.split(":")[0].split("/")[0]
    return any((Path(data_dir) / sub / base).is_dir() for sub in ("tensorflow_datasets", ""))


def data_dir_hint(data_dir: str | None) -> str:
    return data_dir or "the data dir (none was given: pass --data-dir DIR or set GRADER_DATA_DIR)"


def weights_fix(name: str, data_dir: str | None) -> str:
    return (f"put Keras's file '{name}' in {data_dir_hint(data_dir)}/weights/ (the name "
            "keras.applications downloads it under) and regrade")


def module_fix(module: str, declared: dict[str, str]) -> str:
    if module in declared:
        return (f"install it where the grader runs: pip install '{declared[module]}' (the rubric's "
                "environment declares it; pip install -e '.[course]' installs the course packages)")
    pip = PIP_NAMES.get(module, module)
    return (f"'{module}' is not in the rubric's environment: if the course allows it, pip install '{pip}' "
            f"and add `{module}: {pip}` to environment.packages; otherwise grade these items by hand")


# ---- classification ------------------------------------------------------------------------

def gap_from_error(name: str, value: str, *, cell: int | None, data_dir: str | None,
                   declared: dict[str, str]) -> Gap | None:
    """The environment gap a cell's error shows, or None when the error is the student's."""
    value = value or ""
    missing = _NO_MODULE.search(value) if name in ("ModuleNotFoundError", "ImportError") else None
    if missing:
        module = missing.group(1)
        top = module.split(".")[0]
        if importable(top):
            if top in VERSIONED and module != top and not _submodule_typo(module):
                return Gap("api", module, f"{module} is a Keras 2 / TensorFlow 1 module the installed "
                           f"{top} no longer has and the grader does not adapt: grade these items by hand",
                           cell)
            return None  # a submodule of an installed package that does not exist: the student's
        known = set(declared) | {m for m in sys.modules if "." not in m and not m.startswith("_")}
        close = difflib.get_close_matches(top, sorted(known), n=1, cutoff=0.85)
        if close and close[0] != top and importable(close[0]):
            return None  # one typo away from an installed module: the student's typo
        return Gap("module", top, module_fix(top, declared), cell)
    offline = _OFFLINE.search(value) if name == "OfflineFileMissing" else None
    if offline:
        what = offline.group(2)
        if offline.group(1):
            if tfds_present(data_dir, what):
                return None
            base = what.split(":")[0].split("/")[0]
            return Gap("tfds", what, f"put the prepared TensorFlow Datasets folder '{base}/' (what "
                       f"tfds.load writes under ~/tensorflow_datasets/) in "
                       f"{data_dir_hint(data_dir)}/tensorflow_datasets/ and regrade", cell)
        if data_file_present(data_dir, what):
            return None  # the kernel says missing, the file is there: not taken on trust
        if what.endswith((".h5", ".keras")):
            return Gap("weights", what, weights_fix(what, data_dir), cell)
        return Gap("data", what, f"put '{what}' in {data_dir_hint(data_dir)} and regrade", cell)
    if name in ("FileNotFoundError", "OSError", "NotFoundError"):
        drive = _DRIVE_PATH.search(value)
        if drive:
            return Gap("drive", drive.group(1), "the student's data lives on their Google Drive: ask for "
                       "the file, put it in the data dir, and grade these items by hand", cell)
    if name in _NETWORK_NAMES or _NETWORK_TEXT.search(value):
        return Gap("network", value.strip().splitlines()[0][:160] if value.strip() else name,
                   "the notebook downloads something at run time: put the file in the data dir under "
                   "the name the library looks for (Keras's get_file name) or grade these items by hand",
                   cell)
    return None


def _submodule_typo(module: str) -> bool:
    """`keras.layer` for `keras.layers`: one typo from a submodule the package has (found from its
    folder, without importing it)."""
    top, *middle, child = module.split(".")
    try:  # a top-level spec only: find_spec("a.b") would import `a` (TensorFlow) in the grader
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    folders = [Path(f) for f in (spec.submodule_search_locations or [])] if spec else []
    for part in middle:
        folders = [f / part for f in folders if (f / part).is_dir()]
    names: set[str] = set()
    for folder in folders:
        names |= {p.stem for p in folder.iterdir() if not p.name.startswith("_")}
    close = difflib.get_close_matches(child, sorted(names), n=1, cutoff=0.8)
    return bool(close) and close[0] != child


def execution_gaps(record: ExecutionRecord, *, data_dir: str | None, declared: dict[str, str],
                   sources: dict[int, str] | None = None) -> list[Gap]:
    """Every environment gap in one execution, in the order they happened. With the notebook's
    cell `sources`, a missing module counts only if a cell up to the failing one imports it (a
    `raise ModuleNotFoundError(...)` of the student's own is theirs)."""
    gaps: list[Gap] = []
    # the runner could not start the kernel: a run of its own (a workdir) in which no student cell
    # ran; a batch worker that stalled or died records no workdir, and may be the notebook's doing
    if record.status == "error" and record.workdir and not record.cells:
        for p in record.problems:
            if p.kind == "kernel-error":
                gaps.append(Gap("kernel", p.message, kernel_fix(p.message)))
    for p in record.problems:
        if p.kind == "setup-error":
            gaps.append(Gap("grader", p.message, "the grader's own in-kernel setup failed: a grader bug; "
                            "report it with this message and regrade once fixed"))
    for run in record.cells:
        if run.status == "error":
            gap = gap_from_error(run.error_name, run.error_value, cell=run.index, data_dir=data_dir,
                                 declared=declared)
            if gap is not None and gap.kind == "module" and sources is not None:
                earlier = [imported_modules(src) for i, src in sources.items() if i <= run.index]
                gap = gap if gap.what in set().union(*earlier) else None
            if gap is not None:
                gaps.append(gap)
    for entry in record.missing_weights:  # quick profile: random weights stood in, the run went on
        name = str(entry.get("file") or "")
        if name and not data_file_present(data_dir, name):
            cell = entry.get("cell") if isinstance(entry.get("cell"), int) else None
            gaps.append(Gap("weights", name, weights_fix(name, data_dir), cell, blocking=False))
    return gaps


def kernel_fix(message: str) -> str:
    from grader.envcheck import python_under_tmp

    under = python_under_tmp()
    if under:
        return (f"the grader's Python lives under /tmp ({under}), which the sandbox replaces with a private "
                "/tmp: install the grader outside /tmp (e.g. python3 -m venv ~/grader-venv) and regrade")
    return "run `grader doctor` on the grading machine: it starts a kernel and says what is wrong"


def _data_dir(ctx: GradingContext) -> str | None:
    from grader.machine import default_data_dir

    return ctx.options.resolved_data_dir() or default_data_dir()


def classify_outcomes(ctx: GradingContext, outcomes: dict[str, Outcome]) -> list[dict[str, Any]]:
    """Turn the items an environment gap kept from being graded into `skipped` (environment)
    outcomes, in place, and return the result's gap list ({kind, what, fix, cell, items})."""
    declared = declared_packages(ctx.rubric.environment)
    record = ctx._execution
    sources = {c.index: c.source for c in ctx.notebook.cells if c.cell_type == "code"}
    gaps = (execution_gaps(record, data_dir=_data_dir(ctx), declared=declared, sources=sources)
            if record else [])
    hit: dict[tuple[str, str], dict[str, Any]] = {}
    for spec in ctx.rubric.items:
        outcome = outcomes.get(spec.id)
        if outcome is None:
            continue
        if outcome.cause == "environment":  # a check that knew (Outcome.environment): listed as is
            known = {"kind": "check", "what": outcome.feedback, "fix": outcome.fix, "cell": None, "items": []}
            entry = hit.setdefault(("check", outcome.feedback), known)
            entry["items"].append(spec.id)
            continue
        found = _grader_bug(outcome) if outcome.status == "error" else None
        if found is None and needs_execution(spec.kind) and outcome.resolved_status() != "passed":
            found = _gap_for(spec.question, outcome, gaps, ctx, record)
        if found is None:
            continue
        outcomes[spec.id] = _environment_outcome(outcome, found, ctx, spec.question)
        entry = hit.setdefault((found.kind, found.what), {**asdict(found), "items": []})
        entry.pop("blocking", None)
        entry["items"].append(spec.id)
    return list(hit.values())


def _grader_bug(outcome: Outcome) -> Gap | None:
    bug = outcome.evidence.get("internal_error")
    if not bug:
        return None
    return Gap("grader", str(bug)[:200], "a grader bug (the traceback is in the item's evidence): report it, "
               "and grade the item by hand or regrade once it is fixed")


def _gap_for(question: str, outcome: Outcome, gaps: list[Gap], ctx: GradingContext,
             record: ExecutionRecord | None) -> Gap | None:
    """The gap that explains this dynamic item's lost points, if any."""
    if record is None:
        return None
    answer = ctx.answer(question)
    cells = sorted(answer.code_cells) if answer else []
    failed = [c for c in cells if (run := record.cell(c)) is None or run.status != "ok"]
    for gap in gaps:
        if gap.kind in ("kernel", "grader") and gap.cell is None:
            return gap
        if not gap.blocking:
            if outcome.resolved_status() == "skipped":
                return gap
            continue
        # the gap broke this question: it happened in its cells, or a later cell of it failed for
        # want of a name the gap's cell never got to bind (`sns` after `import seaborn as sns`)
        if gap.cell in cells:
            return gap
        if gap.cell is not None and any(c > gap.cell and _cascades(record.cell(c), ctx, gap.cell)
                                        for c in failed):
            return gap
    return None


_NAME_ERROR = re.compile(r"name '(\w+)' is not defined")


def _cascades(run, ctx: GradingContext, gap_cell: int) -> bool:
    if run is None or run.error_name != "NameError":
        return False
    match = _NAME_ERROR.search(run.error_value or "")
    return bool(match) and match.group(1) in bound_names(_cell_source(ctx, gap_cell))


def _cell_source(ctx: GradingContext, index: int) -> str:
    cell = next((c for c in ctx.notebook.cells if c.index == index), None)
    return cell.source if cell else ""


def _parse(source: str):
    import ast

    lines = ["" if re.match(r"^\s*[!%]", line) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def imported_modules(source: str) -> set[str]:
    """Top-level modules a cell imports (`import a.b`, `from a import b`); IPython lines ignored."""
    import ast

    tree = _parse(source)
    found: set[str] = set()
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def bound_names(source: str) -> set[str]:
    """Names a cell binds at top level (imports, assignments, defs); IPython lines ignored."""
    import ast

    tree = _parse(source)
    names: set[str] = set()
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def _environment_outcome(outcome: Outcome, gap: Gap, ctx: GradingContext, question: str) -> Outcome:
    evidence = dict(outcome.evidence)
    evidence["automatic"] = {"status": outcome.resolved_status(), "feedback": outcome.feedback}
    reported = notebook_reported(ctx, question)
    if reported:
        evidence["notebook_reported"] = reported
    where = f" (cell {gap.cell})" if gap.cell is not None else ""
    feedback = (f"Not graded: {gap.reason()}{where}. This is not your mistake and costs you no points; "
                "your instructor will regrade it once the grading machine is fixed.")
    return Outcome(credit=0.0, feedback=feedback, status="skipped", evidence=evidence,
                   diagnoses=outcome.diagnoses, provisional=outcome.provisional,
                   cause="environment", fix=gap.fix)


# ---- what the hand-in's saved outputs report -----------------------------------------------

_ACC_LINE = re.compile(r"acc(uracy)?\b[^\n]{0,40}?\d", re.I)
_PROGRESS = re.compile(r"━|\bstep\b|/step|ETA|\[=+", re.I)
_EPOCH = re.compile(r"^\s*Epoch \d+/\d+|\bloss\b[:=]\s*\d", re.I)
_SUMMARY_START = re.compile(r'^\s*Model: "')
_SUMMARY_END = re.compile(r"Non-trainable params", re.I)


def notebook_reported(ctx: GradingContext, question: str) -> dict[str, Any] | None:
    """What the saved outputs of the question's cells claim (test accuracy, training log,
    model.summary()), for a TA to grade by hand: shown as reported, never scored."""
    from grader.checks.models import printed_accuracy
    from grader.notebook import cell_output

    answer = ctx.answer(question)
    if answer is None:
        return None
    cells = ctx.notebook.node.get("cells", [])
    accuracy_lines: list[str] = []
    log: list[str] = []
    summary: list[str] = []
    printed, printed_cell = None, None
    for index in sorted(answer.code_cells):
        if index >= len(cells):
            continue
        text, _ = cell_output(cells[index])
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
        value = printed_accuracy(text)
        if value is not None:
            printed, printed_cell = value, index
        block: list[str] | None = None
        for line in text.splitlines():
            if _SUMMARY_START.search(line):
                block = [line]
                continue
            if block is not None:
                block.append(line)
                if _SUMMARY_END.search(line) or len(block) > 80:
                    summary = block
                    block = None
                continue
            if _EPOCH.search(line):
                log.append(line.strip()[-200:])
            elif _ACC_LINE.search(line) and not _PROGRESS.search(line):
                accuracy_lines.append(f"cell {index}: {line.strip()[:200]}")
    if printed is None and not log and not summary and not accuracy_lines:
        return None
    return {"note": REPORTED_NOTE, "printed_accuracy": printed, "cell": printed_cell,
            "accuracy_lines": accuracy_lines[-3:], "training_log": log[-8:], "summary": "\n".join(summary)}
