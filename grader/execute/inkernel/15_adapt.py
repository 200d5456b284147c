# Runs inside the student's kernel after 10_setup.py (whose _grader_after_import and
# _grader_adapt it uses), before any student cell: what course notebooks written for Colab and
# Keras 2 do, made to work offline and headless. Each adaptation is recorded with its cell
# (_grader_setup["adaptations"]) and shown in the report; none changes what the grader measures.
#
# 1. `!pip install x`, `%pip install x` (also conda/apt and `python -m pip`) become recorded
#    no-ops: an IPython input transformer rewrites those lines before IPython turns them into
#    system calls, so no cell waits on a network that is not there. Packages come from the
#    assignment environment (the rubric's `environment:` block).
# 2. `from google.colab import drive; drive.mount(...)` works and does nothing (recorded);
#    files.upload() returns {} and files.download() does nothing.
# 3. matplotlib: the inline backend (figures kept as cell outputs); Agg if that fails.
# 4. Keras 2 spellings on Keras 3: keras.utils.np_utils, keras.optimizers.legacy.*, lr=,
#    fit_generator / evaluate_generator / predict_generator / predict_classes,
#    keras.layers.experimental.preprocessing, keras.preprocessing.image.ImageDataGenerator.
import importlib.abc as _grader_adapt_abc
import importlib.util as _grader_adapt_util
import re as _grader_adapt_re
import types as _grader_types

# ---- 1. package installs ---------------------------------------------------------------------

_GRADER_INSTALL_LINE = _grader_adapt_re.compile(
    r"^(\s*)[!%]{1,2}\s*(?:sudo\s+)?(?:python3?\s+-m\s+)?(pip3?|conda|mamba|apt-get|apt)\b.*\binstall\b.*$")


def _grader_install_transform(lines):
    """Each install line becomes a print saying it was skipped. The adaptation is recorded here,
    as the cell is transformed: the in-kernel code lives in a private namespace (runner._BOOT), so
    the rewritten line may name nothing of ours."""
    out = []
    for line in lines:
        match = _GRADER_INSTALL_LINE.match(line.rstrip("\n"))
        if match:
            _grader_adapt("install", f"skipped `{line.strip()}`: the grader runs offline; packages come "
                          "from the assignment environment")
            note = (f"[grader] skipped `{line.strip()}` (offline: packages come from the assignment "
                    "environment)")
            out.append(f"{match.group(1)}print({note!r})\n")
        else:
            out.append(line)
    return out


if "get_ipython" in globals():  # absent when the in-kernel code runs as a plain script
    get_ipython().input_transformers_cleanup.append(_grader_install_transform)

# ---- 2. Google Colab ------------------------------------------------------------------------


def _grader_colab_module(name):
    module = _grader_types.ModuleType(name)
    if name == "google.colab.drive":
        def mount(mountpoint="/content/drive", *args, **kwargs):
            _grader_adapt("colab-drive", f"drive.mount({mountpoint!r}) did nothing: the grader has no Google "
                          "Drive; files read from it must be in the data dir")
            print(f"[grader] drive.mount({mountpoint!r}): no Google Drive offline; nothing was mounted")

        def flush_and_unmount(*args, **kwargs):
            return None

        module.mount, module.flush_and_unmount = mount, flush_and_unmount
    elif name == "google.colab.files":
        def upload(*args, **kwargs):
            _grader_adapt("colab-files", "files.upload() returned nothing: no browser offline")
            return {}

        def download(filename, *args, **kwargs):
            _grader_adapt("colab-files", f"files.download({filename!r}) did nothing")

        module.upload, module.download = upload, download
    elif name == "google.colab.patches":
        def cv2_imshow(*args, **kwargs):
            return None

        module.cv2_imshow = cv2_imshow
    elif name == "google.colab.output":
        module.enable_custom_widget_manager = lambda *a, **k: None
        module.clear = lambda *a, **k: None
    return module


