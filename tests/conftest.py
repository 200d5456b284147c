"""Shared fixtures: paths to the repository's data and the offline datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("GRADER_DATA_DIR", ROOT.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "mnist.npz").exists():
        pytest.skip(f"offline datasets not found at {DATA_DIR}; set GRADER_DATA_DIR")
    return DATA_DIR


@pytest.fixture(scope="session")
def keras():
    """Keras, imported quietly (TensorFlow's start-up logs off)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


@pytest.fixture(scope="session")
def mnist(data_dir):
    """The offline MNIST arrays: x_train, y_train, x_test, y_test."""
    import numpy as np

    data = np.load(data_dir / "mnist.npz")
    return {k: data[k] for k in data}
