"""What the capture says about one question's models, and the ML diagnoses drawn from it.

The check kinds live in their own modules (architecture, accuracy, diagnostics); this module
selects a question's captured models and fit/evaluate/predict calls (by the cells they ran in),
identifies their data against the official data sets (grader/fingerprint.py) and names the
known mistakes (`diagnose`), each with the cell it comes from and a fix. Results are cached
per question in `ctx.cache`, so every item of a question sees the same analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checks.base import Diagnosis
from grader.context import GradingContext

#: how much of an array must be official data to call it that
SAME = 0.9
#: a leak: this share of training samples are test samples
LEAK = 0.01

FIXES = {
    "test-set-as-validation": (
        "Hold out part of the training data for validation (validation_split=0.1 or a slice of "
        "x_train) and touch the test set only once, for the final evaluation."),
    "test-data-in-training": (
        "Train only on training data: build the training set before looking at the test set and "
        "make sure no test image is concatenated into it."),
    "unscaled-eval-data": (
        "Apply exactly the same preprocessing (e.g. / 255.0) to the test data as to the training "
        "data before evaluate() or predict()."),
    "preprocessing-mismatch": (
        "Scale inputs the way the pretrained base expects: for MobileNetV2 use "
        "keras.applications.mobilenet_v2.preprocess_input or Rescaling(1/127.5, offset=-1) "
        "(range [-1, 1])."),
    "input-size-mismatch": (
        "Resize the images to the base model's input size (e.g. layers.Resizing(96, 96) in the "
        "model, or tf.image.resize in the pipeline), or build the base with input_shape equal to "
        "your images' size."),
    "augmented-eval-data": (
        "Use a generator without augmentation (only rescaling) for validation and test data; "
        "augment the training data only."),
    "base-never-unfrozen": (
        "After training the new head, set base.trainable = True (optionally keep the lowest "
        "layers frozen), recompile with a lower learning rate and fit again."),
    "base-not-frozen-first": (
        "Set base.trainable = False and train the new head first, so large gradients from the "
        "random head do not wreck the pretrained weights; unfreeze afterwards."),
    "output-activation-loss-mismatch": (
        "For single-label classification use softmax with (sparse_)categorical_crossentropy, or "
        "no activation with from_logits=True; sigmoid/binary_crossentropy is for two classes or "
        "multi-label outputs."),
    "too-few-images-per-class": "Use at least 100 training images for every class.",
    "no-test-split": (
        "Split the data into training, validation and test sets, and evaluate the final model once "
        "on the test set (model.evaluate(x_test, y_test))."),
    "not-from-scratch": (
        "Question 9 asks for a CNN trained from scratch: build your own layers and do not load "
        "pretrained weights (weights=None)."),
    "test-set-memorised": (
        "Train only on the training data (in fit or in your own loop) and never copy test images or "
        "labels into the model; the grader compares its accuracy on the test set with training images."),
    "input-mismatch": (
        "Preprocess the test images with one global scaling (e.g. x / 255.0, or a Rescaling layer "
        "inside the model) and evaluate on the official test set, so the grader can rebuild the "
        "inputs your model was evaluated on."),
    "tampered": (
        "Let the grader save and measure your model as it is: do not write to the .grader folder, "
        "and train within fit() as the notebook is run (the quick profile caps each fit)."),
    "over-budget": (
        "Train with model.fit(...) so the quick profile can cap the self-check's training; a "
        "custom training loop is measured as it runs, and an instructor reviews the result."),
    "capture-mismatch": (
        "Hand in the model your notebook builds and trains: the file the grader saved after your "
        "cell must be that model, layer for layer."),
    "reported-accuracy-mismatch": (
        "Print the accuracy that model.evaluate returns on the test set, after the final training, "
        "and rerun the whole notebook so the printed figure matches the model you hand in."),
}


@dataclass
class QuestionCapture:
    """A question's slice of the execution capture."""

    question: str
    cells: list[int]
    capture_dir: Path | None
    data_dir: str | None
    models: dict[int, dict[str, Any]] = field(default_factory=dict)
    fits: list[dict[str, Any]] = field(default_factory=list)
    evaluates: list[dict[str, Any]] = field(default_factory=list)
    predicts: list[dict[str, Any]] = field(default_factory=list)
    saved: dict[int, dict[str, Any]] = field(default_factory=dict)
    idents: dict[str, dict[str, float]] = field(default_factory=dict)  # fingerprint file -> overlaps

    def hashes(self, desc: dict[str, Any] | None):
        from grader.fingerprint import load_hashes

        if not desc or self.capture_dir is None:
            return None
        return load_hashes(self.capture_dir, desc.get("fingerprint"))

    def ident(self, desc: dict[str, Any] | None) -> dict[str, float]:
        """Overlaps of the data with each official split, e.g. {"mnist:test": 1.0}."""
        from grader.fingerprint import identify

        fp = (desc or {}).get("fingerprint") or {}
        key = fp.get("file")
        if not key:
            return {}
        if key not in self.idents:
            self.idents[key] = identify(self.hashes(desc), self.data_dir)
        return self.idents[key]

    def is_official(self, desc: dict[str, Any] | None, split: str, dataset: str | None = None) -> bool:
        return any(v >= SAME for k, v in self.ident(desc).items()
                   if k.endswith(":" + split) and (dataset is None or k.startswith(dataset)))

    def model_of(self, call: dict[str, Any]) -> dict[str, Any] | None:
        return self.models.get(call.get("model")) if isinstance(call.get("model"), int) else None

    def final_model(self) -> dict[str, Any] | None:
        """The model the question is about: the last one evaluated, else the last one fitted."""
        for calls in (self.evaluates, self.fits):
            for call in reversed(calls):
                model = self.model_of(call)
                if model is not None:
                    return model
        return list(self.models.values())[-1] if self.models else None


