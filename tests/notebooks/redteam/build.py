"""Write the red-team notebooks for measurement (issue 14 part B) and for the capture (part A);
rerun after edits.

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

# a tiny dense net trained and tested: the model the file-swap attacks start from
SMALL_TRAINED = """\
small = keras.models.Sequential([layers.Flatten(input_shape=(28, 28, 1)), layers.Dense(10, activation='softmax')])
small.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
small.fit(X_train[:3000], Y_train[:3000], epochs=1, batch_size=64, verbose=0)
small.evaluate(X_test, Y_test, verbose=0)"""

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
    # --- the capture (issue 14 part A; tests/test_redteam_capture.py) ---
    # a tiny dense net, then the grader's capture record found through gc and a hook's
    # __globals__ and edited to show a conv net with many more parameters
    "capture_edited_more_layers": [LOAD, """\
mdl = keras.models.Sequential([layers.Flatten(input_shape=(28, 28, 1)), layers.Dense(10, activation='softmax')])
mdl.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
mdl.fit(X_train[:3000], Y_train[:3000], epochs=1, batch_size=64, verbose=0)
print('acc', mdl.evaluate(X_test, Y_test, verbose=0)[1])""", """\
import gc
conv = {'class': 'Conv2D', 'name': 'conv2d_99', 'output_shape': [None, 26, 26, 64], 'params': 640,
        'trainable': True, 'trainable_params': 640, 'config': {'filters': 64, 'kernel_size': [3, 3],
        'strides': [1, 1], 'activation': 'relu'}}
pool = {'class': 'MaxPooling2D', 'name': 'max_pooling2d_99', 'output_shape': [None, 13, 13, 64],
        'params': 0, 'trainable': True, 'trainable_params': 0, 'config': {'pool_size': [2, 2], 'strides': [2, 2]}}
n = 0
for o in gc.get_objects():
    if isinstance(o, dict) and 'saved_models' in o and 'models' in o:
        for m in o['models']:
            m['layers'][0:0] = [dict(conv), dict(pool)]
            m['params'] = m.get('params', 0) + 240000
            n += 1
print('patched', n)""", """\
g = keras.Model.fit.__globals__
for m in g['_grader_capture']['models']:
    for row in m['layers']:
        if row['class'] == 'Dense':
            row['params'] = 240000
g['_grader_write_capture']()
print('done')"""],
    # a tiny model trained and tested, then a bigger CNN saved over the grader's copy in a
    # later cell
    "bigger_model_file_saved_later": [LOAD, SMALL_TRAINED, """\
import os
big = keras.models.Sequential([layers.Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)), layers.MaxPool2D(),
                               layers.Conv2D(64, 3, activation='relu'), layers.MaxPool2D(), layers.Flatten(),
                               layers.Dense(10, activation='softmax')])
big.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
for f in os.listdir('.grader'):
    if f.endswith('.keras'):
        big.save(os.path.join('.grader', f))
print('ok')"""],
    # the same, but the capture itself is made to save the bigger CNN in place of the tiny
    # model: its references are swapped through a hook's __globals__, so the file is written
    # by the grader's own save after the cell
    "capture_saves_a_bigger_model": [LOAD, SMALL_TRAINED, """\
def make_big():
    m = keras.models.Sequential([layers.Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)),
                                 layers.MaxPool2D(), layers.Flatten(), layers.Dense(10, activation='softmax')])
    m.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    return m
big = make_big()
g = keras.Model.fit.__globals__
g['_grader_model_refs'][id(small)] = big
g['_grader_dirty'].add(g['_grader_model_index'][id(small)])
print('swapped')"""],
    # the quick profile's caps lifted through closure cells (the budget function's profile
    # and the frozen caps), 3 full epochs trained, then the capture's own record of the
    # training edited to look like one capped epoch
    "lift_quick_caps": [LOAD, """\
