"""A tiny TensorFlow Datasets dataset built locally with TFDS's own builder API (never
downloaded): what `tfds.load("tiny_digits", ...)` in a course notebook is served from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds


class TinyDigits(tfds.core.GeneratorBasedBuilder):
    """8x8 grey 'digits' (the label's value as brightness), 40 train and 20 test examples."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(8, 8, 1)),
                "label": tfds.features.ClassLabel(num_classes=10),
            }),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(40, 0), "test": self._generate_examples(20, 1)}

    def _generate_examples(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        for i in range(n):
            label = i % 10
            image = np.full((8, 8, 1), label * 25, dtype=np.uint8)
            image += rng.integers(0, 5, size=(8, 8, 1), dtype=np.uint8)
            yield f"{seed}-{i}", {"image": image, "label": label}


def build_tiny_digits(data_dir: Path) -> Path:
    """Prepare the dataset under DATA/tensorflow_datasets/ (TFDS's own layout) and return DATA."""
    TinyDigits(data_dir=str(data_dir / "tensorflow_datasets")).download_and_prepare()
    return data_dir
