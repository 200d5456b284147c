"""The batch figures of benchmarks/grading_overhead.py computed from given stamps (nothing is
timed here): per-worker timeline, makespan imbalance, and the simulated -j 2 schedules."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import grading_overhead as bench  # noqa: E402


def test_timeline_finds_the_worker_left_idle_at_the_end():
    t0 = 100.0
    entries = [(7, "00_alice", 101.0, 120.0), (9, "01_bob", 101.5, 111.0), (9, "02_cho", 111.0, 115.0),
               (7, "03_dee", 120.0, 130.0)]
    tl = bench._timeline(entries, t0, 131.0)
    first, second = tl["workers"]
    assert [r[0] for r in first["runs"]] == ["00_alice", "03_dee"]
    assert [r[0] for r in second["runs"]] == ["01_bob", "02_cho"]
    assert first["idle_at_end_s"] == 0.0 and second["idle_at_end_s"] == 15.0
    assert tl["imbalance_s"] == 15.0 and tl["after_last_s"] == 1.0 and tl["last_end_s"] == 30.0
    assert second["busy_s"] == 13.5 and second["gaps_s"] == 0.0


def test_a_long_job_handed_out_last_sets_the_makespan():
    seconds = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 3.0}
    assert bench._makespan(["a", "b", "c", "d"], seconds, 2) == 4.0
    assert bench._makespan(["d", "a", "b", "c"], seconds, 2) == 3.0
    assert bench._makespan(["d", "a", "b", "c"], seconds, 1) == 6.0


def test_schedule_line_orders_real_notebooks_by_their_code(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    def write(name: str, code: str) -> Path:
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(new_notebook(cells=[new_code_cell(code)]), path)
        return path

    paths = [write("a_light", "print(1)"), write("b_light", "print( 2 )"),
             write("c_heavy", "import keras\nhist = m.fit(x, y)\nm.fit (x, y, epochs=5)")]
    timeline = {"workers": [{"runs": [("a_light", 0.0, 1.0), ("b_light", 1.0, 2.0), ("c_heavy", 2.0, 5.0)]}]}
    line = bench._schedule_line(paths, timeline)
    # alphabetical: a and b first, the 3 s notebook after a: 4 s; longest first by code: 3 s
    assert "alphabetical 4.0 s" in line and "by code 3.0 s" in line and "by last duration 3.0 s" in line
    assert "bound 3.0 s" in line
