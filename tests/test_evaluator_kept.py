"""A batch worker's kept evaluator (grader/evaluation/process.py `keep_evaluators`): one sandboxed process
measures one submission after another with the figures a fresh process gives, keeps nothing of
one submission for the next, is replaced after a failure (the model measured again in a fresh
process), and leaves no process behind: closed when keeping ends, killed with its worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import evaluate as ev
from grader.evaluation import process

MNIST_SPEC = {"dataset": "mnist", "scale": 1 / 255, "offset": 0.0, "sample_shape": [28, 28, 1],
              "dtype": "float32", "probe_n": 500}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from keras import layers

    folder = tmp_path_factory.mktemp("kept")
    paths = []
    for seed in (31, 32):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                                  layers.MaxPooling2D(4), layers.Flatten(),
                                  layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        paths.append(folder / f"student{seed}.keras")
        model.save(paths[-1])
    return paths


@pytest.fixture
def keeping():
    ev.keep_evaluators(True)
    yield
    ev.keep_evaluators(False)


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _tree(pid: int) -> set[int]:
    """pid and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _gone(pids: set[int] | int, within: float = 10.0) -> bool:
    pids = {pids} if isinstance(pids, int) else pids
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_running(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def test_a_kept_evaluator_measures_submission_after_submission_like_fresh_ones(
        two_models, data_dir, keeping, monkeypatch):
    monkeypatch.delenv("GRADER_KEEP_EVALUATOR", raising=False)
    ev.keep_evaluators(True)
    specs = [dict(MNIST_SPEC, model=str(p), data_dir=str(data_dir)) for p in two_models]
    kept = []
    for spec in specs:  # two submissions, one after the other, as a worker grades them
        early = ev.evaluator_for(str(data_dir))
        [got] = ev.measure_many([spec], early=early)
        early.release()
        kept.append((early, got))
        assert early.alive() and not list(early.plan.workdir.glob("model-*"))  # nothing stays
    (first, a), (second, b) = kept
    assert first is second and first.batches == 2 and first.proc.pid  # one process for both
    processes = _tree(first.proc.pid)
    ev.keep_evaluators(False)
    assert first.root is None and _gone(processes)
    other = ev.Evaluator.start(str(data_dir))  # a one-off evaluator: the same sandbox
    other.close()
    assert a["evaluator_sandbox"] == b["evaluator_sandbox"] == other.sandbox.get("method") is not None
    for spec, got in zip(specs, (a, b), strict=True):
        alone = ev.measure_in_process(spec)  # what measuring it alone computes
        for key in ("accuracy", "per_class", "keras_evaluate", "memorisation", "file_model"):
            assert got[key] == alone[key], key
    assert a["accuracy"] != b["accuracy"]


def test_a_failure_in_a_kept_evaluator_is_measured_again_in_a_fresh_one(
        two_models, data_dir, keeping, monkeypatch):
    """A model that times out in a process an earlier submission used is not given that timeout:
    the kept process is closed and the model measured again as the first of a fresh one."""
    monkeypatch.delenv("GRADER_KEEP_EVALUATOR", raising=False)
    ev.keep_evaluators(True)
    spec = dict(MNIST_SPEC, model=str(two_models[0]), data_dir=str(data_dir))
    [warm] = ev.measure_many([spec])
    kept = process._KEPT["evaluator"]
    assert warm["ok"] and kept is not None and kept.alive()
    runs = []
    real = ev.Evaluator.run

    def spy(self, specs, timeout):
        runs.append((self is kept, self.batches))
        return real(self, specs, timeout)

    monkeypatch.setattr(ev.Evaluator, "run", spy)
    [late] = ev.measure_many([spec], timeout=0.01)  # too short for any model
    assert runs[0] == (True, 1) and runs[1] == (False, 0), runs  # kept first, then a fresh one
    assert late["status"] == "timeout"
    assert kept.root is None and not kept.alive() and process._KEPT["evaluator"] is None


def test_a_kept_evaluator_dies_with_its_worker(data_dir, tmp_path):
    """The worker process is killed (SIGKILL, no clean-up): its kept evaluator goes too."""
    script = ("import sys, time; from grader import evaluate as ev; ev.keep_evaluators(True); "
              f"e = ev.evaluator_for({str(data_dir)!r}); print(e.proc.pid, flush=True); time.sleep(600)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("GRADER_KEEP_EVALUATOR", None)
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        pid = int(worker.stdout.readline())
        time.sleep(1.0)  # bubblewrap has started the sandboxed Python
        processes = _tree(pid)
        assert _running(pid) and len(processes) > 1, processes
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert _gone(processes, 30.0), "the evaluator outlived its worker"


def test_one_submission_outside_a_worker_measures_all_its_models_in_one_process(
        two_models, data_dir, monkeypatch):
    """A single `grader run`: the accuracy item and the per-fit files of the pipeline item each
    call measure_many; under one_evaluator_per_submission (entered by start_evaluator_early)
    both use the same process, which is closed when the submission ends."""
    monkeypatch.delenv("GRADER_KEEP_EVALUATOR", raising=False)
    started = []
    real_start = ev.Evaluator.start.__func__

    def counting_start(cls, *args, **kwargs):
        started.append(real_start(cls, *args, **kwargs))
        return started[-1]

    monkeypatch.setattr(ev.Evaluator, "start", classmethod(counting_start))
    specs = [dict(MNIST_SPEC, model=str(p), data_dir=str(data_dir)) for p in two_models]
    assert not process._KEPT["on"]
    with ev.one_evaluator_per_submission():
        [a] = ev.measure_many([specs[0]])  # q9.accuracy
        [b] = ev.measure_many([specs[1]])  # another item of the same submission
        assert len(started) == 1 and started[0].alive() and started[0].batches == 2
        processes = _tree(started[0].proc.pid)
    assert not process._KEPT["on"] and process._KEPT["evaluator"] is None
    assert started[0].root is None and _gone(processes)
    assert a["ok"] and b["ok"] and a["accuracy"] != b["accuracy"]


def test_keras_state_is_cleaned_before_the_next_load_not_after_every_model(two_models, data_dir, monkeypatch):
    """Clearing Keras's session and collecting garbage takes about a second: it runs before a
    model is loaded after another one (so each is measured as if alone), or when the evaluator
    waits idle, never in front of a batch that needs no Keras (per-fit files read from the file)."""
    from grader.evaluation import inprocess

    cleaned = []
    real = inprocess._free
    monkeypatch.setattr(inprocess, "_free", lambda loaded: (cleaned.append(loaded), real(loaded)))
    real(True)
    # numpy=False: these simple models would otherwise run in NumPy, never loading Keras
    specs = [dict(MNIST_SPEC, model=str(p), data_dir=str(data_dir), numpy=False) for p in two_models]
    first = inprocess.measure_in_process(specs[0])
    assert cleaned == [] and inprocess._USED["keras"]
    second = inprocess.measure_in_process(specs[1])
    assert cleaned == [True] and inprocess._USED["keras"]
    again = inprocess.measure_in_process(specs[0])
    assert first["ok"] and second["ok"] and again["accuracy"] == first["accuracy"]
    assert again["memorisation"] == first["memorisation"] and again["file_model"] == first["file_model"]
