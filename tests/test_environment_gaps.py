"""The grading environment's gaps are never the student's 0 (grader/gaps.py, inkernel/15_adapt.py).

One real kernel runs a Colab-style notebook that exercises every adaptation and every kind of
gap at once (module outside the environment, TFDS dataset present and absent, Keras 2
spellings, a Drive mount, `!pip install`, InceptionV3 weights absent, and the student's own
typo, which still costs points). The missing-data-dir and kernel-cannot-start cases run the real
CLI / a real Python under /tmp; the configuration mistakes need no kernel at all.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from grader.context import GradingOptions
from grader.engine import grade_submission
from grader.export import POINTS_POSSIBLE, csv_text
from grader.report import render_class_report, render_submission
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent

RUBRIC = """\
assignment: envtest
title: environment gaps
environment:
  packages: {numpy: numpy, keras: keras, tensorflow: tensorflow, matplotlib: matplotlib,
             tensorflow_datasets: tensorflow-datasets}
  data:
    - name: tiny digits (TFDS)
      files: [tensorflow_datasets/tiny_digits]
      questions: [q2]
    - name: MNIST
      files: [mnist.npz]
      questions: [q7]
questions:
"""


def write_rubric(path: Path, questions: list[int]) -> Path:
    item = "  - id: q{n}\n    items:\n      - {{id: q{n}.runs, kind: execution, points: 2}}\n"
    text = RUBRIC + "".join(item.format(n=n) for n in questions)
    path.write_text(text)
    return path


def code(source: str, saved: str | None = None):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip())
    if saved:  # what the hand-in showed when the student ran it (on Colab)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=saved)]
    return cell


SAVED_Q3 = """Epoch 1/3
1563/1563 - 41s - loss: 0.4012 - accuracy: 0.8821 - val_loss: 0.30 - val_accuracy: 0.91
Epoch 3/3
1563/1563 - 40s - loss: 0.1187 - accuracy: 0.9702 - val_loss: 0.12 - val_accuracy: 0.9650
Model: "sequential"
 Layer (type)          Output Shape        Param #
 conv2d (Conv2D)       (None, 26, 26, 32)  320
