"""Write a result's files: OUT/<stem>.json and OUT/<stem>.html."""

from __future__ import annotations

from pathlib import Path

from grader.results import SubmissionResult, write_atomic


def write_outputs(result: SubmissionResult, out_dir: Path, *, student_mode: bool = False) -> list[Path]:
    from grader.report import render_submission

    stem = Path(result.submission).stem or result.student
    json_path = result.save(out_dir / f"{stem}.json")
    html_path = write_atomic(out_dir / f"{stem}.html", render_submission(result, student_mode=student_mode))
    return [json_path, html_path]
