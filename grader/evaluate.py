"""Measure a student's trained model outside the student's kernel.

The kernel saved each trained model as `.keras` (capture dir). This module runs in its own
subprocess (`python -m grader.evaluate SPEC.json`): it loads the model with Keras' `safe_mode`
(no deserialised Python code: a Lambda layer refuses to load instead of running), rebuilds the
test inputs from the official data files with the student's own preprocessing as captured
(an affine map of raw pixels, the per-sample shape and dtype) or takes the student's own
held-out split that the kernel kept, predicts, and prints one JSON object. Student code is
never imported or executed here; TensorFlow is imported only in the subprocess.

Spec: {"model": path, "data_dir": dir, "dataset": "mnist"|"cifar10", "split": "test",
       "scale": float, "offset": float, "sample_shape": [...], "dtype": str}
   or {"model": path, "npz": path}  (x and y as the kernel kept them)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent


def build_inputs(spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The inputs and integer labels the model is measured on."""
    if spec.get("npz"):
        with np.load(spec["npz"], allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    else:
        from grader.fingerprint import official_arrays

        arrays = official_arrays(spec["data_dir"], spec["dataset"])
        raw = arrays[f"x_{spec.get('split', 'test')}"].astype(np.float64)
        y = arrays[f"y_{spec.get('split', 'test')}"]
        x = raw * float(spec.get("scale", 1 / 255)) + float(spec.get("offset", 0.0))
        shape = spec.get("sample_shape")
        if shape:
            x = x.reshape((len(x), *[int(s) for s in shape]))
        x = x.astype(spec.get("dtype") or "float32")
    y = np.asarray(y)
    y = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    return x, y.astype(np.int64)


def measure_in_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Load, predict, score. Runs in the evaluator subprocess (imports Keras)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    x, y = build_inputs(spec)
    try:
        model = keras.saving.load_model(spec["model"], safe_mode=True)
    except Exception as exc:  # unsafe layers, custom classes, a broken file
        return {"ok": False, "error": f"the saved model could not be loaded safely: "
                                      f"{type(exc).__name__}: {str(exc)[:300]}"}
    probs = np.asarray(model.predict(x, batch_size=256, verbose=0))
    if probs.ndim != 2 or probs.shape[1] < 2:
        return {"ok": False, "error": f"the model's output has shape {list(probs.shape)}, not one "
                                      "score per class"}
    pred = probs.argmax(axis=1)
    correct = pred == y
    per_class = [float(correct[y == c].mean()) if np.any(y == c) else None
                 for c in range(int(max(y.max() + 1, probs.shape[1])))]
    out: dict[str, Any] = {"ok": True, "accuracy": float(correct.mean()), "n": int(len(y)),
                           "per_class": per_class, "input_shape": list(x.shape),
                           "input_range": [float(x.min()), float(x.max())]}
    out["keras_evaluate"] = _keras_evaluate(model, x, y, probs.shape[1], spec["model"])
    return out


def _keras_evaluate(model: Any, x: np.ndarray, y: np.ndarray, classes: int, path: str) -> float | None:
    """Keras's own accuracy on the same inputs, when the model was compiled with one. Labels are
    one-hot for categorical/binary losses; a second try reloads the model (a failed first call
    leaves Keras' compiled test function unusable)."""
    import keras

    if getattr(model, "loss", None) is None:
        return None
    name = str(getattr(model.loss, "name", model.loss)).lower()
    one_hot = np.eye(classes, dtype="float32")[y]
    dense = ("categorical" in name and "sparse" not in name) or "binary" in name
    tries = [one_hot, y] if dense else [y, one_hot]
    for attempt, labels in enumerate(tries):
        try:
            if attempt:
                model = keras.saving.load_model(path, safe_mode=True)
            result = model.evaluate(x, labels, batch_size=256, verbose=0, return_dict=True)
        except Exception:
            continue
        for key, value in result.items():
            if "acc" in key:
                return float(value)
        return None
    return None


def measure(spec: dict[str, Any], workdir: Path, timeout: float = 900.0) -> dict[str, Any]:
    """Run the evaluator in a subprocess; never raises for what the model does."""
    spec_file = workdir / f"measure_{abs(hash(json.dumps(spec, sort_keys=True)))}.json"
    spec_file.write_text(json.dumps(spec))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
    try:
        proc = subprocess.run([sys.executable, "-m", "grader.evaluate", str(spec_file)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"measuring the model took longer than {timeout:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"ok": False, "error": f"the evaluator failed (exit {proc.returncode}): {tail[0][:300]}"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grader.evaluate SPEC.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text())
    try:
        result = measure_in_process(spec)
    except Exception as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
