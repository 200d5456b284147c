"""The kind table (grader.checks.KINDS) is what the check modules really register, and a static
`-q q2` self-check imports only the check its question uses."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import grader.checks
from grader.checks import CHECK_MODULES, KINDS, base

ROOT = Path(__file__).resolve().parent.parent


def test_kinds_table_matches_what_every_check_module_registers():
    for module in pkgutil.iter_modules(grader.checks.__path__):  # a new module not in KINDS too
        importlib.import_module(f"grader.checks.{module.name}")
    assert set(base._REGISTRY) == set(KINDS)
    for kind, check in base._REGISTRY.items():
        assert check.__module__ == f"grader.checks.{KINDS[kind].module}", kind
    assert {k for k, entry in KINDS.items() if entry.needs_execution} == base.DYNAMIC_KINDS
    assert base.needs_execution("accuracy") and not base.needs_execution("param-math")


@pytest.mark.parametrize("kind,needs", [("telepathy", False), ("param-math", True), ("concepts", False)])
def test_register_refuses_a_kind_the_table_does_not_declare_that_way(kind, needs):
    def check(item, ctx):  # defined in this test module, not in the one KINDS names
        raise AssertionError("never called")

    with pytest.raises(ValueError, match=r"grader\.checks\.KINDS; make the two agree"):
        base.register(kind, needs_execution=needs)(check)
    assert base._REGISTRY.get(kind) is not check


def test_known_kinds_and_needs_execution_import_no_check_module():
    code = textwrap.dedent(f"""
        import sys
        from grader.checks.base import known_kinds, needs_execution
        kinds = known_kinds()
        flags = {{k: needs_execution(k) for k in kinds}}
        print(sorted(m for m in sys.modules if m.removeprefix("grader.checks.") in {CHECK_MODULES!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_static_q2_self_check_imports_only_the_param_math_check():
    code = textwrap.dedent("""
        import contextlib, io, json, sys
        from grader.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["check", "submissions/alice.ipynb", "-q", "q2", "--static", "--json"])
        print(json.dumps({"result": json.loads(out.getvalue()),
                          "modules": sorted(m for m in sys.modules if m.startswith("grader.checks."))}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    graded = [i["id"] for q in found["result"]["questions"] for i in q["items"]]
    assert graded and all(i.startswith("q2.") for i in graded)
    loaded = {m.removeprefix("grader.checks.") for m in found["modules"]}
    assert loaded & set(CHECK_MODULES) == {"parammath"}, loaded
    assert not loaded & {"models", "modelfile", "fitfiles"}, loaded
