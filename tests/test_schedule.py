"""Longest-known-first hand-out of a batch's notebooks (grader/schedule.py, batch.hand_out_order).

Orders only, never a duration: which notebook goes to a worker first is deterministic from the
gradebook's history. The batch runs through the real run_batch and a real SQLite gradebook; the
executor records the order it is handed the jobs and answers at once.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import schedule
from grader.batch import run_batch
from grader.context import GradingOptions
from grader.gradebook import Gradebook
from grader.rubric import load_rubric


def _notebook(path: Path, source: str) -> Path:
    cells = [new_markdown_cell("## Question 9 my model"), new_code_cell(source)]
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    hand_ins = tmp_path / "hand-ins"
    hand_ins.mkdir()
    return hand_ins


@pytest.fixture
def three(folder: Path) -> list[Path]:
    """In name order, as a folder is read."""
    return [_notebook(folder / "a_ng.ipynb", "# sorry, no time for the model"),
            _notebook(folder / "b_ortiz.ipynb", "hist = model.fit (x_train, y_train, epochs = 3)"),
            _notebook(folder / "c_li.ipynb", "net.fit(X,Y)")]


def test_equal_costs_keep_the_given_order(tmp_path):
    paths = [tmp_path / f"{n}.ipynb" for n in "dcba"]
    costs = {paths[0]: 1.0, paths[1]: 5.0, paths[2]: 1.0, paths[3]: 5.0}
    assert schedule.longest_first(paths, costs) == [paths[1], paths[3], paths[0], paths[2]]


def test_unknown_notebooks_count_as_the_median_of_the_known(three, folder):
    a, b, c = three
    d = _notebook(folder / "d_new.ipynb", "print('late hand-in')")
    paths = [a, b, c, d]
    costs = schedule.expected_costs(paths, {a: 30.0, b: 5.0, c: 10.0})
    assert costs[d] == 10.0
    assert schedule.longest_first(paths, costs) == [a, c, d, b]  # c before d: given order breaks the tie
    assert schedule.expected_costs(paths, {}) == dict.fromkeys(paths, 0.0)


class _RecordingExecutor:
    """Records the order it is handed the jobs; answers each with a finished result at once
    (an unreadable-file result with a chosen duration: nothing runs)."""

    def __init__(self, durations: dict[str, float]) -> None:
        self.order: list[str] = []
        self.durations = durations

    def submit(self, job) -> Future:
        from grader.engine import invalid_result

        name = Path(job.path).name
        self.order.append(name)
        result = invalid_result(Path(job.path), load_rubric(job.rubric), GradingOptions(**job.options), "x")
        result.duration_s = self.durations.get(name, 1.0)
        result.cache_key = job.cache_key
        future: Future = Future()
        future.set_result(result.to_dict())
        return future

    def shutdown(self, *, cancel: bool = False) -> None:
        pass


def _batch(paths: list[Path], out: Path, executor: _RecordingExecutor) -> list[str]:
    outcome = run_batch(paths, load_rubric(), GradingOptions(profile="quick"), out=out, force=True,
                        executor=executor)
    assert [Path(r.path).name for r in outcome.results] == [p.name for p in paths]  # results: given order
    return executor.order


def test_a_regrade_hands_out_the_longest_last_grading_first(three, folder, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_LONGEST_FIRST", raising=False)
    out = tmp_path / "out"
    # first batch: nothing known, so the given order
    first = _batch(three, out, _RecordingExecutor({"a_ng.ipynb": 30.0, "b_ortiz.ipynb": 5.0,
                                                   "c_li.ipynb": 10.0}))
    assert first == ["a_ng.ipynb", "b_ortiz.ipynb", "c_li.ipynb"]
    with Gradebook(out / "gradebook.sqlite") as book:
        expected = {three[0]: 30.0, three[1]: 5.0, three[2]: 10.0}
        assert book.last_durations(three, "quick") == expected
        assert book.last_durations(three, "full") == expected  # any profile
    # a regrade with a late hand-in: the gradebook's last durations decide, the new one in the middle
    late = _notebook(folder / "aa_late.ipynb", "print(1)")
    again = _batch([late, *three], out, _RecordingExecutor({"a_ng.ipynb": 12.0, "b_ortiz.ipynb": 20.0}))
    assert again == ["a_ng.ipynb", "aa_late.ipynb", "c_li.ipynb", "b_ortiz.ipynb"]
    # and the last run's duration is the one that counts
    assert _batch(three, out, _RecordingExecutor({})) == ["b_ortiz.ipynb", "a_ng.ipynb", "c_li.ipynb"]


def test_longest_first_can_be_switched_off(three, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_LONGEST_FIRST", "0")
    out = tmp_path / "out"
    _batch(three, out, _RecordingExecutor({"c_li.ipynb": 50.0}))
    assert _batch(three, out, _RecordingExecutor({})) == [p.name for p in three]