def question_capture(ctx: GradingContext, question: str) -> QuestionCapture:
    key = f"models:capture:{question}"
    if key in ctx.cache:
        return ctx.cache[key]
    answer = ctx.answer(question)
    record = ctx.execution
    cells = sorted(set(answer.code_cells)) if answer else []
    workdir = Path(record.workdir) / ".grader" if record.workdir else None
    qc = QuestionCapture(question=question, cells=cells, capture_dir=workdir,
                         data_dir=ctx.options.resolved_data_dir())
    inside = set(cells)
    qc.fits = [f for f in record.fits if f.get("cell") in inside]
    qc.evaluates = [e for e in record.evaluates if e.get("cell") in inside]
    qc.predicts = [p for p in record.predicts if p.get("cell") in inside]
    used = {c.get("model") for c in qc.fits + qc.evaluates + qc.predicts}
    for m in record.models:
        if isinstance(m, dict) and (m.get("index") in used or m.get("cell") in inside):
            qc.models[m["index"]] = m
    if not qc.models:
        assign_by_capture(ctx, qc, record)
    for s in record.saved_models:
        if isinstance(s, dict) and s.get("status") == "ok":
            qc.saved[s.get("model")] = s
    ctx.cache[key] = qc
    return qc


def question_task(ctx: GradingContext, question: str) -> str | None:
    """'scratch' / 'transfer' for a model question (rubric `task`, or its diagnostic item's)."""
    spec = next((s for s in ctx.rubric.question_specs() if s.id == question), None)
    return spec.task if spec else None


def model_task(model: dict[str, Any], fit: dict[str, Any]) -> str | None:
    """What a captured model does: a pretrained base inside -> transfer; 28x28 inputs -> scratch."""
    if any(r.get("weights_source") or base_family(str(r.get("name", ""))) for r in bases(model)):
        return "transfer"
    return "scratch" if spatial(fit.get("x")) == (28, 28) else None


