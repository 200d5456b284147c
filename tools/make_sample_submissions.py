"""Write submissions/bob.ipynb and submissions/carol.ipynb: sample hand-ins with other layouts
and other real mistakes than alice's (alice comes from ../shared/seed via seed_to_notebook.py).

bob   "## Question N" headings with the question copied; biases forgotten in Q2, RAM counted as
      parameters only, a pooling misconception in Q4; Q9 validates on the test set and puts a
      sigmoid with binary cross-entropy on 10 classes; Q10 scales inputs to [0, 1] for
      MobileNetV2 and never unfreezes the base.
carol "**QN.**" bold labels, some answers as code comments; Q2 computed in code (correct);
      Q9 evaluates on unscaled test images; Q10 is missing.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


BOB = notebook([
    md("# HW6 - Bob"),
    md("## Question 1\nWhat are the advantages of a CNN over a fully connected DNN for image "
       "classification?"),
    md("CNNs need less parameters because the weights are shared between positions, and they can "
       "detect a feature anywhere in the image. They are also faster to train."),
    md("## Question 2\nConsider a CNN composed of three convolutional layers, each with 3 × 3 kernels, "
       "a stride of 2, and \"same\" padding. What is the total number of parameters in the CNN?"),
    md("Layer 1: 3x3x3x100 = 2,700\n\nLayer 2: 3x3x100x200 = 180,000\n\n"
       "Layer 3: 3x3x200x400 = 720,000\n\nTotal = 902,700 parameters\n\n"
       "RAM for one instance = 902,700 x 4 bytes = 3.61 MB\n\n"
       "For a batch of 50 images: 50 x 3.61 MB = 180.5 MB"),
    md("## Question 3\nIf your GPU runs out of memory while training a CNN, what are five things you "
       "could try to solve the problem?"),
    md("Use a smaller batch size, use a smaller model with fewer layers, use float16, "
       "downsample the images, buy a GPU with more memory."),
    md("## Question 4\nWhy would you want to add a max pooling layer rather than a convolutional "
       "layer with the same stride?"),
    md("Max pooling reduces the number of parameters of the layer and makes training faster."),
    md("## Question 5\nWhen would you want to add a local response normalization layer?"),
    md("When the activations get too big, LRN normalizes the inputs like batch norm."),
    md("## Question 6\nCan you name the main innovations in AlexNet, compared to LeNet-5? What about "
       "the main innovations in GoogLeNet, ResNet, SENet, and Xception?"),
    md("AlexNet: bigger, ReLU, dropout. GoogLeNet: inception modules. ResNet: residual connections. "
       "SENet: squeeze and excitation. Xception: separable convolutions."),
    md("## Question 7\nWhat is a fully convolutional network? How can you convert a dense layer into "
       "a convolutional layer?"),
    md("A network with only convolutional layers. You replace the dense layer by a 1x1 convolution."),
    md("## Question 8\nWhat is the main technical difficulty of semantic segmentation?"),
    md("It is hard to label every pixel."),
    md("## Question 9\nBuild your own CNN from scratch and try to achieve the highest possible "
       "accuracy on MNIST."),
    code("import numpy as np\nimport keras\nfrom keras import layers\n\n"
         "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
         "x_train = x_train[..., None] / 255.0\nx_test = x_test[..., None] / 255.0\n"
         "y_train_1h = keras.utils.to_categorical(y_train, 10)\n"
         "y_test_1h = keras.utils.to_categorical(y_test, 10)"),
    code("model = keras.Sequential([\n    keras.Input(shape=(28, 28, 1)),\n"
         "    layers.Conv2D(16, 3, activation='relu'),\n    layers.MaxPooling2D(),\n"
         "    layers.Flatten(),\n    layers.Dense(10, activation='sigmoid'),\n])\n"
         "model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n"
         "model.fit(x_train, y_train_1h, epochs=3, batch_size=128, "
         "validation_data=(x_test, y_test_1h))"),
    code("loss, acc = model.evaluate(x_test, y_test_1h)\nprint('Test accuracy:', acc)"),
    md("## Question 10\nUse transfer learning for large image classification."),
    code("(x_tr, y_tr), (x_te, y_te) = keras.datasets.cifar10.load_data()\n"
         "x_tr, x_va = x_tr[:8000], x_tr[8000:]\ny_tr, y_va = y_tr[:8000], y_tr[8000:]"),
    code("base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, "
         "include_top=False, weights='imagenet')\nbase.trainable = False\n"
         "inputs = keras.Input(shape=(32, 32, 3))\nx = layers.Resizing(96, 96)(inputs)\n"
         "x = layers.Rescaling(1 / 255.0)(x)\nx = base(x)\nx = layers.GlobalAveragePooling2D()(x)\n"
         "outputs = layers.Dense(10, activation='softmax')(x)\nclf = keras.Model(inputs, outputs)\n"
         "clf.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
         "metrics=['accuracy'])\n"
         "clf.fit(x_tr, y_tr, epochs=3, validation_data=(x_va, y_va))"),
    code("print('Test accuracy:', clf.evaluate(x_te, y_te)[1])"),
])

CAROL = notebook([
    md("**Q1.** Advantages of CNNs\n\nPartially connected layers with shared weights: far fewer "
       "parameters than a dense net, so less overfitting and less data needed. Features are "
       "detected anywhere (translation invariance), and local receptive fields keep the 2D "
       "structure of the image."),
    md("**Q2.** Parameters and RAM"),
    code("# parameters per layer: (kernel_h * kernel_w * channels_in + 1 bias) * maps\n"
         "p1 = (3 * 3 * 3 + 1) * 100\np2 = (3 * 3 * 100 + 1) * 200\np3 = (3 * 3 * 200 + 1) * 400\n"
         "total = p1 + p2 + p3\nprint('parameters:', total)\n"
         "# one prediction: two consecutive layers' maps + parameters, 4 bytes each\n"
         "ram_one = (100 * 150 * 100 + 50 * 75 * 200 + total) * 4 / 1e6\n"
         "print(f'RAM for one prediction: {ram_one:.1f} MB')\n"
         "# batch of 50: all maps for backprop + inputs + parameters\n"
         "maps = (100 * 150 * 100 + 50 * 75 * 200 + 25 * 38 * 400) * 4\n"
         "ram_batch = (50 * maps + 50 * 200 * 300 * 3 * 4 + total * 4) / 1e6\n"
         "print(f'RAM for a batch of 50: {ram_batch:.1f} MB')"),
    md("**Q3.** Out of memory\n\nSmaller mini-batches; mixed precision (float16); fewer filters or "
       "layers; bigger strides; spread the model over several GPUs."),
    code("# **Q4.**\n# A pooling layer has no weights at all, so it downsamples for free.\n"
         "# A strided convolution would add parameters and computations."),
    md("**Q5.** LRN\n\nIt normalizes across channels."),
    md("**Q6.** Innovations\n\nAlexNet stacked conv layers directly. GoogLeNet used inception "
       "modules with 1x1 convolutions. ResNet introduced skip connections. SENet recalibrates "
       "channels with SE blocks. Xception uses depthwise separable convolutions."),
    md("**Q7.** FCN\n\nOnly convolutional layers, so any input size works. A dense layer becomes a "
       "convolution whose kernel is as large as its input feature maps, with valid padding."),
    md("**Q8.** Segmentation\n\nThe network loses spatial resolution as it downsamples, but "
       "every pixel needs a class."),
    md("**Q9.** MNIST CNN"),
    code("import keras\nfrom keras import layers\n"
         "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
         "x_train_s = x_train.reshape(-1, 28, 28, 1).astype('float32') / 255\n"
         "cnn = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation='relu'),\n"
         "    layers.MaxPooling2D(), layers.Conv2D(64, 3, activation='relu'), layers.MaxPooling2D(),\n"
         "    layers.Flatten(), layers.Dense(64, activation='relu'),\n"
         "    layers.Dense(10, activation='softmax')])\n"
         "cnn.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
         "cnn.fit(x_train_s, y_train, epochs=2, validation_split=0.1)"),
    code("# evaluate on the test set\nprint(cnn.evaluate(x_test.reshape(-1, 28, 28, 1), y_test))"),
])


# carol handed in an executed notebook: her Q2 cell shows what it printed.
_q2 = CAROL.cells[2]
_q2.execution_count = 1
_q2.outputs = [nbformat.v4.new_output(
    "stream", name="stdout",
    text="parameters: 903400\nRAM for one prediction: 12.6 MB\nRAM for a batch of 50: 565.6 MB\n")]


if __name__ == "__main__":
    for name, nb in (("bob", BOB), ("carol", CAROL)):
        nbformat.validate(nb)
        path = ROOT / "submissions" / f"{name}.ipynb"
        nbformat.write(nb, path)
        print(f"wrote {path}")
