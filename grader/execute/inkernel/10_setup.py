# Runs inside the student's kernel before any student cell (sent as a hidden cell; see
# grader/execute/runner.py), after `_grader_config` is defined and before 50_capture.py.
#
# 1. Seeds: Python and NumPy now; TensorFlow/Keras (keras.utils.set_random_seed) the moment
#    they are imported, through a post-import hook, so notebooks that never import TensorFlow
#    do not pay for it.
# 2. Offline data: keras.datasets.mnist / cifar10 .load_data(), keras.utils.get_file and
#    keras.applications.*(weights="imagenet") read from _grader_config["data_dir"], never the
#    network. Keras looks get_file up in keras.src.utils.file_utils (applications) and in each
#    dataset module's globals (`from ... import get_file`), and binds the same load_data
#    function in keras.datasets, keras.src.datasets and tensorflow.keras (keras._tf_keras):
#    the source modules are patched, then every already-imported keras module that still holds
#    the original object is repointed.
# 3. GPU: memory growth on, so several kernels can share one GPU (untested: no GPU here).
# 4. Output: each cell's stdout/stderr stops being sent once it passes the output limit, so a
#    flood never crosses the socket. This only spares traffic; the grader's own cap in
#    runner.py (which a student cannot switch off) decides what is kept and notes the cut.
# 5. What happened (seeds, versions, device, data files used, substitutions, missing weights,
#    adaptations) goes to _grader_config["setup_file"] as JSON, which the runner reads.
# 6. tensorflow_datasets.load / builder read from DATA/tensorflow_datasets (TFDS's own layout)
#    with downloads off; a dataset that is not there is OfflineFileMissing naming the folder.
#    Every keras.applications model's weights go through the patched get_file, so each is read
#    under Keras's own file name from DATA/weights (or DATA); a missing one names that file.
# Names start with _grader_ to stay out of the student's way.
import contextlib
import contextlib as _grader_contextlib
import importlib.abc as _grader_importlib_abc
import importlib.util as _grader_importlib_util
import json as _grader_json
import os as _grader_os
import platform as _grader_platform
import random as _grader_random
import re as _grader_re
import sys as _grader_sys

_grader_setup = {
    "seeds": {"python": _grader_config["seed"], "pythonhashseed": _grader_os.environ.get("PYTHONHASHSEED")},
    "versions": {"python": _grader_platform.python_version()},
    "device": "cpu",
    "substitutions": [],
    "missing_weights": [],
    "data_files": [],
    "adaptations": [],
    "hooks": [],
}


def _grader_setup_write():
    path = _grader_config.get("setup_file")
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        _grader_json.dump(_grader_setup, fh, default=str)
    _grader_os.replace(tmp, path)


def _grader_warn(message):
    print(f"[grader] {message}", file=_grader_sys.stderr)


def _grader_current_cell():
    return globals().get("_grader_cell", -1)


def _grader_adapt(kind, what):
    """Record a course-notebook habit the grader adapted (shown in the report), once per cell."""
    entry = {"kind": kind, "what": what, "cell": _grader_current_cell()}
    if entry not in _grader_setup["adaptations"]:
        _grader_setup["adaptations"].append(entry)
        _grader_setup_write()


class _GraderOfflineFileMissing(FileNotFoundError):
    """A file Keras would download is not in the grader's data directory."""


_GraderOfflineFileMissing.__name__ = "OfflineFileMissing"
_GraderOfflineFileMissing.__qualname__ = "OfflineFileMissing"


def _grader_find_file(name, subdirs=()):
    root = _grader_config.get("data_dir")
    if not root or not name:
        return None
    for sub in ("", *subdirs, "datasets", "weights", "models"):
        candidate = _grader_os.path.join(root, sub, name)
        if _grader_os.path.exists(candidate):
            return candidate
    return None


def _grader_missing(name, origin, kind):
    root = _grader_config.get("data_dir") or "a data directory"
    where = _grader_os.path.join(root, "weights" if kind == "weights" else "", name)
    source = f" (Keras would download it from {origin})" if origin else ""
    exc = _GraderOfflineFileMissing(
        f"the grader runs offline and has no copy of '{name}'{source}. Put the file at {where} "
        "(the folder given to `grader run --data-dir` or GRADER_DATA_DIR) and run again."
    )
    exc.grader_file = name
    exc.grader_kind = kind
    return exc


