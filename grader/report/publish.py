"""Re-write what an output folder shows from the gradebook's current grades, without grading.

`grader override`, the review app and `grader report` call this after changing or reading the
gradebook, so a student's HTML/JSON, the class report and the CSV always agree with
`Gradebook.current()`. Rendering is cheap (milliseconds per report): nothing runs a notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.gradebook import Gradebook
from grader.results import SubmissionResult, write_atomic

SIMILARITY_FILE = ".grader/similarity.json"  # written by the batch (grader.batch.SIMILARITY_FILE)
CSV_NAME = "grades.csv"
ROSTER_NAME = "roster.csv"


def similarity_groups(out: Path) -> list[dict] | None:
    try:
        data = json.loads((out / SIMILARITY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, list) else None


def write_class_files(results: list[SubmissionResult], out: Path, similarity: list[dict] | None = None,
                      roster: Path | None = None) -> list[Path]:
    """OUT/index.html and OUT/grades.csv for these (current) results."""
    from grader.export import load_roster, write_csv
    from grader.report import render_class_report

    roster = roster or (out / ROSTER_NAME if (out / ROSTER_NAME).is_file() else None)
    ids = load_roster(roster) if roster else None
    return [write_atomic(out / "index.html", render_class_report(results, similarity, out_hint=str(out))),
            write_csv(results, out / CSV_NAME, roster=ids)]


def publish(book: Gradebook, out: Path, students: list[str] | None = None, *,
            student_mode: bool = False, similarity: list[dict] | None = None,
            roster: Path | None = None, overrides: Path | None = None) -> list[SubmissionResult]:
    """Write the current grade of `students` (default: all) as OUT/<stem>.json + .html, then the
    class report and CSV over every student. Returns every current result."""
    from grader.overrides import locked

    with locked(out / "index.html"):  # two publishers: the later one reads the later gradebook
        return _publish(book, out, students, student_mode, similarity, roster, overrides)


def _publish(book: Gradebook, out: Path, students: list[str] | None, student_mode: bool,
             similarity: list[dict] | None, roster: Path | None,
             overrides: Path | None) -> list[SubmissionResult]:
    from grader.output import result_stem, write_outputs

    results = book.current(overrides)
    wanted = None if students is None else set(students)
    for r in results:
        names = {r.student, r.submission, result_stem(r)}
        if wanted is None or names & wanted:
            write_outputs(r, out, student_mode=student_mode)
    write_class_files(results, out, similarity if similarity is not None else similarity_groups(out), roster)
    return results