class _GraderColabFinder(_grader_adapt_abc.MetaPathFinder, _grader_adapt_abc.Loader):
    """Serves google.colab (and `google` itself when no real package provides it), last on
    sys.meta_path so an installed package always wins."""

    names = ("google", "google.colab", "google.colab.drive", "google.colab.files",
             "google.colab.patches", "google.colab.output")

    def find_spec(self, name, path=None, target=None):
        if name not in self.names:
            return None
        return _grader_adapt_util.spec_from_loader(name, self, is_package=name in ("google", "google.colab"))

    def create_module(self, spec):
        module = _grader_colab_module(spec.name)
        if spec.name in ("google", "google.colab"):
            module.__path__ = []
        return module

    def exec_module(self, module):
        return None


_grader_sys.meta_path.append(_GraderColabFinder())

# ---- 3. matplotlib --------------------------------------------------------------------------


def _grader_on_matplotlib(matplotlib):
    try:
        get_ipython().run_line_magic("matplotlib", "inline")
        what = "inline backend: figures are kept as cell outputs"
    except Exception as exc:
        matplotlib.use("Agg")
        what = f"Agg backend (headless; the inline backend failed: {exc})"
    _grader_setup["hooks"].append(f"matplotlib {what}")
    _grader_setup_write()


_grader_after_import("matplotlib", _grader_on_matplotlib)

# ---- 4. Keras 2 spellings -------------------------------------------------------------------

_GRADER_FIT_GENERATOR_ARGS = ("steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data",
                              "validation_steps", "validation_freq", "class_weight", "max_queue_size",
                              "workers", "use_multiprocessing", "shuffle", "initial_epoch")
_GRADER_EVAL_GENERATOR_ARGS = ("steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing",
                               "verbose")
_GRADER_GONE_ARGS = ("max_queue_size", "workers", "use_multiprocessing")


def _grader_generator_call(method, names, old):
    def call(self, generator, *args, **kwargs):
        kwargs.update(zip(names, args, strict=False))
        for gone in _GRADER_GONE_ARGS:
            kwargs.pop(gone, None)
        _grader_adapt("keras2", f"model.{old}(...) ran as model.{method}(...) (Keras 3)")
        return getattr(self, method)(generator, **kwargs)

    call.__name__ = old
    return call


def _grader_predict_classes(self, x, batch_size=32, verbose=0):
    import numpy as np

    _grader_adapt("keras2", "model.predict_classes(x) ran as argmax of model.predict(x) (Keras 3)")
    probs = np.asarray(self.predict(x, batch_size=batch_size, verbose=verbose))
    if probs.ndim > 1 and probs.shape[-1] > 1:
        return probs.argmax(axis=-1)
    return (probs > 0.5).astype("int32")


def _grader_alias_module(name, resolve, what):
    """A module whose attributes come from `resolve(attr)` (PEP 562), recorded when used."""
    module = _grader_types.ModuleType(name)

    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = resolve(attr)
        _grader_adapt("keras2", what.format(attr=attr))
        return value

    module.__getattr__ = __getattr__
    module.__path__ = []
    _grader_sys.modules[name] = module
    return module


def _grader_keras_model(keras):
    """Keras 2 Model methods and the `lr=` argument, on Keras 3's classes (shared by tf.keras)."""
    import inspect

    model_cls = keras.Model
    for old, method, names in (("fit_generator", "fit", _GRADER_FIT_GENERATOR_ARGS),
                               ("evaluate_generator", "evaluate", _GRADER_EVAL_GENERATOR_ARGS),
                               ("predict_generator", "predict", _GRADER_EVAL_GENERATOR_ARGS)):
        if not hasattr(model_cls, old):
            setattr(model_cls, old, _grader_generator_call(method, names, old))
    if not hasattr(model_cls, "predict_classes"):
        model_cls.predict_classes = _grader_predict_classes
    from keras.src.optimizers import base_optimizer

    original_init = base_optimizer.BaseOptimizer.__init__
    if not getattr(original_init, "_grader_wrapped", False):
        def __init__(self, *args, **kwargs):
            if "lr" in kwargs:
                kwargs["learning_rate"] = kwargs.pop("lr")
                _grader_adapt("keras2", f"{type(self).__name__}(lr=...) ran as learning_rate=... (Keras 3)")
            return original_init(self, *args, **kwargs)

        __init__._grader_wrapped = True
        __init__.__signature__ = inspect.signature(original_init)
        base_optimizer.BaseOptimizer.__init__ = __init__
    _grader_setup["hooks"].append("keras 2 spellings")
    _grader_setup_write()


