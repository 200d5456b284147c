"""reference/released_values.json (what grading reads for Q9/Q10 instead of building the
reference models, and what a wheel install uses without models.py) equals what
reference/models.py computes, and reading it imports no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reference import assignment06

ROOT = Path(__file__).resolve().parent.parent


def test_released_values_equal_what_the_reference_models_compute() -> None:
    released = json.loads(assignment06.RELEASED_VALUES.read_text(encoding="utf-8"))
    params = assignment06.released_params()
    assert released.pop(assignment06.SOURCE_KEY) == assignment06._models_sha256(), (
        "reference/models.py changed since the cache was computed: run "
        "`python -m reference.assignment06 --update-cache`")
    assert set(released) == set(params)
    for name, cases in params.items():
        assert set(released[name]) == {assignment06._key(p) for p in cases}, name
        for p in cases:  # builds the reference CNN / imports each keras.applications module
            assert released[name][assignment06._key(p)] == getattr(assignment06._models(), name)(p), (name, p)


def test_a_cache_from_another_models_py_is_not_used(tmp_path, monkeypatch) -> None:
    stale = json.loads(assignment06.RELEASED_VALUES.read_text(encoding="utf-8"))
    stale[assignment06.SOURCE_KEY] = "0" * 64
    stale["mnist_task"]["{}"] = {"input_shapes": [[32, 32, 3]], "outputs": 7}  # what an old CNN had
    path = tmp_path / "released_values.json"
    path.write_text(json.dumps(stale), encoding="utf-8")
    monkeypatch.setattr(assignment06, "RELEASED_VALUES", path)
    assert assignment06.mnist_task({}) == {"input_shapes": [[28, 28, 1], [28, 28]], "outputs": 10}


_NO_TF = """
import sys
import grader.worker, grader.engine, grader.evaluate, grader.checks
from grader.checks import load_all
from grader.rubric import load_rubric
from reference import compute
load_all()
rubric = load_rubric()
arch = compute(rubric.reference, "mnist_task", {})
rng = compute(rubric.reference, "base_input_range", {"family": "mobilenet_v2"})
assert arch["outputs"] == 10 and [28, 28, 1] in arch["input_shapes"], arch
assert rng == {"min": -1.0, "max": 1.0}, rng
heavy = sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules)
print("HEAVY", heavy)
"""


def test_worker_startup_and_reference_constants_import_no_tensorflow() -> None:
    proc = subprocess.run([sys.executable, "-c", _NO_TF], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HEAVY []" in proc.stdout, proc.stdout
