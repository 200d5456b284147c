"""The current grade: partial runs (`--questions`, static-only, a failed execution) are history,
never the grade; overrides survive them; every export agrees with the HTML; an override
re-renders the student's page and the class files from the gradebook at once.

Built on a rubric of the static questions only (q1-q8 of assignment06), so no kernel starts.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path

import pytest
import yaml

from grader.gradebook import Gradebook

STATIC = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]


def static_rubric(root: Path, folder: Path) -> Path:
    """assignment06 cut down to its static questions: every run of it is complete without a kernel."""
    data = yaml.safe_load((root / "rubrics" / "assignment06.yaml").read_text(encoding="utf-8"))
    data["questions"] = [q for q in data["questions"] if q["id"] in STATIC]
    data["total"] = sum(i["points"] for q in data["questions"] for i in q["items"])
    path = folder / "static.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def grader(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=root, capture_output=True, text=True,
                          timeout=300)


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}


def html_total(path: Path) -> str:
    return re.search(r'id="total">([^<]*?) points', path.read_text(encoding="utf-8")).group(1)


@pytest.fixture()
def graded(tmp_path, root):
    """A class folder graded completely (static rubric), with a manual grade for alice."""
    subs = tmp_path / "class"
    subs.mkdir()
    for name in ("alice", "bob", "carol"):
        shutil.copy(root / "submissions" / f"{name}.ipynb", subs)
    rubric = static_rubric(root, tmp_path)
    out = tmp_path / "out"
    run = grader(root, "run", str(subs), "--rubric", str(rubric), "--out", str(out), "-j", "2")
    assert run.returncode == 0, run.stderr
    ov = grader(root, "override", "--gradebook", str(out / "gradebook.sqlite"), "--student", "alice",
                "--item", "q4.concepts", "--score", "6", "--comment", "Invariance point made in words.",
                "--note", "checked with the head TA", "--by", "ta-lee")
    assert ov.returncode == 0, ov.stderr
    with Gradebook(out / "gradebook.sqlite") as book:
        before = book.current_for("alice")
    assert before.item("q4.concepts").manual and before.item("q4.concepts").score == 6
    return subs, rubric, out, before


def assert_unchanged(out: Path, before) -> None:
    """alice's current grade, its override, and every export and page still say the same."""
    with Gradebook(out / "gradebook.sqlite") as book:
        now = book.current_for("alice")
        assert now.score == before.score and [q.id for q in now.questions] == STATIC
        item = now.item("q4.concepts")
        assert item.manual and item.score == 6 and "Invariance point" in item.feedback
        exported = {r.student: r.score for r in book.current()}
    rows = csv_rows(out / "grades.csv")
    assert float(rows["alice"]["total"]) == before.score == exported["alice"]
    assert rows["alice"]["q4"] == f"{before.question('q4').score:g}" and rows["alice"]["q2"] != ""
    assert html_total(out / "alice.html") == f"{before.score:g} / {before.max_score:g}"
    assert json.loads((out / "alice.json").read_text())["score"] == before.score
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f"{before.score:g} / {before.max_score:g}" in index
    export = grader(Path(__file__).resolve().parent.parent, "export", "--gradebook",
                    str(out / "gradebook.sqlite"), "--out", "-")
    assert csv_rows_text(export.stdout)["alice"]["total"] == f"{before.score:g}"


def csv_rows_text(text: str) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader(text.splitlines())}


def test_a_partial_regrade_keeps_the_current_grade_and_says_so(graded, root):
    subs, rubric, out, before = graded
    run = grader(root, "run", str(subs / "alice.ipynb"), "--rubric", str(rubric), "--out", str(out),
                 "--questions", "q2")
    assert run.returncode == 0, run.stderr
    assert "alice: this run is partial (only q2 graded" in run.stderr
    assert f"current grade stays {before.score:g}/{before.max_score:g}" in run.stderr
    assert "would have lowered it" in run.stderr
    assert_unchanged(out, before)
    with Gradebook(out / "gradebook.sqlite") as book:
        history = book.history("alice")
        assert [h["scope"] for h in history] == ["complete", "complete", "partial"]
        assert book.latest_for("alice").question("q2") and len(book.latest_for("alice").questions) == 1


