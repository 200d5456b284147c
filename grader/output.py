"""Write a result's files: OUT/<stem>.json and OUT/<stem>.html."""

from __future__ import annotations

from pathlib import Path

from grader.results import SubmissionResult, write_atomic


def result_stem(result: SubmissionResult) -> str:
    """The name both files share: the notebook's stem (the student's name when there is none)."""
    return Path(result.submission).stem or result.student


def write_report(result: SubmissionResult, out_dir: Path, *, student_mode: bool = False) -> Path:
    """OUT/<stem>.html alone (re-rendering is cheap; the JSON stays as it is)."""
    from grader.feedback_levels import handed_back
    from grader.report import render_submission

    result = handed_back(result) if student_mode else result  # each item's reveal_after_deadline
    return write_atomic(out_dir / f"{result_stem(result)}.html",
                        render_submission(result, student_mode=student_mode))


def write_outputs(result: SubmissionResult, out_dir: Path, *, student_mode: bool = False) -> list[Path]:
    json_path = result.save(out_dir / f"{result_stem(result)}.json")
    return [json_path, write_report(result, out_dir, student_mode=student_mode)]
