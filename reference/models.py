"""Reference models for questions 9 and 10, and the values the model checks derive from them.

Cheap to import: TensorFlow/Keras are imported inside the functions. The reference notebook
(tools/make_reference_notebook.py, Q9_CELLS / Q10_CELLS) trains the same architectures.
"""

from __future__ import annotations

from typing import Any

#: keras.applications module per base family, for the input range each base expects
_PREPROCESS_MODULES = {
    "mobilenet_v2": "mobilenet_v2", "mobilenet_v3": "mobilenet_v3", "mobilenet": "mobilenet",
    "resnet": "resnet", "efficientnet": "efficientnet", "vgg16": "vgg16", "vgg19": "vgg19",
    "xception": "xception", "inception_v3": "inception_v3", "densenet": "densenet",
    "convnext": "convnext",
}


def build_mnist_cnn():
    """The question-9 reference CNN (reaches >= 99.2 % on the MNIST test set in the full profile)."""
    import keras
    from keras import layers

    return keras.Sequential([
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
    ], name="reference_mnist_cnn")


def build_transfer_model(weights: str | None, alpha: float = 0.35, size: int = 96):
    """The question-10 reference: MobileNetV2 base (ImageNet weights) under a new 10-class head,
    taking raw 32x32 CIFAR images; resizing and [-1, 1] scaling are layers of the model."""
    import keras
    from keras import layers

    base = keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha, include_top=False,
                                          weights=weights)
    base.trainable = False
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.RandomFlip("horizontal")(inputs)
    x = layers.RandomTranslation(0.1, 0.1)(x)
    x = layers.Resizing(size, size)(x)
    x = layers.Rescaling(1 / 127.5, offset=-1)(x)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="reference_transfer"), base


def mnist_task(params: dict[str, Any]) -> dict[str, Any]:
    """Input shapes and class count for question 9, read off the reference CNN."""
    model = build_mnist_cnn()
    shape = list(model.input_shape[1:])
    return {"input_shapes": [shape, shape[:-1]] if shape[-1] == 1 else [shape],
            "outputs": int(model.output_shape[-1])}


def base_input_range(params: dict[str, Any]) -> dict[str, Any]:
    """The value range a pretrained base expects: its own preprocess_input applied to 0..255."""
    import importlib

    import numpy as np

    module = _PREPROCESS_MODULES.get(str(params.get("family", "")))
    if module is None:
        return {"min": None, "max": None}
    preprocess = importlib.import_module(f"keras.applications.{module}").preprocess_input
    out = np.asarray(preprocess(np.array([[[[0.0, 0.0, 0.0]], [[255.0, 255.0, 255.0]]]], dtype="float32")))
    return {"min": float(out.min()), "max": float(out.max())}
