"""Writes the hostile-notebook corpus: one behaviour-named .ipynb per case, its expected
outcome in `metadata.grader_expect`. Run `python tests/notebooks/hostile/make_corpus.py` after
editing a case; tests/test_sandbox_hostile.py runs every notebook here.

Placeholders the test fills in before running: {REPO} (repository root), {PORT} (a server the
test runs on 127.0.0.1), {DATA} (the offline data directory), {MARK} (a host path that must
not come to exist), {TAG} (a token in the command line of processes that must be gone once the
run returns).

The attack cases below `good` try to get out of the sandbox or forge what the grader reads; each
bounds its own loops, and runs under generous limits (`ATTACK_LIMITS`) so a loaded machine
cannot turn a contained attack into a timeout.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

ATTACK_LIMITS = {"cell_timeout": 90, "timeout": 400}

PTRACE_AND_PRIVILEGES = r"""import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def outcome(r):
    return "ok" if r != -1 else errno.errorcode.get(ctypes.get_errno(), "?")
L = ctypes.c_long
print("ptrace attach init:", outcome(libc.ptrace(L(16), L(1), None, None)))
print("ptrace seize parent:", outcome(libc.ptrace(L(0x4206), L(os.getppid()), None, None)))
print("ptrace traceme:", outcome(libc.ptrace(L(0), L(0), None, None)))
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(8)
here, there = iovec(ctypes.cast(buf, ctypes.c_void_p), 8), iovec(0x400000, 8)
r = libc.process_vm_readv(1, ctypes.byref(here), 1, ctypes.byref(there), 1, 0)
print("process_vm_readv init:", outcome(r))
print("unshare user namespace:", outcome(libc.unshare(0x10000000)))
print("mount tmpfs:", outcome(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
print("uid", os.getuid(), "euid", os.geteuid())"""

ROOT_ONLY_FILES = r"""for path in ("/etc/shadow", "/etc/gshadow", "/proc/1/environ", "/proc/1/mem"):
    try:
        with open(path, "rb") as fh:
            fh.read(16)
        print(path, "READ")
    except (PermissionError, FileNotFoundError, OSError) as exc:
        print(path, "refused:", type(exc).__name__)"""

FORK_2000 = r"""import os, time
kids, refused = [], 0
for _ in range(2000):
    try:
        pid = os.fork()
    except OSError:
        refused += 1
        if refused >= 20:
            break
        continue
    if pid == 0:
        time.sleep(20)
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.kill(pid, 9)
for pid in kids:
    os.waitpid(pid, 0)
print("forks", len(kids), "refused", refused)
print("process limit held" if len(kids) < 2000 and refused else "NO PROCESS LIMIT")"""

TMPFS_FILL = r"""import errno, os
def fill(path, most_mb=3000):
    written, why = 0, "no limit"
    chunk = b"x" * (1 << 20)
    try:
        with open(path, "wb") as fh:
            while written < most_mb:
                fh.write(chunk)
                fh.flush()
                written += 1
    except OSError as exc:
        why = errno.errorcode.get(exc.errno, str(exc.errno))
    if os.path.exists(path):
        os.remove(path)
    return written, why
for where in ("/dev/shm/fill", "/tmp/fill", "/dev/fill"):
    mb, why = fill(where)
    print(where, "stopped:", why, "after", mb, "MB")"""

OUTLIVE = r"""import os, subprocess, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork():
        os._exit(0)
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "{TAG}"],
                     start_new_session=True)
    while True:
        time.sleep(1)
os.waitpid(pid, 0)
subprocess.Popen(["sh", "-c", "trap '' HUP TERM; while :; do sleep 1; done", "{TAG}"])
time.sleep(1)
print("daemons started")"""

SHM_MAP = r"""import mmap
m = mmap.mmap(-1, 3 * 1024**3)  # MAP_SHARED | MAP_ANONYMOUS: not private memory, RLIMIT_DATA misses it
for offset in range(0, len(m), 4096):
    m[offset] = 1
