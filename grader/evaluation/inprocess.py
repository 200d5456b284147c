"""Measure one saved model inside the sandboxed evaluator: inspect, load (Keras `safe_mode`),
predict on the official test set, probe memorisation, Keras's own figure (`measure_in_process`);
and the evaluator process's entry (`main`): one SPEC.json, or --wait for paths of SPEC.json on
stdin (started early, or kept between submissions by a batch worker).

Spec: {"model": path, "data_dir": dir, "dataset": "mnist"|"cifar10", "scale": float,
       "offset": float, "sample_shape": [...], "dtype": str,
       "expect": {"min", "max", "mean", "exact": bool} | None, "max_params": int, "probe": bool,
       "inspect": bool, "training": bool, "read_file": bool}
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader.evaluation import imagenet
from grader.evaluation.description import describe_model, describe_training
from grader.evaluation.filedescription import describe_file
from grader.evaluation.fitfile import training_from_file
from grader.evaluation.inputs import InputMismatch, check_inputs, labels_of, load_official, preprocess
from grader.evaluation.inspection import MAX_PARAMS, inspect_model_file
from grader.evaluation.memorisation import memorisation, probe
from grader.evaluation.numpymodel import Unsupported, read_model
from grader.evaluation.predicting import predict_batches

_READY = False
#: official arrays per (data dir, data set), loaded once per evaluator process
_OFFICIAL_CACHE: dict[tuple[str, str], dict[str, np.ndarray]] = {}


def _ready() -> None:
    """Tell the grader side that the evaluator itself works (Keras imported, data loaded)."""
    global _READY
    if not _READY:
        _READY = True
        print(json.dumps({"stage": "ready"}), flush=True)


def _official(data_dir: str, dataset: str) -> dict[str, np.ndarray]:
    key = (str(data_dir), dataset)
    if key not in _OFFICIAL_CACHE:
        _OFFICIAL_CACHE[key] = load_official(data_dir, dataset)
    return _OFFICIAL_CACHE[key]


def measure_in_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Inspect, load, predict, score, probe. Runs in the sandboxed evaluator (imports Keras)."""
    facts = inspect_model_file(spec["model"], int(spec.get("max_params") or MAX_PARAMS))
    if not facts["ok"]:  # refused before Keras is even imported
        return facts
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    clock = [time.monotonic()]

    imagenet._READ_FILES["on"] = bool(spec.get("read_file", True))
    if spec.get("training") and spec.get("inspect") and imagenet._READ_FILES["on"]:
        described = None
        with contextlib.suppress(Exception):  # whatever the reader cannot tell, Keras tells below
            described = training_from_file(spec["model"], spec.get("data_dir"))
        if described is not None:  # a per-fit file needs only this (grader/checks/fitfiles.py)
            _ready()
            return {"ok": True, "inspect": True, "training": described, "read": "file"}
    # a simple model is read and run with NumPy (numpymodel.py), anything else by Keras
    fast, reader = None, {"used": "keras", "why": "the spec asks for Keras"}
    if spec.get("numpy", True) and not spec.get("training"):
        try:
            fast, reader = read_model(spec["model"]), {"used": "numpy"}
        except Unsupported as exc:
            reader["why"] = str(exc)[:300]
    if fast is None and spec.get("numpy", True) and spec.get("inspect") and not spec.get("training"):
        try:  # e.g. a pretrained base under a new head: its description needs no Keras either
            described = describe_file(spec["model"], facts)
        except Unsupported as exc:
            reader["why"] += f"; the file reader: {str(exc)[:300]}"
        else:
            _ready()
            return {"ok": True, "inspect": True, "file_model": described,
                    "reader": {"used": "file", "why_not_numpy": reader["why"]}}
    if fast is None:
        try:  # imported here: a Keras that cannot start is the environment's failure
            import keras  # noqa: F401
        except Exception as exc:
            return {"ok": False, "environment": True,
                    "error": f"the grader's evaluator could not import Keras: {type(exc).__name__}: "
                             f"{str(exc)[:300]}"}
    if spec.get("inspect"):  # the architecture only: load and describe, no data
        _ready()
        if fast is not None:
            return {"ok": True, "inspect": True, "file_model": fast.describe(facts), "reader": reader}
        try:
            model = _load(spec["model"])
        except Exception as exc:
            return {"ok": False, "status": "model-unloadable", "reader": reader, "error": "the saved model "
                    f"could not be loaded safely: {type(exc).__name__}: {str(exc)[:300]}"}
        out = {"ok": True, "inspect": True, "file_model": describe_model(model, facts), "reader": reader}
        if spec.get("training"):  # a per-fit file: how it was trained (grader/checks/fitfiles.py)
            out["training"] = describe_training(model, spec.get("data_dir"))
        return out

    arrays = _official(spec["data_dir"], spec["dataset"])
    _ready()  # from here on, failures are the model's
    y = labels_of(arrays["y_test"])
    try:
        x = preprocess(arrays["x_test"], spec)
        check_inputs(x, spec.get("expect"))
    except InputMismatch as exc:
        return {"ok": False, "status": "input-mismatch", "error": str(exc),
                "declared_params": facts["declared_params"]}
    try:
        model = fast if fast is not None else _load(spec["model"])
    except Exception as exc:  # unsafe layers, custom classes, a broken file
        return {"ok": False, "status": "model-unloadable", "reader": reader,
                "error": "the saved model could not be loaded safely: "
                         f"{type(exc).__name__}: {str(exc)[:300]}"}
    clock.append(time.monotonic())
    described = fast.describe(facts) if fast is not None else describe_model(model, facts)
    try:
        probs = predict_batches(model, x)
    except Exception as exc:
        return {"ok": False, "status": "input-mismatch", "file_model": described,
                "error": f"the model does not accept the official test images preprocessed as in the "
                         f"notebook ({list(x.shape[1:])}): {type(exc).__name__}: {str(exc)[:200]}"}
    if probs.ndim != 2 or probs.shape[1] < 2:
        return {"ok": False, "status": "bad-output", "file_model": described,
                "error": f"the model's output has shape {list(probs.shape)}, not one score per class"}
    pred = probs.argmax(axis=1)
    correct = pred == y
    per_class = [float(correct[y == c].mean()) if np.any(y == c) else None
                 for c in range(int(max(y.max() + 1, probs.shape[1])))]
    out: dict[str, Any] = {"ok": True, "accuracy": float(correct.mean()), "n": int(len(y)),
                           "per_class": per_class, "input_shape": list(x.shape),
                           "input_range": [float(x.min()), float(x.max())],
                           "file_model": described, "reader": reader}
    clock.append(time.monotonic())
    if spec.get("probe", True):
        figures, n, m = probe(model, arrays, y, spec)
        out["memorisation"] = memorisation(out["accuracy"], len(y), figures, n, m)
    clock.append(time.monotonic())
    out["keras_evaluate"] = (fast.keras_accuracy(probs, y) if fast is not None
                             else _keras_evaluate(model, probs, y, spec["model"]))
    clock.append(time.monotonic())
    # the batch's thread budget as this process got it (grader/evaluation/threads.py; None: all cores)
    out["blas_threads"] = int(os.environ["OPENBLAS_NUM_THREADS"]) \
        if os.environ.get("OPENBLAS_NUM_THREADS", "").isdigit() else None
    names = ("load_s", "predict_s", "probe_s", "keras_evaluate_s")  # where the evaluator's time went
    out["timings"] = {name: round(clock[i + 1] - clock[i], 3) for i, name in enumerate(names)}
    return out


