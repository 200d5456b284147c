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
