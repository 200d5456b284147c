"""How a question's transfer model was trained, read from the files the grader saved after each
fit(), never from the kernel's capture.

The capture saves a model with a nested (pretrained) base right after every fit() as
`.grader/model_<i>_fit<k>.keras` (inkernel/50_capture.py); the runner hashes each between cells
and a file changed afterwards is tampering (grader/execute/integrity.py). The sandboxed evaluator
describes each file (grader/evaluation/fitfile.py `training_from_file`, which reads config.json and the
weights with h5py, or `describe_training` on the model loaded with Keras when the reader cannot
tell; both give the same description): the compiled optimizer's learning rate and steps, the
base's trainable flags, a digest per weight tensor, and the base's weights against the ImageNet
weights the grader itself holds. From those:

The first training is the first file whose optimizer took steps (a decoy fit of 0 steps with a
frozen base does not count). Then:
- pretrained base: after the first fit, (almost) all of the base's learnable tensors are the
  grader's ImageNet tensors, equal or correlated above 0.5 (random initialisations correlate ~0);
- frozen first: after the first fit every base tensor is still equal to ImageNet's, BatchNorm
  moving statistics included. In Keras 3 a frozen BatchNormalization runs in inference mode
  whatever `training` says, so an honestly frozen base is bitwise unchanged; changed statistics
  mean BN layers were trainable and ran in training mode, which updates the base too;
- fine-tuned: a later fit's file shows base tensors changed since the fit before it (digests),
  and every later fit that changed the base did so with a learning rate below the first fit's.

A base the grader holds no ImageNet weights for (another family, another alpha) falls back to
the file's trainable flags for "frozen first" and to the capture's (unverified) weight source for
"pretrained base"; the feedback says so. Results are cached per question in `ctx.cache`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.context import GradingContext
from grader.execute.integrity import FIT_FILE

#: share of the base's learnable tensors that must be ImageNet's for "pretrained base"
PRETRAINED_SHARE = 0.9


@dataclass
class FitFile:
    name: str
    model: int
    fit: int
    cell: int
    status: str  # ok | tampered | unreadable | environment
    message: str = ""
    training: dict[str, Any] | None = None  # grader/evaluation/description.py describe_training

    @property
    def base(self) -> dict[str, Any] | None:
        bases = (self.training or {}).get("bases") or []
        return bases[0] if bases else None

    @property
    def learning_rate(self) -> float | None:
        lr = ((self.training or {}).get("optimizer") or {}).get("learning_rate")
        return lr if isinstance(lr, float) else None


@dataclass
class Step:
    met: bool | None  # None: not checked (the grader's gap)
    detail: str
    verified: bool = True  # False: fell back to flags or the capture


@dataclass
class TransferFacts:
    files: list[FitFile] = field(default_factory=list)
    pretrained: Step | None = None
    frozen_first: Step | None = None
    fine_tuned: Step | None = None
    never_unfrozen: bool = False
    first: FitFile | None = None

    def evidence(self) -> list[dict[str, Any]]:
        out = []
        for f in self.files:
            base = f.base or {}
            out.append({"file": f.name, "cell": f.cell, "status": f.status, "message": f.message,
                        "learning_rate": f.learning_rate,
                        "steps": ((f.training or {}).get("optimizer") or {}).get("iterations"),
                        "base": base.get("name"), "base_trainable_params": base.get("trainable_params"),
                        "imagenet": base.get("imagenet")})
        return out


def question_files(ctx: GradingContext, question: str, cells: set[int],
                   model: int | None) -> list[tuple[str, int, int, int]]:
    """(name, model, k, cell) of the per-fit files the runner recorded in the question's cells,
    for the question's model (the cell is the runner's, not the capture's), in training order."""
    found = []
    for name, known in ctx.execution.model_files.items():
        m = FIT_FILE.fullmatch(name)
        if m and known.get("cell") in cells:
            found.append((name, int(m.group(1)), int(m.group(2)), int(known["cell"])))
    models = {f[1] for f in found}
    if model not in models and models:  # the final model has none: the one trained most with a base
        model = max(models, key=lambda i: sum(1 for f in found if f[1] == i))
    return sorted((f for f in found if f[1] == model), key=lambda f: (f[3], f[2]))


