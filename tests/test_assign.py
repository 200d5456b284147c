"""`grader assign`: the student release and the instructor bundle from one reference notebook."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.assign import ANSWER_PLACEHOLDER, AssignError, build_release, split_sections, starter_cell
from grader.rubric import load_rubric
from grader.selfcheck import check_notebook, question_is_static

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_NB = ROOT / "reference" / "assignment06.ipynb"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("release")
    proc = subprocess.run([sys.executable, "-m", "grader", "assign", "--out", str(out / "rel")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out / "rel"


def _reference_code_lines() -> list[str]:
    """Every meaningful line of reference/ code: the .py modules and the notebook's code cells."""
    lines = []
    for path in (ROOT / "reference").glob("*.py"):
        lines += path.read_text(encoding="utf-8").splitlines()
    nb = nbformat.read(REFERENCE_NB, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines += cell.source.splitlines()
    return sorted({ln.strip() for ln in lines if len(ln.strip()) >= 25 and not ln.strip().startswith("#")})


def _reference_sentences() -> list[str]:
    nb = nbformat.read(REFERENCE_NB, as_version=4)
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown" and not c.source.startswith("#"))
    return [re.sub(r"\s+", " ", s.strip(" *-\n")) for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 40]


def test_nothing_from_reference_or_a_hidden_item_reaches_the_student(release: Path) -> None:
    rubric = load_rubric(None)
    hidden = [i for i in rubric.items if i.hidden]
    assert hidden, "the rubric has a hidden item to test with"
    files = sorted(p for p in (release / "student").rglob("*") if p.is_file())
    assert {p.name for p in files} == {"assignment06.ipynb", "rubric.yaml", "README.md"}
    code, sentences = _reference_code_lines(), _reference_sentences()
    for path in files:
        text = path.read_text(encoding="utf-8")
        flat = re.sub(r"\s+", " ", text)
        assert [ln for ln in code if ln in text] == [], path
        assert [s for s in sentences if s in flat] == [], path
        for item in hidden:
            assert item.id not in text and item.id.split(".", 1)[1] not in text, path
    assert not (release / "student" / "models.py").exists()
    student_rubric = load_rubric(release / "student" / "grader-selfcheck" / "rubric.yaml")
    assert not any(i.hidden for i in student_rubric.items)
    assert [q.id for q in student_rubric.questions] == [q.id for q in rubric.questions]


def test_the_instructor_bundle_holds_the_solutions_and_the_full_rubric(release: Path) -> None:
    inst = release / "instructor"
    assert (inst / "reference" / "models.py").is_file()
    assert (inst / "reference" / "assignment06.ipynb").is_file()
    assert load_rubric(inst / "rubrics" / "assignment06.yaml").total == load_rubric(None).total
    assert "GRADER_REFERENCE_DIR" in (inst / "README.md").read_text()


def test_every_question_sits_under_its_heading_with_a_self_check_cell(release: Path) -> None:
    nb = nbformat.read(release / "student" / "assignment06.ipynb", as_version=4)
    rubric = load_rubric(None)
    sections = split_sections(nb)
    assert sorted(sections) == [q.number for q in rubric.questions]
    for q in rubric.questions:
        cells = sections[q.number]
        assert cells[0].source.startswith(f"## Question {q.number}")
        assert cells[-1].cell_type == "code" and cells[-1].source.endswith(f'check("{q.id}")')
        assert all(not c.get("outputs") for c in cells if c.cell_type == "code")


def _answer_by_hand(student_nb: Path, out: Path) -> Path:
    """Paste the reference's answer to every static question into the placeholder under it."""
    reference = split_sections(nbformat.read(REFERENCE_NB, as_version=4))
    nb = nbformat.read(student_nb, as_version=4)
    number = None
    for cell in nb.cells:
        m = re.match(r"## Question (\d+)", cell.source)
        if m:
            number = int(m.group(1))
        elif cell.source == ANSWER_PLACEHOLDER:
            cell.source = "\n\n".join(c.source for c in reference[number][1:] if c.cell_type == "markdown")
    nbformat.write(nb, out)
    return out


def test_answered_by_hand_full_marks_unanswered_zero_every_question_located(release: Path,
                                                                            tmp_path: Path) -> None:
    student_nb = release / "student" / "assignment06.ipynb"
    rubric = load_rubric(release / "student" / "grader-selfcheck" / "rubric.yaml")
    static = [q.id for q in rubric.questions if question_is_static(rubric, q.id)]
    assert static == ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]
    blank = check_notebook(student_nb, static, rubric=rubric, static_only=True).result
    assert blank.score == 0 and blank.max_score > 0
    from grader.notebook import load_notebook

    located = rubric.locate_answers(load_notebook(student_nb))
    assert sorted(located) == sorted(q.id for q in rubric.questions)  # q9 and q10 too
    assert [i.id for i in blank.items() if i.status == "missing"] == []
    answered = (release / "student" / "answered.ipynb")
    try:
        _answer_by_hand(student_nb, answered)
        done = check_notebook(answered, static, rubric=rubric, static_only=True).result
    finally:
        answered.unlink(missing_ok=True)
    assert {i.id: i.score for i in done.items()} == {i.id: i.max_score for i in done.items()}


def test_starter_code_keeps_what_is_outside_the_solution_markers() -> None:
    source = "import keras\n# BEGIN SOLUTION\nmodel = build()\n# END SOLUTION\nmodel.fit()"
    cell = nbformat.v4.new_code_cell(source)
    assert starter_cell(cell).source == "import keras\n# YOUR CODE HERE\nmodel.fit()"
    assert starter_cell(nbformat.v4.new_code_cell("model = build()")) is None  # untagged: a solution
    tagged = nbformat.v4.new_markdown_cell("Use `keras.datasets.mnist`.", metadata={"tags": ["starter"]})
    assert starter_cell(tagged).source == "Use `keras.datasets.mnist`."


def test_a_reference_without_a_question_heading_is_refused(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Question 1\n\nanswer")])
    path = tmp_path / "ref.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(AssignError, match="q2"):
        build_release(path, load_rubric(None), tmp_path / "out")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    with pytest.raises(AssignError, match="--force"):
        build_release(REFERENCE_NB, load_rubric(None), tmp_path / "busy")


def test_student_rubric_drops_the_model_wording_of_items_that_do_not_reveal_answers(release: Path) -> None:
    data = yaml.safe_load((release / "student" / "grader-selfcheck" / "rubric.yaml").read_text())
    q5 = next(q for q in data["questions"] if q["id"] == "q5")["items"][0]
    assert all("hint" not in c for c in q5["params"]["concepts"])
    assert q5["hints"]  # the instructor's nudges stay: they are what the self-check shows
