"""What executing a notebook produced: per-cell outcomes, problems, and what the in-kernel
hooks captured (models, fit/evaluate/predict calls, saved trained models).

The capture part is written by code running inside the student's kernel, so the grader treats
it as untrusted data: it is parsed as JSON with known keys and never executed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ExecutionStatus = Literal["completed", "timeout", "kernel-died", "error", "not-run", "disk-quota"]


@dataclass
class CellRun:
    index: int  # notebook cell index (the same numbering as the locator's)
    status: Literal["ok", "error", "timeout", "skipped", "kernel-died"]
    duration_s: float = 0.0
    error_name: str = ""
    error_value: str = ""
    output_text: str = ""  # what the cell printed (stream + text/plain), capped
    truncated: bool = False


@dataclass
class ExecutionProblem:
    kind: str  # "cell-error" | "cell-timeout" | "timeout" | "kernel-died" | "output-truncated" ...
    message: str  # plain language, for the student
    cell: int | None = None


@dataclass
class ExecutionRecord:
    status: ExecutionStatus
    cells: list[CellRun] = field(default_factory=list)
    problems: list[ExecutionProblem] = field(default_factory=list)
    duration_s: float = 0.0
    profile: str = "quick"
    device: str = "cpu"
    seeds: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)  # the training caps that applied
    sandbox: dict[str, Any] = field(default_factory=dict)  # what isolation was enforced
    # Written by inkernel/10_setup.py: pretrained weights or data the grader stood in for
    # ({"requested", "used", "reason"}), and weights that were missing so the model got random
    # weights in the quick profile ({"model", "file", "reason"}); checks that depend on
    # pretrained weights mark their items `skipped` with the reason.
    substitutions: list[dict[str, Any]] = field(default_factory=list)
    missing_weights: list[dict[str, Any]] = field(default_factory=list)
    data_files: list[str] = field(default_factory=list)  # offline files the notebook loaded
    # Course-notebook habits the in-kernel setup adapted (Keras 2 spellings, `!pip install`,
    # Colab drive mounts, TFDS from the data dir: {"kind", "what", "cell"}), shown in the report
    adaptations: list[dict[str, Any]] = field(default_factory=list)
    # Captured by the in-kernel hooks (shapes: grader/execute/inkernel/50_capture.py): untrusted;
    # points come from the saved model files (grader/checks/modelfile.py), never from these alone
    models: list[dict[str, Any]] = field(default_factory=list)
    fits: list[dict[str, Any]] = field(default_factory=list)
    evaluates: list[dict[str, Any]] = field(default_factory=list)
    predicts: list[dict[str, Any]] = field(default_factory=list)
    saved_models: list[dict[str, Any]] = field(default_factory=list)
    workdir: str = ""  # where the run's files (saved models, capture data) are kept
    # Grader-side evidence (grader/execute/integrity.py), never written by the kernel: each model
    # file the capture saved, hashed between cells ({"sha256", "size", "cell"}), and what was
    # found tampered with ({"kind", "file", "cell", "message"}; kinds: model-file, budget,
    # capture). A saved model that fails the check has status "tampered" and is not measured.
    model_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    tampered: list[dict[str, Any]] = field(default_factory=list)

    def model_file_trusted(self, name: str) -> bool:
        """Whether the grader saw `name` saved by its capture and unchanged since."""
        known = self.model_files.get(name)
        return bool(known) and not known.get("unverified") and not any(
            t.get("file") == name for t in self.tampered)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecutionRecord:
        data = dict(data)
        data["cells"] = [CellRun(**c) for c in data.get("cells", [])]
        data["problems"] = [ExecutionProblem(**p) for p in data.get("problems", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def cell(self, index: int) -> CellRun | None:
        for c in self.cells:
            if c.index == index:
                return c
        return None

    def cells_ok(self, indices: list[int]) -> bool:
        runs = [self.cell(i) for i in indices]
        return all(r is not None and r.status == "ok" for r in runs)
