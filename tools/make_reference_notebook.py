"""Write reference/assignment06.ipynb, the complete and correct solution (must score full marks).

The notebook is generated so that its answers can be reviewed as plain text in one place:
`python tools/make_reference_notebook.py` rewrites it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell

ANSWERS: dict[int, tuple[str, str]] = {
    1: (
        "What are the advantages of a CNN over a fully connected DNN for image classification?",
        """\
- **Far fewer parameters.** A convolutional layer is only partially connected and its kernels are
  shared across the whole image (weight sharing), so it needs far fewer weights than a dense layer
  on the same input. That makes it faster to train, less prone to overfitting and in need of less
  training data.
- **Translation invariance / equivariance.** A kernel that has learned to detect a feature can detect
  it anywhere in the image, whereas a dense network would have to learn the same feature separately
  at every location.
- **It exploits the spatial structure of images.** Neurons look at small local receptive fields, so
  the network knows which pixels are neighbours; lower layers detect small local features (edges)
  and higher layers combine them into larger, more complex features (a hierarchy of features). A
  dense network flattens the image and loses how nearby pixels are organised.""",
    ),
    3: (
        "If your GPU runs out of memory while training a CNN, what are five things you could try?",
        """\
1. Reduce the mini-batch size.
2. Reduce dimensionality by using a larger stride in one or more layers (or add pooling layers).
3. Remove one or more layers, or use fewer filters per layer (a smaller model).
4. Use 16-bit floats (mixed precision) instead of 32-bit floats.
5. Distribute the CNN across multiple devices (GPUs).""",
    ),
    4: (
        "Why would you want to add a max pooling layer rather than a convolutional layer with the "
        "same stride?",
        """\
A max pooling layer has **no parameters to learn** (no weights), whereas a convolutional layer with
the same stride has a kernel and biases to train. Pooling therefore downsamples the feature maps at
no cost in parameters, uses less memory and computation, and adds a little invariance to small
translations.""",
    ),
    5: (
        "When would you want to add a local response normalization layer?",
        """\
Local response normalization (LRN) makes the neurons that activate most strongly **inhibit the
neurons at the same location in neighbouring feature maps**. This competition encourages
different feature maps to specialise and detect a wider range of features, which can improve
generalization. It is typically placed after the ReLU activations of the lower layers, as in
AlexNet.""",
    ),
    6: (
        "Can you name the main innovations in AlexNet, GoogLeNet, ResNet, SENet and Xception?",
        """\
- **AlexNet** (vs LeNet-5): much larger and deeper, and it stacks convolutional layers directly on top
  of each other instead of putting a pooling layer after each one; it used ReLU, dropout, data
  augmentation and LRN.
- **GoogLeNet**: the **inception module**, which runs 1×1, 3×3 and 5×5 convolutions in parallel and
  concatenates them, with 1×1 bottleneck layers; it made a much deeper net with far fewer
  parameters.
- **ResNet**: **skip connections (residual units)**: each block learns a residual f(x) - x, which makes
  it possible to train networks over 100 layers deep.
- **SENet**: the **SE block (squeeze-and-excitation)** after each inception module or residual unit; it
  recalibrates the feature maps, learning which channels to boost and which to damp.
- **Xception**: **depthwise separable convolution** layers, which look at spatial patterns and
  cross-channel patterns separately.""",
    ),
    7: (
        "What is a fully convolutional network? How can you convert a dense layer into a "
        "convolutional layer?",
        """\
A fully convolutional network (FCN) is a neural network made only of convolutional (and pooling)
layers, with no dense layers. Because of that it can process images of any size, and for a larger
image it outputs a map of predictions instead of a single one (e.g. for semantic segmentation).

To convert a dense layer on top of a convolutional layer into a convolutional layer: replace it by a
convolutional layer whose **kernel size equals the size of its input feature maps**, with as many
filters as the dense layer has units, and "valid" padding. Its output is then 1×1 per filter and it
computes the same thing as the dense layer (the dense weights can be copied over).""",
    ),
    8: (
        "What is the main technical difficulty of semantic segmentation?",
        """\
A regular CNN gradually **loses spatial resolution** as it goes deeper (layers with strides greater
than 1 and pooling layers), yet semantic segmentation must predict a class for every pixel. The
difficulty is recovering that fine spatial information, for example with upsampling (transposed
convolutions) and skip connections from lower layers.""",
    ),
}

Q2_ANSWER = """\
Each layer has (3 × 3 × input channels + 1 bias) × feature maps parameters:

- layer 1: (3×3×3 + 1) × 100 = 2,800
- layer 2: (3×3×100 + 1) × 200 = 180,200
- layer 3: (3×3×200 + 1) × 400 = 720,400

**Total: 903,400 parameters.**

With stride 2 and "same" padding the feature maps are 100×150, 50×75 and 25×38. One prediction
needs the outputs of two consecutive layers at once at least: 100×150×100 = 1,500,000 floats
(6 MB) and 50×75×200 = 750,000 floats (3 MB), plus the parameters (903,400 × 4 bytes = 3.6 MB).
**RAM for one prediction: about 12.6 MB.**

