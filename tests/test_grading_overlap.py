"""Cuts of the grading overhead that must not change a grade (issue 18): the notebook's execution
starts in a thread while the static items are graded (engine.py `_ExecuteEarly`), and the
official data sets' hashes come from a file cache keyed by the data file and the hashing code."""

from __future__ import annotations

import os
import shutil
import threading

import nbformat
import numpy as np

from grader import fingerprint
from grader.context import GradingOptions
from grader.engine import grade_submission

STUDENT = [
    nbformat.v4.new_markdown_cell("**Q2)** total params i got 903,400 (think its right??)"),
    nbformat.v4.new_markdown_cell("### Q9 my cnn"),
    nbformat.v4.new_code_cell("import time\nstarted = time.time()\nprint('training...')"),
    nbformat.v4.new_code_cell("x = 1 / 0  # oops"),
]


def _items(result) -> dict[str, tuple]:
    return {i.id: (i.score, i.status, tuple(i.diagnoses), i.feedback) for i in result.items()}


def test_static_items_are_graded_while_the_notebook_runs_and_grades_do_not_change(tmp_path, monkeypatch):
    from grader.checks import base

    base.load_all()
    path = tmp_path / "student.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=STUDENT), path)
    seen: list[bool] = []
    real = base._REGISTRY["param-math"]

    def spy(item, ctx):
        seen.append(any(t.name == "grader-execute" and t.is_alive() for t in threading.enumerate()))
        return real(item, ctx)

    monkeypatch.setitem(base._REGISTRY, "param-math", spy)
    options = dict(questions=["q2", "q9"], profile="quick")
    early = grade_submission(path, options=GradingOptions(**options))
    assert seen and all(seen), "the static items did not overlap the notebook's run"
    monkeypatch.setenv("GRADER_EARLY_EXECUTION", "0")
    seen.clear()
    serial = grade_submission(path, options=GradingOptions(**options))
    assert seen and not any(seen)
    assert _items(early) == _items(serial)
    assert early.item("q9.runs").status != "passed"
    assert early.execution["status"] == serial.execution["status"]
    assert not any(t.name == "grader-execute" for t in threading.enumerate())


def test_official_hashes_come_from_a_cache_that_follows_the_data_file(data_dir, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(data_dir / "mnist.npz", data / "mnist.npz")
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    compute = fingerprint.official_hashes.__wrapped__  # past the in-process cache
    want = fingerprint.fingerprint(fingerprint.official_arrays.__wrapped__(str(data), "mnist")["x_test"])[0]
    first = compute(str(data), "mnist", "test")
    assert np.array_equal(first, want) and len(list((tmp_path / "cache").rglob("*.npy"))) == 1
    calls = []
    real = fingerprint.fingerprint
    monkeypatch.setattr(fingerprint, "fingerprint", lambda x: calls.append(1) or real(x))
    assert np.array_equal(compute(str(data), "mnist", "test"), want) and not calls  # read back
    stat = (data / "mnist.npz").stat()
    os.utime(data / "mnist.npz", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file changed
    assert np.array_equal(compute(str(data), "mnist", "test"), want) and calls == [1]
    monkeypatch.setenv("GRADER_CACHE_DIR", "off")
    assert np.array_equal(compute(str(data), "mnist", "test"), want) and calls == [1, 1]
