"""The student's self-check: `grader check NB -q q2` and `check("q2")` inside a notebook."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
ALICE = ROOT / "submissions" / "alice.ipynb"


def grader(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_static_questions_answer_fast_without_tensorflow() -> None:
    code = textwrap.dedent(f"""
        import json, sys, time
        t = time.perf_counter()
        from grader.selfcheck import check_notebook
        report = check_notebook({str(ALICE)!r}, ["q1", "q2"])
        print(json.dumps({{"seconds": time.perf_counter() - t,
                           "heavy": sorted(m for m in ("tensorflow", "keras", "torch") if m in sys.modules),
                           "executed": report.executed,
                           "items": [i.id for i in report.result.items()]}}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["heavy"] == []
    assert found["executed"] is False
    assert found["items"] == ["q1.concepts", "q2.params", "q2.ram_prediction", "q2.ram_batch"]
    # the target (under 1 s on a quiet machine) is measured by benchmarks/selfcheck_speed.py; this
    # only catches a slide into seconds (a kernel start, a TensorFlow import) on a loaded machine
    assert found["seconds"] < 6.0, found


def test_cli_check_prints_items_and_what_to_fix_next() -> None:
    started = time.monotonic()
    proc = grader("check", str(ALICE), "-q", "q2")
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr  # alice misses points on q2: non-zero, for CI and hooks
    out = proc.stdout
    for item in ("q2.params", "q2.ram_prediction", "q2.ram_batch"):
        assert item in out
    assert "q1." not in out  # only what was asked for
    assert ("Fix next:" in out) or ("passes" in out)
    assert "without running it" in out
    assert elapsed < 10  # interpreter start included; the in-process figure is asserted above


def test_hidden_items_are_reduced_to_a_count(tmp_path: Path) -> None:
    rubric = tmp_path / "mini.yaml"
    rubric.write_text(textwrap.dedent("""
        assignment: mini
        reference: reference.assignment06
        questions:
          - id: q1
            title: Advantages of CNNs
            items:
              - {id: q1.concepts, kind: concepts, points: 6}
              - {id: q1.secret_depth, kind: concepts, points: 4, visibility: hidden}
          - id: q2
            title: Parameters
            items:
              - {id: q2.params, kind: param-math, points: 5, params: {part: params}}
    """))
    proc = grader("check", str(ALICE), "--rubric", str(rubric), "--exit-zero")
    assert proc.returncode == 0, proc.stderr
    assert "q1.concepts" in proc.stdout and "q2.params" in proc.stdout
    assert "secret_depth" not in proc.stdout
    assert "1 hidden item(s) worth 4 points" in proc.stdout
    as_json = grader("check", str(ALICE), "--rubric", str(rubric), "--json")
    assert "secret_depth" not in as_json.stdout
    result = json.loads(as_json.stdout)
    assert result["max_score"] + result["ungraded_points"] == 11  # grader errors: out of the max


def test_unknown_question_is_a_usage_error() -> None:
    proc = grader("check", str(ALICE), "-q", "q42")
    assert proc.returncode == 2
    assert "q42" in proc.stderr and "q1" in proc.stderr


def test_unreadable_notebook_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "mine.ipynb"
    bad.write_text("")
    proc = grader("check", str(bad), "-q", "q2")
    assert proc.returncode == 3
    assert "empty" in proc.stdout


def _student_notebook(path: Path, check_call: str) -> Path:
    cells = [
        new_markdown_cell("# Assignment 06"),
        new_markdown_cell("## Question 2\nThe CNN has 903,400 parameters. One instance needs about 12 MB of "
                          "RAM and a batch of 50 about 600 MB."),
        new_markdown_cell("## Question 9"),
        new_code_cell(textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(ROOT)!r})
            t = time.perf_counter()
            from grader import check
            report = {check_call}
            print("ELAPSED", round(time.perf_counter() - t, 3))
            print("HEAVY", [m for m in ("tensorflow", "keras") if m in sys.modules])
            print("CHECKED", None if report is None else (report.notebook, report.executed,
                  [i.id for i in report.result.items()]))
            print("GRADING", None if report is None else report.seconds)
        """)),
        new_markdown_cell("End of my hand-in."),
    ]
    nbformat.write(new_notebook(cells=cells), path)
    return path


def _run_in_kernel(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    cell = [c for c in nb.cells if c.cell_type == "code"][-1]
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream") + "".join(
        o.get("data", {}).get("text/plain", "") for o in cell.outputs if o.output_type != "stream")


def test_check_from_inside_a_notebook_finds_it_and_does_not_run_it_again(tmp_path: Path) -> None:
    mine = tmp_path / "mine.ipynb"
    # VS Code names the notebook in the kernel's __main__; a newer decoy must not matter
    _student_notebook(mine, f'(globals().__setitem__("__vsc_ipynb_file__", {str(mine)!r}), check("q2"))[1]')
    time.sleep(0.05)
    _student_notebook(tmp_path / "newer_scratch.ipynb", 'check("q2")')
    out = _run_in_kernel(mine)
    assert f"CHECKED ('{mine}', False, ['q2.params', 'q2.ram_prediction', 'q2.ram_batch'])" in out
    assert "HEAVY []" in out
    assert "q2.params" in out and "without running it" in out
    grading = float(out.split("GRADING", 1)[1].split()[0])
    assert grading < 2.0, out  # the check itself; the first import in a fresh kernel comes on top
    assert float(out.split("ELAPSED", 1)[1].split()[0]) < 6.0, out


def test_jupyter_session_name_wins_over_the_newest_file(tmp_path: Path, monkeypatch) -> None:
    mine = _student_notebook(tmp_path / "mine.ipynb", 'check("q2")')
    time.sleep(0.05)
    _student_notebook(tmp_path / "newer_scratch.ipynb", 'check("q2")')
    monkeypatch.setenv("JPY_SESSION_NAME", str(mine))  # what Jupyter Server sets in the kernel
    out = _run_in_kernel(mine)
    assert f"CHECKED ('{mine}', False" in out


def test_check_says_plainly_when_it_cannot_tell_which_notebook(tmp_path: Path) -> None:
    """No front end named the notebook (plain nbclient): no guess, a message, nothing graded."""
    mine = _student_notebook(tmp_path / "mine.ipynb", 'check("q2")')
    out = _run_in_kernel(mine)
    assert "CHECKED None" in out
    assert "cannot tell which notebook" in out and "notebook=" in out


def test_check_inside_a_graded_run_does_nothing(tmp_path: Path) -> None:
    """The grader runs the notebook (for q9) in a kernel: the check() cell there must not recurse."""
    mine = _student_notebook(tmp_path / "mine.ipynb", 'check("q9")')
    proc = grader("check", str(mine), "-q", "q9", "--json", "--timeout", "120")
    result = json.loads(proc.stdout)
    assert result["execution"] is not None
    printed = "".join(c["output_text"] for c in result["execution"]["cells"])
    assert "does nothing while the grader runs this notebook" in printed
    assert "CHECKED None" in printed


def test_fix_next_advice_wraps_under_its_item_at_80_columns() -> None:
    """A student's terminal is often 80 columns: wrapped advice keeps its indent (readable list)."""
    from rich.console import Console

    from grader.selfcheck import check_notebook, render

    console = Console(width=80, record=True, highlight=False, color_system=None)
    render(check_notebook(str(ALICE), ["q2"]), console)
    lines = console.export_text().splitlines()
    start = lines.index("Fix next:")
    steps = [line for line in lines[start + 1:] if line.strip()][:4]
    assert steps[0].startswith("  1. q2.")
    assert all(len(line) <= 80 for line in lines)
    continuation = next(line for line in steps[1:] if not line.lstrip()[:2].rstrip(".").isdigit())
    assert continuation.startswith("     ") and continuation.strip(), steps


def test_selfcheck_looks_for_the_rubric_where_assign_writes_it() -> None:
    from grader import assign, selfcheck

    assert selfcheck.STUDENT_RUBRIC == assign.STUDENT_RUBRIC
