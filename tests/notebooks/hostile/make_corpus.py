"""Writes the hostile-notebook corpus: one behaviour-named .ipynb per case, its expected
outcome in `metadata.grader_expect`. Run `python tests/notebooks/hostile/make_corpus.py` after
editing a case; tests/test_sandbox_hostile.py runs every notebook here.

Placeholders the test fills in before running: {REPO} (repository root), {PORT} (a server the
test runs on 127.0.0.1), {DATA} (the offline data directory), {MARK} (a host path that must
not come to exist).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

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
        {"status": "timeout", "problems": [["cell-timeout", 1]], "not_run": [2]},
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