# No-top weight files Keras names by input size although the convolution weights do not depend
# on it: (pattern, the same file for another size). MobileNetV2 and MobileNet (v1); the other
# keras.applications name their no-top file without a size, so each is served by its own name.
_GRADER_NO_TOP_SIZED = [
    (_grader_re.compile(r"(mobilenet_v2_weights_tf_dim_ordering_tf_kernels_[0-9.]+)_(\d+)_no_top\.h5"),
     "{}_{}_no_top.h5"),
    (_grader_re.compile(r"(mobilenet_[0-9]_[0-9]+)_(\d+)_tf_no_top\.h5"), "{}_{}_tf_no_top.h5"),
]


def _grader_substitute(name):
    """A no-top file of the same model and alpha for another input size: the same weights."""
    root = _grader_config.get("data_dir")
    for pattern, template in _GRADER_NO_TOP_SIZED:
        match = pattern.fullmatch(name or "")
        if not match or not root:
            continue
        for size in (224, 192, 160, 128, 96):
            other = template.format(match.group(1), size)
            path = _grader_find_file(other, ("models",))
            if path and other != name:
                _grader_setup["substitutions"].append({
                    "requested": name, "used": other,
                    "reason": "no-top weights do not depend on the input size; the grader has the "
                              f"{size}-pixel file for the same alpha",
                })
                return path
    return None


def _grader_get_file(fname=None, origin=None, *args, cache_subdir="datasets", extract=False,
                     untar=False, **kwargs):
    """keras.utils.get_file without a network: the file must be in the data directory."""
    name = fname or (origin.rstrip("/").rsplit("/", 1)[-1] if origin else None)
    kind = "weights" if cache_subdir == "models" or (name or "").endswith((".h5", ".keras")) else "data"
    path = _grader_find_file(name, (cache_subdir,))
    if path is None and (extract or untar) and name:
        path = _grader_find_file(name.split(".tar")[0].split(".zip")[0], (cache_subdir,))
    if path is None:
        path = _grader_substitute(name)
    if path is None:
        _grader_setup_write()
        raise _grader_missing(name, origin, kind)
    _grader_setup["data_files"].append(path)
    _grader_setup_write()
    return path


def _grader_cifar10_load_data(_original=None):
    """The grader's CIFAR-10: cifar10.npz (full) or cifar10-10k.npz (first training batch)."""
    import numpy as np

    path = _grader_find_file("cifar10.npz") or _grader_find_file("cifar10-10k.npz")
    if path is None:
        if _original is not None and _grader_find_file("cifar-10-batches-py"):
            return _original()
        _grader_setup_write()
        raise _grader_missing("cifar10-10k.npz", None, "data")
    with np.load(path) as f:
        x_train, y_train = f["x_train"], f["y_train"].reshape(-1, 1)
        x_test, y_test = f["x_test"], f["y_test"].reshape(-1, 1)
    try:
        from keras import backend

        if backend.image_data_format() == "channels_first":
            x_train, x_test = x_train.transpose(0, 3, 1, 2), x_test.transpose(0, 3, 1, 2)
    except Exception:
        pass
    _grader_setup["data_files"].append(path)
    if _grader_os.path.basename(path) == "cifar10-10k.npz":
        _grader_setup["substitutions"].append({
            "requested": "cifar10 (50,000 training images)", "used": "cifar10-10k.npz",
            "reason": "offline copy: the training set is data_batch_1 (10,000 images); the test set is whole",
        })
    _grader_setup_write()
    return (x_train, y_train.astype("uint8")), (x_test, y_test.astype("uint8"))


