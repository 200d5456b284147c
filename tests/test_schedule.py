"""Longest-first hand-out of a batch's notebooks (grader/schedule.py, batch.hand_out_order).

Orders only, never a duration: which notebook goes to a worker first is deterministic from the
code and the gradebook's history. The batch runs through the real run_batch and a real SQLite
gradebook; the executor records the order it is handed the jobs and answers at once.
"""

from __future__ import annotations

import json
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

# How students write it, not how the rubric does.
THREE_TRAININGS = [
    "import tensorflow as tf\nfrom tensorflow import keras",
    "model = keras.Sequential([keras.layers.Dense(10)])\nmodel.compile('adam', 'mse')",
    "hist = model.fit (x_train, y_train, epochs = 3)",
    "m2 = keras.models.clone_model(model)\nm2.compile('sgd','mse')\nm2 . fit(x_train,y_train)",
    "for epoch in range(2):\n    with tf.GradientTape() as tape:\n        loss = m2(x_train)",
    "print( model.evaluate(x_test, y_test) )",
]
ONE_TRAINING = ["import keras", "net = keras.Sequential()\nnet.fit(X, Y, epochs=1)"]
NO_CODE = ["# I did not get to the code part, sorry"]


def _notebook(path: Path, sources: list[str]) -> Path:
    cells = [new_markdown_cell("## Question 9 my model")] + [new_code_cell(s) for s in sources]
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    """In name order: a (no code), b (three trainings), c (one training)."""
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    return [_notebook(folder / "a_ng.ipynb", NO_CODE), _notebook(folder / "b_ortiz.ipynb", THREE_TRAININGS),
            _notebook(folder / "c_li.ipynb", ONE_TRAINING)]


def test_static_cost_ranks_training_heavy_code_first(three):
    a, b, c = three
    assert schedule.static_cost(b) > schedule.static_cost(c) > schedule.static_cost(a) > 0


def test_unreadable_or_odd_notebooks_cost_nothing_and_never_raise(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json", encoding="utf-8")
    odd = tmp_path / "odd.ipynb"
    odd.write_text(json.dumps({"cells": [{"cell_type": "code", "source": 7}, "x"]}), encoding="utf-8")
    assert schedule.static_cost(broken) == 0.0
    assert schedule.static_cost(tmp_path / "missing.ipynb") == 0.0
    assert schedule.static_cost(odd) == 1.0  # a kernel start, no code


def test_equal_costs_keep_the_given_order(tmp_path):
    paths = [tmp_path / f"{n}.ipynb" for n in "dcba"]
    costs = {paths[0]: 1.0, paths[1]: 5.0, paths[2]: 1.0, paths[3]: 5.0}
    assert schedule.longest_first(paths, costs) == [paths[1], paths[3], paths[0], paths[2]]


def test_known_durations_win_and_scale_the_estimates(three):
    a, b, c = three
    # b took 2 s before although its code looks long; c's estimate is scaled by b's ratio
    costs = schedule.expected_costs(three, {b: 2.0})
    assert costs[b] == 2.0
    assert costs[c] == pytest.approx(schedule.static_cost(c) * 2.0 / schedule.static_cost(b))
    assert schedule.longest_first(three, costs) == [b, c, a]


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


def test_a_batch_hands_out_longest_first_then_by_last_duration(three, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_LONGEST_FIRST", raising=False)
    out = tmp_path / "out"
    # first batch: nothing known, so the code decides
    first = _batch(three, out, _RecordingExecutor({"a_ng.ipynb": 30.0, "b_ortiz.ipynb": 5.0,
                                                   "c_li.ipynb": 10.0}))
    assert first == ["b_ortiz.ipynb", "c_li.ipynb", "a_ng.ipynb"]
    with Gradebook(out / "gradebook.sqlite") as book:
        assert schedule.previous_durations(book.db, three, "quick") == {three[0]: 30.0, three[1]: 5.0,
                                                                        three[2]: 10.0}
        assert schedule.previous_durations(book.db, three, "full") == {three[0]: 30.0, three[1]: 5.0,
                                                                       three[2]: 10.0}  # any profile
    # second batch: the gradebook's last durations decide
    again = _batch(three, out, _RecordingExecutor({}))
    assert again == ["a_ng.ipynb", "c_li.ipynb", "b_ortiz.ipynb"]


def test_longest_first_can_be_switched_off(three, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_LONGEST_FIRST", "0")
    assert _batch(three, tmp_path / "out", _RecordingExecutor({})) == [p.name for p in three]
