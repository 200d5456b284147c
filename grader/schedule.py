"""The order a batch hands its notebooks to the workers: longest known grading first.

With N workers taking jobs in turn, a long notebook handed out last keeps one worker busy while
the others sit idle (makespan imbalance). Handing out the longest jobs first (the LPT rule)
lets the short ones fill the gaps at the end, so the workers finish together.

The cost of a notebook is its last grading's duration in this output folder's gradebook
(`Gradebook.last_durations`: a run of the same profile when there is one, else any): a regrade
of a class (`--force`, a changed rubric or grader) knows them all. A notebook never graded here
counts as the median of the known ones, so the unknown keep their given order among themselves;
when none is known, the order is the given one. A static estimate from the code (training calls,
code size) was tried and dropped: on the 8-notebook benchmark batch
(benchmarks/grading_overhead.py, makespans simulated from the -j 1 durations) it was 0-5% worse
than the alphabetical order, while the known durations were never worse (0-1.3% better).

The order is deterministic: equal costs keep the given order. It changes only when work is
handed out, never a grade, the results' order or a cache key. GRADER_LONGEST_FIRST=0 keeps
the given (alphabetical) order.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping
from pathlib import Path


def enabled() -> bool:
    return os.environ.get("GRADER_LONGEST_FIRST") != "0"


def expected_costs(paths: list[Path], known: Mapping[Path, float]) -> dict[Path, float]:
    """Seconds expected per notebook: its known duration, else the median of the known ones
    (0 when none is known)."""
    durations = [known[p] for p in paths if p in known]
    middle = statistics.median(durations) if durations else 0.0
    return {p: known.get(p, middle) for p in paths}


def longest_first(paths: list[Path], costs: Mapping[Path, float]) -> list[Path]:
    """`paths` by expected cost, longest first; equal costs keep their given order."""
    position = {p: i for i, p in enumerate(paths)}
    return sorted(paths, key=lambda p: (-costs.get(p, 0.0), position[p]))
