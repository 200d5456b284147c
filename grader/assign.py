"""One source for a release: the reference notebook and the rubric become what students get and
what instructors grade with (`grader assign`, like nbgrader's generate_assignment / otter assign).

    OUT/student/ASSIGNMENT.ipynb            questions and starter code, no solutions, each under
                                            "## Question N", each followed by a check("qN") cell
    OUT/student/grader-selfcheck/rubric.yaml  public items only; items that do not reveal the answer
                                            lose the reference wording (concept hints, corrections)
    OUT/student/README.md                   how to check your work
    OUT/instructor/rubrics/ASSIGNMENT.yaml  the full rubric (hidden items too)
    OUT/instructor/reference/               reference package: solutions, notebook, Q2 cache
    OUT/instructor/README.md                how to grade with it

Starter code in the reference notebook: a cell tagged `starter` (or `student`) is copied as it
is; in any code cell the lines between `# BEGIN SOLUTION` and `# END SOLUTION` become
`# YOUR CODE HERE`. Every other cell under a question heading is a solution and is left out.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from grader import student_rubric
from grader.rubric import Rubric

STUDENT_RUBRIC = Path("grader-selfcheck") / "rubric.yaml"
ANSWER_PLACEHOLDER = "_Write your answer here._"
CODE_PLACEHOLDER = "# YOUR CODE HERE"
STARTER_TAGS = {"starter", "student"}
_HEADING = re.compile(r"^\s*#{1,6}\s*(?:question|exercise|q)\s*(\d{1,2})\b", re.IGNORECASE)
_SOLUTION = re.compile(r"^[ \t]*#+[ \t]*BEGIN SOLUTION.*?^[ \t]*#+[ \t]*END SOLUTION[^\n]*\n?",
                       re.MULTILINE | re.DOTALL)


class AssignError(Exception):
    """The reference notebook or the output folder is unusable; the message says what to do."""


@dataclass
class Release:
    student: Path
    instructor: Path
    notebook: Path
    questions: list[str] = field(default_factory=list)

    def student_files(self) -> list[Path]:
        return sorted(p for p in self.student.rglob("*") if p.is_file())


def build_release(reference: str | Path, rubric: Rubric, out: str | Path, *, force: bool = False) -> Release:
    """Write the student folder and the instructor bundle under `out` (see the module docstring)."""
    reference, out = Path(reference), Path(out)
    if not reference.is_file():
        raise AssignError(f"{reference}: no such reference notebook; pass --reference FILE.ipynb")
    if out.exists() and any(out.iterdir()) and not force:
        raise AssignError(f"{out}: the folder is not empty; pick another --out or pass --force to replace it")
    if out.exists() and force:
        shutil.rmtree(out)
    try:
        source = nbformat.read(reference, as_version=4)
    except Exception as exc:  # nbformat raises several kinds; all mean "not a notebook"
        raise AssignError(f"{reference}: not a readable notebook ({exc})") from None
    sections = split_sections(source)
    missing = [q.id for q in rubric.questions if q.number not in sections]
    if missing:
        raise AssignError(f"{reference}: no '## Question N' heading for {', '.join(missing)}; every rubric "
                          "question needs one in the reference notebook")
    name = rubric.assignment
    student, instructor = out / "student", out / "instructor"
    notebook = student / f"{name}.ipynb"
    student.mkdir(parents=True)
    nbformat.write(student_notebook(source, sections, rubric), notebook)
    (student / STUDENT_RUBRIC).parent.mkdir(parents=True)
    (student / STUDENT_RUBRIC).write_text(student_rubric_text(rubric), encoding="utf-8")
    (student / "README.md").write_text(_student_readme(name), encoding="utf-8")
    _instructor_bundle(rubric, reference, instructor, notebook)
    return Release(student=student, instructor=instructor, notebook=notebook,
                   questions=[q.id for q in rubric.questions])


# ---- the student notebook ------------------------------------------------------------------

def split_sections(nb: Any) -> dict[int, list[Any]]:
    """Question number -> [its heading cell, the cells under it] in a reference notebook."""
    sections: dict[int, list[Any]] = {}
    current: list[Any] | None = None
    for cell in nb.cells:
        m = _HEADING.match(cell.source) if cell.cell_type == "markdown" else None
        if m:
            current = sections.setdefault(int(m.group(1)), [])
        if current is not None:
            current.append(cell)
    return sections


def student_notebook(source: Any, sections: dict[int, list[Any]], rubric: Rubric) -> Any:
    from grader.selfcheck import question_is_static

    nb = nbformat.v4.new_notebook()
    nb.metadata = {k: source.metadata[k] for k in ("kernelspec", "language_info") if k in source.metadata}
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# {rubric.title}\n\nAnswer each question in the cell under its heading, and keep the "
        "`## Question N` headings: the grader finds your answers by them. Save the notebook, then run "
        "a question's `check(...)` cell to check your work (hints, not the answers)."))
    for q in rubric.questions:
        heading, *body = sections[q.number]
        prompt = q.prompt or _heading_text(heading.source)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"## Question {q.number}\n\n{prompt}".strip()))
        starters = [c for c in (starter_cell(c) for c in body) if c is not None]
        nb.cells.extend(starters)
        if question_is_static(rubric, q.id):
            nb.cells.append(nbformat.v4.new_markdown_cell(ANSWER_PLACEHOLDER))
        elif not starters:
            nb.cells.append(nbformat.v4.new_code_cell(CODE_PLACEHOLDER))
        nb.cells.append(nbformat.v4.new_code_cell(f'from grader import check\ncheck("{q.id}")'))
    return nb


def starter_cell(cell: Any) -> Any | None:
    """The student's version of a reference cell, or None when the cell is a solution."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    if cell.cell_type == "code" and _SOLUTION.search(cell.source):
        return nbformat.v4.new_code_cell(_SOLUTION.sub(CODE_PLACEHOLDER + "\n", cell.source).rstrip())
    if tags & STARTER_TAGS:
        make = nbformat.v4.new_code_cell if cell.cell_type == "code" else nbformat.v4.new_markdown_cell
        return make(cell.source)
    return None


