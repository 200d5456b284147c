# Runs inside the student's kernel (sent as a hidden cell; see grader/execute/runner.py).
#
# Capture of what the notebook really did with Keras, for checks that trust nothing printed:
# every model (layers, config essentials, trainable flags, nested pretrained bases and where
# their weights came from), every fit / evaluate / predict call (data shapes, dtypes, value
# ranges, per-sample fingerprints, label counts, generator settings, epochs, batch size,
# optimizer, loss, history, the error if the call raised, the cell it ran in) and the trained
# models themselves (saved as .keras in the capture directory, so the grader evaluates them
# outside this kernel). The quick profile's training budget is applied here too.
#
# Hooks are installed lazily: the setup file's import hook patches Keras right after `keras` is first
# imported (directly or through tensorflow.keras), so notebooks without Keras pay nothing.
# The capture file is rewritten after every call, so a later crash keeps what was captured.
# Per-sample fingerprints: grader/fingerprint.py has the same function (a test keeps them equal).
# This code runs in a private module namespace (runner.py `_prelude`), not in the notebook's
# globals: nothing here is reachable by name from the student's code. The budget caps are frozen
# in a closure when this file runs, and a callback counts the epochs and batches each fit really
# ran, so a lifted cap shows up in the capture; the runner checks those counts against its own
# copy of the caps and treats the capture as untrusted data throughout.
#
# Capture file (capture_dir/capture.json), read by grader/execute/runner.py into ExecutionRecord:
#   models[i]: {index, cell, class, name, input_shape, output_shape, params, trainable_params,
#               loss {name, class, from_logits}, optimizer {class, learning_rate}, weights_source,
#               layers: [{class, name, output_shape, params, trainable, trainable_params, config,
#                         nested base only: n_layers, trainable_layers, input_shape, weights_source}]}
#   fits[]: {cell, status ok|error|running, error, model, x, validation, validation_split, epochs,
#            batch_size, steps_per_epoch, optimizer, loss, trainable {model_params, bases[]},
#            budget {epochs: [asked, used], samples: [n, used], steps_per_epoch, ...}, history}
#   evaluates[] / predicts[]: {cell, status, error, model, x, keep {file, n, of}, metrics}
#   data description x: {kind array|image-data-generator|image-directory|tf.data|sequence|generator,
#            shape, dtype, n, min, max, mean, fingerprint {file, vmin, vmax}, labels {counts...},
#            generator {rotation_range..., rescale, augmented}}
#   fits[].saved_fit: {file (model_<i>_fit<k>.keras), cell, fit k, status, save_s, bytes}: a model
#            with a nested base saved right after each fit (grader/checks/fitfiles.py reads them)
#   saved_models[]: {model, file (model_<i>.keras), cell, status, save_s}: every model fitted,
#            evaluated or found in the notebook's globals after a cell, saved after that cell; the
#            grader scores the architecture from this file and ties it to models[i]
#            (grader/checks/modelfile.py)
#   capture_s (fits, evaluates, predicts) and save_s: the hooks' own seconds, the Keras call
#            itself not counted (benchmarks/grading_overhead.py reports them; nothing is graded on them)
#   budget: {profile, caps, missing_weights (from the setup's _grader_missing_weights list)}
import contextlib as _grader_contextlib
import json as _grader_json
import os as _grader_os
import sys as _grader_sys
import time as _grader_time

_grader_capture = {
    "models": [], "fits": [], "evaluates": [], "predicts": [], "saved_models": [],
    "load_weights": [], "budget": {}, "capture_errors": [], "tampered": [],
}
_grader_model_index = {}  # id(model) -> index into models
_grader_model_refs = {}  # id(model) -> model (keeps ids stable while we refer to them)
_grader_dirty = set()  # model indices fitted since their last save
_grader_fp_cache = {}  # (id(array), shape) -> fingerprint file
_grader_weight_sources = {}  # id(model) -> weight file loaded into it
_grader_cell = -1  # set by the runner's marker cell (`# grader: cell N NONCE`), see _grader_pre_cell
_grader_depth = [0]  # >0 while inside a hooked call: Keras' own evaluate inside fit is not the student's


def _grader_now_cell():
    return _grader_cell