print("filled 3 GiB of shared memory")"""

CAPTURE_LINKS = r"""import os
os.remove(".grader/capture.json") if os.path.exists(".grader/capture.json") else None
os.symlink("/dev/zero", ".grader/capture.json")
os.symlink("/dev/zero", ".grader/setup.json.tmp")
os.replace(".grader/setup.json.tmp", ".grader/setup.json")
os.mkfifo(".grader/fp_0.npy")
os.mkfifo(".grader/model_0.keras")
print("capture replaced")"""

TAMPER_SETUP = r"""import keras, numpy as np, os, shutil
(x, y), (xt, yt) = keras.datasets.mnist.load_data()
x, xt = x[:4000].reshape(-1, 784) / 255.0, xt.reshape(-1, 784) / 255.0
y = y[:4000]
def small():
    m = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m
for name in ("_grader_capture", "_grader_config", "_grader_apply_budget"):
    try:
        eval(name)
        print(name, "VISIBLE")
    except NameError:
        print(name, "hidden")
print("grader names in globals:", sorted(k for k in globals() if k.startswith("_grader")))"""

TAMPER_LIFT = r"""honest = small()
private = keras.Model.fit.__globals__  # what an introspecting student can reach
private["_grader_apply_budget"] = lambda kw, call: None
try:
    private["_grader_caps"]["max_epochs"] = 100
except TypeError:
    print("caps are read-only")
private["_grader_config"]["budget"] = {}
h = honest.fit(x, y, epochs=4, batch_size=32, verbose=0)
print("epochs run:", len(h.history["loss"]))
honest.evaluate(xt, yt, verbose=0)"""

TAMPER_BYPASS = r"""bypassed = small()
original_fit = next(c.cell_contents for c in keras.Model.fit.__closure__
                    if getattr(c.cell_contents, "__name__", "") == "fit")
