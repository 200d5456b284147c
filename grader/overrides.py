"""Manual grades: an instructor's overrides file, validated, applied on top of automatic grading.

The file is YAML, keyed by submission (the notebook's stem or file name), then by item id:

    alice:
      q4.concepts:
        points: 5
        comment: Explains the no-weights point well; the invariance is implied by "keeps the max".
    bob.ipynb:
      q1.concepts: {points: 8, comment: Full marks after discussion., note: copied from carol?,
                    by: ta-sam, at: "2026-12-01T10:00:00+00:00"}

`comment` (optional) is shown to the student with the item; `note` (optional) is private to
instructors and never appears in student-mode output; `by` and `at` record who set it and when.
Writes go through `set_override`, which holds an exclusive lock (fcntl) on a sidecar lock file
while it reads, changes and atomically replaces the YAML, so two reviewers saving at once lose
nothing.

The file is the source of truth: `grader run` applies it after grading every submission
(`--overrides FILE`, default `<out>/overrides.yaml` when it exists), so re-grading keeps the
manual grades. An overridden item keeps its automatic grade in `evidence.override`.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import fcntl
import getpass
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from grader.results import ItemResult, SubmissionResult

if TYPE_CHECKING:
    from grader.rubric import Rubric

DEFAULT_NAME = "overrides.yaml"
_ITEM_ID = re.compile(r"^q\d{1,2}\.[a-z0-9_]+$")


class OverridesError(Exception):
    """The overrides file is unusable. The message names the file, the key and the fix."""


@dataclass(frozen=True)
class Override:
    submission: str
    item: str
    points: float
    comment: str = ""
    note: str = ""  # instructors only
    by: str = ""
    at: str = ""


def default_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / DEFAULT_NAME


def resolve_path(option: str | None, out_dir: str | Path, rubric: Rubric | None = None) -> Path | None:
    """The overrides file to use: the option (which must exist), else `<out>/overrides.yaml` if any.

    The file is loaded and checked against the rubric here, so that a broken file stops the run
    before any grading instead of in the middle of a batch.
    """
    if option:
        path = Path(option)
        if not path.is_file():
            raise OverridesError(f"--overrides {option}: no such file; give an existing YAML file")
    else:
        path = default_path(out_dir)
        if not path.is_file():
            return None
    overrides = load_overrides(path)
    if rubric is not None:
        check_against_rubric(overrides, rubric, path)
    return path


def check_against_rubric(overrides: dict[str, dict[str, Override]], rubric: Rubric, path: Path) -> None:
    """Every item id must exist in the rubric, and no override may exceed the item's points."""
    items = {i.id: i for i in rubric.items}
    for sub, entries in overrides.items():
        for item_id, override in entries.items():
            if item_id not in items:
                question = item_id.split(".", 1)[0]
                known = [i for i in items if i.startswith(question + ".")]
                hint = f"{question} has: {', '.join(known)}" if known else "no such question"
                raise OverridesError(f"{path}: {sub}.{item_id}: not an item of the rubric ({hint})")
            if override.points > items[item_id].points + 1e-9:
                raise OverridesError(f"{path}: {sub}.{item_id}.points: {override.points:g} is more "
                                     f"than the item's {items[item_id].points:g} points")


