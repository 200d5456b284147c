"""Reading files the student's kernel could have written, without trusting them.

The kernel owns its working directory, so any name there may be a symlink (to /dev/zero, to
another student's report, to a host file), a FIFO (an open() that never returns), a device, or a
huge file. Every component is opened with O_NOFOLLOW relative to the folder above it, the last
one also with O_NONBLOCK (a FIFO opens at once instead of waiting for a writer), it must be a
regular file (fstat S_ISREG) of at most `limit` bytes, and no more than that is ever read.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path


class UnsafeFile(OSError):
    """The file is not a plain regular file within its size limit; str() says which and why."""


def _open_dir(root: Path, parts: tuple[str, ...]) -> int:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except OSError:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def open_regular(root: Path, relative: str, limit: int) -> Iterator[tuple[int, os.stat_result]]:
    """(fd, stat) of root/relative, opened without following any link below `root` (which is
    the grader's own folder). Raises FileNotFoundError when absent, UnsafeFile when refused."""
    *dirs, name = Path(relative).parts
    try:
        dir_fd = _open_dir(root, tuple(dirs))
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFile(f"{relative}: a folder on the way is a link or not a folder") from exc
        raise
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeFile(f"{relative} is a symbolic link") from exc
            if exc.errno in (errno.ENXIO, errno.EACCES):
                raise UnsafeFile(f"{relative} is not a readable regular file") from exc
            raise
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(f"{relative} is not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise UnsafeFile(f"{relative} is {st.st_size:,} bytes, over the {limit:,}-byte limit")
        yield fd, st
    finally:
        os.close(fd)


def read_regular(root: Path, relative: str, limit: int) -> bytes:
    """The bytes of a regular file, never more than `limit` (a file growing while read too)."""
    with open_regular(root, relative, limit) as (fd, _):
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnsafeFile(f"{relative} grew past the {limit:,}-byte limit while being read")
        return b"".join(chunks)


def sha256_regular(root: Path, relative: str, limit: int) -> tuple[str, int]:
    """(sha256 hex, size) of a regular file read the same careful way."""
    digest, total = hashlib.sha256(), 0
    with open_regular(root, relative, limit) as (fd, _):
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > limit:
                raise UnsafeFile(f"{relative} grew past the {limit:,}-byte limit while being read")
            digest.update(chunk)
    return digest.hexdigest(), total


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a plain file"