original_fit(bypassed, x, y, epochs=2, batch_size=32, verbose=0)  # not through the grader's hook
bypassed.evaluate(xt, yt, verbose=0)
print("trained around the hook")"""

TAMPER_SWAP = r"""swapped = small()
swapped.fit(x, y, epochs=1, batch_size=32, verbose=0)
swapped.evaluate(xt, yt, verbose=0)
linked = small()
linked.fit(x, y, epochs=1, batch_size=32, verbose=0)
linked.evaluate(xt, yt, verbose=0)
print("saved", sorted(f for f in os.listdir(".grader") if f.endswith(".keras")))"""

TAMPER_AFTER = r"""shutil.copy(".grader/model_1.keras", ".grader/model_2.keras")  # the better-trained model
os.remove(".grader/model_3.keras")
os.symlink("/dev/zero", ".grader/model_3.keras")
print("files swapped")"""

CASES: dict[str, tuple[list[str], dict]] = {
    "system_exit": (
        ["import sys\nsys.exit(3)", "raise SystemExit('bye')", "print('still running')"],
        {"status": "completed", "problems": [["cell-error", 0], ["cell-error", 1]],
         "outputs": {"2": "still running"}},
    ),
    "keyboard_interrupt": (
        ["raise KeyboardInterrupt",
         "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(2)",
         "print('still running')"],
        {"status": "completed", "problems": [["cell-error", 0], ["cell-error", 1]],
         "outputs": {"2": "still running"}},
    ),
    "infinite_loop": (
        ["print('start')", "while True:\n    pass", "print('never')"],
        {"status": "timeout", "problems": [["cell-timeout", 1]], "not_run": [2], "limits": {"cell_timeout": 8}},
    ),
    "exit_builtin": (  # IPython's exit() only asks the front end to close: the kernel goes on
        ["print('start')", "exit()", "quit()", "print('still running')"],
        {"status": "completed", "problems": [], "outputs": {"3": "still running"}},
    ),
    "notebook_timeout": (
        ["import time\ntime.sleep(3)", "time.sleep(3)", "time.sleep(3)", "print('never')"],
        {"status": "timeout", "problems": [["cell-timeout", 1]], "not_run": [2, 3],
         "limits": {"timeout": 5}, "message": "notebook's time limit"},
    ),
    "os_exit": (
        ["print('start')", "import os\nos._exit(7)", "print('never')"],
        {"status": "kernel-died", "problems": [["kernel-died", 1]], "not_run": [2],
         "message": "status 7"},
    ),
    "segfault_ctypes": (
        ["import ctypes\nctypes.string_at(0)", "print('never')"],
        {"status": "kernel-died", "problems": [["kernel-died", 0]], "message": "segmentation fault"},
    ),
    "fork_outlives_parent": (
        [
            "import os, time\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.setsid()\n"
            "    if os.fork():\n"
            "        os._exit(0)\n"
            "    while True:  # a daemon that keeps touching a file in the working directory\n"
            "        with open('heartbeat.txt', 'a') as fh:\n"
            "            fh.write('.')\n"
            "        time.sleep(0.1)\n"
            "os.waitpid(pid, 0)\n"
            "time.sleep(0.5)\n"
            "print('daemon started')",
            "print('done')",
        ],
        {"status": "completed", "problems": [], "outputs": {"0": "daemon started", "1": "done"},
         "heartbeat": "heartbeat.txt"},
    ),
    "print_flood_100mb": (
        ["line = 'x' * 999 + '\\n'\nfor _ in range(100_000):\n    print(line, end='')", "print('after')"],
        {"status": "completed", "problems": [["output-truncated", 0]], "outputs": {"1": "after"},
         "truncated": [0]},
    ),
    "memory_hog": (
        ["blocks = []\nwhile True:\n    blocks.append(bytearray(50_000_000))",
         "del blocks\nimport numpy as np\nx = np.ones(2**31)",
         "print('still running')"],
        {"status": "completed", "problems": [["cell-error", 0], ["cell-error", 1]],
         "errors": {"0": "MemoryError", "1": "MemoryError"}, "outputs": {"2": "still running"}},
    ),
    "network_to_loopback_server": (
        ["import socket\ns = socket.create_connection(('127.0.0.1', {PORT}), timeout=3)\ns.sendall(b'leak')",
         "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{PORT}/', timeout=3).read()",
         "print('still running')"],
        {"status": "completed", "problems": [["cell-error", 0], ["cell-error", 1]],
         "outputs": {"2": "still running"}, "server_untouched": True},
    ),
    "read_rubrics_and_reference": (
        ["print(open('../rubrics/assignment06.yaml').read()[:100])",
         "print(open('{REPO}/rubrics/assignment06.yaml').read()[:100])",
         "print(open('{REPO}/reference/assignment06.py').read()[:100])",
         "print(open('{REPO}/submissions/alice.ipynb').read()[:100])",
         "import os\nprint(sorted(os.listdir('/')))\nprint(os.path.exists('{REPO}'))"],
        {"status": "completed",
         "problems": [["cell-error", 0], ["cell-error", 1], ["cell-error", 2], ["cell-error", 3]],
         "errors": {"0": "FileNotFoundError", "1": "FileNotFoundError", "2": "FileNotFoundError",
                    "3": "FileNotFoundError"},
         "outputs": {"4": "False"}},
    ),
    "write_outside_workdir": (
        ["open('{MARK}', 'w').write('pwned')",
         "open('{DATA}/pwned.txt', 'w').write('pwned')",
         "import keras, os\n"
         "open(os.path.join(os.path.dirname(keras.__file__), 'pwned.py'), 'w').write('x = 1')",
         "open('/etc/pwned', 'w').write('pwned')",
         "open('inside.txt', 'w').write('fine')\nprint('wrote inside')"],
        {"status": "completed",
         "problems": [["cell-error", 0], ["cell-error", 1], ["cell-error", 2], ["cell-error", 3]],
         "outputs": {"4": "wrote inside"}, "host_absent": ["{MARK}", "{DATA}/pwned.txt", "/etc/pwned"]},
    ),
    "delete_files": (
        ["import shutil\nshutil.rmtree('{REPO}/rubrics')",
         "import os\nos.remove('{DATA}/mnist.npz')",
         "import os, numpy\nos.remove(numpy.__file__)",
         "import os\nos.remove('submission.ipynb')\nprint('removed own copy')"],
        {"status": "completed", "problems": [["cell-error", 0], ["cell-error", 1], ["cell-error", 2]],
         "outputs": {"3": "removed own copy"},
         "host_present": ["{REPO}/rubrics/assignment06.yaml", "{DATA}/mnist.npz"]},
    ),
    "monkeypatch_keras": (
        ["import keras\n"
         "keras.Model.evaluate = lambda self, *a, **k: [0.0, 0.999]\n"
         "keras.datasets.mnist.load_data = lambda *a, **k: 'fake'\n"
         "import numpy\n"
         "numpy.mean = lambda *a, **k: 42\n"
         "print('patched')",
         "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\nprint(m.evaluate())"],
        {"status": "completed", "problems": [], "outputs": {"0": "patched", "1": "0.999"}},
    ),
    "good": (
        ["import keras, numpy as np\n"
         "(x, y), (xt, yt) = keras.datasets.mnist.load_data()\n"
         "print(x.shape, xt.shape, int(np.bincount(yt)[0]))",
         "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
         "print('patched' if m.evaluate.__name__ == '<lambda>' else 'real evaluate')",
         "print(round(float(np.mean([1.0, 3.0])), 1))"],
        {"status": "completed", "problems": [],
         "outputs": {"0": "(60000, 28, 28) (10000, 28, 28) 980", "1": "real evaluate", "2": "2.0"}},
    ),
    "escape_the_sandbox": (  # several attacks in one cheap kernel (no TensorFlow)
        [PTRACE_AND_PRIVILEGES, ROOT_ONLY_FILES, FORK_2000, TMPFS_FILL, OUTLIVE, "print('still running')"],
        {"status": "completed", "problems": [], "limits": ATTACK_LIMITS,
         "outputs": {"0": "ptrace attach init: EPERM", "1": "/etc/shadow refused", "2": "process limit held",
                     "3": "/dev/shm/fill stopped: ENOSPC", "4": "daemons started", "5": "still running"},
         "outputs_all": {"0": ["ptrace seize parent: EPERM", "ptrace traceme: EPERM",
                               "process_vm_readv init: EPERM", "unshare user namespace: EPERM",
                               "mount tmpfs: EPERM"],
                         "1": ["/proc/1/environ refused", "/proc/1/mem refused"],
                         "3": ["/tmp/fill stopped: ENOSPC", "/dev/fill stopped: EROFS"]},
         "outputs_none": {"0": ["uid 0 "], "1": ["READ"]},
         "no_tagged_processes": True},
    ),
    "shared_memory_fill": (  # 3 GiB of MAP_SHARED memory under --memory 1G: the cgroup kills it
        [SHM_MAP, "print('never')"],
        {"status": "kernel-died", "problems": [["kernel-died", 0]], "not_run": [1], "limits": ATTACK_LIMITS,
         "needs_cgroup": True, "message": "memory limit"},
    ),
    "capture_links_and_fifos": (  # capture.json -> /dev/zero, setup.json -> /dev/zero, FIFOs
        [CAPTURE_LINKS, "print('still running')"],
        {"status": "completed", "limits": ATTACK_LIMITS,
         "problems": [["capture-tampered", 0], ["capture-rejected", None], ["capture-rejected", None],
                      ["capture-file-removed", None], ["capture-file-removed", None],
                      ["capture-file-removed", None]],
         "outputs": {"1": "still running"}, "message": "symbolic link",
         "capture_dir_plain": True},
    ),
    "capture_state_and_model_files": (  # one TensorFlow kernel: four ways to forge what is measured
        [TAMPER_SETUP, TAMPER_LIFT, TAMPER_BYPASS, TAMPER_SWAP, TAMPER_AFTER],
        # 2G: four TensorFlow models in one kernel brush the 1G data limit (an abort in native
        # code, about one run in two); this notebook tests the capture, not the memory cap
        {"status": "completed", "limits": {**ATTACK_LIMITS, "memory": "2G",
                                           "budget": {"max_epochs": 1, "max_steps_per_epoch": 50}},
         "problems": [["capture-tampered", 4], ["capture-tampered", 4], ["capture-tampered", 2]],
         "outputs": {"0": "grader names in globals: []", "1": "epochs run: 1", "2": "trained around the hook",
                     "4": "files swapped"},
         "outputs_all": {"0": ["_grader_capture hidden", "_grader_config hidden",
                               "_grader_apply_budget hidden"], "1": ["caps are read-only"]},
         "saved_status": {"model_0.keras": "ok", "model_1.keras": "tampered", "model_2.keras": "tampered",
                          "model_3.keras": "tampered"},
         "capture_dir_plain": True},
    ),
}


def write_corpus() -> list[Path]:
    written = []
    for name, (cells, expect) in CASES.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["grader_expect"] = expect
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_corpus():
        print(p)