Training keeps every layer's output for backpropagation: (1,500,000 + 750,000 + 380,000) floats ×
4 bytes ≈ 10.5 MB per instance, so 525 MB for 50 images, plus the input images
(50 × 200×300×3 × 4 bytes = 36 MB) and the parameters (3.6 MB).
**RAM for a mini-batch of 50: at least about 564.6 MB** (an optimistic minimum: gradients and
optimizer state come on top)."""

Q9_CELLS = [
    """\
import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed(42)  # reproducible runs (the grader seeds the kernel too)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = (x_train.astype("float32") / 255.0)[..., np.newaxis]
x_test = (x_test.astype("float32") / 255.0)[..., np.newaxis]
# hold out the last 5,000 training images for validation; the test set stays untouched
x_valid, y_valid = x_train[-5000:], y_train[-5000:]
x_train, y_train = x_train[:-5000], y_train[:-5000]""",
    """\
mnist_model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.BatchNormalization(momentum=0.9),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.BatchNormalization(momentum=0.9),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dropout(0.4),
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.4),
    layers.Dense(10, activation="softmax"),
])
# cosine decay of the learning rate over the whole run: the last epochs settle instead of jumping
steps = 8 * int(np.ceil(len(x_train) / 128))
schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
mnist_model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
mnist_history = mnist_model.fit(x_train, y_train, epochs=8, batch_size=128,
                                validation_data=(x_valid, y_valid))""",
    """\
mnist_loss, mnist_accuracy = mnist_model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {mnist_accuracy * 100:.2f}%")""",
]

Q10_CELLS = [
    """\
import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed(42)
# CIFAR-10: 1,000 training images per class; the official test batch stays held out.
(x_all, y_all), (x_test10, y_test10) = keras.datasets.cifar10.load_data()
y_all, y_test10 = y_all.ravel(), y_test10.ravel()
rng = np.random.default_rng(42)
order = rng.permutation(len(x_all))
valid_idx, train_idx = order[:2000], order[2000:]
x_train10, y_train10 = x_all[train_idx], y_all[train_idx]
x_valid10, y_valid10 = x_all[valid_idx], y_all[valid_idx]
print("images per class:", np.bincount(y_train10).min(), "train /", len(x_valid10), "valid /",
      len(x_test10), "test")""",
    """\
# Input pipeline inside the model: resize to the base's 96x96, scale to [-1, 1] as MobileNetV2
# expects; augmentation layers are active during training only.
base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False,
                                      weights="imagenet")
base.trainable = False
inputs = keras.Input(shape=(32, 32, 3))
x = layers.RandomFlip("horizontal")(inputs)
x = layers.RandomTranslation(0.1, 0.1)(x)
x = layers.Resizing(96, 96)(x)
x = layers.Rescaling(1 / 127.5, offset=-1)(x)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(10, activation="softmax")(x)
transfer_model = keras.Model(inputs, outputs)

# phase 1: train the new head with the base frozen
transfer_model.compile(optimizer=keras.optimizers.Adam(1e-3),
                       loss="sparse_categorical_crossentropy", metrics=["accuracy"])
head_history = transfer_model.fit(x_train10, y_train10, epochs=3, batch_size=64,
                                  validation_data=(x_valid10, y_valid10))""",
    """\
# phase 2: unfreeze the top of the base and fine-tune with a 10x lower learning rate
base.trainable = True
for layer in base.layers[:-30]:
    layer.trainable = False
transfer_model.compile(optimizer=keras.optimizers.Adam(1e-4),
                       loss="sparse_categorical_crossentropy", metrics=["accuracy"])
fine_history = transfer_model.fit(x_train10, y_train10, epochs=2, batch_size=64,
                                  validation_data=(x_valid10, y_valid10))""",
    """\
test_loss10, test_accuracy10 = transfer_model.evaluate(x_test10, y_test10, verbose=0)
print(f"Test accuracy: {test_accuracy10 * 100:.2f}%")""",
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(md("# Assignment 06: reference solution\n\nDeep computer vision with CNNs."))
    for number in range(1, 11):
        if number == 2:
            nb.cells.append(md("## Question 2\n\nParameters and RAM of a three-layer CNN."))
            nb.cells.append(md(Q2_ANSWER))
        elif number == 9:
            nb.cells.append(md("## Question 9\n\nA CNN trained from scratch on MNIST."))
            nb.cells += [code(c) for c in Q9_CELLS]
        elif number == 10:
            nb.cells.append(md("## Question 10\n\nTransfer learning: MobileNetV2 on CIFAR-10."))
            nb.cells += [code(c) for c in Q10_CELLS]
        else:
            prompt, answer = ANSWERS[number]
            nb.cells.append(md(f"## Question {number}\n\n*{prompt}*"))
            nb.cells.append(md(answer))
    return nb


if __name__ == "__main__":
    out = ROOT / "reference" / "assignment06.ipynb"
    notebook = build()
    nbformat.validate(notebook)
    nbformat.write(notebook, out)
    print(f"wrote {out}")
