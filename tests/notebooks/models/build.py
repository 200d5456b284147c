"""Write the behaviour-named test notebooks for the model checks (rerun after edits).

Each notebook answers question 9 and/or 10 with known mistakes; EXPECTED (in
tests/test_models_diagnoses.py) names the diagnoses each must carry. `__DATA_DIR__` is replaced
by the test's data directory; `weights="imagenet"` by the weight file (tests/models_support.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

MNIST_LOAD = """\
import numpy as np
import keras
from keras import layers
data = np.load("__DATA_DIR__/mnist.npz")
x_train, y_train = data["x_train"][:3000] / 255.0, data["y_train"][:3000]
x_test, y_test = data["x_test"] / 255.0, data["y_test"]"""

CIFAR_LOAD = """\
import numpy as np
import keras
from keras import layers
data = np.load("__DATA_DIR__/cifar10-10k.npz")
x_all, y_all = data["x_train"], data["y_train"].ravel()"""

NOTEBOOKS = {
    # prints a test accuracy it never measured, after one training step, and validates on the test set
    "q9_fake_accuracy": {9: [MNIST_LOAD, """\
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train[:32, ..., None], y_train[:32], epochs=1, batch_size=32,
          validation_data=(x_test[..., None], y_test), verbose=0)
print("Test accuracy: 99.90%")"""]},
    # trains on test images, sigmoid + binary cross-entropy on 10 classes, starts from loaded
    # weights, evaluates on unscaled images
    "q9_sloppy": {9: [MNIST_LOAD, """\
donor = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="sigmoid")])
donor.save_weights("pretrained.weights.h5")
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="sigmoid")])
model.load_weights("pretrained.weights.h5")
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
x_more = np.concatenate([x_train, x_test[:1000]])[..., None]
y_more = keras.utils.to_categorical(np.concatenate([y_train, y_test[:1000]]), 10)
model.fit(x_more, y_more, epochs=1, batch_size=64, validation_split=0.1, verbose=0)""", """\
raw = data["x_test"][..., None]
loss, acc = model.evaluate(raw, keras.utils.to_categorical(y_test, 10), verbose=0)
print(f"Test accuracy: {acc:.4f}")"""]},
    # trains the whole pretrained network from the first fit (no frozen phase)
    "q10_unfrozen_first": {10: [CIFAR_LOAD, """\
pick = np.concatenate([np.where(y_all == c)[0][:150] for c in range(10)])
rng = np.random.default_rng(0)
rng.shuffle(pick)
x, y = x_all[pick] / 127.5 - 1.0, y_all[pick]
x_train, y_train = x[:1100], y[:1100]
x_valid, y_valid = x[1100:1300], y[1100:1300]
x_test, y_test = x[1300:], y[1300:]
print(np.bincount(y_train).min(), "images in the smallest class")""", """\
base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                      weights="imagenet")
model = keras.Sequential([keras.Input((32, 32, 3)), base, layers.GlobalAveragePooling2D(),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, batch_size=64, validation_data=(x_valid, y_valid), verbose=0)
model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=1, batch_size=64, validation_data=(x_valid, y_valid), verbose=0)
loss, acc = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {acc * 100:.2f}%")"""]},
    # too few images, [0, 1] inputs for MobileNetV2, the base never unfrozen, no test evaluation
    "q10_sloppy": {10: [CIFAR_LOAD, """\
pick = np.concatenate([np.where(y_all == c)[0][:50] for c in range(10)])
x_train, y_train = x_all[pick] / 255.0, y_all[pick]""", """\
base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                      weights="imagenet")
base.trainable = False
model = keras.Sequential([keras.Input((32, 32, 3)), base, layers.GlobalAveragePooling2D(),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, batch_size=50, validation_split=0.2, verbose=0)
model.fit(x_train, y_train, epochs=1, batch_size=50, validation_split=0.2, verbose=0)"""]},
}


def build(name: str, questions: dict[int, list[str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# Test notebook: {name}"))
    for number, cells in questions.items():
        nb.cells.append(nbformat.v4.new_markdown_cell(f"## Question {number}"))
        nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


if __name__ == "__main__":
    for name, questions in NOTEBOOKS.items():
        nbformat.write(build(name, questions), HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")
