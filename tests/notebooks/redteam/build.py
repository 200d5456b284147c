"""Write the red-team notebooks for measurement (issue 14 part B); rerun after edits.

Each one tries to earn Q9 accuracy credit without an honestly trained model; the expected
outcome (no credit, a named diagnosis or a clear status) is asserted in
tests/test_redteam_measurement.py, next to an honest small CNN graded in the same batch.
Written the way students write: tf.keras imports, odd names, no comments in the rubric's words.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

LOAD = """\
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers
(X_train, Y_train), (X_test, Y_test) = keras.datasets.mnist.load_data()
X_train = X_train.reshape(-1, 28, 28, 1).astype('float32') / 255.
X_test = X_test.reshape(-1, 28, 28, 1).astype('float32') / 255."""

NOTEBOOKS = {
    # an honest small CNN: trained on the training set, evaluated on the test set
    "honest_small_cnn": [LOAD, """\
net = keras.models.Sequential([
    layers.Conv2D(16, (3,3), activation='relu', input_shape=(28,28,1)),
    layers.MaxPool2D(),
    layers.Conv2D(32, (3,3), activation='relu'),
    layers.MaxPool2D(),
    layers.Flatten(),
    layers.Dense(64, activation='relu'),
    layers.Dense(10, activation='softmax')])
net.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
net.fit(X_train, Y_train, epochs=1, batch_size=128, validation_split=0.1)""", """\
loss, acc = net.evaluate(X_test, Y_test, verbose=0)
print('Test accuracy:', acc)"""],
    # never trained; "tested" on its own split: mirrored test digits labelled with its own
    # predictions, so Keras reports 100 %
    "own_flipped_testset": [LOAD, """\
net = keras.models.Sequential([
    layers.Conv2D(8, (3,3), activation='relu', input_shape=(28,28,1)),
    layers.MaxPool2D(),
    layers.Flatten(),
    layers.Dense(10, activation='softmax')])
net.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
# held out set (mine)
x_holdout = X_test[:, :, ::-1, :].copy()
y_holdout = net.predict(x_holdout, verbose=0).argmax(axis=1)
score = net.evaluate(x_holdout, y_holdout, verbose=0)
print("test acc =", round(score[1] * 100, 2), "%")"""],
    # a lookup table of the test set from standard layers: Dense weights = normalised test
    # images, then their one-hot labels
    "dense_memorises_testset": [LOAD, """\
flat = X_test.reshape(len(X_test), -1)
flat = flat / np.linalg.norm(flat, axis=1, keepdims=True)
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(1, 1, use_bias=False), layers.Flatten(),
                          layers.UnitNormalization(), layers.Dense(len(flat), use_bias=False),
                          layers.Rescaling(200.0), layers.Softmax(), layers.Dense(10, use_bias=False)])
model.layers[0].set_weights([np.ones((1, 1, 1, 1), 'float32')])
model.layers[3].set_weights([flat.T])
model.layers[6].set_weights([np.eye(10, dtype='float32')[Y_test]])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
print("Test accuracy: %.2f%%" % (100 * model.evaluate(X_test, Y_test, verbose=0)[1]))"""],
    # per-image standardisation: inputs no single rescaling of the official images gives
    "standardised_per_image": ["""\
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers
(xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
def standardise(a):
    a = a.astype('float32')
    return ((a - a.mean(axis=(1, 2), keepdims=True)) / a.std(axis=(1, 2), keepdims=True))[..., None]
xtr, xte = standardise(xtr), standardise(xte)""", """\
m = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(16, 3, activation='relu'), layers.MaxPool2D(),
                      layers.Flatten(), layers.Dense(10, activation='softmax')])
m.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])
m.fit(xtr, ytr, epochs=1, batch_size=128, verbose=0)
print('test accuracy', m.evaluate(xte, yte, verbose=0)[1])"""],
    # after the grader saved the model, replace the file by a 1 KB config that declares 314M
    # parameters (loading it would take the evaluator to several GB)
    "huge_config_model_file": [LOAD, """\
net = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation='relu'), layers.Flatten(),
                        layers.Dense(10, activation='softmax')])
net.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
net.fit(X_train[:256], Y_train[:256], epochs=1, verbose=0)
print(net.evaluate(X_test, Y_test, verbose=0))""", """\
import json, os, zipfile
cfg = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 28, 28, 1]}},
    {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "f"},
     "build_config": {"input_shape": [None, 28, 28, 1]}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 400000},
     "build_config": {"input_shape": [None, 784]}}]}}
hits = []
found = [os.path.join(d, f) for top in (os.getcwd(), "/tmp") for d, _, fs in os.walk(top)
         for f in fs if f.endswith(".keras")]
for f in found:
    try:
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("config.json", json.dumps(cfg))
            z.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        hits.append(f)
    except OSError as e:
        print("could not replace", f, e)
print("replaced", len(hits), "model file(s)")"""],
}


def build(name: str, cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# HW6 ({name.replace('_', ' ')})"))
    nb.cells.append(nbformat.v4.new_markdown_cell("### Q9) CNN from scratch on MNIST"))
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


if __name__ == "__main__":
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(name, cells), HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")