fit_hook = keras.Model.fit
cells = {name: c for name, c in zip(fit_hook.__code__.co_freevars, fit_hook.__closure__)}
budget_fn = cells['apply_budget'].cell_contents
inner = dict(zip(budget_fn.__code__.co_freevars, budget_fn.__closure__))
inner['profile'].cell_contents = 'full'
cells['caps'].cell_contents = {}
print('caps off')""", """\
cnn = keras.models.Sequential([layers.Conv2D(8, 3, activation='relu', input_shape=(28, 28, 1)), layers.MaxPool2D(),
                               layers.Flatten(), layers.Dense(10, activation='softmax')])
cnn.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
hist = cnn.fit(X_train[:6000], Y_train[:6000], epochs=3, batch_size=32, verbose=0)
print('epochs', len(hist.history['loss']))""", """\
cap = fit_hook.__globals__['_grader_capture']
for f in cap['fits']:
    f['history'] = {k: v[-1:] for k, v in f['history'].items()}
    f.pop('ran', None)
for s in cap['saved_models']:
    s['optimizer_steps'] = 50
cap['tampered'].clear()
print('test acc', cnn.evaluate(X_test, Y_test, verbose=0)[1])"""],
    # the same cap lift, training for as long as the notebook likes: the runner's cell time
    # limit (outside the kernel) stops it
    "lift_quick_caps_train_forever": [LOAD, """\
fit_hook = keras.Model.fit
cells = dict(zip(fit_hook.__code__.co_freevars, fit_hook.__closure__))
inner = dict(zip(cells['apply_budget'].cell_contents.__code__.co_freevars,
                 cells['apply_budget'].cell_contents.__closure__))
inner['profile'].cell_contents = 'full'
cells['caps'].cell_contents = {}
cnn = keras.models.Sequential([layers.Conv2D(8, 3, activation='relu', input_shape=(28, 28, 1)), layers.MaxPool2D(),
                               layers.Flatten(), layers.Dense(10, activation='softmax')])
cnn.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])""", """\
cnn.fit(X_train, Y_train, epochs=10000, batch_size=32, verbose=0)""", """\
print('test acc', cnn.evaluate(X_test, Y_test, verbose=0)[1])"""],
    # honest: a hand-written training loop (GradientTape), which no fit() cap reaches; measured
    # as trained and reviewed (`over-budget`), never called tampering
    "honest_custom_loop": [LOAD, """\
import tensorflow as tf
model = keras.Sequential([layers.Conv2D(8, 3, activation='relu', input_shape=(28, 28, 1)), layers.MaxPool2D(),
                          layers.Flatten(), layers.Dense(10, activation='softmax')])
opt = keras.optimizers.Adam(1e-3)
loss_fn = keras.losses.SparseCategoricalCrossentropy()
model.compile(optimizer=opt, loss=loss_fn, metrics=['accuracy'])
ds = tf.data.Dataset.from_tensor_slices((X_train[:12800], Y_train[:12800])).shuffle(1000).batch(64)
for step, (xb, yb) in enumerate(ds):   # my own loop, 200 steps
    with tf.GradientTape() as tape:
        loss = loss_fn(yb, model(xb, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    if step % 50 == 0:
        print(step, float(loss))""", """\
print('test acc', model.evaluate(X_test, Y_test, verbose=0)[1])"""],
}


def build(name: str, cells: list[str], heading: str = "### Q9) CNN from scratch on MNIST"
          ) -> nbformat.NotebookNode:
    """A red-team notebook: a title, the question's heading, then the code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# HW6 ({name.replace('_', ' ')})"))
    nb.cells.append(nbformat.v4.new_markdown_cell(heading))
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def write_all(notebooks: dict[str, list[str]], **build_options: str) -> None:
    for name, cells in notebooks.items():
        nbformat.write(build(name, cells, **build_options), HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")


if __name__ == "__main__":
    write_all(NOTEBOOKS)
