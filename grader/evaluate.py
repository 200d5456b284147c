"""Measure a student's trained model outside the student's kernel, on data the grader holds.

The kernel saved each trained model as `.keras` (capture dir). `measure()` copies that file
into a fresh sandbox (grader/execute/sandbox.py: bubblewrap, no network, its own memory cap
and a time limit) and runs this file there as a script (`python -c <this source> SPEC.json`:
it needs nothing from the grader's package, so the repository stays hidden from it). The
script:

1. inspects the file before loading it: the zip's member sizes, and the parameter count the
   config declares, computed from each layer's config and build shape without building
   anything (`config_params`), so a 1 KB config declaring 300M parameters is refused with a
   status instead of allocating gigabytes;
2. loads the model with Keras' `safe_mode` (no deserialised Python code);
3. rebuilds the inputs from the official data files with the student's preprocessing as
   captured (an affine map of raw pixels, the sample shape, a resize when the student resized),
   and checks them against the statistics the capture recorded: inputs the grader cannot
   reproduce are a status (`input-mismatch`), not a number;
4. predicts on the official test set with the official labels, never on the student's own
   split or labels;
5. probes memorisation: the model's accuracy on the test set against a grader-chosen sample of
   the training set, clean and perturbed (1-pixel shift + noise), see `memorisation()`.

It prints one JSON object. Student code is never imported or executed here.

Spec: {"model": path, "data_dir": dir, "dataset": "mnist"|"cifar10", "scale": float,
       "offset": float, "sample_shape": [...], "dtype": str,
       "expect": {"min", "max", "mean", "exact": bool} | None, "max_params": int, "probe": bool}
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

#: official data sets: file name in the data dir (same table as grader/fingerprint.py)
OFFICIAL = {"mnist": "mnist.npz", "cifar10": "cifar10-10k.npz"}
#: models declaring more parameters than this are not loaded (VGG16 without its top: 14.7M)
MAX_PARAMS = 100_000_000
MAX_CONFIG_BYTES = 16 << 20
MAX_MODEL_BYTES = 2 << 30  # uncompressed size of every member of the .keras zip together
#: training images in the memorisation probe, and the decision rule (see `memorisation`)
PROBE_N = 5000
MEMO_MARGIN = 0.01
MEMO_Z = 2.0


# ---- the saved model, before loading it -------------------------------------------------------

def _prod(values: list[Any]) -> int:
    out = 1
    for v in values:
        out *= int(v) if isinstance(v, (int, float)) and v and v > 0 else 1
    return out


def _ints(v: Any, n: int = 2) -> list[int]:
    if isinstance(v, (int, float)):
        return [int(v)] * n
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else [1] * n


def _layer_params(cls: str, cfg: dict[str, Any], shape: list[Any] | None) -> int:
    """Weights a layer allocates when built on `shape` (batch axis first), from its config."""
    last = shape[-1] if shape and isinstance(shape[-1], int) else 1
    first = shape[1] if shape and len(shape) > 1 and isinstance(shape[1], int) else 1
    chans = first if cfg.get("data_format") == "channels_first" else last
    bias = 1 if cfg.get("use_bias", True) else 0
    units = int(cfg.get("units") or 0)
    filters = int(cfg.get("filters") or 0)
    if cls == "Dense":
        return last * units + bias * units
    if cls in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        rank = 1 if "1D" in cls else 3 if "3D" in cls else 2
        k = _prod(_ints(cfg.get("kernel_size", 1), rank))
        groups = int(cfg.get("groups") or 1)
        return k * max(chans // groups, 1) * filters + bias * filters
    if cls in ("DepthwiseConv1D", "DepthwiseConv2D"):
        dm = int(cfg.get("depth_multiplier") or 1)
        k = _prod(_ints(cfg.get("kernel_size", 1), 1 if "1D" in cls else 2))
        return k * chans * dm + bias * chans * dm
    if cls in ("SeparableConv1D", "SeparableConv2D"):
        dm = int(cfg.get("depth_multiplier") or 1)
        k = _prod(_ints(cfg.get("kernel_size", 1), 1 if "1D" in cls else 2))
        return k * chans * dm + chans * dm * filters + bias * filters
    if cls == "BatchNormalization":
        return 4 * chans
    if cls in ("LayerNormalization", "GroupNormalization"):
        return 2 * chans
    if cls == "Embedding":
        return int(cfg.get("input_dim") or 0) * int(cfg.get("output_dim") or 0)
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cls]
        biases = 2 if cls == "GRU" and cfg.get("reset_after", True) else 1
        return gates * (units * (last + units) + biases * units)
    if cls == "Normalization":
        return 2 * chans + 1
    return 0


def config_params(node: Any, depth: int = 0) -> int:
    """Parameters a Keras config declares, without building the model: every layer's weights
    from its own config and the input shape it is built on (build_config, or the shape of its
    first inbound tensor), nested models (a pretrained base, a Bidirectional wrapper) counted
    inside. Layers of unknown kinds count 0, so this is a lower bound of what loading costs."""
    if depth > 20 or not isinstance(node, dict):
        return 0
    cfg = node.get("config") if isinstance(node.get("config"), dict) else {}
    cls = str(node.get("class_name", ""))
    total = 0
    if isinstance(cfg.get("layers"), list):  # Sequential / Functional / a nested base
        total += sum(config_params(child, depth + 1) for child in cfg["layers"])
    for key in ("layer", "forward_layer", "backward_layer", "cell"):  # wrappers
        if isinstance(cfg.get(key), dict):
            total += config_params(cfg[key], depth + 1)
    build = node.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    if shape is None:
        for inbound in node.get("inbound_nodes") or []:
            args = inbound.get("args") if isinstance(inbound, dict) else None
            if args and isinstance(args[0], dict):
                shape = (args[0].get("config") or {}).get("shape")
                break
    if isinstance(shape, dict):  # a dict of named inputs: take the first
        shape = next(iter(shape.values()), None)
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        shape = shape[0]
    total += _layer_params(cls, cfg, shape if isinstance(shape, list) else None)
    return total


def inspect_model_file(path: str, max_params: int = MAX_PARAMS) -> dict[str, Any]:
    """{ok, declared_params} or {ok: False, status, error} for a .keras file, without loading it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_MODEL_BYTES:
                return {"ok": False, "status": "model-too-large",
                        "error": f"the saved model unpacks to {total / 2**30:.1f} GiB, more than the "
                                 f"{MAX_MODEL_BYTES / 2**30:.0f} GiB the grader loads"}
            info = next((i for i in infos if i.filename == "config.json"), None)
            if info is None or info.file_size > MAX_CONFIG_BYTES:
                return {"ok": False, "status": "model-unreadable",
                        "error": "the saved model has no readable config.json"}
            config = json.loads(z.read(info).decode("utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile, RecursionError) as exc:
        return {"ok": False, "status": "model-unreadable",
                "error": f"the saved model is not a readable .keras file ({type(exc).__name__})"}
    declared = config_params(config)
    if declared > max_params:
        return {"ok": False, "status": "model-too-large", "declared_params": declared,
                "error": f"the saved model declares {declared:,} parameters, more than the "
                         f"{max_params:,} the grader loads; a model for this task needs far fewer"}
    return {"ok": True, "declared_params": declared}


# ---- the inputs -------------------------------------------------------------------------------

def load_official(data_dir: str, dataset: str) -> dict[str, np.ndarray]:
    with np.load(Path(data_dir) / OFFICIAL[dataset], allow_pickle=False) as data:
        return {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}


def labels_of(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    y = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    return y.astype(np.int64)


def preprocess(raw: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """The student's preprocessing of raw 0..255 pixels as captured: affine map, sample shape
    (a reshape, or a bilinear resize when only the image size differs), dtype."""
    try:
        dtype = np.dtype(spec.get("dtype") or "float32")
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "fiu":
        raise InputMismatch(f"the model was evaluated on data of type {spec.get('dtype')!r}, not numbers")
    x = raw.astype(np.float64) * float(spec.get("scale", 1 / 255)) + float(spec.get("offset", 0.0))
    shape = [int(s) for s in spec.get("sample_shape") or []]
    if shape and math.prod(shape) == math.prod(x.shape[1:]):
        x = x.reshape((len(x), *shape))
    elif shape:
        if x.ndim == 3:
            x = x[..., None]
        if len(shape) != 3 or shape[2] != x.shape[3]:
            raise InputMismatch(f"the model was evaluated on samples of shape {shape}, which the official "
                                f"images of shape {list(raw.shape[1:])} cannot be turned into")
        import tensorflow as tf

        x = np.concatenate([tf.image.resize(x[i:i + 500], shape[:2]).numpy() for i in range(0, len(x), 500)])
    return x.astype(dtype)


class InputMismatch(Exception):
    """The grader cannot rebuild the inputs the student's model was evaluated on."""


def check_inputs(x: np.ndarray, expect: dict[str, Any] | None) -> None:
    """Raise InputMismatch when the rebuilt inputs do not have the captured statistics. `exact`:
    the captured array was the official split itself (then they must agree closely); otherwise
    it was the student's own data, preprocessed the same way (min/max exact, mean close)."""
    if not expect or expect.get("min") is None or expect.get("max") is None:
        return
    lo, hi = float(x.min()), float(x.max())
    span = max(abs(float(expect["max"]) - float(expect["min"])), 1e-6)
    tol = 0.01 * span
    problems = []
    if abs(lo - expect["min"]) > tol or abs(hi - expect["max"]) > tol:
        problems.append(f"range [{lo:.4g}, {hi:.4g}] instead of [{expect['min']:.4g}, {expect['max']:.4g}]")
    if expect.get("mean") is not None:
        mean = float(x.mean(dtype=np.float64))
        # official train and test means differ by 0.2% of the range (MNIST and CIFAR-10)
        mtol = (0.01 if expect.get("exact") else 0.03) * span
        if abs(mean - float(expect["mean"])) > mtol:
            problems.append(f"mean {mean:.4g} instead of {float(expect['mean']):.4g}")
    if problems:
        raise InputMismatch("the official images preprocessed the way the capture describes (an affine "
                            "rescaling of the pixels) have " + " and ".join(problems)
                            + ", so the grader cannot reproduce the model's inputs")


def perturb(raw: np.ndarray, seed: int = 1) -> np.ndarray:
    """A copy no student has: each image shifted by one pixel in a random direction (of 8),
    plus Gaussian noise of 5% of the pixel range, in raw pixel units."""
    rng = np.random.default_rng(seed)
    x = raw.astype(np.float32)
    out = np.empty_like(x)
    dirs = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
    pick = rng.integers(0, len(dirs), len(x))
    for k, (dy, dx) in enumerate(dirs):
        idx = np.where(pick == k)[0]
        out[idx] = np.roll(x[idx], (dy, dx), axis=(1, 2))
    out += rng.normal(0.0, 0.05 * 255.0, out.shape).astype(np.float32)
    return np.clip(out, 0.0, 255.0)


# ---- measuring ----------------------------------------------------------------------------------

def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float((np.asarray(model.predict(x, batch_size=256, verbose=0)).argmax(axis=1) == y).mean())


def memorisation(test_acc: float, n_test: int, probe: dict[str, float], n_probe: int) -> dict[str, Any]:
    """Does the model know the test set better than data it could not have memorised?

    A model trained on the training set scores about as well on a sample of it as on the test
    set (12 honest MNIST models: -1.0 to +0.6 points, benchmarks/memorisation_probe.py). A model
    that memorised the test images (a lookup table of them, or training on them) scores clearly
    better on the test set than on the training sample, and keeps that advantage on a perturbed
    copy of both (shifted and noisy images nobody has). Flagged when both advantages exceed
    MEMO_MARGIN by MEMO_Z standard errors."""
    def se(p: float, n: int) -> float:
        return math.sqrt(max(p * (1 - p), 1e-9) / max(n, 1))

    clean = test_acc - probe["train"]
    shifted = probe["test_perturbed"] - probe["train_perturbed"]
    clean_se = math.hypot(se(test_acc, n_test), se(probe["train"], n_probe))
    shifted_se = math.hypot(se(probe["test_perturbed"], n_probe), se(probe["train_perturbed"], n_probe))
    flagged = (clean - MEMO_Z * clean_se >= MEMO_MARGIN) and (shifted - MEMO_Z * shifted_se >= MEMO_MARGIN)
    return {"memorised": bool(flagged), "advantage": round(clean, 4),
            "advantage_perturbed": round(shifted, 4),
            "se": round(clean_se, 4), "se_perturbed": round(shifted_se, 4), "n_probe": n_probe,
            **{k: round(v, 4) for k, v in probe.items()}}


_READY = False


def _ready() -> None:
    """Tell the grader side that the evaluator itself works (Keras imported, data loaded)."""
    global _READY
    _READY = True
    print(json.dumps({"stage": "ready"}), flush=True)


def measure_in_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Inspect, load, predict, score, probe. Runs in the sandboxed evaluator (imports Keras)."""
    facts = inspect_model_file(spec["model"], int(spec.get("max_params") or MAX_PARAMS))
    if not facts["ok"]:  # refused before Keras is even imported
        return facts
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    arrays = load_official(spec["data_dir"], spec["dataset"])
    _ready()  # from here on, failures are the model's
    y = labels_of(arrays["y_test"])
    try:
        x = preprocess(arrays["x_test"], spec)
        check_inputs(x, spec.get("expect"))
    except InputMismatch as exc:
        return {"ok": False, "status": "input-mismatch", "error": str(exc),
                "declared_params": facts["declared_params"]}
    try:
        model = keras.saving.load_model(spec["model"], safe_mode=True)
    except Exception as exc:  # unsafe layers, custom classes, a broken file
        return {"ok": False, "status": "model-unloadable",
                "error": "the saved model could not be loaded safely: "
                         f"{type(exc).__name__}: {str(exc)[:300]}"}
    try:
        probs = np.asarray(model.predict(x, batch_size=256, verbose=0))
    except Exception as exc:
        return {"ok": False, "status": "input-mismatch",
                "error": f"the model does not accept the official test images preprocessed as in the "
                         f"notebook ({list(x.shape[1:])}): {type(exc).__name__}: {str(exc)[:200]}"}
    if probs.ndim != 2 or probs.shape[1] < 2:
        return {"ok": False, "status": "bad-output",
                "error": f"the model's output has shape {list(probs.shape)}, not one score per class"}
    pred = probs.argmax(axis=1)
    correct = pred == y
    per_class = [float(correct[y == c].mean()) if np.any(y == c) else None
                 for c in range(int(max(y.max() + 1, probs.shape[1])))]
    out: dict[str, Any] = {"ok": True, "accuracy": float(correct.mean()), "n": int(len(y)),
                           "per_class": per_class, "input_shape": list(x.shape),
                           "input_range": [float(x.min()), float(x.max())],
                           "file_model": {"params": int(model.count_params()),
                                          "declared_params": facts["declared_params"],
                                          "layers": [type(layer).__name__ for layer in model.layers][:200]}}
    if spec.get("probe", True):
        n = min(int(spec.get("probe_n") or PROBE_N), len(arrays["x_train"]), len(y))
        rng = np.random.default_rng(20240607)
        tr = rng.choice(len(arrays["x_train"]), n, replace=False)
        te = rng.choice(len(y), n, replace=False)
        ytr = labels_of(arrays["y_train"])[tr]
        xtr, xte = arrays["x_train"][tr], arrays["x_test"][te]
        probe = {"train": _accuracy(model, preprocess(xtr, spec), ytr),
                 "test_perturbed": _accuracy(model, preprocess(perturb(xte, 1), spec), y[te]),
                 "train_perturbed": _accuracy(model, preprocess(perturb(xtr, 2), spec), ytr)}
        out["memorisation"] = memorisation(out["accuracy"], len(y), probe, n)
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


# ---- the sandboxed run (grader side) -----------------------------------------------------------

#: the evaluator's own limits: private memory (RLIMIT_DATA, like the kernel's) and wall time
EVAL_MEMORY = "6G"
EVAL_TIMEOUT_S = 900.0


def _copy_regular(src: Path, dest: Path, limit: int = MAX_MODEL_BYTES) -> str | None:
    """Copy a capture file into the evaluator's folder: a regular file, opened without following
    a link, at most `limit` bytes. Returns why not, or None."""
    import stat

    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return f"the saved model {src.name} cannot be opened ({exc.strerror})"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return f"the saved model {src.name} is not a regular file"
        if info.st_size > limit:
            return f"the saved model is {info.st_size / 2**30:.1f} GiB, more than the grader loads"
        with open(dest, "wb") as out:
            copied = 0
            while chunk := fh.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    return "the saved model grew while it was copied"
                out.write(chunk)
    return None


def measure(spec: dict[str, Any], workdir: Path, timeout: float = EVAL_TIMEOUT_S,
            memory: str | int | None = None) -> dict[str, Any]:
    """Run the evaluator on `spec` in a fresh sandbox; never raises for what the model does.
    (`workdir`, the capture folder, is kept for callers; nothing is written there.)

    A result with `environment: True` means the grader's own evaluator could not run (bwrap
    failed, Python or Keras could not start): not the student's fault, so not their zero."""
    import shutil
    import signal
    import subprocess
    import tempfile

    from grader.execute.sandbox import SandboxPlan, parse_memory

    del workdir  # the capture folder is the student's: the sandbox's folder lives in the grader's TMPDIR
    root = Path(tempfile.mkdtemp(prefix="grader-eval-"))
    plan = None
    try:
        data_dir = str(Path(spec["data_dir"]).resolve()) if spec.get("data_dir") else None
        memory = memory if memory is not None else os.environ.get("GRADER_EVAL_MEMORY", EVAL_MEMORY)
        plan = SandboxPlan(root=root, data_dir=data_dir, memory_bytes=parse_memory(memory))
        model = plan.workdir / "model.keras"
        why = _copy_regular(Path(spec["model"]), model)
        if why:
            return {"ok": False, "status": "model-unreadable", "error": why}
        inner = dict(spec, model=str(model), data_dir=data_dir)
        (plan.workdir / "spec.json").write_text(json.dumps(inner))
        source = Path(__file__).read_text(encoding="utf-8")
        argv = plan.wrap([sys.executable, "-c", source, str(plan.workdir / "spec.json")])
        env = dict(plan.env(), TF_CPP_MIN_LOG_LEVEL="3")
        sandbox = plan.summary()
        try:
            proc = subprocess.Popen(argv, cwd=plan.workdir, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
        except OSError as exc:
            return {"ok": False, "environment": True,
                    "error": f"the grader's evaluator could not start ({exc.strerror}: {argv[0]})"}
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"ok": False, "status": "timeout",
                    "error": f"measuring the model took longer than {timeout:g} s"}
    finally:
        if plan is not None:
            plan.cleanup()  # the run's memory cgroup, where the machine offers one
        shutil.rmtree(root, ignore_errors=True)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    ready = any('"stage": "ready"' in line for line in lines)
    for line in reversed(lines):
        if '"stage": "ready"' in line:
            break
        try:
            result = json.loads(line)
        except ValueError:
            break
        result["evaluator_sandbox"] = sandbox.get("method")
        return result
    tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
    if not ready:  # it never got as far as the model: the grader's environment failed
        return {"ok": False, "environment": True,
                "error": f"the grader's evaluator failed to start (exit {proc.returncode}): {tail[0][:300]}"}
    killed = proc.returncode in (-9, 137) or "MemoryError" in (stderr or "")
    return {"ok": False, "status": "model-too-large" if killed else "evaluator-crashed",
            "error": f"the evaluator failed while measuring the model (exit {proc.returncode}): "
                     f"{tail[0][:300]}"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grader.evaluate SPEC.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text())
    try:
        result = measure_in_process(spec)
    except Exception as exc:  # MemoryError included
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        if not _READY:  # Keras or the official data could not be loaded: the grader's problem
            result.update(environment=True,
                          error="the grader's evaluator could not start: " + result["error"])
        elif isinstance(exc, MemoryError):
            result.update(status="model-too-large",
                          error="measuring the model ran out of the evaluator's memory limit")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
