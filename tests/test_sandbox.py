"""The sandbox itself: limits parse, the kernel sees what the plan says, and without bubblewrap
the run still works and says what it did not enforce."""

from __future__ import annotations

import nbformat
import pytest

from grader.execute import sandbox
from grader.execute.runner import ExecutionOptions, execute_notebook

PROBE = (
    "import os, resource, socket\n"
    "print('data', resource.getrlimit(resource.RLIMIT_DATA)[0])\n"
    "print('secret', os.environ.get('GRADER_TEST_SECRET'))\n"
    "print('pid', os.getpid())\n"
    "print('home', os.environ['HOME'].endswith('/home'))\n"
    "print('cwd', sorted(os.listdir('.')))\n"
)


@pytest.mark.parametrize(("text", "expected"), [
    ("4G", 4 * 1024**3), ("512M", 512 * 1024**2), ("1.5g", int(1.5 * 1024**3)), ("2048MiB", 2 * 1024**3),
    (None, None), ("", None), ("0", None),
])
def test_parse_memory(text, expected):
    assert sandbox.parse_memory(text) == expected


def test_parse_memory_rejects_nonsense_with_a_hint():
    with pytest.raises(ValueError, match="use e.g. 4G"):
        sandbox.parse_memory("lots")


def _probe(data_dir, **kw):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
    return execute_notebook(nb, ExecutionOptions(data_dir=str(data_dir), cell_timeout=30, timeout=120,
                                                 memory="1536M", **kw))


@pytest.mark.skipif(sandbox.bwrap_status()[0] is None, reason="bubblewrap unavailable here")
def test_bwrap_kernel_gets_limits_clean_env_and_its_own_pid_namespace(data_dir, monkeypatch):
    monkeypatch.setenv("GRADER_TEST_SECRET", "s3cret")
    record = _probe(data_dir)
    out = record.cell(0).output_text
    assert record.status == "completed", record.problems
    assert f"data {1536 * 1024**2}" in out
    assert "secret None" in out
    assert "pid 2" in out  # pid 1 is bubblewrap's init inside the new pid namespace
    assert "home True" in out
    assert "cwd ['.grader', 'submission.ipynb']" in out
    assert record.sandbox["method"] == "bubblewrap" and record.sandbox["memory_bytes"] == 1536 * 1024**2


def test_without_bwrap_the_kernel_runs_and_says_what_is_not_enforced(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("GRADER_SANDBOX", "none")
    sandbox.bwrap_status.cache_clear()
    try:
        record = _probe(data_dir)
    finally:
        monkeypatch.delenv("GRADER_SANDBOX")
        sandbox.bwrap_status.cache_clear()
    out = record.cell(0).output_text
    assert record.status == "completed", record.problems
    assert f"data {1536 * 1024**2}" in out and "secret None" in out
    assert record.sandbox["method"] == "process"
    assert any("network" in item for item in record.sandbox["not_enforced"])
    assert "WITHOUT a sandbox" in capsys.readouterr().err


FLOOD_SCRIPT = """
import sys, nbformat
from grader.execute.runner import ExecutionOptions, execute_notebook
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('x' * 100_000_000)"),
                                     nbformat.v4.new_code_cell("print('after')")])
r = execute_notebook(nb, ExecutionOptions(data_dir=sys.argv[1], cell_timeout=60, timeout=120))
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a large pytest process
# (TensorFlow loaded by earlier tests) would report its parent's size.
peak_kb = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
print(r.status, r.cells[0].truncated, len(r.cells[0].output_text), r.cells[1].output_text.strip(),
      peak_kb // 1024)
"""


def test_a_100mb_print_does_not_reach_the_graders_memory(root, data_dir):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", FLOOD_SCRIPT, str(data_dir)], cwd=root,
                          capture_output=True, text=True, timeout=300)
    status, truncated, kept, after, maxrss_mb = done.stdout.split()
    assert (status, truncated, kept, after) == ("completed", "True", "1000000", "after"), done.stderr[-500:]
    assert int(maxrss_mb) < 200, f"the grader grew to {maxrss_mb} MB while a cell printed 100 MB"


@pytest.mark.skipif(sandbox.bwrap_status()[0] is None, reason="bubblewrap unavailable here")
def test_a_protected_folder_inside_site_packages_is_hidden(tmp_path):
    """As if the grader (with its reference code) were installed into site-packages."""
    import subprocess
    import sys
    from pathlib import Path

    import nbclient

    hidden = Path(nbclient.__file__).parent
    plan = sandbox.SandboxPlan(root=tmp_path / "run")
    plan.protected = [hidden, Path(sys.prefix)]  # the interpreter itself is needed: never hidden
    script = "import os, sys; print(len(os.listdir(sys.argv[1])), os.path.exists(sys.argv[2]))"
    cmd = plan.wrap([sys.executable, "-c", script, str(hidden), sys.executable])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["0", "True"], done.stderr
    assert len(list(hidden.iterdir())) > 0


@pytest.mark.skipif(sandbox.bwrap_status()[0] is None, reason="bubblewrap unavailable here")
@pytest.mark.parametrize("cgroup", ["none", "auto"])
def test_the_record_says_whether_shared_memory_is_capped(cgroup, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_CGROUP", cgroup)
    plan = sandbox.SandboxPlan(root=tmp_path / "run", memory_bytes=1024**3)
    try:
        summary = plan.summary()
    finally:
        plan.cleanup()
    assert any("RLIMIT_NPROC" in e for e in summary["enforced"])
    assert any(e.startswith("seccomp") for e in summary["enforced"]) or summary["not_enforced"]
    if plan.cgroup is None:
        assert any("shared memory" in n for n in summary["not_enforced"]), summary
        assert "no memory cgroup" in plan.warning()
    else:
        assert any("cgroup" in e and "shared memory" in e for e in summary["enforced"])
        assert summary["cgroup_bytes"] > 1024**3 and plan.warning() is None
        assert not plan.cgroup.path.exists()  # removed by cleanup


@pytest.mark.skipif(sandbox.bwrap_status()[0] is None, reason="bubblewrap unavailable here")
def test_an_older_bwrap_without_sized_tmpfs_still_gives_a_writable_tmp_and_shm(tmp_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setattr(sandbox, "bwrap_options", lambda: frozenset({"--seccomp"}))  # as bwrap 0.6
    plan = sandbox.SandboxPlan(root=tmp_path / "run")
    script = ("import os; open('/tmp/a', 'w').write('1'); open('/dev/shm/b', 'w').write('1'); "
              "print('ok', os.getuid() != 0)")
    try:
        done = subprocess.run(plan.wrap([sys.executable, "-c", script]), capture_output=True, text=True,
                              timeout=60)
    finally:
        plan.cleanup()
    assert done.stdout.split() == ["ok", "True"], done.stderr[-500:]
    assert any("older than 0.8" in n for n in plan.summary()["not_enforced"])