def _heading_text(source: str) -> str:
    """A heading cell's text without the heading line (the reference's wording of the question)."""
    lines = source.splitlines()[1:]
    return "\n".join(lines).strip()


# ---- the student rubric --------------------------------------------------------------------

def student_rubric_data(rubric: Rubric) -> dict[str, Any]:
    """The rubric as the self-check needs it: public items only, no answer wording where hidden."""
    return student_rubric.student_rubric_data(yaml.safe_load(rubric.path.read_text(encoding="utf-8")))


def student_rubric_text(rubric: Rubric) -> str:
    return student_rubric.student_rubric_text(rubric.path.read_text(encoding="utf-8"),
                                              written_by="`grader assign`")


def _student_readme(name: str) -> str:
    return f"""# {name}

Answer the questions in `{name}.ipynb`, under their `## Question N` headings.

Check your work at any time (hints, not the answers; the answers come with your graded report):

- in the notebook: save it, then run a question's `check("q2")` cell;
- in a terminal: `grader check {name}.ipynb` (add `-q q2 --static` for one question, in about a
  second; questions with code run your notebook once in a fresh kernel).

`grader check` exits 1 while a checked item misses points (`--exit-zero` to always exit 0), so it
can run in a pre-commit hook or CI. Keep the `grader-selfcheck/` folder next to the notebook: it
holds what the self-check needs. Install the grader first (`pip install grader-*.whl`, the wheel
your instructor hands out).
"""


# ---- the instructor bundle -----------------------------------------------------------------

def _instructor_bundle(rubric: Rubric, reference: Path, instructor: Path, notebook: Path) -> None:
    import importlib

    rubrics = instructor / "rubrics"
    rubrics.mkdir(parents=True)
    shutil.copy2(rubric.path, rubrics / rubric.path.name)
    # the folder of the reference notebook when it is the reference package (the source tree):
    # an installed package may lack the solutions
    package = reference.parent
    if not (package / "__init__.py").is_file():
        top = (rubric.reference or "reference.assignment06").split(".")[0]
        package = Path(importlib.import_module(top).__file__).parent
    shutil.copytree(package, instructor / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    if not (instructor / "reference" / reference.name).exists():
        shutil.copy2(reference, instructor / "reference" / reference.name)
    shutil.copy2(notebook, instructor / notebook.name)
    (instructor / "README.md").write_text(f"""# {rubric.assignment}: instructor bundle

Not for students: `reference/` holds the solutions and `rubrics/` the hidden items.

Grade a folder of hand-ins (from this folder; `reference/` here provides the solutions that a
wheel install leaves out):

    GRADER_REFERENCE_DIR=reference grader run SUBMISSIONS/ --rubric rubrics/{rubric.path.name} --out reports/

Hand back reports with `--student-mode`: each item then shows what its `reveal_after_deadline`
allows (default: the answer).
""", encoding="utf-8")
