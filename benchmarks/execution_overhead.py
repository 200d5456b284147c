"""How much the grader's execution costs over a plain nbclient run of the same notebook.

Runs the notebook alternately with plain nbclient (a normal kernel, no sandbox, no in-kernel
hooks) and with the grader's `execute_notebook` (bubblewrap sandbox, ipc sockets, limits, setup
and capture hooks), on the same machine in the same process, and prints the median wall-clock
time of each and their ratio.

    python benchmarks/execution_overhead.py [NOTEBOOK] [--repeat 3] [--data-dir DIR]

Without NOTEBOOK it uses a small MNIST CNN notebook that reads the data file directly, so both
runs do the same work offline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.execute.runner import ExecutionOptions, execute_notebook  # noqa: E402


def default_notebook(data_dir: str) -> nbformat.NotebookNode:
    cells = [
        "import numpy as np, keras\n"
        f"with np.load({str(Path(data_dir) / 'mnist.npz')!r}) as f:\n"
        "    x, y, xt, yt = f['x_train'][:4096], f['y_train'][:4096], f['x_test'], f['y_test']\n"
        "x, xt = x[..., None] / 255.0, xt[..., None] / 255.0",
        "model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3, activation='relu'),\n"
        "    keras.layers.MaxPooling2D(), keras.layers.Flatten(),\n"
        "    keras.layers.Dense(10, activation='softmax')])\n"
        "model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "model.fit(x, y, epochs=2, batch_size=128, verbose=0)",
        "print(model.evaluate(xt, yt, verbose=0))",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def run_plain(nb: nbformat.NotebookNode) -> float:
    work = tempfile.mkdtemp(prefix="bench-plain-")
    copy = nbformat.from_dict(nbformat.from_dict(nb))
    t0 = time.monotonic()
    NotebookClient(copy, kernel_name="python3", timeout=3600, allow_errors=True,
                   resources={"metadata": {"path": work}}).execute()
    return time.monotonic() - t0


def run_grader(nb: nbformat.NotebookNode, data_dir: str) -> float:
    t0 = time.monotonic()
    record = execute_notebook(nb, ExecutionOptions(data_dir=data_dir, profile="full", memory="8G"))
    elapsed = time.monotonic() - t0
    if record.status != "completed" or any(c.status != "ok" for c in record.cells):
        print(f"  grader run: {record.status} {[(p.kind, p.message) for p in record.problems]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", nargs="?", help="notebook to run (default: a small MNIST CNN)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", default=os.environ.get("GRADER_DATA_DIR", "../shared/datasets"))
    args = parser.parse_args()
    data_dir = str(Path(args.data_dir).resolve())
    nb = nbformat.read(args.notebook, as_version=4) if args.notebook else default_notebook(data_dir)
    plain, graded = [], []
    for i in range(args.repeat):
        plain.append(run_plain(nb))
        graded.append(run_grader(nb, data_dir))
        print(f"run {i + 1}: plain nbclient {plain[-1]:.2f} s, grader {graded[-1]:.2f} s")
    p, g = statistics.median(plain), statistics.median(graded)
    print(f"median over {args.repeat}: plain nbclient {p:.2f} s, grader {g:.2f} s, "
          f"ratio grader/plain {g / p:.2f} (overhead {g - p:+.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
