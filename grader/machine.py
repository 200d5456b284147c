"""Facts of the machine the grader runs on, kept free of heavy imports: the parent of a batch
asks them before any worker starts, and importing the engine (pytest) or the runner (nbclient)
for them cost about 1.5 s of a single `grader run`."""

from __future__ import annotations

import os
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


def cache_root() -> Path | None:
    """The grader's user cache folder (official-set hashes, the rubric and notebook-schema checks,
    compiled report templates): GRADER_CACHE_DIR, else $XDG_CACHE_HOME/grader or ~/.cache/grader;
    None when GRADER_CACHE_DIR is `off`."""
    root = os.environ.get("GRADER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "grader")
    return None if root == "off" else Path(root)
