"""The gradebook: a SQLite file holding submissions, grading runs and item results.

Every grading run is kept (re-runs are history); the latest run per submission is the grade.
SQLite because it is one file an instructor can copy, needs no server, and survives a killed
process mid-write (each run is one transaction).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

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
    PRIMARY KEY (run_id, item)
);
CREATE INDEX IF NOT EXISTS runs_by_submission ON runs(submission_id, id);
"""

DEFAULT_NAME = "gradebook.sqlite"


class Gradebook:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, result: SubmissionResult) -> int:
        """Store one grading run (a new history row); returns the run id."""
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
                "device, cache_key, grader_version, duration_s, result_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sub_id, result.started_at, result.status, result.score, result.max_score,
                 result.profile, result.device, result.cache_key, result.grader_version,
                 result.duration_s, result.to_json()),
            )
            run_id = int(cur.lastrowid)
            self.db.executemany(
                "INSERT INTO item_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, q.id, i.id, i.score, i.max_score, i.status, int(i.manual),
                  json.dumps(i.diagnoses)) for q in result.questions for i in q.items],
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