def _verified(ctx: GradingContext, name: str) -> str | None:
    from grader.checks.modelfile import verify_name

    return verify_name(ctx.execution, name)


def read_files(ctx: GradingContext, question: str, cells: set[int], model: int | None) -> list[FitFile]:
    """The question's per-fit files, verified and described by the sandboxed evaluator (cached)."""
    key = f"models:fitfiles:{question}"
    if key in ctx.cache:
        return ctx.cache[key]
    files, specs = [], []
    data_dir = ctx.options.resolved_data_dir()
    for name, index, k, cell in question_files(ctx, question, cells, model):
        why = _verified(ctx, name)
        files.append(FitFile(name, index, k, cell, "tampered" if why else "ok", why or ""))
        if not why:
            spec: dict[str, Any] = {"model": str(Path(ctx.execution.workdir) / ".grader" / name),
                                    "inspect": True, "training": True,
                                    # GRADER_FAST_FITFILES=0: loaded with Keras (to measure the reader)
                                    "read_file": os.environ.get("GRADER_FAST_FITFILES") != "0"}
            if data_dir:
                spec["data_dir"] = data_dir
            specs.append((files[-1], spec))
    if specs:
        from grader.evaluation.process import measure_many

        for (f, _), result in zip(specs, measure_many([s for _, s in specs]), strict=True):
            if result.get("environment"):
                f.status, f.message = "environment", str(result.get("error"))
            elif not result.get("training"):
                f.status = "unreadable"
                f.message = str(result.get("error") or "the saved model could not be read")
            else:
                f.training = result["training"]
    ctx.cache[key] = files
    return files


def _changed_since(before: FitFile, after: FitFile) -> int:
    """Learnable base tensors whose digest differs between two files of the same model."""
    a = ((before.base or {}).get("digests") or {}).get("learnable") or {}
    b = ((after.base or {}).get("digests") or {}).get("learnable") or {}
    return sum(1 for k, v in b.items() if k in a and a[k] != v)


def _trained(f: FitFile) -> bool:
    """Whether the fit took optimizer steps (a decoy fit of 0 steps, epochs=0 or no data, and a
    fit that failed before its first batch do not count as the first training)."""
    steps = ((f.training or {}).get("optimizer") or {}).get("iterations")
    return not isinstance(steps, int) or steps > 0


def _imagenet(f: FitFile) -> dict[str, Any] | None:
    ref = (f.base or {}).get("imagenet") or {}
    return ref if ref.get("status") == "ok" else None