def _grader_legacy_optimizers(module):
    """keras.optimizers.legacy.X (stubs that raise in Keras 3) -> keras.optimizers.X."""
    import keras

    def legacy(name):
        def make(*args, **kwargs):  # looked up when called: keras.optimizers may still be importing
            _grader_adapt("keras2", f"keras.optimizers.legacy.{name} ran as keras.optimizers.{name} "
                          "(Keras 3)")
            return getattr(keras.optimizers, name)(*args, **kwargs)

        make.__name__ = name
        return make

    for name in ("Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl"):
        setattr(module, name, legacy(name))


def _grader_np_utils(utils):
    """keras.utils.np_utils (gone in Keras 3): its to_categorical / normalize."""
    def resolve(attr):
        if attr in ("to_categorical", "normalize"):
            return getattr(utils, attr)
        raise AttributeError(f"keras.utils.np_utils has no {attr!r} in the grader's Keras 2 adapter")

    utils.np_utils = _grader_alias_module(f"{utils.__name__}.np_utils", resolve,
                                          "keras.utils.np_utils.{attr} ran as keras.utils.{attr} (Keras 3)")


def _grader_experimental_layers(layers):
    """keras.layers.experimental.preprocessing.X (gone in Keras 3) -> keras.layers.X."""
    experimental = _grader_types.ModuleType(f"{layers.__name__}.experimental")
    experimental.__path__ = []
    experimental.preprocessing = _grader_alias_module(
        f"{layers.__name__}.experimental.preprocessing", lambda attr: getattr(layers, attr),
        "keras.layers.experimental.preprocessing.{attr} ran as keras.layers.{attr} (Keras 3)")
    _grader_sys.modules[experimental.__name__] = experimental
    if "experimental" not in vars(layers):
        layers.experimental = experimental


def _grader_image_generators(image):
    """keras.preprocessing.image.ImageDataGenerator (gone from keras.* in Keras 3) from Keras's
    legacy module, as tf.keras still has it."""
    if "ImageDataGenerator" in vars(image):
        return
    from keras.src.legacy.preprocessing import image as legacy_image

    def resolve(attr):
        if attr in ("ImageDataGenerator", "DirectoryIterator", "NumpyArrayIterator", "Iterator"):
            _grader_adapt("keras2", f"keras.preprocessing.image.{attr} from Keras's legacy module")
            return getattr(legacy_image, attr)
        raise AttributeError(f"module {image.__name__!r} has no attribute {attr!r}")

    image.__getattr__ = resolve


def _grader_safely(fn):
    def run(module):
        try:
            fn(module)
        except Exception as exc:  # never break the student's import
            _grader_setup["hooks"].append(f"{fn.__name__} not adapted: {exc!r}")
            _grader_setup_write()

    return run


_grader_after_import("keras", _grader_safely(_grader_keras_model))
# keras, tf.keras as Keras names it, and tensorflow.keras (TensorFlow loads those files again
# under its own module names): each gets the same aliases when the student imports it
for _grader_prefix in ("keras", "keras._tf_keras.keras", "tensorflow.keras"):
    _grader_after_import(f"{_grader_prefix}.utils", _grader_safely(_grader_np_utils))
    _grader_after_import(f"{_grader_prefix}.layers", _grader_safely(_grader_experimental_layers))
    _grader_after_import(f"{_grader_prefix}.preprocessing.image", _grader_safely(_grader_image_generators))
    _grader_after_import(f"{_grader_prefix}.optimizers.legacy", _grader_safely(_grader_legacy_optimizers))
