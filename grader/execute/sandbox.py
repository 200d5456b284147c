"""Where and how a student's kernel process runs: bubblewrap sandbox, resource limits, clean-up.

Why bubblewrap (`bwrap`, Debian package `bubblewrap`) and not hand-written namespace code: it is
the small, audited tool Flatpak uses to build exactly this kind of sandbox (mount, pid, net
namespaces, read-only binds, die-with-parent) from one command line, so the kernel command is
simply prefixed with it. The kernel talks to nbclient over jupyter_client's `ipc` transport
(unix sockets in a directory bound into the sandbox) because `--unshare-net` leaves the kernel
no route to the grader's loopback interface.

Inside the sandbox the kernel sees: the system directories and the Python installation
read-only, the data directory read-only, and read-write only its working directory (the
submission and the rubric's files), a private HOME inside the run's folder, a size-limited
tmpfs /tmp, and the socket directory. rubrics/, reference/, the gradebook and other submissions
are simply absent. Every process the notebook starts lives in the sandbox's pid namespace, so
all of them die with it. Memory is capped with RLIMIT_DATA (private writable memory, per
process) set by a tiny wrapper before the kernel starts: RLIMIT_AS would count the large
address-space reservations TensorFlow makes (about 2.8 GB of virtual memory for a trivial model
on CPU, far more with CUDA) and so fail long before real memory runs out.

The kernel never runs as root, also when the grader does: a grader running as root starts bwrap
without a user namespace (one would map the sandbox user back onto root, and root-only files
would read as the sandbox user's own) and the limits wrapper drops to a per-run unprivileged
uid/gid (RUN_UID_BASE + a random offset; the run's folders are chowned to it) before the
kernel starts; any other user gets `--unshare-user --uid 65534`. Either way RLIMIT_NPROC counts
only the run's own processes and threads (per uid, or per user namespace), so a fork bomb
stops at `max_procs`. A seccomp filter (grader/execute/seccomp.py) blocks ptrace and the other
ways out of the sandbox. /dev is read-only except for device nodes, and /dev/shm and /tmp are
size-limited tmpfs mounts. Where the machine offers a writable memory cgroup
(grader/execute/cgroup.py), the whole run, shared memory and tmpfs included, is capped too, and
the cgroup is emptied with SIGKILL when the run ends.

Where bwrap is missing or cannot create namespaces, the kernel runs as a plain process in its
own process group with the same limits and a warning that names what is not enforced.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.execute import seccomp
from grader.execute.cgroup import MemoryCgroup

log = logging.getLogger(__name__)

# Runs inside the sandbox before the kernel: the unprivileged uid (when the grader is root) and
# limits that a student's code cannot raise again.
_LIMITS_WRAPPER = (
    "import os,resource,sys\n"
    "m,n,u,f=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4])\n"
    "if u>=0:\n"
    " os.setgroups([]);os.setresgid(u,u,u);os.setresuid(u,u,u)\n"
    "if m>0: resource.setrlimit(resource.RLIMIT_DATA,(m,m))\n"
    "if n>0: resource.setrlimit(resource.RLIMIT_NPROC,(n,n))\n"
    "if f>0: resource.setrlimit(resource.RLIMIT_FSIZE,(f,f))\n"
    "resource.setrlimit(resource.RLIMIT_CORE,(0,0))\n"
    "os.execv(sys.argv[5],sys.argv[5:])\n"
)
# Runs outside, as the grader's user, and execs bwrap: joins the run's memory cgroup (so every
# process of the run is in it) and opens the seccomp program for `--seccomp FD`.
_OUTER_WRAPPER = (
    "import os,sys\n"
    "procs,bpf,a=sys.argv[1],sys.argv[2],sys.argv[3:]\n"
    "if procs:\n"
    " with open(procs,'w') as f: f.write(str(os.getpid()))\n"
    "if bpf:\n"
    " fd=os.open(bpf,os.O_RDONLY);os.set_inheritable(fd,True)\n"
    " a=[str(fd) if x=='@SECCOMP_FD@' else x for x in a]\n"
    "os.execv(a[0],a)\n"
)
RUN_UID_BASE = 200_000  # root grader: each run's kernel gets a uid in [base, base + 60000)
SANDBOX_UID = 65534  # non-root grader: the uid inside the user namespace
MIN_PROCS = 512  # RLIMIT_NPROC floor; TensorFlow starts ~2 threads per core, each one counts
SHM_BYTES = 64 * 1024**2  # /dev/shm: multiprocessing's semaphores and small shared arrays
TMP_BYTES = 1024**3  # /tmp when no memory cap is set (a cap sets /tmp to half of it)
DISK_BYTES = 4 * 1024**3  # a run's folder on disk (grader/execute/diskquota.py); GRADER_DISK_LIMIT

_SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"]
_PASSTHROUGH_ENV = ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "TF_NUM_INTEROP_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_ENABLE_ONEDNN_OPTS", "LD_LIBRARY_PATH")

NOT_ENFORCED_WITHOUT_BWRAP = [
    "filesystem isolation (the kernel can read and write anything this user can)",
    "network isolation",
    "clean-up of processes that leave the kernel's process group (setsid daemons)",
    "an unprivileged user, the process limit and the seccomp filter (no ptrace)",
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


def disk_limit() -> int:
    """Bytes a run may write to its folder: GRADER_DISK_LIMIT (e.g. 2G, 500M) or DISK_BYTES."""
    value = os.environ.get("GRADER_DISK_LIMIT", "").strip()
    try:
        return (parse_memory(value) or DISK_BYTES) if value else DISK_BYTES
    except ValueError:
        raise ValueError(f"GRADER_DISK_LIMIT={value!r} is not a size: use e.g. 4G or 500M") from None


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


@functools.lru_cache(maxsize=1)
def bwrap_options() -> frozenset[str]:
    """The newer options this bwrap knows (--size and --perms on a tmpfs: 0.8; --disable-userns:
    0.8); older ones (Ubuntu 22.04 has 0.6) get the same sandbox without them, and the record
    says what that leaves out."""
    path = bwrap_status()[0]
    if not path:
        return frozenset()
    try:
        text = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    known = {opt for opt in ("--size", "--perms", "--disable-userns", "--seccomp") if opt in text}
    with contextlib.suppress(ValueError):  # --perms before --tmpfs came with --size in 0.8.0
        version = tuple(int(x) for x in re.findall(r"\d+", subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=20).stdout)[:2])
        if version < (0, 8):
            known -= {"--size", "--perms"}
    return frozenset(known)


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
    #: what the run may write to its folder (grader/execute/diskquota.py)
    disk_bytes: int = field(default_factory=lambda: disk_limit())
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
    max_procs: int = field(default_factory=lambda: max(MIN_PROCS, 8 * (os.cpu_count() or 1)))
    uid: int = field(init=False, default=-1)  # root grader: the uid the limits wrapper drops to
    cgroup: MemoryCgroup | None = field(init=False, default=None)
    why_not_cgroup: str = field(init=False, default="")
    seccomp_file: Path | None = field(init=False, default=None)
    seccomp_how: str = field(init=False, default="")
    seccomp_blocked: list[str] = field(init=False, default_factory=list)

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
        if not self.bwrap:
            return
        if os.geteuid() == 0:
            self.uid = RUN_UID_BASE + random.randrange(60_000)
        try:
            self.seccomp_file = self.root / "seccomp.bpf"
            self.seccomp_how, self.seccomp_blocked = seccomp.write_filter(self.seccomp_file)
        except OSError as exc:
            self.seccomp_file, self.seccomp_how = None, f"none ({exc})"
        self.cgroup, self.why_not_cgroup = MemoryCgroup.create(self.cgroup_limit())

    def cgroup_limit(self) -> int | None:
        """The whole run's memory: the per-process cap plus room for code pages and caches
        (RLIMIT_DATA then fails an allocation with MemoryError before the cgroup OOM-kills)."""
        if not self.memory_bytes:
            return None
        return self.memory_bytes + max(256 * 1024**2, self.memory_bytes // 4)

    def file_bytes(self) -> int:
        """Every file's size limit (RLIMIT_FSIZE): half the disk bound, so one file cannot use it all."""
        return self.disk_bytes // 2

    def tmp_bytes(self) -> int:
        return self.memory_bytes // 2 if self.memory_bytes else TMP_BYTES

    def prepare(self) -> None:
        """Just before the kernel starts (its connection file now exists): a root grader hands
        the run's folders to the run's uid, so the kernel can write there and nowhere else."""
        if self.uid < 0:
            return
        for top in (self.workdir, self.home, self.ipc, self.tmp):
            for folder, dirs, files in os.walk(top):
                for name in [*dirs, *files]:
                    os.chown(os.path.join(folder, name), self.uid, self.uid, follow_symlinks=False)
            os.chown(top, self.uid, self.uid)

    def cleanup(self) -> None:
        """Kill whatever is left in the run's cgroup and remove it (safe to call twice)."""
        if self.cgroup is not None:
            self.cgroup.remove()

    def env(self) -> dict[str, str]:
        """The kernel's whole environment: nothing of the grader's (tokens, paths) leaks in."""
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "TMPDIR": "/tmp" if self.bwrap else str(self.tmp),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": str(self.seed),
            "PYTHONNOUSERSITE": "1",
            "USER": "student",  # the run's uid has no passwd entry; getpass.getuser() reads this
            "LOGNAME": "student",
            "GRADER_INSIDE_GRADING": "1",  # grader.selfcheck.INSIDE_ENV: check() stays quiet
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
        """The kernel command, run under the limits wrapper and, where possible, in bwrap. Call it
        once the files the command needs are in place (it hands the run's folders to the run's
        uid), and `cleanup()` once the command has ended."""
        self.prepare()
        inner = [sys.executable, "-c", _LIMITS_WRAPPER, str(self.memory_bytes or 0),
                 str(self.max_procs if self.bwrap else 0), str(self.uid), str(self.file_bytes()), *argv]
        if not self.bwrap:
            return inner
        opts = bwrap_options()
        cmd = [self.bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
               "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
               # ipykernel exits when its parent looks like init, and in the pid namespace the
               # kernel's parent is pid 1; --die-with-parent does that job instead.
               "--unsetenv", "JPY_PARENT_PID"]
        if self.uid >= 0:  # root: no user namespace; the wrapper needs these two to drop to uid
            cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            cmd += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
                    "--cap-drop", "ALL"]
            if "--disable-userns" in opts:  # seccomp blocks new user namespaces anyway
                cmd += ["--disable-userns"]
        if self.seccomp_file:
            cmd += ["--seccomp", "@SECCOMP_FD@"]
        for d in _SYSTEM_DIRS:
            cmd += ["--ro-bind-try", d, d]
        made: set[str] = set()
        for d in self._python_dirs():
            cmd += [*self._parents(d, made), "--ro-bind", d, d]
        cmd += ["--ro-bind-try", "/sys", "/sys", "--dev", "/dev", "--proc", "/proc"]
        for dev in self.gpu_devices():  # untested here: no GPU on the build machine
            cmd += ["--dev-bind", dev, dev]
        if self.sized_tmpfs():
            cmd += ["--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm"]
        else:  # an old bwrap: a folder on disk, never an unsized tmpfs
            cmd += ["--bind", str(self.shm_dir()), "/dev/shm"]
        cmd += ["--remount-ro", "/dev"]
        cmd += self._masks([*_SYSTEM_DIRS, *self._python_dirs(), "/sys"])
        if self.sized_tmpfs():
            cmd += ["--perms", "1777", "--size", str(self.tmp_bytes()), "--tmpfs", "/tmp"]
        else:  # on disk in the run's folder, as before
            cmd += ["--bind", str(self.tmp), "/tmp"]
        made = {"/tmp"} if self.sized_tmpfs() else set()  # folders made before the /tmp tmpfs are hidden
        if self.data_dir and Path(self.data_dir).is_dir():  # the runner passes a resolved path
            cmd += [*self._parents(self.data_dir, made), "--ro-bind", self.data_dir, self.data_dir]
            if self.data_dir_alias:
                cmd += [*self._parents(self.data_dir_alias, made),
                        "--ro-bind", self.data_dir, self.data_dir_alias]
        for d in (self.workdir, self.home, self.ipc):
            cmd += [*self._parents(str(d), made), "--bind", str(d), str(d)]
        cmd += ["--chdir", str(self.workdir), "--"]
        outer = [sys.executable, "-c", _OUTER_WRAPPER, str(self.cgroup.procs) if self.cgroup else "",
                 str(self.seccomp_file or "")]
        return outer + cmd + inner

    def shm_dir(self) -> Path:
        folder = self.root / "shm"
        folder.mkdir(exist_ok=True)
        if self.uid >= 0:
            os.chown(folder, self.uid, self.uid)
        return folder

    def sized_tmpfs(self) -> bool:
        return {"--size", "--perms"} <= bwrap_options()

    @staticmethod
    def _parents(target: str, made: set[str]) -> list[str]:
        """--dir 0755 for each folder above a mount point that bwrap would otherwise create 0700
        (so an unprivileged uid could not walk to /root/.pyenv/... or the run's folder)."""
        out: list[str] = []
        for parent in reversed(Path(target).parents):
            p = str(parent)
            if p == "/" or p in made or any(_inside(p, d) for d in _SYSTEM_DIRS):
                continue
            made.add(p)
            out += (["--perms", "0755"] if "--perms" in bwrap_options() else []) + ["--dir", p]
        return out

    def _masks(self, bound: list[str]) -> list[str]:
        """--tmpfs over each protected folder that a read-only bind would otherwise expose."""
        needed = [*self._python_dirs(), str(self.workdir), str(self.home), str(self.ipc)]
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
        limits: dict[str, Any] = {"memory_bytes": self.memory_bytes, "memory_kind": "RLIMIT_DATA per process",
                                  "core_dumps": "off", "disk_bytes": self.disk_bytes}
        disk = (f"disk: the run's folder at most {format_bytes(self.disk_bytes)} (a watcher stops the kernel "
                f"past it: disk-quota), each file at most {format_bytes(self.file_bytes())} (RLIMIT_FSIZE)")
        no_cap = [] if self.memory_bytes else [self.memory_skipped or "memory cap (none set)"]
        if not self.bwrap:
            return {"method": "process", "enforced": ["own process group", "clean environment", disk],
                    "not_enforced": NOT_ENFORCED_WITHOUT_BWRAP + no_cap
                    + ["disk use outside the run's folder (only each file's size is bounded there)"],
                    "reason": self.why_not_bwrap, **limits}
        enforced = ["private mount namespace: only the working directory is writable",
                    "rubrics, reference, gradebook and other submissions not mounted",
                    "no network (new network namespace)",
                    "pid namespace: every process dies with the kernel",
                    "no capabilities", "clean environment",
                    (f"unprivileged uid {self.uid} (no user namespace: the grader runs as root)"
                     if self.uid >= 0 else f"user namespace, uid {SANDBOX_UID} inside"),
                    "root-only system files unreadable",
                    f"at most {self.max_procs} processes and threads (RLIMIT_NPROC)",
                    (f"/dev read-only; /dev/shm tmpfs {format_bytes(SHM_BYTES)}; "
                     f"/tmp tmpfs {format_bytes(self.tmp_bytes())}" if self.sized_tmpfs()
                     else "/dev read-only"), disk]
        not_enforced = list(no_cap)
        if not self.sized_tmpfs():
            not_enforced.append("size-limited /tmp and /dev/shm (this bwrap is older than 0.8: both "
                                "are folders on disk in the run's folder)")
        if self.seccomp_file:
            enforced.append(f"seccomp ({self.seccomp_how}): EPERM for {', '.join(self.seccomp_blocked)}")
        else:
            not_enforced.append(f"seccomp filter: {self.seccomp_how}; ptrace is blocked only by the "
                                "uid (the kernel can still trace its own processes)")
        if self.cgroup is not None:
            version = self.cgroup.version
            enforced.append(f"memory cgroup v{version}: {format_bytes(self.cgroup.limit or 0)} for the "
                            "whole run, shared memory and tmpfs included" if self.cgroup.limit
                            else f"cgroup v{version} (kill of every process)")
            limits["memory_kind"] += f" + cgroup v{self.cgroup.version} for the whole run"
            limits["cgroup_bytes"] = self.cgroup.limit
        elif self.memory_bytes:
            not_enforced.append(
                f"memory cap for the whole run ({self.why_not_cgroup}): shared memory (mmap MAP_SHARED, "
                "memfd) and several processes each up to the per-process cap are not counted; "
                "tmpfs use is bounded by the sizes above")
        return {"method": "bubblewrap", "enforced": enforced, "not_enforced": not_enforced, **limits}

    def unreadable_data_dir(self) -> bool:
        """A root grader runs the kernel as an unprivileged uid, which reads only what others may."""
        if self.uid < 0 or not self.data_dir:
            return False
        with contextlib.suppress(OSError):
            return (os.stat(self.data_dir).st_mode & 0o005) != 0o005
        return False

    def warning(self) -> str | None:
        if self.bwrap:
            if self.unreadable_data_dir():
                return (f"the data directory {self.data_dir} is not readable by other users, and the "
                        "notebook runs as an unprivileged user: run `chmod -R o+rX` on it")
            if self.memory_bytes and self.cgroup is None:
                return (f"no memory cgroup for the kernel ({self.why_not_cgroup}): the memory cap counts "
                        "each process's private memory only, not shared memory or several processes")
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


def kill_group(pgid: int | None) -> None:
    """SIGKILL a process group that should already be gone (belt and braces)."""
    if not pgid or pgid == os.getpgid(0):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