def assign_by_capture(ctx: GradingContext, qc: QuestionCapture, record: Any) -> None:
    """The question's cells built no model: take the trained model that does its task (from
    scratch on MNIST, or on a pretrained keras.applications base) from cells no other answer
    holds, and record on the answer that it was assigned by content."""
    task = question_task(ctx, qc.question)
    if task is None:
        return
    claimed = {c for qid, a in ctx.answers.items() if qid != qc.question for c in a.code_cells}
    chosen = None
    for fit in record.fits:
        model = record.models[fit["model"]] if isinstance(fit.get("model"), int) and \
            0 <= fit["model"] < len(record.models) else None
        if not isinstance(model, dict) or fit.get("cell") in claimed or model.get("cell") in claimed:
            continue
        if model_task(model, fit) == task:
            chosen = model  # the last such model trained is the answer
    if chosen is None:
        return
    index = chosen["index"]
    qc.fits = [f for f in record.fits if f.get("model") == index]
    qc.evaluates = [e for e in record.evaluates if e.get("model") == index]
    qc.predicts = [p for p in record.predicts if p.get("model") == index]
    qc.models = {index: chosen}
    cells = {c.get("cell") for c in qc.fits + qc.evaluates + qc.predicts} | {chosen.get("cell")}
    qc.cells = sorted(c for c in cells if isinstance(c, int))
    answer = ctx.answer(qc.question)
    if answer is not None:
        answer.code_cells = sorted(set(answer.code_cells) | set(qc.cells))
        answer.cells = sorted(set(answer.cells) | set(qc.cells))
        answer.how, answer.confidence = "content", min(answer.confidence, 0.7)
        answer.label = (answer.label + f" + the {task} model trained in cell(s) "
                        f"{', '.join(map(str, qc.cells))} (by what it does)")[:200]


# ---- model facts ----------------------------------------------------------------------------

