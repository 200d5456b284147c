"""Facts of the machine the grader runs on, kept free of heavy imports: the parent of a batch
asks them before any worker starts, and importing the engine (pytest) or the runner (nbclient)
for them cost about 1.5 s of a single `grader run`."""

from __future__ import annotations

import shutil
from pathlib import Path


def gpu_present() -> bool:
    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


def resolve_profile(profile: str) -> str:
    """`auto` is full on a machine with an NVIDIA GPU, quick otherwise (no TF import here)."""
    if profile != "auto":
        return profile
    return "full" if gpu_present() else "quick"


def default_data_dir() -> str | None:
    """The Keras cache of the user running the grader (the kernel has its own private HOME)."""
    keras_home = Path.home() / ".keras"
    return str(keras_home) if keras_home.is_dir() else None