Total params: 1,234,567
Trainable params: 1,234,567
Non-trainable params: 0
Test accuracy: 0.9876
"""


def course_notebook(path: Path) -> Path:
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook(cells=[
        md("# HW6 - CNNs (ran on Colab)"),
        code("""
            !pip install -q seaborn
            %pip install tensorflow-datasets
            from google.colab import drive
            drive.mount('/content/drive')
        """),
        md("## Question 1: warm-up"),
        code("""
            import numpy as np
            import matplotlib.pyplot as plt
            from keras.utils.np_utils import to_categorical
            from tensorflow.keras.optimizers.legacy import Adam
            import keras
            x = np.random.rand(32, 4).astype('float32'); y = to_categorical(np.arange(32) % 3, 3)
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation='softmax')])
            model.compile(optimizer=Adam(lr=0.01), loss='categorical_crossentropy', metrics=['accuracy'])
            def batches():
                while True:
                    yield x, y
            hist = model.fit_generator(batches(), steps_per_epoch=2, epochs=2, verbose=2)
            plt.plot(hist.history['loss']); plt.show()
            print('predicted', model.predict_generator(batches(), steps=1).shape)
        """),
        md("**Q2.** my own dataset"),
        code("""
            import tensorflow_datasets as tfds
            ds = tfds.load('tiny_digits', split='test', as_supervised=True)
            print('test examples:', sum(1 for _ in ds))
        """),
        md("### 3) cats vs dogs"),
        code("train = tfds.load('cats_vs_dogs', split='train[:80%]', as_supervised=True)", SAVED_Q3),
        md("## Question 4"),
        code("import timm\nnet = timm.create_model('resnet18')", "Test accuracy: 97.3%\n"),
        md("## Question 5 - transfer"),
        code("""
            from tensorflow.keras.applications import InceptionV3
            base = InceptionV3(weights='imagenet', include_top=False, input_shape=(75, 75, 3))
        """),
        md("## Question 6"),
        code("print(acuracy_score)"),  # the student's own typo: still costs points
    ])
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def course_run(tmp_path_factory):
    """One real (full-profile) kernel for the whole module."""
    from tfds_support import build_tiny_digits

    tmp = tmp_path_factory.mktemp("course")
    data = build_tiny_digits(tmp / "data")
    rubric = load_rubric(write_rubric(tmp / "rubric.yaml", [1, 2, 3, 4, 5, 6]))
    nb = course_notebook(tmp / "dana.ipynb")
    result = grade_submission(nb, rubric, GradingOptions(profile="full", data_dir=str(data)))
    return result, data


def test_adaptations_let_a_colab_keras2_notebook_run(course_run):
    result, _ = course_run
    items = {i.id: i for i in result.items()}
    assert items["q1.runs"].status == "passed", items["q1.runs"].feedback
    assert items["q2.runs"].status == "passed", items["q2.runs"].feedback
    adapted = {a["what"].split(" ran as ")[0].split("(")[0] for a in result.execution["adaptations"]}
    kinds = {a["kind"] for a in result.execution["adaptations"]}
    assert {"install", "colab-drive", "tfds", "keras2"} <= kinds
    for spelling in ("keras.utils.np_utils.to_categorical", "keras.optimizers.legacy.Adam", "Adam",
                     "model.fit_generator", "model.predict_generator"):
        assert spelling in adapted, adapted
    html = render_submission(result)
    assert "Adapted to run offline" in html and "drive.mount" in html and "pip install -q seaborn" in html


def test_environment_gaps_are_skipped_with_a_fix_and_not_counted(course_run):
    result, data = course_run
    items = {i.id: i for i in result.items()}
    gaps = {g["kind"]: g for g in result.gaps}
    assert set(gaps) == {"tfds", "module", "weights"}, result.gaps
    for item_id, kind in (("q3.runs", "tfds"), ("q4.runs", "module"), ("q5.runs", "weights")):
        item = items[item_id]
        assert (item.status, item.cause, item.score) == ("skipped", "environment", 0), item
        assert item.fix == gaps[kind]["fix"] and item_id in gaps[kind]["items"]
        assert "not your mistake" in item.feedback
    assert "cats_vs_dogs/" in gaps["tfds"]["fix"] and f"{data}/tensorflow_datasets" in gaps["tfds"]["fix"]
    assert "timm" in gaps["module"]["fix"] and "environment.packages" in gaps["module"]["fix"]
    assert gaps["weights"]["what"] == "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert f"{data}/weights/" in gaps["weights"]["fix"]
    # the student's own typo still costs points; the rest is out of the gradable points
    assert items["q6.runs"].status == "failed" and items["q6.runs"].cause == ""
    assert (result.score, result.max_score, result.ungraded_points) == (4, 6, 6)
    assert result.incomplete and result.status == "graded"


def test_the_notebooks_own_figures_are_shown_unverified(course_run):
    result, _ = course_run
    reported = result.item("q3.runs").evidence["notebook_reported"]
    assert reported["note"] == "reported by the notebook, not verified"
    assert reported["printed_accuracy"] == pytest.approx(98.76)
    assert any("val_accuracy: 0.9650" in line for line in reported["training_log"])
    assert "Total params: 1,234,567" in reported["summary"]
    html = render_submission(result)
    assert "reported by the notebook, not verified" in html and "Fix for the instructor" in html


def test_class_report_and_csv_list_the_gaps_and_who_they_hit(course_run, tmp_path):
    from grader.results import SubmissionResult

    result, _ = course_run
    other = SubmissionResult.from_dict(result.to_dict())
    other.student, other.submission = "eve", "eve.ipynb"
    html = render_class_report([result, other])
    section = html.split('id="environment-gaps"')[1].split("</section>")[0]
    assert "2 submissions incomplete" in section
    for needle in ("timm", "cats_vs_dogs", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                   "dana</a>, <a", "eve</a>"):
        assert needle in section, needle
    assert "not every one fully" in html
    rows = [r for r in csv.DictReader(io.StringIO(csv_text([result]))) if r["student"] != POINTS_POSSIBLE]
    assert rows[0]["incomplete"] == "q3.runs;q4.runs;q5.runs"


# ---- configuration mistakes, caught before grading -------------------------------------------

def _cli(*args: str, env: dict[str, str] | None = None, python: str = sys.executable, cwd: Path = ROOT):
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([python, "-m", "grader", *args], capture_output=True, text=True, env=full,
                          cwd=cwd, timeout=600)


def test_a_data_dir_that_does_not_exist_is_a_usage_error(tmp_path):
    done = _cli("run", str(ROOT / "submissions" / "alice.ipynb"), "--data-dir", str(tmp_path / "nope"),
                "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert "no such folder" in done.stderr and str(tmp_path / "nope") in done.stderr


def test_without_a_data_dir_the_items_needing_data_are_skipped_not_failed(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## Question 7"),
        code("import keras\n(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()"),
        code("print(x_train.shape)"),
    ])
    nbformat.write(nb, tmp_path / "fred.ipynb")
    rubric = write_rubric(tmp_path / "rubric.yaml", [7])
    env = {"HOME": str(tmp_path), "GRADER_DATA_DIR": ""}  # no Keras cache to fall back on either
    done = _cli("run", str(tmp_path / "fred.ipynb"), "--rubric", str(rubric), "--out", str(tmp_path / "out"),
                "--profile", "quick", env=env)
    assert done.returncode == 0, done.stderr
    assert "data-dir none given" in done.stderr and "skipped, not failed" in done.stderr
    from grader.results import SubmissionResult

    result = SubmissionResult.load(tmp_path / "out" / "fred.json")
    item = result.item("q7.runs")
    assert (item.status, item.cause) == ("skipped", "environment")
    assert "mnist.npz" in item.fix and "--data-dir" in item.fix
    assert result.incomplete and result.max_score == 0
    assert "fred" in (tmp_path / "out" / "index.html").read_text().split('id="environment-gaps"')[1]


def test_run_warns_before_grading_about_no_sandbox_and_modules_not_installed(tmp_path):
    """Static questions only (no kernel): the warnings come from the checks before grading."""
    nb = nbformat.read(ROOT / "submissions" / "alice.ipynb", as_version=4)
    nb.cells.append(code("import timm\nimport seaborn as sns  # installed: no warning"))
    nbformat.write(nb, tmp_path / "ivy.ipynb")
    bindir = tmp_path / "bin"  # a PATH with python but without bwrap
    bindir.mkdir()
    (bindir / "python3").symlink_to(sys.executable)
    done = _cli("run", str(tmp_path / "ivy.ipynb"), "--questions", "q1",
                "--out", str(tmp_path / "out"), env={"PATH": str(bindir)})
    assert done.returncode == 0, done.stderr
    assert "WITHOUT a sandbox" in done.stderr and "bubblewrap (bwrap) is not installed" in done.stderr
    assert "network isolation" in done.stderr and "filesystem isolation" in done.stderr
    assert "import timm: not in the rubric's environment, not installed (imported by ivy)" in done.stderr
    assert "pip install 'timm'" in done.stderr and "seaborn" not in done.stderr


@pytest.fixture(scope="module")
def python_under_tmp(tmp_path_factory) -> Path:
    """A real virtualenv under /tmp (the sandbox gives the kernel a private /tmp)."""
    venv = tmp_path_factory.mktemp("venv")
    assert str(venv).startswith("/tmp/")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=120)
    return venv / "bin" / "python"


def test_a_python_the_sandbox_would_hide_is_refused_before_grading(python_under_tmp, tmp_path):
    from grader.execute.sandbox import bwrap_status

    if bwrap_status()[0] is None:
        pytest.skip("no working bwrap here: nothing hides /tmp")
    done = _cli("run", str(ROOT / "submissions" / "alice.ipynb"), "--out", str(tmp_path / "out"),
                python=str(python_under_tmp))
    assert done.returncode == 2
    assert "lives under /tmp" in done.stderr and "install the grader outside /tmp" in done.stderr


def test_a_kernel_that_cannot_start_skips_the_dynamic_items(python_under_tmp, tmp_path):
    """The engine itself (past the CLI's refusal): a real kernel start failure is the grader's."""
    from grader.execute.sandbox import bwrap_status

    if bwrap_status()[0] is None:
        pytest.skip("no working bwrap here: the kernel would start")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Question 6"), code("print(1)")])
    nbformat.write(nb, tmp_path / "gus.ipynb")
    rubric = write_rubric(tmp_path / "rubric.yaml", [6])
    script = ("from grader.engine import grade_submission; from grader.rubric import load_rubric\n"
              f"r = grade_submission({str(tmp_path / 'gus.ipynb')!r}, load_rubric({str(rubric)!r}))\n"
              f"r.save({str(tmp_path / 'gus.json')!r})\n")
    subprocess.run([str(python_under_tmp), "-c", script], check=True, timeout=300,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    from grader.results import SubmissionResult

    result = SubmissionResult.load(tmp_path / "gus.json")
    item = result.item("q6.runs")
    assert result.status == "error" and (item.status, item.cause) == ("skipped", "environment")
    assert "under /tmp" in item.fix and result.gaps[0]["kind"] == "kernel"
    assert result.max_score == 0 and result.incomplete


# ---- grader doctor -----------------------------------------------------------------------------

def test_doctor_passes_here_and_names_each_gap_elsewhere(tmp_path, data_dir):
    done = _cli("doctor", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 gap(s)" in done.stdout and "ok  kernel: sandboxed kernel" in done.stdout
    assert "ok  package: tensorflow_datasets" in done.stdout and "ok  data: MNIST" in done.stdout
    rubric = tmp_path / "r.yaml"
    rubric.write_text(RUBRIC.replace("numpy: numpy,", "numpy: numpy>=99, pyfakemod: pyfakemod,")
                      + "  - id: q2\n    items:\n      - {id: q2.runs, kind: execution, points: 2}\n")
    done = _cli("doctor", "--rubric", str(rubric), "--data-dir", str(data_dir), "--no-kernel")
    assert done.returncode == 1
    out = done.stdout
    assert "GAP package: pyfakemod (cannot be imported)" in out and "pip install 'pyfakemod'" in out
    assert "GAP package: numpy" in done.stdout and ">=99 required" in done.stdout
    assert "GAP data: tiny digits (TFDS)" in out and "put tensorflow_datasets/tiny_digits in" in out


# ---- where the line falls (no kernel: the engine grades against a given execution record) ------

def test_the_line_between_the_environments_gap_and_the_students_mistake(tmp_path):
    from grader.execute.record import CellRun, ExecutionRecord

    sources = {
        1: ("import plotly.express as px\npx.line([1, 2])", "ModuleNotFoundError",
            "No module named 'plotly'"),
        3: ("fig = px.bar([1])", "NameError", "name 'px' is not defined"),  # the gap's cascade
        5: ("import tensorflw as tf", "ModuleNotFoundError", "No module named 'tensorflw'"),  # a typo
        7: ("raise ModuleNotFoundError(\"No module named 'zzz'\")", "ModuleNotFoundError",
            "No module named 'zzz'"),  # not an import: the student's own exception
        9: ("print(y_tset)", "NameError", "name 'y_tset' is not defined"),  # not the gap's name
        11: ("from keras.layer import Dense", "ModuleNotFoundError", "No module named 'keras.layer'"),
    }
    cells = []
    for n, (index, (src, _, _)) in enumerate(sorted(sources.items()), start=1):
        cells += [nbformat.v4.new_markdown_cell(f"## Question {n}"), code(src)]
        assert len(cells) - 1 == index
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "hal.ipynb")
    record = ExecutionRecord(status="completed", cells=[
        CellRun(index=i, status="error", error_name=name, error_value=value)
        for i, (_, name, value) in sources.items()])
    rubric = load_rubric(write_rubric(tmp_path / "rubric.yaml", [1, 2, 3, 4, 5, 6]))
    result = grade_submission(tmp_path / "hal.ipynb", rubric, GradingOptions(), execution=record)
    status = {i.id: (i.status, i.cause) for i in result.items()}
    assert status == {"q1.runs": ("skipped", "environment"), "q2.runs": ("skipped", "environment"),
                      **{f"q{n}.runs": ("failed", "") for n in (3, 4, 5, 6)}}
    [gap] = result.gaps
    assert gap["kind"] == "module" and gap["what"] == "plotly" and gap["items"] == ["q1.runs", "q2.runs"]
    assert "pip install 'plotly'" in gap["fix"]
    assert (result.score, result.max_score) == (0, 8)