def _grader_pre_cell(info=None):
    """The runner announces each student cell with a hidden marker cell carrying a nonce."""
    global _grader_cell
    raw = (getattr(info, "raw_cell", "") or "").strip()
    prefix = "# grader: cell "
    if raw.startswith(prefix) and raw.endswith(" " + str(_grader_config.get("nonce"))):
        with _grader_contextlib.suppress(ValueError):
            _grader_cell = int(raw[len(prefix):].split()[0])


def _grader_write_capture():
    # the setup code (10_*.py) lists pretrained weight files it could not provide here
    missing = globals().get("_grader_missing_weights")
    if missing:
        _grader_capture["budget"]["missing_weights"] = list(missing)
    path = _grader_config["capture_file"]
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as fh:
            _grader_json.dump(_grader_capture, fh, default=str)
        _grader_os.replace(tmp, path)
    except Exception:
        pass


def _grader_note_error(where, exc):
    if len(_grader_capture["capture_errors"]) < 50:
        _grader_capture["capture_errors"].append({"where": where, "error": f"{type(exc).__name__}: {exc}"})


# ---- fingerprints ---------------------------------------------------------------------------

def _grader_fingerprint(x, bounds=None):
    """Per-sample 64-bit hashes, invariant to affine rescaling of the whole array (x/255,
    x/127.5-1, standardisation) and to a trailing channel axis of 1. The same figures as
    grader/fingerprint.py's, computed in blocks of rows with the temporaries reused (a third
    less time on MNIST's training set); `bounds`: the array's (min, max) when already known."""
    import numpy as np

    a = np.asarray(x)
    n = a.shape[0]
    flat = a.reshape(n, -1)
    d = flat.shape[1]
    idx = np.linspace(0, d - 1, num=min(d, 128)).astype(np.int64)
    vmin, vmax = (float(flat.min()), float(flat.max())) if bounds is None else map(float, bounds)
    weights = np.random.default_rng(20240607).integers(1, 2**62, size=len(idx), dtype=np.uint64)
    h = np.empty(n, dtype=np.uint64)
    for start in range(0, n, 4096):  # each row's hash is its own: blocks change nothing
        sub = flat[start:start + 4096, idx].astype(np.float64)
        if vmax > vmin:
            sub -= vmin
            sub /= vmax - vmin
            sub *= 255.0
            np.rint(sub, out=sub)
        else:
            sub[:] = 0.0
        np.clip(sub, 0, 255, out=sub)
        q = sub.astype(np.uint64)
        with np.errstate(over="ignore"):
            q *= weights
            h[start:start + 4096] = q.sum(axis=1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h += np.uint64(d)
    return h, vmin, vmax


def _grader_save_fp(a, bounds=None):
    import numpy as np

    key = (id(a), tuple(a.shape))
    if key in _grader_fp_cache:
        return _grader_fp_cache[key]
    h, vmin, vmax = _grader_fingerprint(a, bounds)
    name = f"fp_{len(_grader_fp_cache)}.npy"
    np.save(_grader_os.path.join(_grader_config["capture_dir"], name), h)
    info = {"file": name, "vmin": vmin, "vmax": vmax}
    _grader_fp_cache[key] = info
    return info


# ---- data descriptions ----------------------------------------------------------------------

_GRADER_AUG_KEYS = ("rotation_range", "width_shift_range", "height_shift_range", "shear_range",
                    "zoom_range", "channel_shift_range", "horizontal_flip", "vertical_flip",
                    "brightness_range")


def _grader_labels(y):
    import numpy as np

    y = np.asarray(y)
    out = {"shape": list(y.shape), "dtype": str(y.dtype)}
    try:
        if y.ndim == 2 and y.shape[1] > 1:
            labels = y.argmax(axis=1)
            out["one_hot"] = True
        else:
            labels = y.reshape(-1)
        if labels.size and np.issubdtype(labels.dtype, np.number):
            out["min"], out["max"] = float(labels.min()), float(labels.max())
            if np.all(np.equal(np.mod(labels, 1), 0)) and labels.min() >= 0 and labels.max() < 1000:
                out["counts"] = np.bincount(labels.astype(np.int64)).tolist()
    except Exception as exc:
        _grader_note_error("labels", exc)
    return out


def _grader_array_desc(a, fingerprint=True):
    import numpy as np

    a = np.asarray(a)
    desc = {"kind": "array", "shape": list(a.shape), "dtype": str(a.dtype),
            "n": int(a.shape[0]) if a.ndim else 1}
    if a.size and np.issubdtype(a.dtype, np.number):
        desc["min"], desc["max"] = float(a.min()), float(a.max())
        desc["mean"] = float(a.mean(dtype=np.float64)) if a.size < 5e8 else None
    if fingerprint and a.ndim >= 2 and a.shape[0] >= 1 and np.issubdtype(a.dtype, np.number):
        desc["fingerprint"] = _grader_save_fp(a, (desc["min"], desc["max"]) if "min" in desc else None)
    return desc


def _grader_is_array(v):
    return hasattr(v, "shape") and hasattr(v, "dtype") and hasattr(v, "__len__") or type(v).__name__ in (
        "EagerTensor", "Tensor", "ResourceVariable")


def _grader_generator_settings(gen):
    s = {}
    for k in _GRADER_AUG_KEYS + ("rescale", "featurewise_center", "samplewise_center",
                                  "featurewise_std_normalization", "samplewise_std_normalization"):
        if hasattr(gen, k):
            v = getattr(gen, k)
            s[k] = v if isinstance(v, (int, float, bool, type(None))) else str(v)
    pf = getattr(gen, "preprocessing_function", None)
    s["preprocessing_function"] = getattr(pf, "__name__", str(pf)) if pf is not None else None
    # the Keras generator stores the zoom range as [1 - z, 1 + z]
    zr = getattr(gen, "zoom_range", None)
    zoom = (bool(len(zr) == 2 and (zr[0] != 1 or zr[1] != 1)) if hasattr(zr, "__len__")
            else bool(zr))
    s["augmented"] = bool(
        any(bool(getattr(gen, k, 0)) for k in _GRADER_AUG_KEYS if k not in ("zoom_range",)) or zoom)
    return s


def _grader_data_desc(x, y=None):
    """Describe whatever was passed as data: arrays, ImageDataGenerator iterators, Sequences,
    tf.data datasets, plain generators (type only: sampling would consume them)."""
    import numpy as np

    try:
        if x is None:
            return None
        if isinstance(x, (list, tuple)) and x and _grader_is_array(x[0]) and y is None and len(x) == 2:
            x, y = x[0], x[1]
        if isinstance(x, dict):
            x = next(iter(x.values()))
        if _grader_is_array(x):
            desc = _grader_array_desc(x)
            if y is not None and _grader_is_array(y):
                desc["labels"] = _grader_labels(y)
            return desc
        if hasattr(x, "image_data_generator") and hasattr(x, "x") and x.x is not None:
            # keras' NumpyArrayIterator (ImageDataGenerator.flow)
            gen = x.image_data_generator
            desc = _grader_array_desc(x.x)
            desc["kind"] = "image-data-generator"
            desc["raw_min"], desc["raw_max"] = desc.get("min"), desc.get("max")
            settings = _grader_generator_settings(gen)
            desc["generator"] = settings
            rescale = settings.get("rescale")
            if isinstance(rescale, (int, float)) and rescale and "min" in desc:
                desc["min"], desc["max"] = desc["min"] * rescale, desc["max"] * rescale
            desc["batch_size"] = getattr(x, "batch_size", None)
            if getattr(x, "y", None) is not None:
                desc["labels"] = _grader_labels(x.y)
            return desc
        if hasattr(x, "image_data_generator"):  # DirectoryIterator: files, no arrays
            return {"kind": "image-directory", "n": getattr(x, "samples", None),
                    "image_shape": list(getattr(x, "image_shape", []) or []),
                    "generator": _grader_generator_settings(x.image_data_generator),
                    "labels": _grader_labels(getattr(x, "classes", [])),
                    "batch_size": getattr(x, "batch_size", None)}
        mod = type(x).__module__ or ""
        if "tensorflow" in mod and hasattr(x, "take") and hasattr(x, "element_spec"):
            desc = {"kind": "tf.data", "spec": str(x.element_spec)[:500]}
            with _grader_contextlib.suppress(Exception):
                desc["cardinality"] = int(x.cardinality())
            for batch in x.take(1):
                bx = batch[0] if isinstance(batch, (tuple, list)) else batch
                bx = np.asarray(bx)
                desc.update({"sample_shape": list(bx.shape), "dtype": str(bx.dtype),
                             "min": float(bx.min()), "max": float(bx.max())})
            return desc
        if hasattr(x, "__getitem__") and hasattr(x, "__len__"):  # keras PyDataset / Sequence
            desc = {"kind": "sequence", "class": type(x).__name__, "batches": len(x)}
            batch = x[0]
            bx = np.asarray(batch[0] if isinstance(batch, (tuple, list)) else batch)
            desc.update({"sample_shape": list(bx.shape), "dtype": str(bx.dtype),
                         "min": float(bx.min()), "max": float(bx.max())})
            return desc
        return {"kind": "generator", "class": type(x).__name__}
    except Exception as exc:
        _grader_note_error("data", exc)
        return {"kind": "unknown", "class": type(x).__name__, "error": str(exc)[:200]}


# ---- models ---------------------------------------------------------------------------------

def _grader_jsonable(v):
    if isinstance(v, (int, float, bool, str, type(None))):
        return v
    if isinstance(v, (list, tuple)):
        return [_grader_jsonable(i) for i in v]
    if isinstance(v, dict):
        return {str(k): _grader_jsonable(i) for k, i in v.items() if k not in ("dtype",)}
    return str(v)[:200]


_GRADER_CONFIG_KEYS = ("filters", "kernel_size", "strides", "padding", "activation", "units", "pool_size",
                       "rate", "scale", "offset", "height", "width", "from_logits", "axis", "data_format")


def _grader_count_weights(weights):
    import numpy as np

    return int(sum(int(np.prod(w.shape)) for w in weights))


def _grader_layer_row(layer):
    try:
        shape = list(layer.output.shape)
    except Exception:
        shape = None
    try:
        config = layer.get_config()
    except Exception:
        config = {}
    row = {
        "class": type(layer).__name__,
        "name": layer.name,
        "output_shape": shape,
        "params": int(layer.count_params()) if getattr(layer, "built", False) else 0,
        "trainable": bool(layer.trainable),
        "trainable_params": _grader_count_weights(layer.trainable_weights),
        "config": {k: _grader_jsonable(config[k]) for k in _GRADER_CONFIG_KEYS if k in config},
    }
    if hasattr(layer, "layers") and len(getattr(layer, "layers", [])) > 0:  # nested model (a base)
        row["nested"] = True
        row["n_layers"] = len(layer.layers)
        row["trainable_layers"] = sum(1 for sub in layer.layers if sub.trainable and sub.weights)
        row["weighted_layers"] = sum(1 for sub in layer.layers if sub.weights)
        try:
            row["input_shape"] = list(layer.inputs[0].shape)
        except Exception:
            try:
                row["input_shape"] = list(layer.inputs[0].shape)
            except Exception:
                row["input_shape"] = None
        row["weights_source"] = _grader_weight_sources.get(id(layer))
    return row


def _grader_loss_desc(model):
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, str):
        return {"name": loss, "from_logits": False}
    if isinstance(loss, (list, tuple, dict)):
        return {"name": str(loss)[:200], "from_logits": False}
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    from_logits = False
    try:
        cfg = loss.get_config()
        from_logits = bool(cfg.get("from_logits", False))
    except Exception:
        pass
    return {"name": str(name), "class": type(loss).__name__, "from_logits": from_logits}


