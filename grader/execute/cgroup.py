"""A memory cgroup per kernel, where the machine lets the grader create one.

RLIMIT_DATA counts one process's private memory only; a memory cgroup counts everything the
kernel and its children use, shared memory (mmap MAP_SHARED, memfd, /dev/shm) and tmpfs
files included, and it is also the one handle that finds every process of the run for the
final kill. cgroup v2 (a delegated subtree with the memory controller) and v1 (a writable
memory hierarchy, as in many containers) are both handled; elsewhere `MemoryCgroup.create`
returns None with the reason, and the sandbox record says what is not enforced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass
class MemoryCgroup:
    path: Path
    version: int  # 1 or 2
    limit: int | None

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    @classmethod
    def create(cls, limit: int | None) -> tuple[MemoryCgroup | None, str]:
        """A fresh child cgroup of ours with `limit` bytes (None: no limit, the group still
        finds every process for the final kill), or (None, why not)."""
        parent, version, why = _own_memory_cgroup()
        if parent is None:
            return None, why
        _sweep_stale(parent)
        child = parent / f"grader-{uuid.uuid4().hex[:12]}"
        try:
            child.mkdir()
        except OSError as exc:
            return None, f"cannot create a cgroup under {parent}: {exc.strerror}"
        group = cls(child, version, limit)
        try:
            if not limit:
                pass
            elif version == 2:
                (child / "memory.max").write_text(str(limit))
                with contextlib.suppress(OSError):
                    (child / "memory.swap.max").write_text("0")
            else:
                (child / "memory.limit_in_bytes").write_text(str(limit))
                with contextlib.suppress(OSError):  # swap accounting may be off
                    (child / "memory.memsw.limit_in_bytes").write_text(str(limit))
        except OSError as exc:
            group.remove()
            return None, f"cannot set a memory limit in {child}: {exc.strerror}"
        return group, ""

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in self.procs.read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self) -> None:
        """SIGKILL every process in the group until it is empty (a fork bomb races the kill)."""
        kill_file = self.path / "cgroup.kill"
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def remove(self) -> None:
        self.kill_all()
        for _ in range(200):  # a large kernel killed on a busy machine takes seconds to exit
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # processes still exiting
                time.sleep(0.05)

    def oom_killed(self) -> bool:
        """Whether the limit made the kernel kill a process in this group."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        with contextlib.suppress(OSError, ValueError):
            for line in (self.path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key in ("oom_kill", "oom") and int(value) > 0:
                    return True
        return False


STALE_S = 600  # an empty grader cgroup this old is a leftover (a grader killed with SIGKILL)


def _sweep_stale(parent: Path) -> None:
    """Remove empty grader cgroups left by graders that could not clean up. A fresh one of a
    concurrent run is never touched: it is younger than STALE_S and gets its process at once."""
    now = time.time()
    for old in parent.glob("grader-*"):
        with contextlib.suppress(OSError, ValueError):
            if now - old.stat().st_mtime > STALE_S and not (old / "cgroup.procs").read_text().strip():
                old.rmdir()


def _own_memory_cgroup() -> tuple[Path | None, int, str]:
    """The folder of this process's memory cgroup, if the grader may create children there."""
    if os.environ.get("GRADER_CGROUP", "").lower() in ("none", "off", "0"):
        return None, 0, "GRADER_CGROUP=none was set"
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError as exc:
        return None, 0, f"cannot read the cgroup of this process: {exc}"
    v1 = {}
    v2 = None
    for line in lines:
        hid, controllers, path = line.split(":", 2)
        if hid == "0" and controllers == "":
            v2 = path
        for name in controllers.split(","):
            v1[name] = path
    for line in mounts:
        fields = line.split()
        sep = fields.index("-")
        fstype, options = fields[sep + 1], fields[sep + 3] if len(fields) > sep + 3 else ""
        mount_point, root = fields[4], fields[3]
        if fstype == "cgroup" and "memory" in options.split(",") and "memory" in v1:
            folder = Path(mount_point) / os.path.relpath(v1["memory"], root)
            if (folder / "memory.limit_in_bytes").exists() and os.access(folder, os.W_OK):
                return folder, 1, ""
        if fstype == "cgroup2" and v2 is not None:
            folder = Path(mount_point) / os.path.relpath(v2, root)
            try:
                enabled = (folder / "cgroup.subtree_control").read_text().split()
                available = (folder / "cgroup.controllers").read_text().split()
            except OSError:
                continue
            if "memory" not in available:
                continue
            if "memory" not in enabled:
                try:  # fails while this cgroup holds processes itself (the no-internal-process rule)
                    (folder / "cgroup.subtree_control").write_text("+memory")
                except OSError:
                    continue
            if os.access(folder, os.W_OK):
                return folder, 2, ""
    return None, 0, "no writable memory cgroup (cgroup v2 delegation or a v1 memory hierarchy)"