def test_a_static_only_run_of_the_full_rubric_keeps_the_current_grade(graded, root):
    """The full assignment06 rubric asked for its static questions only: 8 of 10 questions."""
    subs, _, out, before = graded
    run = grader(root, "run", str(subs / "alice.ipynb"), "--out", str(out), "--questions", ",".join(STATIC))
    assert run.returncode == 0, run.stderr
    assert "this run is partial (q9, q10 not graded (of 10 questions))" in run.stderr
    assert_unchanged(out, before)


class _CrashingExecutor:
    """The first attempt dies the way an OOM-killed worker does; the batch's static-only retry
    then runs for real (grader.worker.run_job), recorded as a failed execution."""

    def submit(self, job):
        from grader.batch import WorkerFailed
        from grader.worker import run_job

        future: Future = Future()
        if job.crash is None:
            future.set_exception(WorkerFailed("the grading process ended with exit code -9 (killed)"))
        else:
            future.set_result(run_job(job))
        return future

    def shutdown(self, *, cancel: bool = False) -> None:
        pass


def test_a_failed_execution_keeps_the_current_grade(graded, capsys):
    from grader.batch import run_batch
    from grader.cli import _manual_grades
    from grader.context import GradingOptions
    from grader.rubric import load_rubric

    subs, rubric_path, out, before = graded
    rubric = load_rubric(rubric_path)
    args = type("Args", (), {"overrides": None, "out": str(out)})()
    outcome = run_batch([subs / "alice.ipynb"], rubric, GradingOptions(), out=out, force=True,
                        executor=_CrashingExecutor(), finish=_manual_grades(args, out, rubric))
    (failed,) = outcome.results
    assert failed.status == "error" and "exit code -9" in failed.message
    assert "the notebook's execution failed (error" in capsys.readouterr().err
    assert_unchanged(out, before)


def test_override_rerenders_page_and_class_files_with_who_and_a_private_note(graded, root):
    subs, _, out, before = graded
    alice = (out / "alice.html").read_text(encoding="utf-8")
    assert "Graded by hand: Invariance point made in words." in alice
    assert "ta-lee" in alice and "checked with the head TA" in alice  # instructor copy
    saved = yaml.safe_load((out / "overrides.yaml").read_text())["alice"]["q4.concepts"]
    assert saved["by"] == "ta-lee" and saved["note"] == "checked with the head TA" and saved["at"]
    assert csv_rows(out / "grades.csv")["alice"]["manual_items"] == "q4.concepts"
    # no comment at all is fine (the student then sees only that it was graded by hand)
    ov = grader(root, "override", "--gradebook", str(out / "gradebook.sqlite"), "--student", "bob",
                "--item", "q1.concepts", "--score", "8")
    assert ov.returncode == 0, ov.stderr
    assert "Graded by hand." in (out / "bob.html").read_text(encoding="utf-8")
    student = grader(root, "report", "--gradebook", str(out / "gradebook.sqlite"), "--out",
                     str(out / "student"), "--student-mode")
    assert student.returncode == 0, student.stderr
    copy = (out / "student" / "alice.html").read_text(encoding="utf-8")
    assert "Invariance point made in words." in copy and "checked with the head TA" not in copy


def test_roster_maps_students_to_lms_ids(graded, root, tmp_path):
    _, _, out, _ = graded
    roster = tmp_path / "roster.csv"
    roster.write_text("notebook,email\nalice.ipynb,alice@uni.example\nbob,b0042\n", encoding="utf-8")
    proc = grader(root, "export", "--gradebook", str(out / "gradebook.sqlite"), "--roster", str(roster),
                  "--out", "-")
    assert proc.returncode == 0, proc.stderr
    rows = csv_rows_text(proc.stdout)
    assert rows["alice"]["student_id"] == "alice@uni.example" and rows["bob"]["student_id"] == "b0042"
    assert rows["carol"]["student_id"] == ""
    assert rows["Points Possible"]["total"] == "65" and rows["Points Possible"]["q2"] == "15"
    roster.write_text("alice\n", encoding="utf-8")
    bad = grader(root, "export", "--gradebook", str(out / "gradebook.sqlite"), "--roster", str(roster))
    assert bad.returncode == 2 and "line 1: needs two columns" in bad.stderr
