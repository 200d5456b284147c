"""The evaluator's thread budget (grader/evaluation/threads.py): a batch divides the cores among
the jobs that really run at once, the sandboxed evaluator process gets the budget as its BLAS /
OpenMP / TensorFlow thread variables, and a variable the instructor set wins."""

from __future__ import annotations

import os

import pytest

from grader import evaluate as ev
from grader.batch import LocalPoolExecutor
from grader.evaluation import process, threads

MNIST_SPEC = {"dataset": "mnist", "scale": 1 / 255, "offset": 0.0, "sample_shape": [28, 28, 1],
              "dtype": "float32", "probe_n": 200}


def test_the_budget_divides_the_cores_among_the_jobs_running_at_once(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 8)
    assert [threads.thread_budget(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    monkeypatch.setattr("grader.batch.cores", threads.cores)
    pools = [LocalPoolExecutor(4, concurrent=1), LocalPoolExecutor(4, concurrent=30), LocalPoolExecutor(2)]
    try:  # a batch of one notebook at -j 4 runs one job: it keeps every core, its threads unset
        assert [pool.threads for pool in pools] == [None, 2, 4]
    finally:
        for pool in pools:
            pool.shutdown()


def test_thread_variables_come_from_the_budget_and_an_explicit_one_wins():
    assert threads.thread_env({}) == {}
    assert threads.thread_env({threads.THREADS_ENV: "junk"}) == {}
    got = threads.thread_env({threads.THREADS_ENV: "1", "OMP_NUM_THREADS": "3"})
    assert got == {v: "1" for v in threads.THREAD_VARS if v != "OMP_NUM_THREADS"}


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from keras import layers

    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                              layers.MaxPooling2D(4), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path_factory.mktemp("threads") / "student.keras"
    model.save(path)
    return path


@pytest.mark.parametrize("budget", [None, "1"])
def test_the_sandboxed_evaluator_runs_on_the_budget(small_model, data_dir, monkeypatch, budget):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    if budget is None:
        monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    else:
        monkeypatch.setenv(threads.THREADS_ENV, budget)
    ev.keep_evaluators(False)
    [got] = process.measure_many([dict(MNIST_SPEC, model=str(small_model), data_dir=str(data_dir))])
    assert got["ok"], got
    assert got["blas_threads"] == (None if budget is None else 1)
