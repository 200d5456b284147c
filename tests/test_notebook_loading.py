"""Loading submissions: every unreadable file is one clear line, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from grader.notebook import InvalidSubmission, load_notebook


def test_missing_file(tmp_path):
    with pytest.raises(InvalidSubmission, match="no such file"):
        load_notebook(tmp_path / "nope.ipynb")


def test_not_json(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [ oops')
    with pytest.raises(InvalidSubmission, match=r"not valid JSON \(line 1"):
        load_notebook(path)


def test_json_but_not_a_notebook(tmp_path):
    path = tmp_path / "data.ipynb"
    path.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(InvalidSubmission, match="not a Jupyter notebook"):
        load_notebook(path)


def test_empty_file_and_empty_notebook(tmp_path):
    empty = tmp_path / "empty.ipynb"
    empty.write_text("")
    with pytest.raises(InvalidSubmission, match="the file is empty"):
        load_notebook(empty)
    blank = tmp_path / "blank.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")]), blank)
    with pytest.raises(InvalidSubmission, match="no content"):
        load_notebook(blank)


def test_schema_violation_names_the_place(tmp_path):
    path = tmp_path / "bad.ipynb"
    data = nbformat.v4.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x")]))
    data = json.loads(data)
    data["cells"][0]["cell_type"] = "picture"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidSubmission, match="not a valid notebook"):
        load_notebook(path)


def test_old_format_is_refused_with_advice(tmp_path):
    path = tmp_path / "v3.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "cells": [], "worksheets": []}))
    with pytest.raises(InvalidSubmission, match="format 3 is not supported"):
        load_notebook(path)


def test_binary_file(tmp_path):
    path = tmp_path / "photo.ipynb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(InvalidSubmission, match="not a text file"):
        load_notebook(path)


@pytest.mark.parametrize("minor", [0, 2, 4, 5])
def test_any_v4_minor_loads(tmp_path, minor):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## 1.\nanswer")])
    data = json.loads(nbformat.v4.writes(nb))
    data["nbformat_minor"] = minor
    if minor < 5:
        for cell in data["cells"]:
            cell.pop("id", None)
    path = tmp_path / f"v4{minor}.ipynb"
    path.write_text(json.dumps(data))
    loaded = load_notebook(path)
    assert loaded.cells[0].source == "## 1.\nanswer"


def test_stored_outputs_are_kept_as_text(root):
    nb = load_notebook(root / "submissions/alice.ipynb")
    printed = [c.outputs_text for c in nb.cells if "Test accuracy" in c.outputs_text]
    assert printed and "98.92%" in printed[0]


def _nbformat_cells(path):
    """The cells as the loader built them from nbformat's node (before the fast path)."""
    from grader.notebook import _cells

    node = nbformat.read(path, as_version=4)
    nbformat.validate(node)
    return _cells(node.cells)


def test_fast_path_reads_every_repository_notebook_as_nbformat_does(root):
    paths = sorted([*root.glob("submissions/*.ipynb"), *root.glob("tests/**/*.ipynb")])
    assert len(paths) > 20
    fast = 0
    for path in paths:
        try:
            expected = _nbformat_cells(path)
        except Exception:  # not a valid notebook (the hostile ones): the loader refuses it too
            with pytest.raises(InvalidSubmission):
                load_notebook(path)
            continue
        try:
            notebook = load_notebook(path)
        except InvalidSubmission as exc:
            assert "no content" in str(exc), path
            continue
        assert notebook.cells == expected, path
        fast += notebook._node is None  # read without nbformat
        assert notebook.node == nbformat.reads(path.read_text(encoding="utf-8"), as_version=4), path
    assert fast > 20


@pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")
def test_a_notebook_nbformat_must_repair_is_read_by_nbformat(tmp_path):
    """Cell ids missing from a 4.5 notebook: nbformat adds them before validating, so the
    fast path leaves the file to nbformat, and the cells are the same."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## 2.\n903,400"),
                                         nbformat.v4.new_code_cell("x = 1")])
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        del cell["id"]
    path = tmp_path / "no_ids.ipynb"
    path.write_text(json.dumps(data))
    notebook = load_notebook(path)
    assert notebook._node is not None
    assert [c.source for c in notebook.cells] == ["## 2.\n903,400", "x = 1"]


def test_a_valid_notebook_is_graded_without_importing_nbformat(root):
    code = ("import sys; from grader.notebook import load_notebook; "
            "nb = load_notebook('submissions/alice.ipynb'); before = 'nbformat' in sys.modules; "
            "cells = len(nb.node.cells); print(before, 'nbformat' in sys.modules, cells == len(nb.cells))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True", "True"]


def test_compiled_schema_is_kept_in_the_cache_and_made_anew_when_unusable(root, tmp_path, monkeypatch):
    import fastjsonschema

    from grader import notebook as nbmod

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    nbmod._schema_validator.cache_clear()  # compiled once per process: each step below starts afresh
    alice = root / "submissions" / "alice.ipynb"
    assert load_notebook(alice)._node is None
    [kept] = (tmp_path / "notebook-schema").iterdir()
    made = kept.read_bytes()

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again although the cache has it")

    nbmod._schema_validator.cache_clear()
    with monkeypatch.context() as m:
        m.setattr(fastjsonschema, "compile_to_code", no_compiling)
        assert load_notebook(alice)._node is None
        bad = tmp_path / "bad.ipynb"
        cell = {"id": "a", "cell_type": "essay", "source": "x", "metadata": {}}
        bad.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
        with pytest.raises(InvalidSubmission, match="not a valid notebook"):
            load_notebook(bad)  # the kept validator refuses it; nbformat words the message
    kept.write_bytes(b"not marshal data")
    nbmod._schema_validator.cache_clear()
    assert load_notebook(alice)._node is None
    assert kept.read_bytes() == made
    nbmod._schema_validator.cache_clear()