def _grader_optimizer_desc(model):
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    desc = {"class": type(opt).__name__}
    try:
        import numpy as np

        lr = opt.learning_rate
        desc["learning_rate"] = float(np.asarray(lr))
    except Exception:
        with _grader_contextlib.suppress(Exception):
            desc["learning_rate"] = str(type(opt._learning_rate).__name__)
    return desc


def _grader_model_summary(model):
    layers = [_grader_layer_row(layer) for layer in getattr(model, "layers", [])]
    try:
        input_shape = list(model.inputs[0].shape) if getattr(model, "inputs", None) else None
    except Exception:
        input_shape = None
    try:
        output_shape = list(model.outputs[0].shape) if getattr(model, "outputs", None) else None
    except Exception:
        output_shape = None
    return {
        "class": type(model).__name__, "name": model.name, "layers": layers,
        "input_shape": input_shape, "output_shape": output_shape,
        "params": int(model.count_params()) if getattr(model, "built", False) else 0,
        "trainable_params": _grader_count_weights(model.trainable_weights),
        "loss": _grader_loss_desc(model), "optimizer": _grader_optimizer_desc(model),
        "weights_source": _grader_weight_sources.get(id(model)),
    }


def _grader_model_entry(model, cell=None):
    """Index of the model in the capture, adding or refreshing its summary."""
    key = id(model)
    try:
        summary = _grader_model_summary(model)
    except Exception as exc:
        _grader_note_error("model", exc)
        summary = {"class": type(model).__name__, "name": getattr(model, "name", "?"), "layers": []}
    if key in _grader_model_index:
        index = _grader_model_index[key]
        entry = _grader_capture["models"][index]
        entry.update(summary)
    else:
        index = len(_grader_capture["models"])
        summary.update({"index": index, "cell": _grader_now_cell() if cell is None else cell})
        _grader_capture["models"].append(summary)
        _grader_model_index[key] = index
        _grader_model_refs[key] = model
    _grader_capture["models"][index]["last_cell"] = _grader_now_cell()
    return index


