"""Similarity across a batch: lightly edited copies of one answer set are grouped; independent
answers to the same questions are not; identical training logs are grouped as `output`."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.rubric import load_rubric
from grader.similarity import find_similar_notebooks, measured_lines

ORIGINAL = {
    1: "CNNs use partially connected layers and share weights, so they have far fewer parameters "
       "than a fully connected DNN, which makes them faster to train, less prone to overfitting and "
       "needs less training data. A kernel that learned to detect a feature can detect it anywhere "
       "in the image, and the layers build a hierarchy from small local features to larger ones.",
    3: "If the GPU runs out of memory you can reduce the mini-batch size, reduce the dimensionality "
       "with a larger stride in one or more layers, remove one or more layers, use 16-bit floats "
       "instead of 32-bit floats, or distribute the CNN across multiple devices.",
    4: "A max pooling layer has no parameters at all, whereas a convolutional layer has quite a few. "
       "It also introduces some invariance to small translations and is cheaper to compute, so the "
       "network is smaller and faster with the same reduction of the spatial dimensions.",
}
ORIGINAL_CODE = """\
model = keras.Sequential([
    keras.layers.Conv2D(32, 3, activation="relu", padding="same", input_shape=[28, 28, 1]),
    keras.layers.Conv2D(64, 3, activation="relu", padding="same"),
    keras.layers.MaxPool2D(),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.25),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(0.5),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(loss="sparse_categorical_crossentropy", optimizer="nadam", metrics=["accuracy"])
history = model.fit(X_train, y_train, epochs=10, validation_data=(X_valid, y_valid))
"""
_BAR = "1719/1719 [==============================]"
TRAINING_LOG = (
    f"Epoch 1/2\n{_BAR} - 41s 23ms/step - loss: 0.1873 - accuracy: 0.9431 - val_loss: 0.0562 "
    "- val_accuracy: 0.9838\n"
    f"Epoch 2/2\n{_BAR} - 39s 22ms/step - loss: 0.0817 - accuracy: 0.9752 - val_loss: 0.0441 "
    "- val_accuracy: 0.9874\n"
)

# Light edits a student makes to a copied answer: a word swapped, a typo, a clause added.
EDITS = [
    [("far fewer", "much fewer"), ("hierarchy", "hierachy")],
    [("reduce the mini-batch size", "make the mini-batch smaller"), ("quite a few", "many")],
    [("anywhere", "anywhere at all"), ("cheaper to compute", "cheaper"), ("multiple", "several")],
]

INDEPENDENT = [
    {1: "Because of weight sharing a convolution layer only learns a small kernel; a dense net would "
        "need a weight for every pixel. Convolutions also keep the 2D structure of the picture, so "
        "edges found early are combined into shapes later, and position does not matter much.",
     3: "Smaller batches are the first thing to try. After that: downsample the input, make the "
        "model shallower, train in mixed precision (float16), or put parts of the model on two GPUs.",
     4: "Pooling is a fixed operation with nothing to learn, so it saves memory and compute; a strided "
        "convolution learns weights. Taking the maximum also keeps the strongest activation even if "
        "the object moves by a pixel or two."},
    {1: "Dense networks explode in size on images: 200x300x3 inputs times hundreds of neurons. "
        "Convolutions look at small patches with shared filters so training is cheaper and the model "
        "generalises better to shifted objects; stacking them learns features at growing scales.",
     3: "Cut the batch size; use stride 2 early to shrink feature maps; drop some layers; switch to "
        "half precision; spread the layers over several GPUs if they are available to you.",
     4: "I would use max pooling when I want to shrink the feature maps without adding weights. It is "
        "faster, needs no training and gives a little robustness to small shifts of the input image."},
]

INDEPENDENT_CODE = [
    """\
inputs = keras.Input(shape=(28, 28, 1))
x = keras.layers.Conv2D(16, 5, activation="relu")(inputs)
x = keras.layers.MaxPooling2D(2)(x)
x = keras.layers.Conv2D(32, 5, activation="relu")(x)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(10, activation="softmax")(x)
net = keras.Model(inputs, outputs)
net.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
net.fit(x_tr, y_tr, batch_size=128, epochs=5, validation_split=0.1)
""",
    """\
cnn = keras.models.Sequential()
cnn.add(keras.layers.Conv2D(64, 7, padding="same", activation="relu", input_shape=(28, 28, 1)))
cnn.add(keras.layers.BatchNormalization())
cnn.add(keras.layers.MaxPooling2D(pool_size=2))
cnn.add(keras.layers.Flatten())
cnn.add(keras.layers.Dense(64, activation="relu"))
cnn.add(keras.layers.Dense(10, activation="softmax"))
cnn.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
cnn.fit(train_images, train_labels, epochs=3)
""",
]


def _edit(text: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        text = text.replace(old, new)
    return text


def _notebook(path: Path, answers: dict[int, str], code: str, log: str = "") -> Path:
    cells = [new_markdown_cell("# Assignment 06")]
    for q, text in answers.items():
        cells += [new_markdown_cell(f"## Question {q}"), new_markdown_cell(text)]
    cells.append(new_markdown_cell("## Question 9"))
    cell = new_code_cell(code)
    if log:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=log)]
    cells.append(cell)
    nbformat.write(new_notebook(cells=cells), path)
    return path


def _class(tmp_path: Path) -> list[Path]:
    paths = [_notebook(tmp_path / "orig.ipynb", ORIGINAL, ORIGINAL_CODE, TRAINING_LOG)]
    for n, edits in enumerate(EDITS):
        answers = {q: _edit(t, edits) for q, t in ORIGINAL.items()}
        code = ORIGINAL_CODE.replace("history", f"hist{n}").replace("# ", "")
        if n == 0:
            code = code.replace('padding="same"', "padding = 'same'")  # restyled, same program
        # only copy0 also copied the printed training log
        paths.append(_notebook(tmp_path / f"copy{n}.ipynb", answers, code, TRAINING_LOG if n == 0 else ""))
    for n, (answers, code) in enumerate(zip(INDEPENDENT, INDEPENDENT_CODE, strict=True)):
        log = TRAINING_LOG.replace("0.1873", f"0.19{n}1").replace("41s", f"{44 + n}s").replace(
            "0.0817", f"0.08{n}9").replace("39s", f"{37 + n}s")
        paths.append(_notebook(tmp_path / f"indep{n}.ipynb", answers, code, log))
    return paths


def test_edited_copies_grouped_independent_answers_not(tmp_path: Path) -> None:
    groups = find_similar_notebooks(_class(tmp_path), load_rubric())
    copies = {"orig", "copy0", "copy1", "copy2"}
    by_key = {(g["kind"], g["question"]): g for g in groups}
    for q in ("q1", "q3", "q4"):
        group = by_key[("text", q)]
        assert set(group["students"]) == copies, (q, group)
        assert 0.88 <= group["similarity"] <= 1.0
        assert group["excerpt"]
    code = by_key[("code", "q9")]
    assert set(code["students"]) == copies
    output = by_key[("output", "q9")]
    assert set(output["students"]) == {"orig", "copy0"}
    assert "loss: 0.1873" in output["excerpt"]
    for g in groups:  # no independent author is in any group
        assert not {"indep0", "indep1"} & set(g["students"]), g
        assert set(g) == {"kind", "question", "students", "similarity", "excerpt"}


def test_measured_lines_ignore_plain_text_and_progress_bars() -> None:
    lines = measured_lines(TRAINING_LOG + "Epoch 1/2\nhello world\nTest accuracy: 0.98\n")
    assert len(lines) == 2
    assert all("=" not in line and "loss" in line for line in lines)


def test_batch_writes_similarity_into_class_report(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    subs = tmp_path / "subs"
    subs.mkdir()
    _class(subs)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "run", str(subs), "--questions", "q1,q3,q4",
                           "--out", str(out), "-j", "2"], cwd=root, capture_output=True, text=True)
    assert proc.returncode in (0, 3), proc.stderr
    import json

    groups = json.loads((out / ".grader" / "similarity.json").read_text())
    assert sorted(p.stem for p in out.glob("*.json")) == sorted(p.stem for p in subs.glob("*.ipynb"))
    assert any(g["kind"] == "text" and set(g["students"]) >= {"orig", "copy1"} for g in groups)
    assert "group(s) of similar answers" in proc.stdout


def test_huge_digit_lines_and_answers_are_bounded(tmp_path: Path) -> None:
    """Red team: a 60,000-digit output line (and a megabyte answer) used to hang the batch's
    similarity step in a quadratic regex. It must finish (the alarm turns a hang into a failure)
    and still group the two students who share a real training log."""
    import signal

    digits = "7" * 60_000
    log = TRAINING_LOG + digits + "\n" + digits + ".1234 5s\n"
    huge = ORIGINAL[1] + " " + "9" * 1_000_000
    paths = [_notebook(tmp_path / f"s{n}.ipynb", {1: huge}, ORIGINAL_CODE, log) for n in range(2)]
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("similarity hung")))
    signal.alarm(60)  # generous: linear time is well under a second; the old regex took minutes
    try:
        assert measured_lines(digits + ".12345 " + digits + "s") == set()  # no log line that long
        groups = find_similar_notebooks(paths, load_rubric())
    finally:
        signal.alarm(0)
    assert any(g["kind"] == "output" and set(g["students"]) == {"s0", "s1"} for g in groups)
    assert any(g["kind"] == "text" and g["question"] == "q1" for g in groups)
