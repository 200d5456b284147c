"""The gradebook: a SQLite file holding submissions, grading runs and item results.

Every grading run is kept (re-runs are history); the latest run per submission is the grade.
A manual override is a new run too (its items flagged `manual`), so nothing is ever rewritten.
SQLite because it is one file an instructor can copy, needs no server, and survives a killed
process mid-write (each run is one transaction).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from grader.results import SubmissionResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    started_at TEXT, status TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
    profile TEXT, device TEXT, cache_key TEXT, grader_version TEXT, duration_s REAL,
    result_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS item_results (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    question TEXT NOT NULL, item TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
    status TEXT NOT NULL, manual INTEGER NOT NULL DEFAULT 0, diagnoses TEXT,
    visibility TEXT NOT NULL DEFAULT 'public', needs_review INTEGER NOT NULL DEFAULT 0,
    provisional INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, item)
);
CREATE INDEX IF NOT EXISTS runs_by_submission ON runs(submission_id, id);
"""

# Columns added after the first release; older gradebook files get them on open.
MIGRATIONS = {
    "item_results": {
        "visibility": "TEXT NOT NULL DEFAULT 'public'",
        "needs_review": "INTEGER NOT NULL DEFAULT 0",
        "provisional": "INTEGER NOT NULL DEFAULT 0",
    },
    "runs": {"note": "TEXT"},
}


class GradebookError(Exception):
    """A request the gradebook cannot answer (unknown student or item); the message says why."""

DEFAULT_NAME = "gradebook.sqlite"


class Gradebook:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        with self.db:
            for table, columns in MIGRATIONS.items():
                have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
                for name, decl in columns.items():
                    if name not in have:
                        self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, result: SubmissionResult, note: str | None = None) -> int:
        """Store one grading run (a new history row); returns the run id.

        Manual grades are not carried here: the overrides file (grader/overrides.py) is their
        source of truth, applied to every fresh result before it is recorded.
        """
        key = str(Path(result.path).resolve()) if result.path else result.submission
        with self.db:
            self.db.execute(
                "INSERT INTO submissions(student, path) VALUES (?, ?) "
                "ON CONFLICT(path) DO UPDATE SET student = excluded.student",
                (result.student or result.submission, key),
            )
            (sub_id,) = self.db.execute("SELECT id FROM submissions WHERE path = ?", (key,)).fetchone()
            cur = self.db.execute(
                "INSERT INTO runs(submission_id, started_at, status, score, max_score, profile, "
                "device, cache_key, grader_version, duration_s, result_json, note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sub_id, result.started_at, result.status, result.score, result.max_score,
                 result.profile, result.device, result.cache_key, result.grader_version,
                 result.duration_s, result.to_json(), note),
            )
            run_id = int(cur.lastrowid)
            self.db.executemany(
                "INSERT INTO item_results(run_id, question, item, score, max_score, status, manual, "
                "diagnoses, visibility, needs_review, provisional) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, q.id, i.id, i.score, i.max_score, i.status, int(i.manual),
                  json.dumps(i.diagnoses), i.visibility, int(i.needs_review), int(i.provisional))
                 for q in result.questions for i in q.items],
            )
        return run_id

    def latest(self) -> list[SubmissionResult]:
        """The most recent run of every submission, ordered by student."""
        rows = self.db.execute(
            "SELECT r.result_json FROM runs r JOIN submissions s ON s.id = r.submission_id "
            "WHERE r.id = (SELECT MAX(id) FROM runs WHERE submission_id = s.id) "
            "ORDER BY s.student"
        ).fetchall()
        return [SubmissionResult.from_dict(json.loads(r[0])) for r in rows]

    def run_count(self, path: str | Path) -> int:
        key = str(Path(path).resolve())
        row = self.db.execute(
            "SELECT COUNT(*) FROM runs r JOIN submissions s ON s.id = r.submission_id "
            "WHERE s.path = ?", (key,)).fetchone()
        return int(row[0])

    # ---- listing -------------------------------------------------------------------------
    def students(self) -> list[dict[str, Any]]:
        """One row per submission: student, path, number of runs, and the latest run's grade."""
        rows = self.db.execute(
            "SELECT s.student, s.path, (SELECT COUNT(*) FROM runs WHERE submission_id = s.id), "
            "r.status, r.score, r.max_score, r.started_at, "
            "(SELECT COUNT(*) FROM item_results WHERE run_id = r.id AND manual = 1), "
            "(SELECT COUNT(*) FROM item_results WHERE run_id = r.id AND needs_review = 1) "
            "FROM submissions s JOIN runs r ON r.id = (SELECT MAX(id) FROM runs WHERE submission_id = s.id) "
            "ORDER BY s.student"
        ).fetchall()
        keys = ("student", "path", "runs", "status", "score", "max_score", "started_at", "manual_items",
                "review_items")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def _submission_id(self, student: str) -> int:
        """The submission of `student` (its name, or its file name / stem); unique or an error."""
        rows = self.db.execute("SELECT id, student, path FROM submissions").fetchall()
        hits = [r for r in rows if student in (r[1], Path(r[2]).name, Path(r[2]).stem)]
        if not hits:
            known = ", ".join(sorted(r[1] for r in rows)) or "none"
            raise GradebookError(f"no submission for student {student!r} in {self.path} (students: {known})")
        if len(hits) > 1:
            raise GradebookError(f"{student!r} matches {len(hits)} submissions in {self.path}: "
                                 + ", ".join(r[2] for r in hits) + "; pass the file path instead")
        return int(hits[0][0])

    def latest_for(self, student: str) -> SubmissionResult:
        """The latest run of one student's submission."""
        sub_id = self._submission_id(student)
        (text,) = self.db.execute("SELECT result_json FROM runs WHERE submission_id = ? ORDER BY id DESC "
                                  "LIMIT 1", (sub_id,)).fetchone()
        return SubmissionResult.from_dict(json.loads(text))

    def history(self, student: str) -> list[dict[str, Any]]:
        """Every run of one student's submission, oldest first."""
        sub_id = self._submission_id(student)
        rows = self.db.execute(
            "SELECT id, started_at, status, score, max_score, profile, note FROM runs "
            "WHERE submission_id = ? ORDER BY id", (sub_id,)).fetchall()
        keys = ("run_id", "started_at", "status", "score", "max_score", "profile", "note")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # ---- manual overrides ----------------------------------------------------------------
    def override(self, student: str, item_id: str, score: float, note: str,
                 overrides_path: str | Path) -> SubmissionResult:
        """Set one item's score by hand: written to the overrides file (the source of truth, so
        a regrade keeps it), then recorded as a new run whose item is flagged `manual`.

        The score must lie within 0..max_score of the item. Returns the new latest result.
        """
        from grader.overrides import apply_overrides, set_override

        result = self.latest_for(student)
        try:
            item = result.item(item_id)
        except KeyError:
            raise GradebookError(f"no item {item_id!r} in the latest run of {student!r} "
                                 f"(items: {', '.join(i.id for i in result.items())})") from None
        if not 0 <= score <= item.max_score:
            raise GradebookError(f"score {score:g} for {item_id} is outside 0..{item.max_score:g}")
        if not note.strip():
            raise GradebookError("--note is required: say why the grade was changed")
        set_override(overrides_path, result.student or student, item_id, score, note)
        result = apply_overrides(result, overrides_path)
        self.record(result, note=f"manual {item_id} = {score:g}: {note}")
        return result
