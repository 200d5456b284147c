"""The gradebook: a SQLite file holding submissions, grading runs and item results.

Every grading run is kept (re-runs are history) with its scope: `complete` (every question of
the rubric graded, the notebook ran to the end or was not needed) or `partial` (`--questions`,
static items only, a failed execution). The *current grade* of a student is their latest
complete run (their latest run when they have no complete one), with the overrides file applied:
every export and report reads `current()`, so a partial regrade never replaces a full grade.
A manual override is a new run too (its items flagged `manual`), so nothing is ever rewritten.
SQLite because it is one file an instructor can copy, needs no server, and survives a killed
process mid-write (each run is one transaction).
"""

from __future__ import annotations

import functools
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
    "runs": {"note": "TEXT", "scope": "TEXT", "scope_reason": "TEXT"},
}

COMPLETE, PARTIAL = "complete", "partial"


@functools.cache
def _rubric_questions(path: str, mtime: float) -> tuple[str, ...] | None:
    """Question ids read straight from the YAML (cheap: no rubric validation, no check imports)."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
        return tuple(str(q["id"]).lower() for q in data["questions"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None


def rubric_questions(result: SubmissionResult) -> tuple[str, ...] | None:
    """The question ids of the rubric a result was graded with (None if it cannot be read)."""
    try:
        mtime = Path(result.rubric).stat().st_mtime if result.rubric else None
    except OSError:
        return None
    return None if mtime is None else _rubric_questions(result.rubric, mtime)


def run_scope(result: SubmissionResult) -> tuple[str, str]:
    """(`complete` | `partial`, why partial): a run is partial when it graded only some of the
    rubric's questions or its notebook execution failed (the batch then grades static items only).
    An unreadable file (`invalid`) is a complete grade: there is nothing more to grade."""
    if result.status in ("error", "timeout"):
        return PARTIAL, f"the notebook's execution failed ({result.status}: {result.message or 'no detail'})"
    asked = rubric_questions(result)
    graded = [q.id for q in result.questions]
    missing = [q for q in asked or () if q not in graded]
    if missing:
        if len(graded) <= len(missing):
            return PARTIAL, f"only {', '.join(graded) or 'no question'} graded (of {len(asked)} questions)"
        return PARTIAL, f"{', '.join(missing)} not graded (of {len(asked)} questions)"
    return COMPLETE, ""


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
            # runs recorded before scopes existed: classify them from their stored result
            unclassified = self.db.execute("SELECT id, result_json FROM runs WHERE scope IS NULL").fetchall()
            for run_id, text in unclassified:
                scope, why = run_scope(SubmissionResult.from_dict(json.loads(text)))
                self.db.execute("UPDATE runs SET scope = ?, scope_reason = ? WHERE id = ?",
                                (scope, why, run_id))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, result: SubmissionResult, note: str | None = None,
               scope: tuple[str, str] | None = None) -> int:
        """Store one grading run (a new history row); returns the run id.

        `scope` defaults to `run_scope(result)`. Manual grades are not carried here: the
        overrides file (grader/overrides.py) is their source of truth, applied to every fresh
        result before it is recorded (and again by `current()`).
        """
        scope = scope or run_scope(result)
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
                "device, cache_key, grader_version, duration_s, result_json, note, scope, scope_reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sub_id, result.started_at, result.status, result.score, result.max_score,
                 result.profile, result.device, result.cache_key, result.grader_version,
                 result.duration_s, result.to_json(), note, *scope),
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

    # The current run of a submission: its latest complete run, else its latest run.
    _CURRENT = ("COALESCE((SELECT MAX(id) FROM runs WHERE submission_id = s.id AND scope = 'complete'), "
                "(SELECT MAX(id) FROM runs WHERE submission_id = s.id))")

    def latest(self) -> list[SubmissionResult]:
        """The most recent run of every submission (partial or not), ordered by student."""
        rows = self.db.execute(
            "SELECT r.result_json FROM runs r JOIN submissions s ON s.id = r.submission_id "
            "WHERE r.id = (SELECT MAX(id) FROM runs WHERE submission_id = s.id) "
            "ORDER BY s.student"
        ).fetchall()
        return [SubmissionResult.from_dict(json.loads(r[0])) for r in rows]

    def overrides_path(self) -> Path:
        """The overrides file that goes with this gradebook: `overrides.yaml` beside it."""
        from grader.overrides import DEFAULT_NAME as OVERRIDES_NAME

        return self.path.parent / OVERRIDES_NAME

    def current(self, overrides: str | Path | None = None) -> list[SubmissionResult]:
        """Every student's current grade: latest complete run plus the overrides file (default:
        the one beside the gradebook, when it exists), ordered by student. Exports use this."""
        rows = self.db.execute(
            "SELECT r.result_json FROM runs r JOIN submissions s ON s.id = r.submission_id "
            f"WHERE r.id = {self._CURRENT} ORDER BY s.student").fetchall()
        return self._with_overrides([SubmissionResult.from_dict(json.loads(r[0])) for r in rows], overrides)

    def current_for(self, student: str, overrides: str | Path | None = None) -> SubmissionResult:
        """One student's current grade (see `current`); `student` as in `latest_for`."""
        sub_id = self._submission_id(student)
        return self._current_by_id(sub_id, overrides)

    def current_for_path(self, path: str | Path,
                         overrides: str | Path | None = None) -> SubmissionResult | None:
        row = self.db.execute("SELECT id FROM submissions WHERE path = ?",
                              (str(Path(path).resolve()),)).fetchone()
        return None if row is None else self._current_by_id(int(row[0]), overrides)

    def current_run(self, student: str) -> dict[str, Any]:
        """Which run is the current grade of `student`: its id, scope, score, date."""
        sub_id = self._submission_id(student)
        row = self.db.execute(
            "SELECT r.id, r.scope, r.score, r.max_score, r.started_at FROM runs r JOIN submissions s "
            f"ON s.id = r.submission_id WHERE s.id = ? AND r.id = {self._CURRENT}", (sub_id,)).fetchone()
        return dict(zip(("run_id", "scope", "score", "max_score", "started_at"), row, strict=True))

    def current_instead_of(self, run_id: int) -> dict[str, Any] | None:
        """None when run `run_id` is its student's current grade; else the current run (id,
        score, max_score) and why `run_id` is not it (`reason`: its partial scope)."""
        row = self.db.execute(
            "SELECT s.id, r2.scope_reason, r2.score, r2.max_score FROM runs r2 JOIN submissions s "
            "ON s.id = r2.submission_id WHERE r2.id = ?", (run_id,)).fetchone()
        if row is None:
            raise GradebookError(f"no run {run_id} in {self.path}")
        sub_id, reason, score, max_score = row
        (current,) = self.db.execute(f"SELECT {self._CURRENT} FROM submissions s WHERE s.id = ?",
                                     (sub_id,)).fetchone()
        if current == run_id:
            return None
        cur = self.db.execute("SELECT score, max_score FROM runs WHERE id = ?", (current,)).fetchone()
        return {"run_id": current, "score": cur[0], "max_score": cur[1], "reason": reason,
                "run_score": score, "run_max_score": max_score}

    def _current_by_id(self, sub_id: int, overrides: str | Path | None | bool) -> SubmissionResult:
        (text,) = self.db.execute(
            f"SELECT r.result_json FROM runs r JOIN submissions s ON s.id = r.submission_id "
            f"WHERE s.id = ? AND r.id = {self._CURRENT}", (sub_id,)).fetchone()
        return self._with_overrides([SubmissionResult.from_dict(json.loads(text))], overrides)[0]

    def _with_overrides(self, results: list[SubmissionResult],
                        overrides: str | Path | None | bool) -> list[SubmissionResult]:
        """`overrides`: a file, None for the one beside the gradebook, False for none."""
        from grader.overrides import apply_loaded, load_overrides

        if overrides is False:
            return results
        path = Path(overrides) if overrides else self.overrides_path()
        if not path.is_file():
            return results
        loaded = load_overrides(path)
        return [apply_loaded(r, loaded, path) for r in results]

    def run_count(self, path: str | Path) -> int:
        key = str(Path(path).resolve())
        row = self.db.execute(
            "SELECT COUNT(*) FROM runs r JOIN submissions s ON s.id = r.submission_id "
            "WHERE s.path = ?", (key,)).fetchone()
        return int(row[0])

    def last_durations(self, paths: list[Path], profile: str | None) -> dict[Path, float]:
        """Each notebook's last grading duration here (`runs.duration_s`), preferring runs of
        `profile`; notebooks never graded here are left out (grader/schedule.py orders by it)."""
        found: dict[Path, float] = {}
        for path in paths:
            rows = self.db.execute(
                "SELECT r.profile, r.duration_s FROM runs r JOIN submissions s ON s.id = r.submission_id "
                "WHERE s.path = ? AND r.duration_s > 0 ORDER BY r.id DESC", (str(path.resolve()),)).fetchall()
            same = [d for p, d in rows if p == profile]
            if same or rows:
                found[path] = float((same or [d for _, d in rows])[0])
        return found

    # ---- listing -------------------------------------------------------------------------
    def students(self) -> list[dict[str, Any]]:
        """One row per submission: student, path, number of runs, and the current run's grade
        (`scope`: complete or partial; `newer_partial`: partial runs recorded after it)."""
        rows = self.db.execute(
            "SELECT s.student, s.path, (SELECT COUNT(*) FROM runs WHERE submission_id = s.id), "
            "r.status, r.score, r.max_score, r.started_at, "
            "(SELECT COUNT(*) FROM item_results WHERE run_id = r.id AND manual = 1), "
            "(SELECT COUNT(*) FROM item_results WHERE run_id = r.id AND needs_review = 1), r.scope, "
            "(SELECT COUNT(*) FROM runs WHERE submission_id = s.id AND id > r.id) "
            f"FROM submissions s JOIN runs r ON r.id = {self._CURRENT} "
            "ORDER BY s.student"
        ).fetchall()
        keys = ("student", "path", "runs", "status", "score", "max_score", "started_at", "manual_items",
                "review_items", "scope", "newer_partial")
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
        """The latest run of one student's submission (partial or not; see `current_for`)."""
        sub_id = self._submission_id(student)
        (text,) = self.db.execute("SELECT result_json FROM runs WHERE submission_id = ? ORDER BY id DESC "
                                  "LIMIT 1", (sub_id,)).fetchone()
        return SubmissionResult.from_dict(json.loads(text))

    def history(self, student: str) -> list[dict[str, Any]]:
        """Every run of one student's submission, oldest first."""
        sub_id = self._submission_id(student)
        rows = self.db.execute(
            "SELECT id, started_at, status, score, max_score, profile, note, scope, scope_reason FROM runs "
            "WHERE submission_id = ? ORDER BY id", (sub_id,)).fetchall()
        keys = ("run_id", "started_at", "status", "score", "max_score", "profile", "note", "scope",
                "scope_reason")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # ---- manual overrides ----------------------------------------------------------------
    def override(self, student: str, item_id: str, score: float, overrides_path: str | Path | None = None,
                 *, comment: str = "", note: str = "", by: str | None = None) -> SubmissionResult:
        """Set one item's score by hand on the student's current grade: written to the overrides
        file (the source of truth, so a regrade keeps it; under a lock, so two reviewers saving
        at once lose nothing), then recorded as a new run, in the scope of the run it amends,
        whose item is flagged `manual`. `comment` is shown to the student, `note` only to
        instructors; `by` defaults to $USER. Returns the new current result.
        """
        from grader.overrides import locked

        path = Path(overrides_path) if overrides_path else self.overrides_path()
        with locked(path):  # read, change and record as one step against other reviewers
            return self._override(student, item_id, score, path, comment=comment, note=note, by=by)

    def _override(self, student: str, item_id: str, score: float, path: Path, *, comment: str,
                  note: str, by: str | None) -> SubmissionResult:
        from grader.overrides import OverridesError, apply_overrides, set_override

        sub_id = self._submission_id(student)
        result = self._current_by_id(sub_id, False)
        try:
            item = result.item(item_id)
        except KeyError:
            raise GradebookError(f"no item {item_id!r} in the current grade of {student!r} "
                                 f"(items: {', '.join(i.id for i in result.items())})") from None
        if not 0 <= score <= item.max_score:
            raise GradebookError(f"score {score:g} for {item_id} is outside 0..{item.max_score:g}")
        try:
            entry = set_override(path, result.student or student, item_id, score, comment, note=note, by=by,
                                 lock=False)
            result = apply_overrides(result, path)
        except OverridesError as exc:
            raise GradebookError(str(exc)) from None
        (scope, why) = self.db.execute(
            f"SELECT r.scope, r.scope_reason FROM runs r JOIN submissions s ON s.id = r.submission_id "
            f"WHERE s.id = ? AND r.id = {self._CURRENT}", (sub_id,)).fetchone()
        self.record(result, note=f"manual {item_id} = {score:g} by {entry.by}"
                    + (f": {note or comment}" if (note or comment) else ""), scope=(scope, why or ""))
        return result