# ---- training budget ------------------------------------------------------------------------

def _grader_make_budget(profile, caps, seed):
    """The quick profile's caps, frozen now (before any student cell) in a closure."""
    import types

    caps = types.MappingProxyType(dict(caps or {}))
    seed = int(seed)
    apply_caps = _grader_apply_caps  # bound now, like the caps

    def apply(kw, call):
        if profile != "quick" or not caps:
            return None
        return apply_caps(kw, caps, seed)

    return apply, caps


def _grader_apply_caps(kw, budget, seed):
    """Quick profile: cap epochs and the samples/steps of one epoch. Returns what was applied."""
    import numpy as np

    applied = {}
    max_epochs = budget.get("max_epochs")
    epochs = kw.get("epochs", 1) or 1
    if max_epochs and epochs - (kw.get("initial_epoch") or 0) > max_epochs:
        kw["epochs"] = (kw.get("initial_epoch") or 0) + int(max_epochs)
        applied["epochs"] = [epochs, kw["epochs"]]
    steps = budget.get("max_steps_per_epoch")
    x = kw.get("x")
    if steps and x is not None:
        if _grader_is_array(x) or (isinstance(x, dict) and x):
            batch = kw.get("batch_size") or 32
            limit = int(steps) * int(batch)
            n = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
            if n > limit:
                rng = np.random.default_rng(seed)
                pick = np.sort(rng.choice(n, size=limit, replace=False))
                for name in ("x", "y", "sample_weight"):
                    v = kw.get(name)
                    if v is None:
                        continue
                    if isinstance(v, dict):
                        kw[name] = {k: np.asarray(a)[pick] for k, a in v.items()}
                    elif _grader_is_array(v):
                        kw[name] = np.asarray(v)[pick]
                applied["samples"] = [n, limit]
        else:
            asked = kw.get("steps_per_epoch")
            try:
                available = len(x)
            except Exception:
                available = None
            cap = min(int(steps), asked or steps, available or steps)
            if cap != asked:
                kw["steps_per_epoch"] = cap
                applied["steps_per_epoch"] = [asked or available, cap]
    vmax = budget.get("max_validation_samples")
    vd = kw.get("validation_data")
    if vmax and vd is not None:
        if isinstance(vd, (tuple, list)) and vd and _grader_is_array(vd[0]):
            n = len(vd[0])
            if n > vmax:
                rng = np.random.default_rng(seed + 1)
                pick = np.sort(rng.choice(n, size=int(vmax), replace=False))
                kw["validation_data"] = tuple(np.asarray(v)[pick] for v in vd)
                applied["validation_samples"] = [n, int(vmax)]
        elif not _grader_is_array(vd):
            vsteps = max(1, int(vmax) // int(getattr(vd, "batch_size", None) or 32))
            if not kw.get("validation_steps") or kw["validation_steps"] > vsteps:
                kw["validation_steps"] = vsteps
                applied["validation_steps"] = vsteps
    return applied


# ---- the hooks ------------------------------------------------------------------------------

def _grader_bind(fn, self, args, kwargs):
    import inspect

    sig = inspect.signature(fn)
    bound = sig.bind(self, *args, **kwargs)
    out = dict(bound.arguments)
    out.pop("self", None)
    extra = out.pop("kwargs", None)
    if isinstance(extra, dict):
        out.update(extra)
    return out


def _grader_history(history):
    hist = getattr(history, "history", None) or {}
    return {k: [float(v) for v in vals] for k, vals in hist.items()}


def _grader_call_recorded(record, original, model, kw):
    """Run a wrapped Keras call (nested calls are not recorded) and note how it ended."""
    _grader_depth[0] += 1
    started = _grader_time.perf_counter()
    try:
        result = original(model, **kw)
    except BaseException as exc:
        record["status"] = "error"
        record["error"] = f"{type(exc).__name__}: {str(exc)[:800]}"
        _grader_write_capture()
        raise
    finally:
        _grader_depth[0] -= 1
        record["call_s"] = round(_grader_time.perf_counter() - started, 4)
    record["status"] = "ok"
    return result


def _grader_installer(install, apply_budget, caps):
    """The keras hook with the budget bound now, at start-up: replacing the module-level names
    later (reachable through a hook's __globals__) changes nothing for the fits."""
    return lambda keras: install(keras, apply_budget, caps)


def _grader_install_keras(keras, apply_budget, caps):
    Model = keras.Model
    if getattr(Model, "_grader_patched", False):
        return
    original_fit, original_evaluate = Model.fit, Model.evaluate
    original_predict, original_load_weights = Model.predict, Model.load_weights

    def fit(self, *args, **kwargs):
        started = _grader_time.perf_counter()
        try:
            kw = _grader_bind(original_fit, self, args, kwargs)
        except TypeError:
            return original_fit(self, *args, **kwargs)
        record = {"cell": _grader_now_cell(), "status": "running"}
        try:
            record["model"] = _grader_model_entry(self)
            record["trainable"] = {
                "model_params": _grader_count_weights(self.trainable_weights),
                "bases": [{"name": r["name"], "trainable_params": r["trainable_params"],
                           "trainable_layers": r["trainable_layers"], "weighted_layers": r["weighted_layers"]}
                          for r in _grader_capture["models"][record["model"]]["layers"] if r.get("nested")],
            }
            record["optimizer"] = _grader_optimizer_desc(self)
            record["loss"] = _grader_loss_desc(self)
            record["x"] = _grader_data_desc(kw.get("x"), kw.get("y"))
            vd = kw.get("validation_data")
            if isinstance(vd, (tuple, list)) and vd:
                record["validation"] = _grader_data_desc(vd[0], vd[1] if len(vd) > 1 else None)
            elif vd is not None:
                record["validation"] = _grader_data_desc(vd)
            record["validation_split"] = kw.get("validation_split") or 0.0
            record["epochs"] = kw.get("epochs", 1)
            record["batch_size"] = kw.get("batch_size")
            record["steps_per_epoch"] = kw.get("steps_per_epoch")
            record["budget"] = apply_budget(kw, "fit")
        except Exception as exc:
            _grader_note_error("fit", exc)
        _grader_capture["fits"].append(record)
        _grader_write_capture()
        if "model" in record:  # saved after the cell even when the fit fails
            _grader_dirty.add(record["model"])
        counter = _grader_counter(keras)
        if counter is not None:
            cbs = kw.get("callbacks")
            cbs = list(cbs) if isinstance(cbs, (list, tuple)) else [cbs] if cbs else []
            kw["callbacks"] = [*cbs, counter]
        try:
            history = _grader_call_recorded(record, original_fit, self, kw)
        except Exception:
            if "model" in record:  # the model as the failed fit left it (usually unchanged)
                _grader_save_fit(self, record)
                _grader_write_capture()
            raise
        record["history"] = _grader_history(history)
        if counter is not None:
            record["ran"] = {"epochs": counter.epochs, "max_batches": max(counter.batches or [0])}
            ran = record["ran"]
            over = (caps.get("max_epochs") and counter.epochs > caps["max_epochs"]) or (
                caps.get("max_steps_per_epoch") and ran["max_batches"] > caps["max_steps_per_epoch"])
            if _grader_config.get("profile") == "quick" and over:
                _grader_capture["tampered"].append({"kind": "budget", "cell": record["cell"],
                                                    "ran": record["ran"], "caps": dict(caps)})
        if "model" in record:
            _grader_dirty.add(record["model"])
            _grader_save_fit(self, record)
        record["capture_s"] = round(_grader_time.perf_counter() - started - record.get("call_s", 0.0), 4)
        _grader_write_capture()
        return history

    def _eval_like(kind, original):
        def hook(self, *args, **kwargs):
            if _grader_depth[0] > 0:
                return original(self, *args, **kwargs)
            started = _grader_time.perf_counter()
            try:
                kw = _grader_bind(original, self, args, kwargs)
            except TypeError:
                return original(self, *args, **kwargs)
            record = {"cell": _grader_now_cell(), "status": "running"}
            try:
                record["model"] = _grader_model_entry(self)
                record["x"] = _grader_data_desc(kw.get("x"), kw.get("y"))
                record["keep"] = _grader_keep_data(kind, kw.get("x"), kw.get("y"))
            except Exception as exc:
                _grader_note_error(kind, exc)
            _grader_capture[kind + "s"].append(record)
            result = _grader_call_recorded(record, original, self, kw)
            if kind == "evaluate":
                try:
                    record["metrics"] = {k: float(v) for k, v in self.get_metrics_result().items()}
                except Exception as exc:
                    _grader_note_error("metrics", exc)
            if not any(m["model"] == record.get("model") for m in _grader_capture["saved_models"]):
                _grader_dirty.add(record.get("model"))
            record["capture_s"] = round(_grader_time.perf_counter() - started - record.get("call_s", 0.0), 4)
            _grader_write_capture()
            return result
        return hook

    def load_weights(self, filepath, *args, **kwargs):
        result = original_load_weights(self, filepath, *args, **kwargs)
        _grader_weight_sources[id(self)] = str(filepath)
        _grader_capture["load_weights"].append({"cell": _grader_now_cell(), "model_name": self.name,
                                               "file": _grader_os.path.basename(str(filepath))})
        return result

    Model.fit = fit
    Model.evaluate = _eval_like("evaluate", original_evaluate)
    Model.predict = _eval_like("predict", original_predict)
    Model.load_weights = load_weights
    Model._grader_patched = True


def _grader_counter(keras):
    """A callback counting the epochs and batches a fit really ran."""
    try:
        class _Count(keras.callbacks.Callback):
            epochs = 0

            def __init__(self):
                super().__init__()
                self.batches = []

            def on_epoch_begin(self, epoch, logs=None):
                self.batches.append(0)

            def on_epoch_end(self, epoch, logs=None):
                self.epochs += 1

            def on_train_batch_end(self, batch, logs=None):
                if self.batches:
                    self.batches[-1] += 1

        return _Count()
    except Exception as exc:
        _grader_note_error("counter", exc)
        return None


def _grader_keep_data(kind, x, y):
    """Keep (a capped sample of) the data given to evaluate(), so the grader can measure on the
    student's own held-out split when it is not the official test set."""
    import numpy as np

    if kind != "evaluate" or x is None:
        return None
    if isinstance(x, (list, tuple)) and len(x) == 2 and y is None:
        x, y = x
    rescale = 1.0
    if hasattr(x, "image_data_generator") and getattr(x, "x", None) is not None:
        y = x.y
        rescale = getattr(x.image_data_generator, "rescale", None) or 1.0
        x = x.x
    if not (_grader_is_array(x) and _grader_is_array(y)):
        return None
    total = len(x)
    per = max(1, int(np.prod(np.shape(x)[1:])) * 8)  # bytes per sample as float64, the worst case
    n = int(min(total, 5000, (64 << 20) // per))
    x, y = np.asarray(x[:n]), np.asarray(y[:n])
    if rescale != 1.0:
        x = x * rescale
    name = f"eval_{len(_grader_capture['evaluates'])}.npz"
    np.savez(_grader_os.path.join(_grader_config["capture_dir"], name), x=x, y=y)
    return {"file": name, "n": n, "of": int(total)}


#: the attribute skip sets of Keras's saver per object type, computed once per kernel. Keras 3's
#: saving_lib.get_attr_skipset looks its cache up under "saving_attr_skiplist_<type>" but stores
#: it under "saving_attr_skipset_<type>", so each save builds a throwaway Layer() per layer it
#: walks (0.4 s of a MobileNetV2's 1 s save). Set only during the grader's own saves: the
#: student's saves run as Keras runs them. The file written is the same (tests/test_capture_save.py).
_GRADER_SKIPSET_TYPES = ("Operation", "Layer", "Functional", "Sequential", "Metric", "Optimizer", "Loss")
_grader_skipsets = {}


def _grader_save(model, path):
    """model.save(path), with Keras's attribute skip sets looked up instead of rebuilt per layer."""
    state, keys = None, []
    try:
        from keras.src.backend.common import global_state as state
        from keras.src.saving import saving_lib

        for obj_type in _GRADER_SKIPSET_TYPES:
            key = f"saving_attr_skiplist_{obj_type}"
            if state.get_global_attribute(key, None) is None:  # a Keras whose cache works: left alone
                if obj_type not in _grader_skipsets:
                    _grader_skipsets[obj_type] = saving_lib.get_attr_skipset(obj_type)
                state.set_global_attribute(key, _grader_skipsets[obj_type])
                keys.append(key)
    except Exception:  # another Keras: its save as it is
        pass
    try:
        model.save(path)
    finally:
        for key in keys:
            with _grader_contextlib.suppress(Exception):
                state.set_global_attribute(key, None)


def _grader_save_models():
    for index in sorted(i for i in _grader_dirty if i is not None):
        model = None
        for key, idx in _grader_model_index.items():
            if idx == index:
                model = _grader_model_refs.get(key)
        if model is None:
            continue
        name = f"model_{index}.keras"
        entry = {"model": index, "file": name, "cell": _grader_now_cell()}
        _grader_model_entry(model)  # the summary as saved: the grader ties the file to it
        started = _grader_time.perf_counter()
        try:
            _grader_save(model, _grader_os.path.join(_grader_config["capture_dir"], name))
            entry["status"] = "ok"
            with _grader_contextlib.suppress(Exception):
                entry["optimizer_steps"] = int(model.optimizer.iterations.numpy())
        except Exception as exc:
            entry["status"] = "error"
            entry["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        entry["save_s"] = round(_grader_time.perf_counter() - started, 4)
        _grader_capture["saved_models"] = [s for s in _grader_capture["saved_models"] if s["model"] != index]
        _grader_capture["saved_models"].append(entry)
    _grader_dirty.clear()


#: per-fit saves kept per model (a loop of fits saves the first ones only: disk and time)
_GRADER_FIT_SAVES = 20


def _grader_has_base(model):
    """Whether a top-level layer is itself a model with weights (a pretrained base)."""
    return any(len(getattr(layer, "layers", None) or []) > 0 and layer.weights
               for layer in getattr(model, "layers", []))


def _grader_save_fit(model, record):
    """After a fit() of a model with a nested base: the model as that fit left it, saved as
    model_<i>_fit<k>.keras (k counts this model's saved fits), so the grader reads from files
    whether the base was frozen, with what learning rate, and how its weights compare with the
    ImageNet ones (grader/checks/fitfiles.py). The runner hashes it after the cell like the
    final save."""
    index = record.get("model")
    try:
        if not _grader_has_base(model):
            return
        done = sum(1 for f in _grader_capture["fits"] if f.get("model") == index and f.get("saved_fit"))
        if done >= _GRADER_FIT_SAVES:
            record["saved_fit"] = {"status": "skipped", "error": f"only {_GRADER_FIT_SAVES} fits are saved"}
            return
        name = f"model_{index}_fit{done}.keras"
        started = _grader_time.perf_counter()
        entry = {"file": name, "cell": record.get("cell"), "fit": done}
        path = _grader_os.path.join(_grader_config["capture_dir"], name)
        try:
            _grader_save(model, path)
            entry["status"] = "ok"
        except Exception as exc:
            entry["status"] = "error"
            entry["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        entry["save_s"] = round(_grader_time.perf_counter() - started, 4)
        with _grader_contextlib.suppress(Exception):
            entry["bytes"] = _grader_os.path.getsize(path)
        record["saved_fit"] = entry
    except Exception as exc:
        _grader_note_error("fit-save", exc)


def _grader_scan_models():
    """Record models built in the last cell but never fitted or evaluated."""
    keras = _grader_sys.modules.get("keras")
    if keras is None or not hasattr(keras, "Model"):
        return
    for value in list(get_ipython().user_ns.values()):  # noqa: F821
        if isinstance(value, keras.Model) and id(value) not in _grader_model_index:
            _grader_dirty.add(_grader_model_entry(value))  # saved, so its architecture is read from a file


def _grader_post_cell(*_args):
    if "keras" not in _grader_sys.modules:
        return
    try:
        _grader_scan_models()
        _grader_save_models()
    except Exception as exc:
        _grader_note_error("post-cell", exc)
    _grader_write_capture()


_grader_apply_budget, _grader_caps = _grader_make_budget(
    _grader_config.get("profile"), _grader_config.get("budget"), _grader_config.get("seed", 42))
_grader_capture["budget"] = {"profile": _grader_config.get("profile"), "caps": dict(_grader_caps)}
_grader_after_import("keras", _grader_installer(_grader_install_keras, _grader_apply_budget, _grader_caps))
with _grader_contextlib.suppress(Exception):
    get_ipython().events.register("pre_run_cell", _grader_pre_cell)  # noqa: F821
    get_ipython().events.register("post_run_cell", _grader_post_cell)  # noqa: F821
_grader_write_capture()
