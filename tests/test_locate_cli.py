"""`grader locate NOTEBOOK`: the map of where each answer was found, without running anything
and without importing TensorFlow; bad input gets a clear error."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat

PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['grader', 'locate'] + sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module('grader', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "else:\n"
    "    code = 0\n"
    "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'torch'))\n"
    "print('HEAVY=' + ','.join(heavy))\n"
    "sys.exit(code)\n"
)


def locate(root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, *args], cwd=root, capture_output=True,
                          text=True, timeout=120)


def test_alice_map_without_tensorflow(root):
    proc = locate(root, "submissions/alice.ipynb")
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stdout
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()
             if line[:1] == "q" and line[1:2].isdigit()}
    assert list(lines) == [f"q{n}" for n in range(1, 11)]
    assert "17-21" in lines["q9"] and "heading" in lines["q9"]
    assert "Every question was found." in proc.stdout


def test_json_map_and_not_found_advice(root, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## 1.\nweights are shared so far fewer params"),
                nbformat.v4.new_markdown_cell("## 2.\n903,400 parameters")]
    path = tmp_path / "two.ipynb"
    nbformat.write(nb, path)
    rows = json.loads(locate(root, str(path), "--json").stdout.split("HEAVY=")[0])
    assert [r["question"] for r in rows if r["found"]] == ["q1", "q2"]
    assert rows[0]["cells"] == [0] and rows[0]["how"] == "heading" and rows[0]["confidence"] > 0.5
    text = locate(root, str(path)).stdout
    assert "Not found: q3-q10" in text and "## Question 3" in text


def test_bad_notebook_is_a_usage_error(root, tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{"cells": [', encoding="utf-8")
    proc = locate(root, str(bad))
    assert proc.returncode == 2
    assert "not valid JSON" in proc.stderr and "broken.ipynb" in proc.stderr