def bases(model: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Nested models (pretrained bases) among the model's layers."""
    return [r for r in (model or {}).get("layers", []) if r.get("nested")]


def transfer_model(qc: QuestionCapture) -> tuple[list[dict[str, Any]], dict[str, Any] | None,
                                                 dict[str, Any] | None]:
    """(the fits of a model with a pretrained base, that model or else the final one, its first
    base row) as the capture recorded them (untrusted: shown, and the fallback weight source)."""
    with_base = [f for f in qc.fits if bases(qc.model_of(f))]
    model = qc.model_of(with_base[0]) if with_base else qc.final_model()
    found = bases(model)
    return with_base, model, found[0] if found else None


def output_activation(model: dict[str, Any]) -> str | None:
    for row in reversed(model.get("layers", [])):
        act = (row.get("config") or {}).get("activation")
        if row.get("class") == "Softmax":
            return "softmax"
        if act is not None:
            return str(act)
        if row.get("class") not in ("Dropout", "Activation", "Flatten", "Reshape"):
            return "linear"
    return None


def spatial(desc: dict[str, Any] | None) -> tuple[int, int] | None:
    if not desc:
        return None
    shape = desc.get("shape") or desc.get("sample_shape")
    if desc.get("kind") == "image-directory":
        shape = [None, *desc.get("image_shape", [])]
    if shape and len(shape) >= 3 and all(isinstance(s, int) for s in shape[1:3]):
        return int(shape[1]), int(shape[2])
    return None


def base_family(name: str) -> str | None:
    name = name.lower()
    for prefix, family in (("mobilenetv2", "mobilenet_v2"), ("mobilenetv3", "mobilenet_v3"),
                           ("mobilenet", "mobilenet"), ("resnet", "resnet"), ("efficientnet", "efficientnet"),
                           ("vgg16", "vgg16"), ("vgg19", "vgg19"), ("xception", "xception"),
                           ("inception_v3", "inception_v3"), ("densenet", "densenet"),
                           ("convnext", "convnext")):
        if name.startswith(prefix):
            return family
    return None


def range_before_base(
    model: dict[str, Any], base: dict[str, Any], lo: float, hi: float
) -> tuple[float, float] | None:
    """The value range the base sees: the data's range through the Rescaling layers before it;
    None when a layer we cannot follow (Lambda, Normalization) transforms the values."""
    for row in model.get("layers", []):
        if row is base or row.get("name") == base.get("name"):
            return lo, hi
        cls = row.get("class")
        cfg = row.get("config") or {}
        if cls == "Rescaling":
            scale, offset = cfg.get("scale", 1.0), cfg.get("offset", 0.0)
            if not isinstance(scale, (int, float)) or not isinstance(offset, (int, float)):
                return None
            a, b = lo * scale + offset, hi * scale + offset
            lo, hi = min(a, b), max(a, b)
        elif cls in ("Lambda", "Normalization", "TFOpLambda") or row.get("nested"):
            return None
    return lo, hi


def resizes_before_base(model: dict[str, Any], base: dict[str, Any]) -> bool:
    for row in model.get("layers", []):
        if row.get("name") == base.get("name"):
            return False
        if row.get("class") in ("Resizing", "UpSampling2D", "Lambda", "TFOpLambda"):
            return True
    return False


# ---- printed figures ------------------------------------------------------------------------

# Keras progress bars, and figures about training or validation data rather than the test set
_PROGRESS = re.compile(r"━|\bstep\b|/step|\bval|train|ETA|epoch", re.I)
_ACC = re.compile(r"acc(?:uracy)?[^0-9\n%]{0,30}?([0-9]+(?:\.[0-9]+)?)\s*(%)?", re.I)


def printed_accuracy(text: str) -> float | None:
    """The last accuracy the output printed (in percent), ignoring Keras progress bars."""
    found = None
    for line in text.splitlines():
        if _PROGRESS.search(line):
            continue
        for m in _ACC.finditer(line):
            value = float(m.group(1))
            found = (value if value <= 100 else None) if m.group(2) or value > 1.0 else value * 100.0
    return found


def printed_in_cells(ctx: GradingContext, cells: list[int]) -> tuple[float | None, int | None]:
    value, where = None, None
    for index in cells:
        run = ctx.execution.cell(index)
        if run is None:
            continue
        found = printed_accuracy(run.output_text)
        if found is not None:
            value, where = found, index
    return value, where


# ---- diagnoses ------------------------------------------------------------------------------

def _diag(code: str, message: str, cell: int | None) -> Diagnosis:
    return Diagnosis(code=code, message=message, cell=cell, fix=FIXES.get(code))


def diagnose(ctx: GradingContext, question: str, task: str) -> list[Diagnosis]:
    """Every known mistake in the question's captured training and evaluation (cached)."""
    key = f"models:diagnoses:{question}"
    if key in ctx.cache:
        return ctx.cache[key]
    qc = question_capture(ctx, question)
    out: list[Diagnosis] = []
    dataset = "mnist" if task == "scratch" else "cifar10"
    evals = [("evaluate", e) for e in qc.evaluates] + [("predict", p) for p in qc.predicts]
    test_hashes = _test_hashes(qc, dataset, evals)
    from grader.fingerprint import overlap

    for fit in qc.fits:
        cell = fit.get("cell")
        val = fit.get("validation")
        if val is not None and (qc.is_official(val, "test", dataset)
                                or overlap(qc.hashes(val), test_hashes) >= 0.5):
            out.append(_diag("test-set-as-validation",
                             f"the model in cell {cell} is validated on the test set during training, "
                             "so the test accuracy is no longer an unbiased estimate", cell))
        x = fit.get("x")
        leak = overlap(qc.hashes(x), test_hashes)
        if x is not None and leak >= LEAK:
            out.append(_diag("test-data-in-training",
                             f"{leak:.0%} of the training images in cell {cell} are test images", cell))
        if val is not None and (val.get("generator") or {}).get("augmented"):
            out.append(_diag("augmented-eval-data",
                             f"the validation data in cell {cell} comes from a generator that "
                             "augments images (rotation/shift/flip)", cell))
        model = qc.model_of(fit)
        loss = fit.get("loss") or {}
        if model is not None and loss:
            problem = _activation_loss_problem(model, loss)
            if problem:
                out.append(_diag("output-activation-loss-mismatch", f"cell {cell}: {problem}", cell))
        if fit.get("status") == "error" and model is not None:
            size = _size_problem(model, x, fit.get("error", ""))
            if size:
                out.append(_diag("input-size-mismatch", f"cell {cell}: {size}", cell))
    train_max = max((f["x"].get("max") for f in qc.fits if (f.get("x") or {}).get("max") is not None),
                    default=None)
    for kind, call in evals:
        cell = call.get("cell")
        x = call.get("x") or {}
        if (x.get("generator") or {}).get("augmented"):
            out.append(_diag("augmented-eval-data",
                             f"the data passed to {kind}() in cell {cell} comes from a generator that "
                             "augments images, so the test images are distorted at random", cell))
        if train_max is not None and x.get("max") is not None and train_max <= 10 and x["max"] > 20:
            out.append(_diag("unscaled-eval-data",
                             f"the model was trained on values up to {train_max:g} but {kind}() in "
                             f"cell {cell} gets values up to {x['max']:g}", cell))
        model = qc.model_of(call)
        if call.get("status") == "error" and model is not None:
            size = _size_problem(model, x, call.get("error", ""))
            if size:
                out.append(_diag("input-size-mismatch", f"cell {cell}: {size}", cell))
    if task == "scratch":
        out += _not_from_scratch(qc)
    else:
        out += _transfer_diagnoses(ctx, qc, evals)
    out += _from_file(ctx, question, task)
    unique: dict[str, Diagnosis] = {}
    for d in out:  # one diagnosis per code: the first place it happens
        unique.setdefault(d.code, d)
    ctx.cache[key] = list(unique.values())
    return ctx.cache[key]


def _test_hashes(qc: QuestionCapture, dataset: str, evals: list[tuple[str, dict[str, Any]]]):
    """Hashes of the test data: the official test split plus whatever the question evaluated on."""
    import numpy as np

    from grader.fingerprint import OFFICIAL, official_hashes

    parts = []
    if qc.data_dir and (Path(qc.data_dir) / OFFICIAL[dataset]).exists():
        parts.append(official_hashes(qc.data_dir, dataset, "test"))
    for _kind, call in evals:
        if call.get("status") in ("ok", "error") and (call.get("x") or {}).get("fingerprint"):
            h = qc.hashes(call["x"])
            if h is not None and not qc.is_official(call["x"], "train"):
                parts.append(h)
    return np.concatenate(parts) if parts else None


def _activation_loss_problem(model: dict[str, Any], loss: dict[str, Any]) -> str | None:
    act = output_activation(model)
    name = str(loss.get("name", "")).lower() + " " + str(loss.get("class", "")).lower()
    logits = bool(loss.get("from_logits"))
    units = (model.get("output_shape") or [None])[-1]
    if "crossentropy" not in name.replace("_", ""):
        return None
    if "binary" in name and isinstance(units, int) and units > 2:
        return f"binary cross-entropy on {units} mutually exclusive classes"
    if act == "sigmoid" and isinstance(units, int) and units > 2 and "categorical" in name:
        return f"a sigmoid output layer with a categorical loss on {units} classes"
    if act == "softmax" and logits:
        return "a softmax output with a loss that expects logits (from_logits=True)"
    if act in ("linear", None) and not logits and "categorical" in name:
        return "the output layer has no activation (logits) but the loss expects probabilities"
    return None


def _size_problem(model: dict[str, Any], x: dict[str, Any] | None, error: str) -> str | None:
    got = spatial(x)
    want = model.get("input_shape") or []
    for base in bases(model):
        if base.get("input_shape"):
            if not resizes_before_base(model, base):
                want = base["input_shape"]
            break
    if got and len(want) >= 3 and all(isinstance(s, int) for s in want[1:3]) and tuple(want[1:3]) != got:
        return (f"the images are {got[0]}×{got[1]} but the model expects {want[1]}×{want[2]}"
                + (" (the call failed)" if error else ""))
    if re.search(r"incompatible|expected shape|expected axis", error, re.I):
        return "the data's shape does not match the model's input: " + error.splitlines()[0][:200]
    return None


def _not_from_scratch(qc: QuestionCapture) -> list[Diagnosis]:
    out = []
    for model in qc.models.values():
        sources = [b.get("weights_source") for b in bases(model)] + [model.get("weights_source")]
        loaded = [s for s in sources if s]
        if loaded or bases(model):
            cell = model.get("cell")
            what = (f"loads pretrained weights ({Path(loaded[0]).name})" if loaded
                    else "contains a prebuilt network")
            out.append(_diag("not-from-scratch", f"the model built in cell {cell} {what}", cell))
    return out


def _from_file(ctx: GradingContext, question: str, task: str) -> list[Diagnosis]:
    """The diagnoses the saved model file itself shows (grader/checks/modelfile.py), so a capture
    edited to hide them changes nothing: a loss that does not fit the output layer, and (from
    scratch) a prebuilt network inside. Read for a from-scratch question (whose file the
    architecture item reads anyway); for others only when already read."""
    from grader.checks import modelfile

    read = (modelfile.read(ctx, question) if task == "scratch"
            else ctx.cache.get(f"models:file:{question}"))
    if read is None or not read.ok or not read.model:
        return []
    model, cell = read.model, (read.captured or {}).get("cell")
    out = []
    problem = _activation_loss_problem(model, model.get("loss") or {}) if model.get("loss") else None
    if problem:
        out.append(_diag("output-activation-loss-mismatch", f"cell {cell}: {problem}", cell))
    if task == "scratch" and bases(model):
        out.append(_diag("not-from-scratch", f"the model built in cell {cell} contains a prebuilt network "
                         f"({bases(model)[0].get('name')})", cell))
    return out


def _transfer_diagnoses(ctx: GradingContext, qc: QuestionCapture, evals) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    from grader.checks.fitfiles import transfer_facts

    with_base = [f for f in qc.fits if bases(qc.model_of(f))]
    facts = transfer_facts(ctx, qc.question)  # from the files saved after each fit, not the capture
    if facts.first is not None and facts.frozen_first is not None and facts.frozen_first.met is False:
        out.append(_diag("base-not-frozen-first", facts.frozen_first.detail, facts.first.cell))
    ran = ctx.execution.cells_ok(qc.cells)  # a failed cell may have stopped the unfreezing
    if ran and facts.first is not None and facts.never_unfrozen:
        out.append(_diag("base-never-unfrozen",
                         "every training keeps the whole pretrained base frozen, so it is never "
                         f"fine-tuned (its weights are the same in every file the grader saved after "
                         f"a training, the last {facts.files[-1].name})", facts.files[-1].cell))
    if with_base:
        first = with_base[0]
        model = qc.model_of(first) or {}
        base = bases(model)[0]
        x = first.get("x") or {}
        lo, hi = x.get("min"), x.get("max")
        family = base_family(base.get("name", ""))
        if lo is not None and hi is not None and family:
            seen = range_before_base(model, base, float(lo), float(hi))
            expected = ctx.reference("base_input_range", {"family": family})
            if seen is not None and expected.get("min") is not None:
                elo, ehi = expected["min"], expected["max"]
                tol = 0.15 * (ehi - elo)
                if abs(seen[0] - elo) > tol or abs(seen[1] - ehi) > tol:
                    out.append(_diag("preprocessing-mismatch",
                                     f"the pretrained {family} base sees inputs in "
                                     f"[{seen[0]:g}, {seen[1]:g}] "
                                     f"(cell {first.get('cell')}) but expects [{elo:g}, {ehi:g}]",
                                     first.get("cell")))
        size = _size_problem(model, x, "")
        if size:
            out.append(_diag("input-size-mismatch", f"cell {first.get('cell')}: {size}", first.get("cell")))
    train_fits = [f for f in qc.fits if ((f.get("x") or {}).get("labels") or {}).get("counts")]
    if train_fits:
        counts = train_fits[0]["x"]["labels"]["counts"]
        present = [c for c in counts if c > 0]
        if present and min(present) < 100:
            cell = train_fits[0].get("cell")
            out.append(_diag("too-few-images-per-class",
                             f"the training data in cell {cell} has only {min(present)} images for "
                             "some class", cell))
    if qc.fits and not qc.evaluates and not qc.predicts and ctx.execution.cells_ok(qc.cells):
        out.append(_diag("no-test-split", "the final model is never evaluated on a held-out test set",
                         qc.fits[-1].get("cell")))
    elif qc.fits and qc.evaluates:
        from grader.fingerprint import overlap

        last = qc.evaluates[-1]
        h = qc.hashes(last.get("x"))
        for fit in qc.fits:
            for part in ("x", "validation"):
                if h is not None and overlap(h, qc.hashes(fit.get(part))) >= 0.5 and part == "x":
                    out.append(_diag("no-test-split",
                                     f"the 'test' data evaluated in cell {last.get('cell')} is the "
                                     "training data", last.get("cell")))
    return out


# the check kinds built on this analysis (imported here so `grader.checks` registers them)
from grader.checks import accuracy, architecture, diagnostics  # noqa: E402, F401
