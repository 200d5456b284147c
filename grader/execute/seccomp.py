"""The seccomp filter bubblewrap loads into the student's kernel (`bwrap --seccomp FD`).

It makes the syscalls that would let a notebook reach outside its own processes fail with
EPERM: ptrace (attaching to the sandbox's init or to the grader), process_vm_readv/writev,
new user namespaces (unshare, setns, clone with CLONE_NEWUSER; clone3 answers ENOSYS so libc
falls back to clone, whose flags a filter can see), kernel keyrings, bpf, perf events,
userfaultfd, module and kexec loading, mounts and reboot. Calls from another ABI (i386 int 0x80,
x32) kill the process, so the numbers cannot be dodged.

Why libseccomp (through `pyseccomp`, a ctypes binding to the system's libseccomp.so.2): it
knows every architecture's syscall numbers and emits the arch and ABI checks itself. Where it is
missing, a small classic-BPF program assembled here blocks the essential three (ptrace,
process_vm_readv, process_vm_writev) on x86_64 and aarch64.
"""

from __future__ import annotations

import errno
import platform
import struct
from pathlib import Path

BLOCKED = ["ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns", "bpf",
           "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "kexec_load",
           "kexec_file_load", "init_module", "finit_module", "delete_module", "mount", "umount2",
           "pivot_root", "swapon", "swapoff", "reboot", "open_by_handle_at", "fsopen", "fsmount",
           "move_mount", "open_tree", "iopl", "ioperm", "acct", "quotactl"]
CLONE_NEWUSER = 0x10000000

# fallback: (AUDIT_ARCH, {syscall: number}) for the machines this was checked on
_ARCHES = {
    "x86_64": (0xC000003E, {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311}),
    "aarch64": (0xC00000B7, {"ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271}),
}


def write_filter(path: Path) -> tuple[str, list[str]]:
    """Write the compiled BPF program to `path`; (how it was built, the syscalls it blocks).
    Raises OSError when neither libseccomp nor a known architecture is available."""
    try:
        import pyseccomp
    except (ImportError, OSError):  # the binding, or libseccomp.so.2 it loads, is missing
        pyseccomp = None
    if pyseccomp is not None:
        try:
            return _libseccomp(pyseccomp, path)
        except Exception:  # an old libseccomp without some names: fall back below
            pass
    return _classic(path)


def _libseccomp(sc, path: Path) -> tuple[str, list[str]]:
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    blocked = []
    for name in BLOCKED:
        try:
            flt.add_rule(sc.ERRNO(errno.EPERM), name)
            blocked.append(name)
        except Exception:  # a syscall this architecture does not have (iopl on aarch64)
            continue
    flt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    blocked += ["clone(CLONE_NEWUSER)", "clone3 (ENOSYS)"]
    with open(path, "wb") as fh:
        flt.export_bpf(fh)
    return "libseccomp", blocked


def _classic(path: Path) -> tuple[str, list[str]]:
    machine = platform.machine()
    if machine not in _ARCHES:
        raise OSError(f"no seccomp filter for {machine}: install pyseccomp and libseccomp2")
    audit_arch, numbers = _ARCHES[machine]
    ld_w_abs, jeq_k, jge_k, ret_k = 0x20, 0x15, 0x35, 0x06
    kill, allow, eperm = 0x80000000, 0x7FFF0000, 0x00050000 | errno.EPERM
    nrs = list(numbers.values())

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k)

    prog = [op(ld_w_abs, 4), op(jeq_k, audit_arch, 1, 0), op(ret_k, kill), op(ld_w_abs, 0)]
    if machine == "x86_64":  # x32 ABI numbers carry bit 30
        prog.append(op(jge_k, 0x40000000, len(nrs) + 1, 0))
    for i, nr in enumerate(nrs):
        prog.append(op(jeq_k, nr, len(nrs) - i, 0))
    prog += [op(ret_k, allow), op(ret_k, eperm)]
    path.write_bytes(b"".join(prog))
    return "classic BPF (pyseccomp missing)", list(numbers)
