"""Manual grades: the overrides file, apply_overrides, and `grader run --overrides` re-runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.context import GradingOptions
from grader.engine import grade_submission
from grader.overrides import OverridesError, apply_overrides, load_overrides, resolve_path
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
ALICE = ROOT / "submissions" / "alice.ipynb"
COMMENT = "Taking the max keeps the strongest activation: I count the invariance point."


@pytest.fixture(scope="module")
def alice():
    return grade_submission(ALICE, options=GradingOptions(questions=["q4", "q5"]))


def write(tmp_path: Path, text: str, name: str = "overrides.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_override_sets_score_manual_comment_and_totals(alice, tmp_path):
    auto = alice.item("q4.concepts").score
    path = write(tmp_path, f"alice:\n  q4.concepts:\n    points: 5\n    comment: '{COMMENT}'\n")
    result = apply_overrides(alice, path)
    item = result.item("q4.concepts")
    assert auto == 4 and item.score == 5
    assert item.manual and not item.needs_review and item.status == "partial"
    assert COMMENT in item.feedback
    assert item.evidence["override"]["automatic_score"] == auto
    assert item.evidence["override"]["comment"] == COMMENT
    assert item.evidence["matches"]  # the automatic evidence is kept next to the manual grade
    assert result.question("q4").score == 5
    assert result.score == alice.score + 1
    # pure: the input result is untouched
    assert alice.item("q4.concepts").score == auto and not alice.item("q4.concepts").manual


def test_applying_twice_keeps_the_automatic_grade_on_record(alice, tmp_path):
    path = write(tmp_path, f"alice.ipynb:\n  q4.concepts: {{points: 6, comment: '{COMMENT}'}}\n")
    once = apply_overrides(alice, path)
    twice = apply_overrides(once, path)
    assert twice.item("q4.concepts").score == 6 and twice.item("q4.concepts").status == "passed"
    assert twice.item("q4.concepts").evidence["override"]["automatic_score"] == 4
    assert twice.to_dict() == once.to_dict()


def test_other_students_and_ungraded_questions_are_left_alone(alice, tmp_path):
    path = write(tmp_path, "bob:\n  q4.concepts: {points: 0, comment: copied}\n"
                           "alice:\n  q9.accuracy: {points: 1, comment: not graded in this run}\n")
    assert apply_overrides(alice, path).to_dict() == alice.to_dict()
    assert apply_overrides(alice, None).to_dict() == alice.to_dict()


@pytest.mark.parametrize("text, message", [
    ("alice: [1, 2", "not valid YAML (line"),
    ("- alice\n", "top level must map submissions"),
    ("alice: 5\n", "alice: must map item ids"),
    ("alice:\n  q4: {points: 1, comment: x}\n", "alice.q4: not an item id"),
    ("alice:\n  q4.concepts: {points: five, comment: x}\n", "alice.q4.concepts.points: must be a number"),
    ("alice:\n  q4.concepts: {points: 3, comment: [a, b]}\n", "alice.q4.concepts.comment: must be text"),
    ("alice:\n  q4.concepts: {points: 3, comment: x, score: 2}\n", "unknown key(s) score"),
])
def test_bad_files_get_one_clear_message(tmp_path, text, message):
    with pytest.raises(OverridesError) as err:
        load_overrides(write(tmp_path, text))
    assert message in str(err.value)
    assert str(tmp_path) in str(err.value)


@pytest.mark.parametrize("text, message", [
    ("alice:\n  q4.typo: {points: 1, comment: x}\n", "not an item of the rubric (q4 has: q4.concepts)"),
    ("alice:\n  q4.concepts: {points: 7, comment: x}\n", "7 is more than the item's 6 points"),
])
def test_file_is_checked_against_the_rubric_before_grading(tmp_path, text, message):
    with pytest.raises(OverridesError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_path(str(write(tmp_path, text)), tmp_path, load_rubric())


def test_default_file_is_out_dir_overrides_yaml(tmp_path):
    assert resolve_path(None, tmp_path) is None
    path = write(tmp_path, "alice:\n  q4.concepts: {points: 5, comment: x}\n")
    assert resolve_path(None, tmp_path) == path
    with pytest.raises(OverridesError, match="no such file"):
        resolve_path(str(tmp_path / "nope.yaml"), tmp_path)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "run", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_cli_override_changes_score_shows_manual_and_survives_a_rerun(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    first = run_cli(str(ALICE), "--out", str(out), "--questions", "q4,q5")
    assert first.returncode == 0, first.stderr
    auto = json.loads((out / "alice.json").read_text())
    write(out, f"alice:\n  q4.concepts:\n    points: 6\n    comment: '{COMMENT}'\n")
    for _ in range(2):  # the default <out>/overrides.yaml, applied again on every run
        run = run_cli(str(ALICE), "--out", str(out), "--questions", "q4,q5")
        assert run.returncode == 0, run.stderr
        data = json.loads((out / "alice.json").read_text())
        item = data["questions"][0]["items"][0]
        assert item["id"] == "q4.concepts" and item["manual"] is True and item["score"] == 6
        assert COMMENT in item["feedback"]
        assert data["score"] == auto["score"] + 6 - auto["questions"][0]["items"][0]["score"]


def test_cli_rejects_a_broken_overrides_file_before_grading(tmp_path):
    bad = write(tmp_path, "alice:\n  q4.concepts: {points: 60, comment: x}\n", "bad.yaml")
    run = run_cli(str(ALICE), "--out", str(tmp_path / "r"), "--questions", "q4", "--overrides", str(bad))
    assert run.returncode == 2
    assert "more than the item's 6 points" in run.stderr
    assert not (tmp_path / "r" / "alice.json").exists()
