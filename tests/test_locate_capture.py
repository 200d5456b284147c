"""Q9 code the static locator cannot recognise (MNIST imported under another name, trained above
the question's heading) is assigned by what it does, from a real kernel's capture (slow: one TF
kernel; the fast unit test of the same step is in test_locate_visibility.py)."""

from __future__ import annotations

import nbformat
import pytest

from grader.context import GradingOptions
from grader.engine import grade_submission
from grader.rubric import load_rubric

TRAIN = """import keras
from keras.datasets import mnist as digits
(x, y), (xt, yt) = digits.load_data()
x, y = x[:2000, ..., None] / 255.0, y[:2000]
xt = xt[..., None] / 255.0
net = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, activation="relu"),
                        keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                        keras.layers.Dense(10, activation="softmax")])
net.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
net.fit(x, y, epochs=1, verbose=0)
print(net.evaluate(xt, yt, verbose=0))"""


@pytest.mark.slow
def test_model_found_by_the_capture_is_graded(data_dir, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TRAIN),
                nbformat.v4.new_markdown_cell("## Question 9\nmy cnn is trained in the first cell above")]
    path = tmp_path / "above.ipynb"
    nbformat.write(nb, path)
    result = grade_submission(path, load_rubric(), GradingOptions(questions=["q9"], profile="quick",
                                                                  data_dir=str(data_dir)))
    row = next(r for r in result.located if r["question"] == "q9")
    assert row["how"] == "content" and 0 in row["cells"]
    assert result.item("q9.model").status == "passed", result.item("q9.model").feedback
    assert result.item("q9.runs").status == "passed"
