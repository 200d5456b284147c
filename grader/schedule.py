"""The order a batch hands its notebooks to the workers: longest first.

With N workers taking jobs in turn, a long notebook that comes last keeps one worker busy while
the others sit idle (makespan imbalance). Handing out the longest jobs first (the LPT rule)
lets the short ones fill the gaps at the end, so the workers finish together.

Expected cost of a notebook, in seconds:
- its last grading's duration in this output folder's gradebook (same profile when there is
  one, else any), when it was graded before;
- otherwise a static estimate from its code (`static_cost`: training calls, evaluations, model
  imports, code size), scaled to seconds by the median ratio duration/estimate of the notebooks
  of the batch that have a duration (1 when none has).

The order is deterministic: equal costs keep the given order. It changes only when work is
handed out, never a grade, the results' order or a cache key. GRADER_LONGEST_FIRST=0 keeps
the given (alphabetical) order.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import statistics
from collections.abc import Mapping
from pathlib import Path

# A student's training calls, in the spellings they use: model.fit(...), m.fit (...),
# fit_generator(...), a custom loop over tf.GradientTape.
_TRAIN = re.compile(r"\.\s*fit(?:_generator)?\s*\(|GradientTape\s*\(")
_MEASURE = re.compile(r"\.\s*(?:evaluate|predict)(?:_generator)?\s*\(")
_TF = re.compile(r"^\s*(?:import|from)\s+(?:tensorflow|keras|torch)\b", re.MULTILINE)
_BIG_MODEL = re.compile(r"applications\s*\.|ResNet|VGG|MobileNet|EfficientNet|Inception", re.IGNORECASE)


def enabled() -> bool:
    return os.environ.get("GRADER_LONGEST_FIRST") != "0"


def static_cost(path: Path) -> float:
    """A unitless estimate of how long a notebook takes to grade, from its code cells alone
    (nothing runs): a kernel start, a framework import, each training and measuring call, a
    pretrained model, and the code's length. An unreadable notebook costs 0 (it fails fast)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        cells = nb.get("cells") if isinstance(nb, dict) else None
        if not isinstance(cells, list):
            return 0.0
        code = "\n".join(_source(c) for c in cells if isinstance(c, dict) and c.get("cell_type") == "code")
    except (OSError, ValueError):
        return 0.0
    return (1.0 + (1.0 if _TF.search(code) else 0.0) + 2.0 * len(_TRAIN.findall(code))
            + 0.5 * len(_MEASURE.findall(code)) + (3.0 if _BIG_MODEL.search(code) else 0.0)
            + len(code) / 2000.0)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def previous_durations(db: sqlite3.Connection, paths: list[Path], profile: str | None) -> dict[Path, float]:
    """Each notebook's last grading duration in this gradebook (`runs.duration_s`), preferring
    runs of `profile`; notebooks never graded here are left out."""
    found: dict[Path, float] = {}
    for path in paths:
        rows = db.execute(
            "SELECT r.profile, r.duration_s FROM runs r JOIN submissions s ON s.id = r.submission_id "
            "WHERE s.path = ? AND r.duration_s > 0 ORDER BY r.id DESC", (str(path.resolve()),)).fetchall()
        same = [d for p, d in rows if p == profile]
        if same or rows:
            found[path] = float((same or [d for _, d in rows])[0])
    return found


def expected_costs(paths: list[Path], known: Mapping[Path, float]) -> dict[Path, float]:
    """Seconds expected per notebook: `known` durations, else the scaled static estimate."""
    estimates = {p: static_cost(p) for p in paths}
    ratios = [known[p] / estimates[p] for p in paths if p in known and estimates[p] > 0]
    scale = statistics.median(ratios) if ratios else 1.0
    return {p: known[p] if p in known else estimates[p] * scale for p in paths}


def longest_first(paths: list[Path], costs: Mapping[Path, float]) -> list[Path]:
    """`paths` by expected cost, longest first; equal costs keep their given order."""
    position = {p: i for i, p in enumerate(paths)}
    return sorted(paths, key=lambda p: (-costs.get(p, 0.0), position[p]))
