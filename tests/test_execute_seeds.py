"""Seeds are set before the first cell: two runs of the same notebook draw the same numbers from
Python, NumPy, TensorFlow and Keras initialisers, and the record says which seeds were set."""

from __future__ import annotations

import nbformat

from grader.execute.runner import ExecutionOptions, execute_notebook

CELLS = [
    "import random, numpy as np\nprint('py', random.random(), 'np', np.random.rand())",
    "import tensorflow as tf, keras\n"
    "print('tf', float(tf.random.uniform(())))\n"
    "layer = keras.layers.Dense(3)\nlayer.build((None, 4))\nprint('init', float(layer.kernel.numpy().sum()))",
]


def _outputs(data_dir, seed):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    record = execute_notebook(nb, ExecutionOptions(data_dir=str(data_dir), seed=seed, cell_timeout=120,
                                                   timeout=300))
    assert record.status == "completed" and not record.problems, record.problems
    # only what the cells print: TensorFlow's native log lines on stderr carry timestamps
    printed = [[ln for ln in c.output_text.splitlines() if ln.startswith(("py ", "tf ", "init "))]
               for c in record.cells]
    assert all(printed), [c.output_text for c in record.cells]
    return printed, record


def test_same_seed_same_numbers_other_seed_other_numbers(data_dir):
    first, record = _outputs(data_dir, 42)
    second, _ = _outputs(data_dir, 42)
    other, other_record = _outputs(data_dir, 7)
    assert first == second
    assert first[0] != other[0] and first[1] != other[1]
    assert {"python", "numpy", "tensorflow", "keras"} <= set(record.seeds)
    assert set(record.seeds.values()) >= {42} and other_record.seeds["keras"] == 7
    assert record.versions["tensorflow"] and record.versions["numpy"]