def _grader_wrap_application(fn):
    import functools

    @functools.wraps(fn)
    def application(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _GraderOfflineFileMissing as exc:
            if _grader_config.get("profile") != "quick" or getattr(exc, "grader_kind", "") != "weights":
                raise
            reason = (f"pretrained weights '{exc.grader_file}' are not in the grader's data directory; "
                      "in the quick profile the model was built with random weights, so checks that "
                      "depend on pretrained weights are skipped")
            _grader_setup["missing_weights"].append(
                {"model": fn.__name__, "file": exc.grader_file, "reason": reason,
                 "cell": _grader_current_cell()})
            _grader_setup_write()
            _grader_warn(f"{fn.__name__}: {reason}. {exc}")
            kwargs["weights"] = None
            if len(args) > 3:  # weights passed positionally: (input_shape, alpha, include_top, weights)
                args = (*args[:3], None, *args[4:])
            return fn(*args, **kwargs)

    application._grader_wrapped = True
    return application


def _grader_repoint(originals):
    """Every loaded keras module attribute that holds an original object now holds its patch."""
    for name, module in list(_grader_sys.modules.items()):
        if not (name == "keras" or name.startswith("keras.")) or module is None:
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            patched = originals.get(id(value))
            if patched is not None and patched[0] is value:
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(module, attr, patched[1])


def _grader_patch_keras(keras):
    originals = {}  # id(original) -> (original, replacement)
    from keras.src.utils import file_utils

    originals[id(file_utils.get_file)] = (file_utils.get_file, _grader_get_file)
    file_utils.get_file = _grader_get_file
    try:
        from keras.src.datasets import cifar10

        original = cifar10.load_data

        def load_data():
            return _grader_cifar10_load_data(original)

        load_data.__doc__ = original.__doc__
        originals[id(original)] = (original, load_data)
        cifar10.load_data = load_data
    except Exception as exc:
        _grader_setup["hooks"].append(f"cifar10 not patched: {exc}")
    for name, module in list(_grader_sys.modules.items()):
        if not name.startswith("keras.src.applications.") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if (callable(value) and attr[:1].isupper() and getattr(value, "__module__", "") == name
                    and not isinstance(value, type) and not getattr(value, "_grader_wrapped", False)):
                try:
                    import inspect

                    if "weights" not in inspect.signature(value).parameters:
                        continue
                except (TypeError, ValueError):
                    continue
                wrapped = _grader_wrap_application(value)
                originals[id(value)] = (value, wrapped)
                setattr(module, attr, wrapped)
    _grader_repoint(originals)
    _grader_setup["hooks"].append("keras offline data")


def _grader_on_tensorflow(tf):
    try:
        gpus = tf.config.list_physical_devices("GPU")
        for gpu in gpus:  # untested here (no GPU): lets several kernels share one GPU
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except Exception as exc:
                _grader_setup["hooks"].append(f"memory growth not set: {exc}")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            _grader_setup["device"] = f"gpu: {details.get('device_name', gpus[0].name)}"
            _grader_setup["gpu_memory_growth"] = True
    except Exception as exc:
        _grader_setup["hooks"].append(f"device not detected: {exc}")
    try:
        tf.random.set_seed(_grader_config["seed"])
        _grader_setup["seeds"]["tensorflow"] = _grader_config["seed"]
    except Exception:
        pass
    _grader_setup["versions"]["tensorflow"] = getattr(tf, "__version__", "?")
    _grader_setup_write()


def _grader_on_keras(keras):
    try:
        keras.utils.set_random_seed(_grader_config["seed"])
        _grader_setup["seeds"]["keras"] = _grader_config["seed"]
    except Exception as exc:
        _grader_setup["hooks"].append(f"keras seed not set: {exc}")
    _grader_setup["versions"]["keras"] = getattr(keras, "__version__", "?")
    try:
        _grader_patch_keras(keras)
    except Exception as exc:
        _grader_setup["hooks"].append(f"keras not patched for offline data: {exc!r}")
    _grader_setup_write()


def _grader_tfds_dir(base):
    """The TFDS data dir (TFDS's own layout: DIR/<name>/<version>/) holding `base`, or None."""
    root = _grader_config.get("data_dir")
    if not root:
        return None
    for candidate in (_grader_os.path.join(root, "tensorflow_datasets"), root):
        if _grader_os.path.isdir(_grader_os.path.join(candidate, base)):
            return candidate
    return None


def _grader_patch_tfds(tfds):
    """tfds.load / tfds.builder read from the data dir with downloads off; a dataset that is not
    there fails with OfflineFileMissing naming the folder to add."""
    import functools

    def served(name, kwargs):
        base = str(name).split(":")[0].split("/")[0].strip()
        where = _grader_tfds_dir(base)
        if where is None:
            root = _grader_config.get("data_dir") or "a data directory"
            _grader_setup_write()
            exc = _GraderOfflineFileMissing(
                f"the grader runs offline and has no TFDS copy of '{name}'. Put the prepared dataset "
                f"folder '{base}/' (what tfds.load writes under ~/tensorflow_datasets/) in "
                f"{_grader_os.path.join(root, 'tensorflow_datasets')} and run again.")
            exc.grader_file, exc.grader_kind = str(name), "tfds"
            raise exc
        kwargs["data_dir"] = where
        kwargs["try_gcs"] = False
        _grader_setup["data_files"].append(_grader_os.path.join(where, base))
        _grader_adapt("tfds", f"tensorflow_datasets '{name}' served from the data dir ({where}), "
                      "downloads off")
        return kwargs

    original_load, original_builder = tfds.load, tfds.builder

    @functools.wraps(original_load)
    def load(name, *args, **kwargs):
        kwargs = served(name, kwargs)
        kwargs["download"] = False
        return original_load(name, *args, **kwargs)

    @functools.wraps(original_builder)
    def builder(name, *args, **kwargs):
        return original_builder(name, *args, **served(name, kwargs))

    tfds.load, tfds.builder = load, builder
    _grader_setup["hooks"].append("tensorflow_datasets offline")
    _grader_setup_write()


class _GraderPostImport(_grader_importlib_abc.MetaPathFinder):
    """Runs callbacks right after a top-level package finishes importing.

    The one import hook of the in-kernel code: other in-kernel files register their callbacks
    with `_grader_after_import` instead of adding finders of their own (two finders for the
    same package would hide each other).
    """

    def __init__(self):
        self.callbacks = {}
        self.busy = set()

    def find_spec(self, name, path=None, target=None):
        if name not in self.callbacks or name in self.busy:
            return None
        self.busy.add(name)
        try:
            spec = _grader_importlib_util.find_spec(name)
        finally:
            self.busy.discard(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            # Popped only once the import succeeded: TensorFlow imports keras inside a try
            # block, and an attempt that fails half-way must not use the callbacks up.
            for callback in self.callbacks.pop(name, []):
                try:
                    callback(module)
                except Exception as exc:  # never break the student's import
                    _grader_setup["hooks"].append(f"{name} hook failed: {exc!r}")
                    _grader_setup_write()

        spec.loader.exec_module = exec_module
        return spec


_grader_post_import = _GraderPostImport()
_grader_sys.meta_path.insert(0, _grader_post_import)


def _grader_after_import(name, callback):
    """Call `callback(module)` once the top-level package `name` is imported (now if it is)."""
    if name in _grader_sys.modules:
        callback(_grader_sys.modules[name])
    else:
        _grader_post_import.callbacks.setdefault(name, []).append(callback)


def _grader_install_setup():
    seed = _grader_config["seed"]
    _grader_random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
        _grader_setup["seeds"]["numpy"] = seed
        _grader_setup["versions"]["numpy"] = numpy.__version__
    except Exception:
        pass
    _grader_after_import("tensorflow", _grader_on_tensorflow)
    _grader_after_import("keras", _grader_on_keras)
    _grader_after_import("tensorflow_datasets", _grader_patch_tfds)
    _grader_setup_write()


def _grader_install_output_cap():
    limit = int(_grader_config.get("output_limit") or 0)
    if not limit:
        return
    allowance = limit + 1000  # a little over, so the grader sees the cell went past its limit
    state = {"sent": 0}
    for name in ("stdout", "stderr"):
        stream = getattr(_grader_sys, name)
        original = stream.write

        def write(text, _original=original):
            sent = state["sent"]
            state["sent"] = sent + len(text)
            if sent + len(text) <= allowance:
                return _original(text)
            if sent < allowance:
                _original(text[: allowance - sent])
            return len(text)

        try:
            stream.write = write
        except (AttributeError, TypeError):
            return
    with _grader_contextlib.suppress(Exception):  # outside IPython: one allowance for the whole run
        get_ipython().events.register("pre_run_cell", lambda *args: state.update(sent=0))  # noqa: F821


_grader_install_setup()
_grader_install_output_cap()

# exit() / quit() in a cell: ipykernel 7 stops its event loop 0.1 s later, so the kernel died
# before the next cell or not, depending on the machine's load. In a front end they only close
# the student's session; under the grader the notebook goes on, every time.
with _grader_contextlib.suppress(Exception):  # outside IPython there is no shell to keep
    get_ipython().keepkernel_on_exit = True  # noqa: F821
