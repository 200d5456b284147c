"""Where and how a student's kernel process runs: bubblewrap sandbox, resource limits, clean-up.

Why bubblewrap (`bwrap`, Debian package `bubblewrap`) and not hand-written namespace code: it is
the small, audited tool Flatpak uses to build exactly this kind of sandbox (mount, pid, net
namespaces, read-only binds, die-with-parent) from one command line, so the kernel command is
simply prefixed with it. The kernel talks to nbclient over jupyter_client's `ipc` transport
(unix sockets in a directory bound into the sandbox) because `--unshare-net` leaves the kernel
no route to the grader's loopback interface.

Inside the sandbox the kernel sees: the system directories and the Python installation
read-only, the data directory read-only, and read-write only its working directory (the
submission and the rubric's files), a private HOME and /tmp inside the run's folder, and the
socket directory. rubrics/, reference/, the gradebook and other submissions are simply absent.
Every process the notebook starts lives in the sandbox's pid namespace, so all of them die
with it. Memory is capped with RLIMIT_DATA (private writable memory, per process) set by a tiny
wrapper before the kernel starts: RLIMIT_AS would count the large address-space reservations
TensorFlow makes (about 2.8 GB of virtual memory for a trivial model on CPU, far more with
CUDA) and so fail long before real memory runs out.

Where bwrap is missing or cannot create namespaces, the kernel runs as a plain process in its
own process group with the same limits and a warning that names what is not enforced.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

log = logging.getLogger(__name__)

# Runs inside the sandbox before the kernel: limits that a student's code cannot raise again.
_LIMITS_WRAPPER = (
    "import os,resource,sys\n"
    "m=int(sys.argv[1])\n"
    "if m>0: resource.setrlimit(resource.RLIMIT_DATA,(m,m))\n"
    "resource.setrlimit(resource.RLIMIT_CORE,(0,0))\n"
    "os.execv(sys.argv[2],sys.argv[2:])\n"
)

_SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"]
_PASSTHROUGH_ENV = ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "TF_NUM_INTEROP_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_ENABLE_ONEDNN_OPTS", "LD_LIBRARY_PATH")

NOT_ENFORCED_WITHOUT_BWRAP = [
    "filesystem isolation (the kernel can read and write anything this user can)",
    "network isolation",
    "clean-up of processes that leave the kernel's process group (setsid daemons)",
]


def parse_memory(size: str | int | None) -> int | None:
    """'4G', '512M', '1.5g', 1073741824 -> bytes; None or '' or '0' -> no cap."""
    if size is None or size == "":
        return None
    if isinstance(size, int):
        return size or None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", str(size), re.IGNORECASE)
    if not match:
        raise ValueError(f"memory limit {size!r} is not a size: use e.g. 4G, 512M or 2048M")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[match.group(2).lower()]
    return int(float(match.group(1)) * factor) or None


def format_bytes(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} B"


@functools.lru_cache(maxsize=1)
def bwrap_status() -> tuple[str | None, str]:
    """(path to a working bwrap or None, why not). Probed once per process."""
    if os.environ.get("GRADER_SANDBOX", "").lower() in ("none", "off", "0"):
        return None, "GRADER_SANDBOX=none was set"
    path = shutil.which("bwrap")
    if not path:
        return None, "bubblewrap (bwrap) is not installed; install the Debian package 'bubblewrap'"
    probe = [path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--die-with-parent",
             "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bwrap could not run: {exc}"
    if done.returncode != 0:
        return None, f"bwrap cannot create namespaces here: {done.stderr.strip()[:200]}"
    return path, ""


@dataclass
class SandboxPlan:
    """The folders of one run and the limits its kernel gets."""

    root: Path  # the run's folder; everything below is created here
    data_dir: str | None = None
    # the data dir as the user named it, when that path goes through a symlink: also bound, so
    # code that reads files by the path it was given finds them
    data_dir_alias: str | None = None
    memory_bytes: int | None = None
    seed: int = 42
    workdir: Path = field(init=False)
    home: Path = field(init=False)
    tmp: Path = field(init=False)
    ipc: Path = field(init=False)
    bwrap: str | None = field(init=False, default=None)
    why_not_bwrap: str = field(init=False, default="")
    memory_skipped: str = field(init=False, default="")
    # Folders the kernel must never see even when they lie inside a folder it needs (a grader
    # installed into site-packages, a repository under /usr/local): hidden under an empty tmpfs.
    protected: list[Path] = field(default_factory=lambda: default_protected())

    def __post_init__(self) -> None:
        self.workdir = self.root / "work"
        self.home = self.root / "home"
        self.tmp = self.root / "tmp"
        self.ipc = self.root / "ipc"
        for d in (self.workdir, self.home, self.tmp, self.ipc):
            d.mkdir(parents=True, exist_ok=True)
        self.ipc.chmod(0o700)
        self.bwrap, self.why_not_bwrap = bwrap_status()
        self.memory_skipped = ""
        if self.memory_bytes and self.gpu_devices() and os.environ.get("GRADER_GPU_MEMORY_CAP") != "1":
            # Untested (no GPU where this was built): CUDA maps large private regions, and a
            # cap that breaks CUDA start-up would fail every GPU run. GRADER_GPU_MEMORY_CAP=1
            # applies it anyway.
            self.memory_skipped = ("memory cap (not applied with a GPU visible; "
                                   "GRADER_GPU_MEMORY_CAP=1 forces it)")
            self.memory_bytes = None

    def env(self) -> dict[str, str]:
        """The kernel's whole environment: nothing of the grader's (tokens, paths) leaks in."""
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "TMPDIR": "/tmp" if self.bwrap else str(self.tmp),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": str(self.seed),
            "PYTHONNOUSERSITE": "1",
            "MPLBACKEND": "Agg",
            "IPYTHONDIR": str(self.home / ".ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "KERAS_HOME": str(self.home / ".keras"),
        }
        env.update({k: os.environ[k] for k in _PASSTHROUGH_ENV if k in os.environ})
        return env

    def gpu_devices(self) -> list[str]:
        return sorted(str(p) for p in Path("/dev").glob("nvidia*"))

    def wrap(self, argv: list[str]) -> list[str]:
        """The kernel command, run under the limits wrapper and, where possible, in bwrap."""
        inner = [sys.executable, "-c", _LIMITS_WRAPPER, str(self.memory_bytes or 0), *argv]
        if not self.bwrap:
            return inner
        cmd = [self.bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
               "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
               "--cap-drop", "ALL",
               # ipykernel exits when its parent looks like init, and in the pid namespace the
               # kernel's parent is pid 1; --die-with-parent does that job instead.
               "--unsetenv", "JPY_PARENT_PID"]
        for d in _SYSTEM_DIRS:
            cmd += ["--ro-bind-try", d, d]
        for d in self._python_dirs():
            cmd += ["--ro-bind", d, d]
        cmd += ["--ro-bind-try", "/sys", "/sys", "--dev", "/dev", "--proc", "/proc"]
        for dev in self.gpu_devices():  # untested here: no GPU on the build machine
            cmd += ["--dev-bind", dev, dev]
        cmd += self._masks([*_SYSTEM_DIRS, *self._python_dirs(), "/sys"])
        cmd += ["--bind", str(self.tmp), "/tmp"]
        if self.data_dir and Path(self.data_dir).is_dir():  # the runner passes a resolved path
            cmd += ["--ro-bind", self.data_dir, self.data_dir]
            if self.data_dir_alias:
                cmd += ["--ro-bind", self.data_dir, self.data_dir_alias]
        for d in (self.workdir, self.home, self.ipc):
            cmd += ["--bind", str(d), str(d)]
        cmd += ["--chdir", str(self.workdir), "--"]
        return cmd + inner

    def _masks(self, bound: list[str]) -> list[str]:
        """--tmpfs over each protected folder that a read-only bind would otherwise expose."""
        needed = [*self._python_dirs(), str(self.workdir), str(self.home), str(self.ipc), str(self.tmp)]
        if self.data_dir:
            needed.append(self.data_dir)
        out: list[str] = []
        for path in sorted({str(p.resolve()) for p in self.protected}):
            exposed = any(_inside(path, b) for b in bound if Path(b).exists())
            if exposed and Path(path).is_dir() and not any(_inside(n, path) for n in needed) and path != "/":
                out += ["--tmpfs", path]
        return out

    def _python_dirs(self) -> list[str]:
        """The interpreter and its library folders (never the repository the grader runs from)."""
        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent)}
        for entry in sys.path:
            if entry and Path(entry).is_dir() and ("site-packages" in entry or "dist-packages" in entry):
                roots.add(entry)
        dirs = sorted({str(Path(r).resolve()) for r in roots if r and Path(r).exists()} - {"/"})
        # drop folders nested in another one we already bind
        return [d for d in dirs if not any(d != o and d.startswith(o + "/") for o in dirs)]

    def summary(self) -> dict[str, Any]:
        """What is enforced, for ExecutionRecord.sandbox."""
        limits = {"memory_bytes": self.memory_bytes, "memory_kind": "RLIMIT_DATA per process",
                  "core_dumps": "off"}
        if self.bwrap:
            return {
                "method": "bubblewrap",
                "enforced": ["private mount namespace: only the working directory is writable",
                             "rubrics, reference, gradebook and other submissions not mounted",
                             "no network (new network namespace)",
                             "pid namespace: every process dies with the kernel",
                             "no capabilities", "clean environment"],
                "not_enforced": [] if self.memory_bytes else [self.memory_skipped or "memory cap (none set)"],
                **limits,
            }
        return {"method": "process", "enforced": ["own process group", "clean environment"],
                "not_enforced": NOT_ENFORCED_WITHOUT_BWRAP
                + ([] if self.memory_bytes else [self.memory_skipped or "memory cap (none set)"]),
                "reason": self.why_not_bwrap, **limits}

    def warning(self) -> str | None:
        if self.bwrap:
            return None
        return ("the notebook runs WITHOUT a sandbox (" + self.why_not_bwrap + "); not enforced: "
                + "; ".join(NOT_ENFORCED_WITHOUT_BWRAP))


def _inside(path: str, folder: str) -> bool:
    folder = str(Path(folder).resolve())
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def default_protected() -> list[Path]:
    """The grader's repository (rubrics/, reference/, gradebooks), the current folder, and
    wherever the `reference` and `grader` packages really live; found without importing them."""
    import importlib.util

    paths = [Path.cwd(), Path(__file__).resolve().parents[2]]
    for name in ("reference", "grader"):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            paths.append(Path(spec.origin).resolve().parent)
    return paths


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped by a SandboxPlan.

    Set `plan` before starting. Everything else (ports, restarts, shutdown, signalling the
    process group) is jupyter_client's own.
    """

    plan: SandboxPlan | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        return self.plan.wrap(cmd) if self.plan else cmd


def make_kernel_manager(plan: SandboxPlan, kernel_name: str = "python3") -> SandboxedKernelManager:
    """A manager on the ipc transport with its connection file and sockets in plan.ipc."""
    km = SandboxedKernelManager(
        kernel_name=kernel_name,
        transport="ipc",
        ip=str(plan.ipc / "k"),
        connection_file=str(plan.ipc / "kernel.json"),
    )
    km.plan = plan
    return km


def kill_group(pgid: int | None) -> None:
    """SIGKILL a process group that should already be gone (belt and braces)."""
    if not pgid or pgid == os.getpgid(0):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