def load_overrides(path: str | Path) -> dict[str, dict[str, Override]]:
    """Read and validate an overrides file: {submission: {item id: Override}}."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OverridesError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise OverridesError(f"{path}: not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OverridesError(
            f"{path}: top level must map submissions to items, e.g. 'alice: {{q4.concepts: "
            "{points: 5, comment: ...}}}'"
        )
    out: dict[str, dict[str, Override]] = {}
    for submission, items in data.items():
        sub = str(submission)
        if not isinstance(items, dict) or not items:
            raise OverridesError(f"{path}: {sub}: must map item ids (like q4.concepts) to "
                                 "{points, comment}")
        out[sub] = {}
        for item_id, entry in items.items():
            out[sub][str(item_id)] = _parse_entry(path, sub, str(item_id), entry)
    return out


def _parse_entry(path: Path, sub: str, item_id: str, entry: Any) -> Override:
    where = f"{path}: {sub}.{item_id}"
    if not _ITEM_ID.match(item_id):
        raise OverridesError(f"{where}: not an item id; use the rubric's ids, e.g. q4.concepts")
    if not isinstance(entry, dict):
        raise OverridesError(f"{where}: must be a mapping with 'points' (and optionally comment, note)")
    unknown = set(entry) - set(KEYS)
    if unknown:
        raise OverridesError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                             f"allowed keys: {', '.join(KEYS)}")
    points = entry.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
        raise OverridesError(f"{where}.points: must be a number >= 0, got {points!r}")
    text = {}
    for key in ("comment", "note", "by", "at"):
        value = entry.get(key)
        if isinstance(value, datetime.datetime | datetime.date):  # YAML reads unquoted dates
            value = value.isoformat()
        if value is not None and not isinstance(value, str):
            raise OverridesError(f"{where}.{key}: must be text, got {value!r}")
        text[key] = (value or "").strip()
    return Override(submission=sub, item=item_id, points=float(points), **text)


KEYS = ("points", "comment", "note", "by", "at")


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """An exclusive lock for read-modify-write of the overrides file (`.<name>.lock` beside it;
    released with the process, even if it is killed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def set_override(path: str | Path, submission: str, item_id: str, points: float, comment: str = "",
                 *, note: str = "", by: str | None = None, at: str | None = None,
                 lock: bool = True) -> Override:
    """Add or replace one entry in the overrides file (created if missing), validated as loaded,
    under the file's lock (`lock=False`: the caller holds `locked(path)`) and written atomically.
    `by` defaults to $USER, `at` to now (UTC)."""
    from grader.results import write_atomic

    path = Path(path)
    entry: dict[str, Any] = {"points": float(points)}
    entry.update({k: v for k, v in (("comment", comment), ("note", note)) if v and v.strip()})
    entry["by"] = by or os.environ.get("USER") or _login()
    entry["at"] = at or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    parsed = _parse_entry(path, submission, item_id, entry)  # same rules as loading
    with locked(path) if lock else contextlib.nullcontext():
        data = load_raw(path)
        data.setdefault(submission, {})[item_id] = entry
        write_atomic(path, yaml.safe_dump(data, sort_keys=True, allow_unicode=True))
    return parsed


def load_raw(path: Path) -> dict[str, Any]:
    """The file's mapping as YAML reads it ({} when missing or empty), checked like load_overrides."""
    if not path.is_file():
        return {}
    load_overrides(path)  # a broken file is reported, never overwritten
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def overrides_for(result: SubmissionResult, overrides: dict[str, dict[str, Override]]) -> dict[str, Override]:
    """The entries for this submission, by stem or file name (both may be used)."""
    names = [result.student, result.submission, Path(result.path).name if result.path else ""]
    found: dict[str, Override] = {}
    for name in names:
        if name and name in overrides:
            found.update(overrides[name])
    return found


def apply_overrides(result: SubmissionResult, overrides_path: str | Path | None) -> SubmissionResult:
    """A copy of `result` with the manual grades for it applied and the totals recomputed.

    Items of questions not graded in this run (`--questions`) are skipped; an item id the
    graded questions do not have, or points above the item's maximum, raise OverridesError.
    """
    if overrides_path is None:
        return copy.deepcopy(result)
    path = Path(overrides_path)
    return apply_loaded(result, load_overrides(path), path)


def apply_loaded(result: SubmissionResult, overrides: dict[str, dict[str, Override]],
                 path: Path) -> SubmissionResult:
    """`apply_overrides` with the file already loaded (one read for a whole class)."""
    result = copy.deepcopy(result)
    entries = overrides_for(result, overrides)
    graded_questions = {q.id for q in result.questions}
    for item_id, override in entries.items():
        try:
            item = result.item(item_id)
        except KeyError:
            if item_id.split(".", 1)[0] in graded_questions:
                known = ", ".join(i.id for q in result.questions if q.id == item_id.split(".")[0]
                                  for i in q.items)
                raise OverridesError(f"{path}: {override.submission}.{item_id}: no such item; "
                                     f"this question has: {known}") from None
            continue
        if override.points > item.max_score + 1e-9:
            raise OverridesError(f"{path}: {override.submission}.{item_id}.points: {override.points:g} "
                                 f"is more than the item's {item.max_score:g} points")
        _apply(item, override, path)
    for item in result.items():  # an entry removed from this file since: the automatic grade again
        if item.manual and item.id not in entries and _from_file(item, path):
            _unapply(item)
    result.recompute_scores()
    return result


def _from_file(item: ItemResult, path: Path) -> bool:
    override = item.evidence.get("override")
    return isinstance(override, dict) and override.get("file") == str(path)


def _unapply(item: ItemResult) -> None:
    """Put back what the grader decided before this item was graded by hand."""
    previous = item.evidence["override"]
    item.score = previous["automatic_score"]
    item.status = previous["automatic_status"]
    item.feedback = previous["automatic_feedback"]
    item.needs_review = bool(previous.get("automatic_needs_review", False))
    item.manual = False
    item.evidence = {k: v for k, v in item.evidence.items() if k != "override"}


def _apply(item: ItemResult, override: Override, path: Path) -> None:
    previous = item.evidence.get("override") if item.manual else None
    automatic = {
        "score": previous["automatic_score"] if previous else item.score,
        "status": previous["automatic_status"] if previous else item.status,
        "feedback": previous["automatic_feedback"] if previous else item.feedback,
    }
    item_review = item.needs_review
    item.score = round(override.points, 4)
    item.status = ("passed" if item.score >= item.max_score - 1e-9
                   else "failed" if item.score <= 1e-9 else "partial")
    item.manual = True
    item.needs_review = False
    item.feedback = f"Graded by hand: {override.comment}" if override.comment else "Graded by hand."
    if automatic["feedback"]:
        item.feedback += f" (Automatic feedback: {automatic['feedback']})"
    item.evidence = {
        **item.evidence,
        "override": {
            "points": override.points,
            "comment": override.comment,
            "note": override.note,  # instructors only: the report hides it in student mode
            "by": override.by,
            "at": override.at,
            "file": str(path),
            "automatic_score": automatic["score"],
            "automatic_status": automatic["status"],
            "automatic_feedback": automatic["feedback"],
            "automatic_needs_review": previous.get("automatic_needs_review", False) if previous
            else item_review,
        },
    }

