"""The evaluator imports Keras ahead only when a model will need it (issue 18): a job alone on its
machine starts the evaluator early without Keras, and the grader sends it `warm` once the kernel
has read pretrained weights (a pretrained base only Keras runs); a notebook whose models the
NumPy reader and the file description handle never pays the ~6 CPU s import while it runs."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import nbformat
import pytest

from grader.evaluation import process as ev
from grader.evaluation.threads import THREADS_ENV
from grader.execute.runner import ExecutionOptions, execute_notebook, pretrained_weights_used


def _measure_nothing(evaluator: ev.Evaluator, tmp_path: Path) -> dict:
    """One spec through the evaluator: a file that is no model (answered without Keras)."""
    bad = tmp_path / "not-a-model.keras"
    bad.write_bytes(b"not a zip")
    got, failure = evaluator.run([{"model": str(bad), "dataset": "mnist"}], timeout=300)
    assert failure is None, failure
    return got[0]


@pytest.mark.parametrize(("preimport", "warm", "ready"), [
    (None, True, True),     # the default alone: imported once warmed
    (None, False, False),   # ... and not before
    ("0", True, False),     # the caller said never ahead
    ("1", False, True),     # the caller said always
])
def test_keras_is_imported_ahead_only_when_warmed(data_dir, tmp_path, monkeypatch, preimport, warm, ready):
    monkeypatch.delenv(THREADS_ENV, raising=False)  # alone on the machine: no thread budget
    if preimport is None:
        monkeypatch.delenv("GRADER_EVAL_PREIMPORT", raising=False)
    else:
        monkeypatch.setenv("GRADER_EVAL_PREIMPORT", preimport)
    evaluator = ev.Evaluator.start(str(data_dir))
    try:
        if warm:
            evaluator.warm()
            evaluator.warm()  # sent once
        result = _measure_nothing(evaluator, tmp_path)
    finally:
        evaluator.close()
    assert result["status"] == "model-unreadable"
    assert result["keras_ready"] is ready


def _code(*cells: str):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def test_the_hook_sees_when_the_kernel_reads_pretrained_weights(data_dir):
    """Cell by cell: MNIST is data, a MobileNetV2 whose weights the data directory lacks is built
    with random weights (quick profile), one whose weights it holds is the signal."""
    seen: list[tuple[int, bool]] = []
    nb = _code(
        "import keras\n(x, y), _ = keras.datasets.mnist.load_data()",
        "a = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=1.3, include_top=False)",
        "b = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False)",
        "print('done')")
    def after_cell(index: int, workdir: Path) -> None:
        seen.append((index, pretrained_weights_used(workdir)))

    options = ExecutionOptions(data_dir=str(data_dir), profile="quick", cell_timeout=300, timeout=600,
                               memory="4G", after_cell=after_cell)
    record = execute_notebook(nb, options)
    assert record.status == "completed", record.problems
    assert record.missing_weights and "1.3" in str(record.missing_weights[0].get("file"))
    assert seen == [(0, False), (1, False), (2, True), (3, True)]


def test_a_hostile_setup_record_is_no_hang(tmp_path):
    """The setup record is the kernel's: a FIFO, a link or garbage there reads as no signal."""
    (tmp_path / ".grader").mkdir()
    setup = tmp_path / ".grader" / "setup.json"
    os.mkfifo(setup)
    done = threading.Event()
    result: list[bool] = []
    threading.Thread(target=lambda: (result.append(pretrained_weights_used(tmp_path)), done.set()),
                     daemon=True).start()
    assert done.wait(10) and result == [False]
    setup.unlink()
    setup.symlink_to("/etc/hostname")
    assert not pretrained_weights_used(tmp_path)
    setup.unlink()
    setup.write_text('{"data_files": ["/data/weights/mobilenet_v2_weights.h5"]}')
    assert pretrained_weights_used(tmp_path)
    setup.write_text('{"data_files": "x.h5"}')
    assert not pretrained_weights_used(tmp_path)
