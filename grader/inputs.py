"""Guards on what a batch reads and writes: links in a class folder, and the output folder.

A class folder is untrusted input too: `bob.ipynb -> alice.ipynb` would grade alice's work as
bob's, and `x.ipynb -> /etc/...` would read a file outside the hand-ins. `--out` must be
writable before hours of grading start, and a disk that fills up halfway is reported as what
it is (results are written atomically, so everything saved before stays intact).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def refuse_link(path: Path, folder: Path) -> str | None:
    """Why the notebook `path` found in `folder` must not be graded, or None. Links that stay
    inside the folder and do not lead to another notebook next to it are fine."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError):  # a loop or a dangling link
        return "it is a symbolic link that leads nowhere readable"
    if not target.is_relative_to(root):
        return ("it is a symbolic link to a file outside the submission folder; copy the student's "
                "own notebook into the folder instead of linking to it")
    if target.parent == root and target.suffix == ".ipynb" and target != path.absolute():
        return (f"it is a symbolic link to another student's notebook in the same folder "
                f"({target.name}); each student must hand in their own file")
    return None


def check_writable(out: Path, flag: str) -> str | None:
    """None when files can be created in `out` (made if missing), else what is wrong."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".grader-write-test.", dir=out)
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        return write_failure(exc, out, flag)
    return None


def write_failure(exc: Exception, out: Path, flag: str) -> str:
    """The message for a failed write under `out` (an OSError, or SQLite's error for the
    gradebook): which file, why, and what to do."""
    where = getattr(exc, "filename", None) or (out if isinstance(exc, OSError) else out / "gradebook.sqlite")
    why = getattr(exc, "strerror", None) or str(exc)
    return (f"{flag} {out}: cannot write {where}: {why}. Nothing saved there before was changed; "
            f"free some space or make the folder writable, or pass another {flag}.")
