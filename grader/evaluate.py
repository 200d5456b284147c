"""The out-of-kernel evaluator's public names, for the grader's callers (grader/checks/*,
grader/worker.py, benchmarks): the code lives in grader/evaluation/ (one module per job, see its
`__init__`). `python -m grader.evaluate SPEC.json` measures one spec in this process."""

from __future__ import annotations

from grader.evaluation.description import describe_model, describe_training
from grader.evaluation.fitfile import training_from_file
from grader.evaluation.imagenet import IMAGENET_FILE, compare_layers, compare_with_imagenet
from grader.evaluation.inprocess import main, measure_in_process
from grader.evaluation.inputs import OFFICIAL, InputMismatch, check_inputs, labels_of, perturb, preprocess
from grader.evaluation.inspection import MAX_PARAMS, config_params, inspect_model_file
from grader.evaluation.memorisation import PERTURBED_N, PROBE_N, memorisation
from grader.evaluation.process import (
    EVAL_MEMORY,
    EVAL_TIMEOUT_S,
    Evaluator,
    evaluator_for,
    keep_evaluators,
    measure,
    measure_many,
    one_evaluator_per_submission,
)

__all__ = [
    "EVAL_MEMORY", "EVAL_TIMEOUT_S", "IMAGENET_FILE", "MAX_PARAMS", "OFFICIAL", "PERTURBED_N", "PROBE_N",
    "Evaluator", "InputMismatch", "check_inputs", "compare_layers", "compare_with_imagenet", "config_params",
    "describe_model", "describe_training", "evaluator_for", "inspect_model_file", "keep_evaluators",
    "labels_of", "main", "measure", "measure_in_process", "measure_many", "memorisation",
    "one_evaluator_per_submission", "perturb", "preprocess", "training_from_file",
]

if __name__ == "__main__":
    raise SystemExit(main())
