"""Is the grading machine what the assignment needs? The rubric's `environment:` block against
this Python, the data dir and the sandbox; shared by `grader doctor` and `grader run`.

Every finding is a `Finding` with a fix an instructor can follow. `grader run` uses only the
cheap ones (rubric, data dir, a static scan of the notebooks' imports); `grader doctor` also
starts a sandboxed kernel.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.gaps import PIP_NAMES, declared_packages, importable, imported_modules, module_fix

if TYPE_CHECKING:
    from grader.notebook import Notebook


@dataclass
class Finding:
    kind: str  # package | data | data-dir | sandbox | kernel | import
    what: str
    ok: bool
    detail: str = ""
    fix: str = ""
    students: list[str] = field(default_factory=list)  # notebooks it matters to (run's scan)

    def line(self) -> str:
        mark = "ok  " if self.ok else "GAP "
        who = f" [{', '.join(self.students[:6])}{' ...' if len(self.students) > 6 else ''}]" \
            if self.students else ""
        text = f"{mark}{self.kind}: {self.what}{' (' + self.detail + ')' if self.detail else ''}{who}"
        return text + (f"\n      fix: {self.fix}" if not self.ok and self.fix else "")


def python_under_tmp() -> str | None:
    """The folder of this Python when it lives under /tmp, which the sandbox hides."""
    from grader.execute.sandbox import bwrap_status

    if bwrap_status()[0] is None:
        return None
    for p in {sys.prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent)}:
        resolved = str(Path(p).resolve())
        if resolved == "/tmp" or resolved.startswith("/tmp/"):
            return resolved
    return None


def _requirement_ok(requirement: str) -> tuple[bool, str]:
    """(installed and satisfying the requirement, version or why not) for a pip requirement."""
    match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    name, spec = (match.group(1), match.group(2).strip()) if match else (requirement, "")
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False, "not installed"
    if spec:
        try:
            from packaging.specifiers import SpecifierSet

            if version not in SpecifierSet(spec, prereleases=True):
                return False, f"{version} installed, {spec} required"
        except Exception:  # an unparsable specifier: say what is there
            return True, f"{version} (requirement {spec!r} not checked)"
    return True, version


def package_findings(rubric_env: dict[str, Any]) -> list[Finding]:
    out = []
    for module, requirement in declared_packages(rubric_env).items():
        if not importable(module):
            out.append(Finding("package", module, False, "cannot be imported",
                               f"pip install '{requirement}' (or pip install -e '.[course]')"))
            continue
        ok, detail = _requirement_ok(requirement)
        out.append(Finding("package", module, ok, detail,
                           "" if ok else f"pip install --upgrade '{requirement}'"))
    return out


def data_findings(rubric_env: dict[str, Any], data_dir: str | None,
                  questions: list[str] | None = None) -> list[Finding]:
    """Each declared data entry (any one of its files) in the data dir."""
    entries = [d for d in (rubric_env.get("data") or [])
               if not questions or not d.get("questions") or set(d["questions"]) & set(questions)]
    if not entries:
        return []
    if not data_dir:
        names = ", ".join(d["name"] for d in entries)
        return [Finding("data-dir", "none given", False, f"the rubric needs {names}",
                        "pass --data-dir DIR (or set GRADER_DATA_DIR) holding the files the rubric's "
                        "environment.data lists; without it the items that need them are skipped")]
    out = []
    for d in entries:
        present = [f for f in d["files"] if (Path(data_dir) / f).exists()]
        qs = f"for {', '.join(d['questions'])}" if d.get("questions") else ""
        if present:
            out.append(Finding("data", d["name"], True, f"{present[0]} {qs}".strip()))
        else:
            want = " or ".join(d["files"])
            out.append(Finding("data", d["name"], bool(d.get("optional")), f"missing {qs}".strip(),
                               f"put {want} in {data_dir}" + (f" ({d['note']})" if d.get("note") else "")))
    return out


def sandbox_findings() -> list[Finding]:
    from grader.execute.sandbox import NOT_ENFORCED_WITHOUT_BWRAP, bwrap_status

    path, why = bwrap_status()
    out = [Finding("sandbox", "bubblewrap", bool(path), path or why,
                   "" if path else "install bubblewrap (tools/install-system-packages, Debian package "
                   f"'bubblewrap'); without it not enforced: {'; '.join(NOT_ENFORCED_WITHOUT_BWRAP)}")]
    under = python_under_tmp()
    if under:
        out.append(Finding("sandbox", "python location", False, f"{under} is under /tmp",
                           "the sandbox gives the kernel a private /tmp, hiding this Python: install the "
                           "grader outside /tmp (e.g. python3 -m venv ~/grader-venv)"))
    return out


def kernel_finding(data_dir: str | None) -> Finding:
    """Start a real sandboxed kernel and run one cell (seconds; `grader doctor` only)."""
    import nbformat

    from grader.execute.runner import ExecutionOptions, execute_notebook

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('kernel ok', 6 * 7)")])
    record = execute_notebook(nb, ExecutionOptions(cell_timeout=120, timeout=300, data_dir=data_dir))
    if record.workdir:
        import shutil

        shutil.rmtree(Path(record.workdir).parent, ignore_errors=True)
    ran = record.cells and record.cells[0].status == "ok" and "kernel ok 42" in record.cells[0].output_text
    if ran:
        return Finding("kernel", "sandboxed kernel", True,
                       f"started and ran a cell ({record.sandbox.get('method')})")
    why = "; ".join(p.message for p in record.problems) or record.status
    from grader.gaps import kernel_fix

    return Finding("kernel", "sandboxed kernel", False, why[:400], kernel_fix(why))


# ---- a static scan of the notebooks' imports (cheap: no kernel) ----------------------------

def notebook_imports(notebook: Notebook) -> set[str]:
    """Top-level modules a notebook's code cells import (IPython `!`/`%` lines ignored). From
    the loaded cells, not the nbformat node, which the checks before a run never need."""
    found: set[str] = set()
    for cell in notebook.code_cells:
        found |= imported_modules(cell.source)
    return found


#: provided inside the kernel by the grader (inkernel/15_adapt.py), not by an installed package
PROVIDED_IN_KERNEL = {"google"}


def import_findings(notebooks: list[Path], rubric_env: dict[str, Any]) -> list[Finding]:
    """Modules the notebooks import that this Python cannot import, with who imports them."""
    from grader.notebook import InvalidSubmission, load_notebook

    declared = declared_packages(rubric_env)
    who: dict[str, list[str]] = {}
    for path in notebooks:
        try:
            notebook = load_notebook(path)
        except InvalidSubmission:
            continue
        for module in notebook_imports(notebook):
            if module not in PROVIDED_IN_KERNEL and module not in sys.stdlib_module_names:
                who.setdefault(module, []).append(path.stem)
    out = []
    for module in sorted(who):
        if not importable(module):
            detail = "declared in the rubric, not installed" if module in declared else \
                "not in the rubric's environment, not installed"
            out.append(Finding("import", module, False, detail, module_fix(module, declared), who[module]))
    return out


def preflight(rubric, notebooks: list[Path], data_dir: str | None,
              questions: list[str] | None) -> list[Finding]:
    """The gaps that matter to these submissions, found before grading starts (no kernel)."""
    env = rubric.environment or {}
    out = [f for f in data_findings(env, data_dir, questions) if not f.ok]
    out += import_findings(notebooks, env)
    return out


__all__ = ["PIP_NAMES", "Finding", "data_findings", "import_findings", "kernel_finding", "package_findings",
           "preflight", "python_under_tmp", "sandbox_findings"]
