"""The package as a student installs it: a wheel built by `python -m build`, installed into a fresh
virtualenv outside the source tree, checks a notebook statically without TensorFlow.

Offline by design: the wheel is built without build isolation (the installed setuptools) and the
virtualenv sees this interpreter's site-packages for the dependencies (TensorFlow, nbformat, ...),
so nothing is downloaded; the grader itself comes only from the wheel (`pip --no-deps
--no-index`). The venv lives under pytest's tmp folder: this test starts no kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("build")
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"  # a clean copy: the build writes build/ and *.egg-info next to the sources
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".tox", "build", "dist", "*.egg-info",
                                                             "__pycache__", "reports", ".venv"))
    proc = _run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
                "--outdir", base / "dist", src, cwd=base)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheel = next((base / "dist").glob("grader-*.whl"))
    venv = base / "venv"
    proc = _run(sys.executable, "-m", "venv", "--system-site-packages", venv, cwd=base)
    assert proc.returncode == 0, proc.stderr
    proc = _run(venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index",
                "--ignore-installed", "-q", wheel, cwd=base)
    assert proc.returncode == 0, proc.stderr
    # a student's machine has no developer install: hide this machine's editable grader (a finder in
    # the shared site-packages) so that it cannot lend the wheel what the wheel leaves out
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'Editable' not in getattr(f, '__name__', '')]\n"
        "sys.path_hooks[:] = [h for h in sys.path_hooks if 'Editable' not in getattr(h, '__name__', '')]\n")
    work = base / "student"
    (work / "submissions").mkdir(parents=True)
    shutil.copy(ROOT / "submissions" / "alice.ipynb", work / "submissions" / "alice.ipynb")
    return {"wheel": wheel, "venv": venv, "work": work}


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH (it would put a source tree first) and no reference folder."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADER_REFERENCE_DIR")}


def test_the_wheel_ships_the_rubric_and_q2_cache_but_no_solutions(installed) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    assert {"rubrics/assignment06.yaml", "reference/q2_memory_cache.json", "reference/released_values.json",
            "grader/cli_assign.py"} <= names
    assert "reference/models.py" not in names
    assert not [n for n in names if n.endswith(".ipynb")]


def test_the_wheel_rubric_is_the_student_rubric_without_the_answer_key(installed) -> None:
    """Hidden items, concept hints and misconception corrections (the reference's wording) stay in
    the source tree; the wheel's rubric is what `grader assign` gives students."""
    import yaml

    full = yaml.safe_load((ROOT / "rubrics" / "assignment06.yaml").read_text(encoding="utf-8"))
    text = zipfile.ZipFile(installed["wheel"]).read("rubrics/assignment06.yaml").decode()
    shipped = yaml.safe_load(text)
    items = [i for q in shipped["questions"] for i in q["items"]]
    hidden = [i["id"] for q in full["questions"] for i in q["items"] if i.get("visibility") == "hidden"]
    assert hidden and not set(hidden) & {i["id"] for i in items}
    assert "written by the wheel build" in text.splitlines()[0]
    for item in items:
        params = item.get("params") or {}
        if item.get("reveal", "hint") != "answer":
            assert not any("hint" in c for c in params.get("concepts") or []), item["id"]
            assert all(m["correction"].startswith("This claim is not right")
                       for m in params.get("misconceptions") or []), item["id"]
    full_corrections = [m["correction"] for q in full["questions"] for i in q["items"]
                        for m in (i.get("params") or {}).get("misconceptions") or []]
    assert full_corrections and not [c for c in full_corrections if c in text]


def test_grader_check_static_from_the_wheel_is_fast_and_tensorflow_free(installed) -> None:
    venv, work = installed["venv"], installed["work"]
    started = time.perf_counter()
    proc = _run(venv / "bin" / "grader", "check", "submissions/alice.ipynb", "-q", "q2", "--static", cwd=work,
                env=_clean_env())
    wall = time.perf_counter() - started
    assert proc.returncode in (0, 1), proc.stderr  # 1: alice misses points on q2
    assert "q2.params" in proc.stdout and "without running it" in proc.stdout
    code = textwrap.dedent("""
        import json, sys, time
        t = time.perf_counter()
        from grader.cli import main
        rc = main(["check", "submissions/alice.ipynb", "-q", "q2", "--static", "--json"])
        seconds = time.perf_counter() - t
        import grader
        print(json.dumps({"rc": rc, "seconds": seconds, "file": grader.__file__,
                          "heavy": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}))
    """)
    proc = _run(venv / "bin" / "python", "-c", code, cwd=work, env=_clean_env())
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["heavy"] == []
    assert Path(facts["file"]).is_relative_to(venv), facts  # the wheel's code, not the source tree
    result = json.loads(proc.stdout.strip().splitlines()[0])
    assert [i["id"] for q in result["questions"] for i in q["items"]] == [
        "q2.params", "q2.ram_prediction", "q2.ram_batch"]
    print(f"\ngrader check -q q2 --static from the wheel: {wall:.2f} s wall (process start included), "
          f"{facts['seconds']:.2f} s in process")


def test_in_notebook_check_from_the_wheel_grades_the_notebook_jupyter_names(installed) -> None:
    venv, work = installed["venv"], installed["work"]
    env = {**_clean_env(), "JPY_SESSION_NAME": str(work / "submissions" / "alice.ipynb")}
    code = ("from grader import check; r = check('q2'); "
            "print('CHECKED', r.notebook, [i.id for i in r.result.items()])")
    proc = _run(venv / "bin" / "python", "-c", code, cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"CHECKED {work / 'submissions' / 'alice.ipynb'} ['q2.params'" in proc.stdout


@pytest.mark.slow  # a kernel start on top of the build: opt-in (-m slow)
def test_check_cell_in_a_kernel_of_the_wheel_install(installed) -> None:
    """A real kernel of the venv's Python (nbclient started from it; plain, no sandbox) runs
    `from grader import check; check("q2")` with Jupyter's session name set."""
    venv, work = installed["venv"], installed["work"]
    nb = work / "kernel_check.ipynb"
    code = textwrap.dedent(f"""
        import nbformat, os
        from nbclient import NotebookClient
        from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
        nb = new_notebook(cells=[new_markdown_cell("## Question 2"),
            new_markdown_cell("903,400 params, 12.6 MB for one image and 565.6 MB for the batch"),
            new_code_cell("import grader, sys\\nfrom grader import check\\nr = check('q2')\\n"
                          "print('FROM', grader.__file__)\\n"
                          "print('SCORE', r.result.score, r.result.max_score)\\n"
                          "print('HEAVY', 'tensorflow' in sys.modules)")])
        nbformat.write(nb, {str(nb)!r})
        os.environ["JPY_SESSION_NAME"] = {str(nb)!r}
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
        print("".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream"))
    """)
    proc = _run(venv / "bin" / "python", "-c", code, cwd=work, env=_clean_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"FROM {venv}" in proc.stdout, proc.stdout
    assert "SCORE 15.0 15.0" in proc.stdout and "HEAVY False" in proc.stdout


def test_the_student_release_self_checks_from_the_wheel(installed, tmp_path: Path) -> None:
    out = tmp_path / "release"
    proc = _run(sys.executable, "-m", "grader", "assign", "--out", out, cwd=ROOT)  # the instructor's tree
    assert proc.returncode == 0, proc.stderr
    proc = _run(installed["venv"] / "bin" / "grader", "check", out / "student" / "assignment06.ipynb", "-q",
                "q2,q5", "--static", cwd=tmp_path, env=_clean_env())
    assert proc.returncode == 1, proc.stderr  # nothing answered yet
    assert "q5.concepts" in proc.stdout and "0 / 21 public points" in proc.stdout


def test_q9_q10_values_come_released_and_the_solutions_stay_out(installed) -> None:
    code = ("from reference import compute; import sys; "
            "print(compute('reference.assignment06', 'mnist_task', {}), 'tensorflow' in sys.modules)")
    proc = _run(installed["venv"] / "bin" / "python", "-c", code, cwd=installed["work"], env=_clean_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{'input_shapes': [[28, 28, 1], [28, 28]], 'outputs': 10} False"
    code = "from reference import compute; compute('reference.assignment06', 'mnist_task', {'other': 1})"
    proc = _run(installed["venv"] / "bin" / "python", "-c", code, cwd=installed["work"], env=_clean_env())
    assert proc.returncode != 0
    assert "not part of this install" in proc.stderr and "GRADER_REFERENCE_DIR" in proc.stderr


@pytest.mark.skipif(os.environ.get("GRADER_TESTING_INSTALLED") != "1", reason="only under tox (tox.ini)")
def test_tox_tests_the_installed_package_not_the_source_tree() -> None:
    import grader

    assert not Path(grader.__file__).resolve().is_relative_to(ROOT / "grader"), grader.__file__
    assert "site-packages" in grader.__file__
