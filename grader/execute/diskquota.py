"""A bound on the disk a run may fill: its folder (working directory, HOME, kernel log).

Why not a size-limited filesystem for the working directory: a tmpfs (what bwrap can mount
with a size) lives in memory, so saved models would count against the memory cap and vanish
with the sandbox's mount namespace before the grader reads them; a loop-mounted image or a
project quota needs root (mount, losetup, quota tools), and the non-root grader has neither.
So the bound has two parts, both cheap and available to any user:

- RLIMIT_FSIZE, set by the limits wrapper before the kernel starts (grader/execute/sandbox.py),
  caps every file any process of the run writes at half the bound (a write past it fails with
  EFBIG, "File too large": Python ignores SIGXFSZ), and the kernel cannot raise it again;
- `DiskWatch`, a thread in the grader that measures the run's folder (blocks really allocated,
  links not followed, and files the run deleted but still holds open) every `INTERVAL_S` and
  stops the kernel when it passes the limit or holds too many files; the run then ends with
  the status `disk-quota` (grader/execute/runner.py).

What a notebook can write beyond the limit is what it writes between two looks (a fraction of
a second of disk bandwidth). /tmp and /dev/shm are size-limited tmpfs mounts and count against
memory, not disk. Without bubblewrap the kernel can write anywhere its user may; only the run's
folder is watched then (the sandbox record says so).
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from grader.execute.sandbox import format_bytes

MAX_ENTRIES = 200_000  # files and folders in the run's folder (inodes are disk too)
INTERVAL_S = 0.5


def folder_usage(root: Path, max_entries: int = MAX_ENTRIES) -> tuple[int, int]:
    """(bytes allocated, entries) under `root`, without following links; stops counting entries
    at `max_entries` + 1 so a folder of a million files costs no more than the limit."""
    total, entries = 0, 0
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        with contextlib.suppress(OSError), os.scandir(folder) as it:
            for entry in it:
                entries += 1
                if entries > max_entries:
                    return total, entries
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
    return total, entries


def deleted_open_bytes(pids: Iterable[int], device: int) -> int:
    """Bytes of files on `device` that these processes deleted but keep open (no folder walk
    sees them, yet they fill the disk until closed)."""
    seen: set[int] = set()
    total = 0
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        with contextlib.suppress(OSError):
            for fd in os.listdir(fd_dir):
                path = f"{fd_dir}/{fd}"
                with contextlib.suppress(OSError):
                    if not os.readlink(path).endswith(" (deleted)"):
                        continue
                    info = os.stat(path)
                    if stat.S_ISREG(info.st_mode) and info.st_dev == device and info.st_ino not in seen:
                        seen.add(info.st_ino)
                        total += info.st_blocks * 512
    return total


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc (the run's processes when no cgroup lists them)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = Path(f"/proc/{name}/stat").read_text()
            ppid = int(text.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class DiskWatch:
    """Watches a run's folder from a thread and calls `stop()` once it passes `limit` bytes or
    `max_entries` files; `exceeded` then says what happened, in words for the student."""

    def __init__(self, root: Path, limit: int, stop: Callable[[], None],
                 pids: Callable[[], Iterable[int]] = lambda: (), max_entries: int = MAX_ENTRIES,
                 interval: float = INTERVAL_S) -> None:
        self.root, self.limit, self.max_entries = Path(root), limit, max_entries
        self._stop_kernel, self._pids, self.interval = stop, pids, interval
        self.exceeded: str | None = None
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="grader-disk-watch", daemon=True)
        self._device = os.stat(self.root).st_dev

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=30)

    def check(self) -> bool:
        """One look; True (and the kernel stopped) when the run is over its bound."""
        used, entries = folder_usage(self.root, self.max_entries)
        with contextlib.suppress(OSError):
            used += deleted_open_bytes(self._pids(), self._device)
        self.peak = max(self.peak, used)
        if used > self.limit:
            self.exceeded = (f"the notebook wrote more than the {format_bytes(self.limit)} of disk a run may "
                             f"use (its working folder, home and open deleted files: at least "
                             f"{format_bytes(used)}), so the grader stopped its kernel")
        elif entries > self.max_entries:
            self.exceeded = (f"the notebook created more than {self.max_entries:,} files and folders, the "
                             "most a run may, so the grader stopped its kernel")
        if self.exceeded:
            self._stop_kernel()
        return self.exceeded is not None

    def _loop(self) -> None:
        while not self._done.is_set():
            started = time.monotonic()
            if self.check():
                return
            # a huge folder costs a long walk: never spend more than a fifth of the time walking
            self._done.wait(max(self.interval, 4 * (time.monotonic() - started)))
