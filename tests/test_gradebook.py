"""The SQLite gradebook: runs kept as history, latest run per student, manual overrides."""

from __future__ import annotations

import sqlite3

import pytest

from grader.gradebook import Gradebook, GradebookError
from grader.overrides import apply_overrides, load_overrides
from grader.report.samples import engine_results, showcase_result, status_results


@pytest.fixture(scope="module")
def real(tmp_path_factory, root):
    malformed = tmp_path_factory.mktemp("nb") / "mallory.ipynb"
    malformed.write_text("{}", encoding="utf-8")
    return engine_results(root, malformed)


def test_reruns_are_history_and_latest_is_the_grade(tmp_path, real):
    alice, reference, mallory = real
    with Gradebook(tmp_path / "gb.sqlite") as book:
        first = book.record(alice)
        better = type(alice).from_dict(alice.to_dict())
        better.questions[0].items[0].score = better.questions[0].items[0].max_score
        better.recompute_scores()
        second = book.record(better)
        book.record(reference)
        book.record(mallory)
        assert second > first
        assert book.run_count(alice.path) == 2 and book.run_count(reference.path) == 1
        latest = {r.student: r for r in book.latest()}
        assert sorted(latest) == ["alice", "assignment06", "mallory"]
        assert latest["alice"].score == better.score != alice.score
        assert latest["mallory"].status == "invalid"
        students = {s["student"]: s for s in book.students()}
        assert students["alice"]["runs"] == 2 and students["mallory"]["status"] == "invalid"
        assert [h["score"] for h in book.history("alice")] == [alice.score, better.score]
        assert book.latest_for("alice.ipynb").score == better.score  # by file name too
        # item rows carry visibility and flags for SQL queries
        rows = book.db.execute("SELECT COUNT(*) FROM item_results WHERE run_id = ?", (second,)).fetchone()
        assert rows[0] == len(alice.items())


def test_the_file_survives_reopening(tmp_path):
    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as book:
        book.record(showcase_result())
    with Gradebook(path) as book:
        (r,) = book.latest()
        assert r.to_dict() == showcase_result().to_dict()


def test_manual_override_is_a_new_flagged_run_and_lands_in_the_overrides_file(tmp_path):
    overrides = tmp_path / "overrides.yaml"
    with Gradebook(tmp_path / "gb.sqlite") as book:
        book.record(showcase_result())
        before = book.latest_for("bob")
        after = book.override("bob", "q4.concepts", 6, overrides,
                              comment="Both mechanisms explained; matcher missed it.", by="ta-sam")
        item = after.item("q4.concepts")
        assert item.manual and not item.needs_review and item.status == "passed"
        assert "Graded by hand: Both mechanisms explained" in item.feedback
        assert after.score == before.score + 2
        assert book.latest_for("bob").score == after.score
        history = book.history("bob")
        assert len(history) == 2 and history[-1]["note"].startswith("manual q4.concepts = 6 by ta-sam")
        (flag,) = book.db.execute(
            "SELECT manual FROM item_results WHERE item = 'q4.concepts' ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        assert flag == 1
        with pytest.raises(GradebookError, match=r"outside 0\.\.6"):
            book.override("bob", "q4.concepts", 7, overrides, comment="too generous")
        with pytest.raises(GradebookError, match="no item 'q4.nope'"):
            book.override("bob", "q4.nope", 1, overrides, comment="typo")
        with pytest.raises(GradebookError, match=r"no submission for student 'zoe'.*students: bob"):
            book.latest_for("zoe")
    assert load_overrides(overrides)["bob"]["q4.concepts"].points == 6


def test_an_older_gradebook_file_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE submissions (id INTEGER PRIMARY KEY, student TEXT NOT NULL, path TEXT NOT NULL UNIQUE);
        CREATE TABLE runs (id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL, started_at TEXT,
            status TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, profile TEXT, device TEXT,
            cache_key TEXT, grader_version TEXT, duration_s REAL, result_json TEXT NOT NULL);
        CREATE TABLE item_results (run_id INTEGER NOT NULL, question TEXT NOT NULL, item TEXT NOT NULL,
            score REAL NOT NULL, max_score REAL NOT NULL, status TEXT NOT NULL,
            manual INTEGER NOT NULL DEFAULT 0, diagnoses TEXT, PRIMARY KEY (run_id, item));
    """)
    db.close()
    with Gradebook(path) as book:
        for r in status_results():
            book.record(r)
        assert [s["status"] for s in book.students()] == ["timeout", "error", "invalid"]
        cols = {row[1] for row in book.db.execute("PRAGMA table_info(item_results)")}
        assert {"visibility", "needs_review", "provisional"} <= cols


def test_a_regrade_keeps_manual_overrides_through_the_file(tmp_path):
    """The file is the source of truth: a fresh automatic result gets the manual grade back."""
    overrides = tmp_path / "overrides.yaml"
    with Gradebook(tmp_path / "gb.sqlite") as book:
        book.record(showcase_result())
        book.override("bob", "q4.concepts", 6, overrides, comment="fine")
        regraded = apply_overrides(showcase_result(), overrides)  # what `grader run` does
        book.record(regraded)
        item = book.latest_for("bob").item("q4.concepts")
        assert item.manual and item.score == 6 and "Graded by hand: fine" in item.feedback
        assert book.latest_for("bob").score == showcase_result().score + 2
        book.record(showcase_result())  # recorded without the file: nothing is carried silently
        assert not book.latest_for("bob").item("q4.concepts").manual
