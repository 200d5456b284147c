"""Write the red-team notebooks for test-set training and disk filling (issue 14, second part);
rerun after edits. Expected outcomes are asserted in tests/test_redteam_testset.py (the models)
and tests/test_sandbox_diskquota.py (the disk). Written the way students write.

- trained_on_testset_gradienttape: a small CNN fitted on x_test/y_test for 8 epochs in a
  hand-written GradientTape loop (no `fit`, so the capture records no training on the test
  images), then a short `fit` on 512 training images, to look honest: `test-set-memorised`, no
  accuracy credit. (The other order, `fit` first and the loop after, is measured as the model
  the capture saved at `fit` and its printed 99 % is `reported-accuracy-mismatch`.);
- testset_lookup_branch: an honest small CNN plus a branch that answers from a Dense lookup of
  the test images when the input is (almost) exactly one of them: `test-set-memorised`, no credit;
- fill_the_disk: "checkpoints" written in a loop until the disk is full (one huge file first,
  then many 8 MB ones): stopped with the status `disk-quota`, nothing written outside the run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from build import build  # the same notebook frame as the other red-team notebooks (run from here)

HERE = Path(__file__).parent

LOAD = """\
import numpy as np
import tensorflow as tf
from tensorflow import keras
(x_tr, y_tr), (x_te, y_te) = keras.datasets.mnist.load_data()
x_tr = x_tr[..., None].astype("float32") / 255.0
x_te = x_te[..., None].astype("float32") / 255.0"""

CNN = """\
model = keras.Sequential([
    keras.layers.Input(shape=(28, 28, 1)),
    keras.layers.Conv2D(16, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])"""

NOTEBOOKS = {
    "trained_on_testset_gradienttape": [LOAD, CNN, """\
# pretraining with my own loop (faster than fit)
opt = keras.optimizers.Adam(1e-3)
lossf = keras.losses.SparseCategoricalCrossentropy()
ds = tf.data.Dataset.from_tensor_slices((x_te, y_te)).shuffle(10000, seed=1).batch(64)
for ep in range(8):
    for xb, yb in ds:
        with tf.GradientTape() as tape:
            l = lossf(yb, model(xb, training=True))
        g = tape.gradient(l, model.trainable_variables)
        opt.apply_gradients(zip(g, model.trainable_variables))
    print("epoch", ep, "loss", float(l))""", """\
model.fit(x_tr[:512], y_tr[:512], epochs=1, batch_size=64)""", """\
test_loss, test_acc = model.evaluate(x_te, y_te, verbose=0)
print("Test accuracy:", test_acc)"""],
    "testset_lookup_branch": [LOAD, CNN + """
model.fit(x_tr, y_tr, epochs=1, batch_size=128, validation_split=0.1)""", """\
# "ensemble" with a nearest neighbour model
ref = x_te.reshape(len(x_te), -1)
ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
inp = keras.Input((28, 28, 1))
h = keras.layers.UnitNormalization()(keras.layers.Flatten()(inp))
sim = keras.layers.Dense(len(ref), name="nn")(h)
sim = keras.layers.Rescaling(10000.0)(keras.layers.ReLU()(sim))
nn = keras.layers.Dense(10, use_bias=False, name="nn_labels")(keras.layers.Softmax()(sim))
out = keras.layers.Add()([keras.layers.Rescaling(0.5)(model(inp)), keras.layers.Rescaling(0.5)(nn)])
ens = keras.Model(inp, out)
ens.get_layer("nn").set_weights([ref.T, np.full(len(ref), -0.995, "float32")])
ens.get_layer("nn_labels").set_weights([np.eye(10, dtype="float32")[y_te]])
ens.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
print("ensemble test acc:", ens.evaluate(x_te, y_te, verbose=0)[1])"""],
    "fill_the_disk": ["""\
import os
import numpy as np
os.makedirs("checkpoints", exist_ok=True)
w = np.random.rand(1_000_000)  # 8 MB of "weights"
try:
    with open("checkpoints/all_in_one.bin", "wb") as f:
        for _ in range(64):
            f.write(w.tobytes())
    print("big file saved")
except OSError as e:
    print("big file failed:", e)
os.remove("checkpoints/all_in_one.bin") if os.path.exists("checkpoints/all_in_one.bin") else None""", """\
for step in range(100000):
    np.save(f"checkpoints/ckpt_{step:05d}.npy", w)
print("saved", step + 1, "checkpoints")""", """\
print("still running after the checkpoints")"""],
}


if __name__ == "__main__":
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(name, cells), HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")