def _keras_evaluate(model: Any, probs: np.ndarray, y: np.ndarray, path: str) -> float | None:
    """The accuracy Keras's own `evaluate` reports for these inputs, when the model was compiled
    with one, from the predictions already made: the compiled metrics are updated on them
    (`compute_metrics`, what `evaluate`'s test step does after its forward pass, which gives
    the same outputs as `predict` at the same batch size), so the test set is predicted once.
    Labels are one-hot for categorical/binary losses; a second try reloads the model (a failed
    first call can leave the compiled metrics built for the wrong label shape)."""
    import keras

    if getattr(model, "loss", None) is None:
        return None
    classes = probs.shape[1]
    name = str(getattr(model.loss, "name", model.loss)).lower()
    one_hot = np.eye(classes, dtype="float32")[y]
    dense = ("categorical" in name and "sparse" not in name) or "binary" in name
    tries = [one_hot, y] if dense else [y, one_hot]
    for attempt, labels in enumerate(tries):
        try:
            if attempt:
                model = keras.saving.load_model(path, safe_mode=True)
            model.reset_metrics()
            result = model.compute_metrics(None, labels, probs, sample_weight=None)
            result = {k: float(np.asarray(v)) for k, v in dict(result).items()}
        except Exception:
            continue
        for key, value in result.items():
            if "acc" in key:
                return value
        return None
    return None