def judge(files: list[FitFile], source: str | None, missing: str | None) -> TransferFacts:
    """The three training steps from the files (`source`: the capture's weight source, used only
    for a base the grader holds no weights for; `missing`: weights the grader lacked)."""
    facts = TransferFacts(files=files)
    usable = [f for f in files if f.status == "ok" and f.base]
    if not files:
        return facts
    if not usable:
        bad = files[0]
        facts.frozen_first = Step(False, f"the file the grader saved after the first training ({bad.name}) "
                                  f"cannot be used: {bad.message}")
        return facts
    trained = [f for f in usable if _trained(f)]
    first = facts.first = trained[0] if trained else usable[0]  # a fit of 0 steps is no first training
    usable = usable[usable.index(first):]
    base, ref = first.base or {}, _imagenet(first)
    where = f"{first.name}, after the training in cell {first.cell}"
    if ref:
        learn, moving = ref["learnable"], ref["moving"]
        share = learn["from_imagenet"] / max(1, learn["n"])
        pretrained = share >= PRETRAINED_SHARE
        facts.pretrained = Step(pretrained, (
            f"{base.get('name')}: {learn['from_imagenet']} of its {learn['n']} weight tensors are the "
            f"ImageNet weights ({ref['reference']}) in {where}") if pretrained else (
            f"{base.get('name')} does not hold ImageNet weights in {where}: only {learn['from_imagenet']} "
            f"of {learn['n']} tensors match them (built with weights=None or from another file?)"))
        changed = learn["changed"] + moving["changed"]
        if pretrained:
            facts.frozen_first = Step(changed == 0, (
                f"the first training kept the base frozen: its weights are still ImageNet's ({where})"
                if changed == 0 else
                f"the first training (cell {first.cell}) already updated the pretrained base: "
                f"{learn['changed']} of its {learn['n']} weight tensors and {moving['changed']} of "
                f"{moving['n']} BatchNormalization statistics differ from ImageNet's in {first.name}"))
    else:
        why = ((base.get("imagenet") or {}).get("why") or "the grader holds no ImageNet weights for it")
        if missing and not source:
            facts.pretrained = Step(None, "not checked: the pretrained weights were not available to "
                                    "the grader")
        else:
            facts.pretrained = Step(bool(source), (
                f"{base.get('name')} with weights from {Path(source).name}" if source else
                f"{base.get('name')} was built without pretrained weights (weights=None)")
                + f" (as the notebook's capture reports: {why}, so this is not verified from the weights)",
                verified=False)
    if facts.frozen_first is None:  # no ImageNet weights to compare: the file's trainable flags
        frozen = not base.get("trainable_params")
        facts.frozen_first = Step(frozen, (
            f"the first training (cell {first.cell}) keeps the base frozen" if frozen else
            f"the first training in cell {first.cell} already updates the pretrained base "
            f"({base.get('trainable_params'):,} trainable parameters in {first.name})")
            + " (read from the saved file's trainable flags: the grader cannot compare this base with "
              "ImageNet weights)", verified=False)
    updated, lowered = [], []
    for before, after in zip(usable, usable[1:], strict=False):
        if _changed_since(before, after) > 0:
            updated.append(after)
            if after.learning_rate is not None and first.learning_rate is not None \
                    and after.learning_rate < first.learning_rate:
                lowered.append(after)
    if lowered and len(lowered) == len(updated):
        f = lowered[0]
        facts.fine_tuned = Step(True, f"the base was fine-tuned in cell {f.cell} with a learning rate of "
                                f"{f.learning_rate:g} (first training: {first.learning_rate:g}), {f.name}")
    elif updated:
        f = next(u for u in updated if u not in lowered)
        facts.fine_tuned = Step(False, f"the base was trained again in cell {f.cell} but the learning rate "
                                f"({_lr(f)}) is not lower than the first training's ({_lr(first)})")
    else:
        facts.fine_tuned = Step(False, "no later training changed the base's weights (a second, fine-tuning "
                                "phase with base layers unfrozen and a lower learning rate); if your code "
                                "has one, an earlier error stopped it")
    facts.never_unfrozen = bool(facts.frozen_first.met) and not updated
    return facts


def _lr(f: FitFile) -> str:
    return f"{f.learning_rate:g}" if f.learning_rate is not None else "unknown"


def transfer_facts(ctx: GradingContext, question: str) -> TransferFacts:
    """The question's training steps, judged from its per-fit files (cached)."""
    from grader.checks.diagnostics import _missing_weights
    from grader.checks.models import question_capture, transfer_model

    key = f"models:transfer:{question}"
    if key in ctx.cache:
        return ctx.cache[key]
    qc = question_capture(ctx, question)
    cells = set(qc.cells) | {f.get("cell") for f in qc.fits if isinstance(f.get("cell"), int)}
    final = qc.final_model()
    files = read_files(ctx, question, cells, (final or {}).get("index"))
    _, _, base = transfer_model(qc)
    source = base.get("weights_source") if base else None
    facts = judge(files, source if isinstance(source, str) else None, _missing_weights(ctx))
    ctx.cache[key] = facts
    return facts
