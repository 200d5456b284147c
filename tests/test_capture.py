"""The in-kernel capture (grader/execute/inkernel/50_capture.py) in a real kernel, and the
grader-side fingerprints it shares with grader/fingerprint.py."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.checks.models import printed_accuracy
from grader.execute.runner import INKERNEL_DIR, ExecutionOptions, execute_notebook
from grader.fingerprint import fingerprint, identify

BUDGET = {"max_epochs": 1, "max_steps_per_epoch": 5, "max_validation_samples": 200}


def _kernel_function(name: str):
    """One function of the in-kernel source, compiled alone (installs no hooks here)."""
    tree = ast.parse((INKERNEL_DIR / "50_capture.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    namespace: dict = {}
    exec(compile(ast.Module(body=[node], type_ignores=[]), "50_capture.py", "exec"), namespace)
    return namespace[name]


def test_kernel_and_grader_fingerprints_agree(data_dir):
    x = np.load(data_dir / "mnist.npz")["x_test"][:500]
    kernel_fp = _kernel_function("_grader_fingerprint")
    for variant in (x, x / 255.0, (x / 127.5 - 1.0).astype("float32"), x[..., None] / 255.0):
        assert np.array_equal(kernel_fp(variant)[0], fingerprint(x)[0])


def test_fingerprint_identifies_official_splits(data_dir):
    with np.load(data_dir / "mnist.npz") as d:
        x_test, x_train = d["x_test"], d["x_train"][:2000]
    ident = identify(fingerprint(x_test[:3000] / 255.0)[0], str(data_dir))
    assert ident.get("mnist:test") == 1.0 and ident.get("mnist:train", 0) < 0.001  # a few duplicates
    ident_train = identify(fingerprint(x_train.astype("float32") / 255.0)[0], str(data_dir))
    assert ident_train.get("mnist:train") == 1.0 and ident_train.get("mnist:test", 0) < 0.01


@pytest.mark.parametrize("text, expected", [
    ("Test accuracy: 99.90%", 99.9),
    ("test acc = 0.9812", 98.12),
    ("313/313 ━━━━━━━━━━━━━━━━━━━━ 1s 2ms/step - accuracy: 0.9876 - loss: 0.04\nTest accuracy: 98.10%", 98.1),
    ("Epoch 1/3 - val_accuracy: 0.97", None),
    ("loss 0.23", None),
    ("Validation accuracy: 0.981\nTraining accuracy: 99.5%", None),
])
def test_printed_accuracy(text, expected):
    found = printed_accuracy(text)
    assert found == pytest.approx(expected) if expected is not None else found is None


CELLS = [
    """import sys\nprint("tf loaded:", "tensorflow" in sys.modules)""",
    """\
import numpy as np
import keras
from keras import layers
d = np.load("__DATA_DIR__/mnist.npz")
x_train, y_train = d["x_train"][:1000] / 255.0, d["y_train"][:1000]
x_test, y_test = d["x_test"][:2000] / 255.0, d["y_test"][:2000]""",
    """\
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train[..., None], y_train, epochs=4, batch_size=32,
                    validation_data=(x_test[..., None], y_test), verbose=0)""",
    """print(model.evaluate(x_test[..., None], y_test, verbose=0))""",
    """\
from tensorflow.keras.preprocessing.image import ImageDataGenerator
gen = ImageDataGenerator(rotation_range=10, horizontal_flip=True, rescale=1 / 255.0)
flow = gen.flow(d["x_test"][:64, ..., None], y_test[:64], batch_size=32)
model.evaluate(flow, verbose=0)""",
    """model.fit(np.zeros((4, 32, 32, 1)), y_train[:4], verbose=0)""",
]


@pytest.fixture(scope="module")
def captured(data_dir):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.replace("__DATA_DIR__", str(data_dir))) for c in CELLS]
    record = execute_notebook(nb, ExecutionOptions(profile="quick", budget=BUDGET, cell_timeout=300,
                                                   data_dir=str(data_dir)))
    return record


def test_non_keras_cells_do_not_import_tensorflow(captured):
    assert "tf loaded: False" in captured.cell(0).output_text


def test_fit_is_captured_with_data_budget_and_history(captured):
    fit = captured.fits[0]
    assert fit["cell"] == 2 and fit["status"] == "ok"
    assert fit["x"]["shape"] == [1000, 28, 28, 1] and fit["x"]["max"] == 1.0
    assert sum(fit["x"]["labels"]["counts"]) == 1000
    assert fit["validation"]["shape"] == [2000, 28, 28, 1]
    assert fit["optimizer"]["learning_rate"] == pytest.approx(0.003)
    assert fit["budget"] == {"epochs": [4, 1], "samples": [1000, 160], "validation_samples": [2000, 200]}
    assert len(fit["history"]["loss"]) == 1  # capped to one epoch
    assert captured.budget["caps"] == BUDGET and captured.budget["profile"] == "quick"
    model = captured.models[fit["model"]]
    assert [r["class"] for r in model["layers"]] == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert model["layers"][0]["config"]["filters"] == 4 and model["input_shape"] == [None, 28, 28, 1]


def test_evaluate_metrics_generators_and_failed_fits(captured):
    ev = captured.evaluates[0]
    assert ev["cell"] == 3 and 0.0 <= ev["metrics"]["accuracy"] <= 1.0
    assert len(captured.evaluates) == 2  # Keras' own validation inside fit is not counted
    gen = captured.evaluates[1]["x"]
    assert gen["kind"] == "image-data-generator" and gen["generator"]["augmented"] is True
    assert gen["max"] == pytest.approx(1.0)  # the generator's rescale applied
    failed = captured.fits[-1]
    assert failed["cell"] == 5 and failed["status"] == "error" and failed["error"]
    assert captured.cell(5).status == "error"


def test_trained_model_is_saved_for_outside_evaluation(captured):
    saved = [s for s in captured.saved_models if s["status"] == "ok"]
    assert saved and (Path(captured.workdir) / ".grader" / saved[0]["file"]).stat().st_size > 1000
    capture = json.loads((Path(captured.workdir) / ".grader" / "capture.json").read_text())
    assert capture["fits"][0]["x"]["fingerprint"]["file"].endswith(".npy")


def test_measured_accuracy_equals_kernel_evaluate(captured, data_dir):
    """The outside evaluator, on the same model and the official test set rebuilt with the
    captured preprocessing, agrees with Keras (its own evaluate in the evaluator exactly; the
    kernel's evaluate on the notebook's 2,000-image slice of that test set closely)."""
    from grader.evaluate import measure

    ev = captured.evaluates[0]
    fp = ev["x"]["fingerprint"]
    saved = next(s for s in captured.saved_models if s["model"] == ev["model"])
    cap = Path(captured.workdir) / ".grader"
    spec = {"model": str(cap / saved["file"]), "data_dir": str(data_dir), "dataset": "mnist",
            "scale": (fp["vmax"] - fp["vmin"]) / 255.0, "offset": fp["vmin"], "sample_shape": [28, 28, 1],
            "expect": {"min": fp["vmin"], "max": fp["vmax"], "mean": ev["x"]["mean"], "exact": False}}
    result = measure(spec, cap)
    assert result["ok"], result
    assert result["n"] == 10000
    assert abs(result["accuracy"] - result["keras_evaluate"]) <= 0.001
    assert abs(result["accuracy"] - ev["metrics"]["accuracy"]) <= 0.05
    assert fp["vmax"] == 1.0 and sys.executable