#: a Keras model was loaded since the last clean-up (`_free`): the next load cleans up first
_USED = {"keras": False}
#: "1": import Keras while waiting for the first model; "warm": when the grader's "warm" line
#: says a model that needs it is coming (see main); anything else: when a model needs it
PREIMPORT_ENV = "GRADER_EVAL_PREIMPORT"
#: the line the grader sends (process.py `Evaluator.warm`) when the notebook built a pretrained
#: model with real weights: only Keras runs it, so import it while the notebook still runs
WARM_LINE = "warm"
#: seconds an evaluator waits for the grader's next batch before it cleans up (a submission's
#: next batch, its per-fit files read without Keras, comes within a second or so; the clean-up
#: takes about one: better spent while nothing waits for it)
IDLE_S = 2.0


def _load(path: str) -> Any:
    """The model, loaded safely, after the clean-up a model loaded before it left owing."""
    import keras

    if _USED["keras"]:
        _free(True)
    _USED["keras"] = True
    return keras.saving.load_model(path, safe_mode=True)


def _free(keras_loaded: bool) -> None:
    """Between two models of one evaluator process: drop Keras's graph state and garbage."""
    import gc

    if keras_loaded:
        with contextlib.suppress(Exception):
            import keras

            keras.backend.clear_session()
    gc.collect()
    _USED["keras"] = False


def _next_batch_within(seconds: float) -> bool:
    """Whether the grader sends its next line (or closes stdin) within `seconds`."""
    import select

    try:
        return bool(select.select([sys.stdin], [], [], seconds)[0])
    except (OSError, ValueError):
        return False


def _measure_guarded(spec: dict[str, Any]) -> dict[str, Any]:
    """measure_in_process, with what went wrong classified: before the evaluator was ready it
    is the grader's environment; a MemoryError is the model's size."""
    try:
        return measure_in_process(spec)
    except Exception as exc:  # MemoryError included
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        if not _READY:  # Keras or the official data could not be loaded: the grader's problem
            result.update(environment=True,
                          error="the grader's evaluator could not start: " + result["error"])
        elif isinstance(exc, MemoryError):
            result.update(status="model-too-large", memory_error=True,
                          error="measuring the model ran out of the evaluator's memory limit")
        return result


def main(argv: list[str] | None = None) -> int:
    """SPEC.json: one spec (prints its result) or {"batch": [spec, ...]} (prints
    {"index": i, "result": ...} per model as soon as it is measured, then {"stage": "done"}).
    --wait: import Keras first, then measure each SPEC.json path read from stdin, until EOF."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grader.evaluation.inprocess SPEC.json", file=sys.stderr)
        return 2
    if args[0] != "--wait":
        return _measure_file(args[0])
    # Keras is imported ahead only for a job alone on its machine (PREIMPORT_ENV, set by
    # process.py when the batch gave no thread budget), and there only once the grader says a
    # model that needs it is coming (WARM_LINE): its ~6 CPU s would otherwise compete with the
    # notebook for a model the readers here handle without it (numpymodel.py, filedescription.py).
    # Beside other jobs it would compete with their notebooks: imported when a model needs it
    import h5py  # noqa: F401  (the reader's own imports, while the notebook runs: ~0.1 s)
    ahead = os.environ.get(PREIMPORT_ENV)
    if ahead == "1":
        _import_keras()
    while line := sys.stdin.readline().strip():  # started early, or kept between submissions
        if line == WARM_LINE:
            if ahead == "warm":
                _import_keras()
            continue
        _measure_file(line)
        if _USED["keras"] and not _next_batch_within(IDLE_S):  # idle: clean up now, not at the next load
            _free("keras" in sys.modules)
    return 0


def _import_keras() -> None:
    with contextlib.suppress(Exception):  # a failure shows again, classified, when measuring
        import keras  # noqa: F401


def _measure_file(path: str) -> int:
    spec = json.loads(Path(path).read_text())
    if "batch" not in spec:
        print(json.dumps(_measure_guarded(spec)))
        return 0
    ahead = "keras" in sys.modules  # imported before this batch came (ahead, or by an earlier one)
    for index, one in enumerate(spec["batch"]):
        result = dict(_measure_guarded(one), keras_ready=ahead)
        print(json.dumps({"index": index, "result": result}), flush=True)
    print(json.dumps({"stage": "done"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
