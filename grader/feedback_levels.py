"""What a student may see of an item: the rubric's `reveal` levels applied to an ItemResult.

Three levels, per rubric item, for two moments (`reveal` for the self-check, default `hint`;
`reveal_after_deadline` for the report handed back, default `answer`):

- `none`: the score and the status, nothing more.
- `hint`: the kind of mistake and where, as a nudge ("your total leaves out the biases"), and the
  diagnosis codes; never the expected values, the working or the reference's wording.
- `answer`: the check's own feedback and evidence, unchanged.

This works on the ItemResult alone (feedback, diagnosis codes, evidence keys), so it survives
changes to the checks' wording. Hints come from one table (diagnosis code -> sentence, below),
from the item's own `hints:` in the rubric (an instructor's nudge per diagnosis code or per
concept id), and from the number of key points still missing. A final guard drops any sentence
a hint would print that mentions a number of the answer key (903,400, 903 400, 0.9 M, 12.6 MB).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from grader.results import Diagnostic, ItemResult, SubmissionResult

LEVELS = ("none", "hint", "answer")
SELF_CHECK, AFTER_DEADLINE = "self_check", "after_deadline"
DEFAULTS = {SELF_CHECK: "hint", AFTER_DEADLINE: "answer"}

#: Kinds whose feedback carries the answer key (expected numbers, the model answer). Other kinds
#: (execution, model, accuracy, ...) describe what the student's own code did and keep it.
ANSWER_KEY_KINDS = {"param-math", "concepts"}

#: Diagnosis code -> the hint a student reads. No expected value, no reference wording.
HINTS: dict[str, str] = {
    # Q2 parameters
    "missing-biases": "Your total leaves out the biases: how many does each feature map add?",
    "arithmetic-error": "One of your calculation steps does not give the result you wrote: redo it.",
    "sum-mismatch": "Your per-layer counts do not add up to the total you wrote: add them again.",
    "no-number-found": "No number was found for this part: state it as a number with its unit.",
    "batch-not-answered": "No RAM for the mini-batch was found: state it as a number with its unit.",
    # Q2 memory
    "ram-params-only": "The RAM counts only the parameters; what else must be in memory while the "
                       "network computes?",
    "parameters-not-counted": "Your RAM leaves out the parameters: they sit in memory too.",
    "input-bytes-missing": "The input is counted in values, not bytes: how many bytes does one "
                           "32-bit float take?",
    "inputs-not-counted": "Your training RAM leaves out the input images of the batch.",
    "feature-map-size": "One feature map size in your working is off by one: with 'same' padding "
                        "and stride 2, is the output size rounded up or down?",
    "activations-missing-feature-maps": "Each layer's output is counted as a single feature map: "
                                        "how many feature maps does each layer output?",
    "batch-scaled-prediction": "You multiplied the RAM of one prediction by the batch size: are the "
                               "parameters stored once per image, and what does training keep?",
    # free text
    "copied-question": "Your answer only repeats the question: answer it in your own words.",
    "another-question": "This reads like the answer to a different question: check that it sits "
                        "under the question it answers.",
}

#: (code, part) -> a hint worded for that part of a multi-part answer (Q2's three numbers).
PART_HINTS: dict[tuple[str, str], str] = {
    ("no-number-found", "params"): "No total number of parameters was found in your answer: state it "
                                   "as a number.",
    ("no-number-found", "ram_prediction"): "No RAM for one prediction was found in your answer: state it "
                                           "as a number with its unit.",
    ("no-number-found", "ram_batch"): HINTS["batch-not-answered"],
    ("ram-params-only", "ram_batch"): "The RAM counts only the parameters; what else must be in memory "
                                      "while the network trains on a batch?",
    ("ram-params-only", "ram_prediction"): "The RAM counts only the parameters; what else must be in "
                                           "memory during a prediction?",
}

_KIND_HINTS = {
    "param-math": "Not right yet: check each step of your working against the question's numbers.",
    "concepts": "Not full credit yet: re-read the question and cover every part of it.",
}
_STATUS_ONLY = {
    "passed": "Correct.", "partial": "Partly right.", "failed": "Not right yet.",
    "missing": "No answer found.", "error": "The grader could not check this item.",
    "skipped": "Not checked here.",
}
#: Evidence the student may see at `hint` level (their own text and where it was found).
_HINT_EVIDENCE = {"excerpt", "cells", "matches", "points", "ignored_question_text"}


def level_for(spec: Any, moment: str = SELF_CHECK) -> str:
    """The item's reveal level at `moment` (a RubricItem, or None for the default)."""
    attr = "reveal" if moment == SELF_CHECK else "reveal_after_deadline"
    value = getattr(spec, attr, None) if spec is not None else None
    return value or DEFAULTS[moment]


def student_item(item: ItemResult, level: str, spec: Any = None) -> ItemResult:
    """A copy of `item` as a student may see it at `level` (the original is left alone)."""
    if level not in LEVELS:
        raise ValueError(f"reveal level must be one of {', '.join(LEVELS)}, got {level!r}")
    out = copy.deepcopy(item)
    if level == "answer":
        return out
    if level == "none":
        out.feedback = _STATUS_ONLY.get(item.status, "")
        out.diagnoses = []
        out.evidence = {k: v for k, v in item.evidence.items() if k in ("excerpt", "cells")}
        return out
    if item.kind not in ANSWER_KEY_KINDS:
        out.evidence = {k: v for k, v in item.evidence.items() if k not in ("reference", "expected")}
        return out
    secrets = answer_key_numbers(item)
    out.feedback = " ".join(keep_clean(hint_sentences(item, spec, secrets), secrets)) or _KIND_HINTS.get(
        item.kind, "Not full credit yet.")
    out.evidence = _hint_evidence(item)
    return out


def hint_sentences(item: ItemResult, spec: Any = None, secrets: set[float] | None = None) -> list[str]:
    """The nudges for one item, most specific first; a candidate that writes one of `secrets` (an
    instructor's hint with the number in it) gives way to the next one."""
    secrets = secrets or set()
    if item.status == "passed":
        return ["Correct."]
    if item.status in ("missing", "error", "skipped"):  # about the notebook or the grader
        return [item.feedback]
    own = dict(getattr(spec, "hints", None) or {})
    out: list[str] = []
    part = _part(item)
    for code in item.diagnoses:
        candidates = (own.get(code), PART_HINTS.get((code, part)), HINTS.get(code),
                      _misconception_hint(item, code))
        text = next((c for c in candidates if c and not mentions(c, secrets)), "")
        if text and text not in out:
            out.append(text)
    missed = [m for m in item.evidence.get("missed") or [] if isinstance(m, dict)]
    if missed:
        groups = _concept_groups(spec)  # alternatives of one point (a `group`) count once
        count = len({groups.get(m.get("concept", ""), m.get("concept", "")) for m in missed})
        left = max(item.max_score - item.score, 0)
        out.append(f"{count} key point(s) of this question are not in your answer yet (up to {left:g} "
                   "more point(s)).")
        for m in missed:
            nudge = own.get(m.get("concept", ""))
            if nudge and not mentions(nudge, secrets):
                out.append(nudge)
    if not out:
        out.append(_KIND_HINTS.get(item.kind, "Not full credit yet."))
    return out


def _concept_groups(spec: Any) -> dict[str, str]:
    """concept id -> its group (or its own id) from the rubric item's concept list."""
    concepts = (getattr(spec, "params", None) or {}).get("concepts") or []
    return {c["id"]: str(c.get("group") or c["id"]) for c in concepts if isinstance(c, dict) and "id" in c}


def _part(item: ItemResult) -> str:
    """The part of a multi-part answer this item grades (Q2: params, ram_prediction, ram_batch)."""
    for row in item.evidence.get("numbers") or []:
        if isinstance(row, dict) and row.get("graded_here"):
            return str(row.get("part", ""))
    return ""


def _misconception_hint(item: ItemResult, code: str) -> str:
    """'Your answer <names the mistake>: reconsider that.' for a free-text misconception (its label)."""
    for m in item.evidence.get("misconceptions") or []:
        if isinstance(m, dict) and m.get("misconception") == code and m.get("label"):
            return f"Your answer {m['label']}: reconsider that."
    return ""


def _hint_evidence(item: ItemResult) -> dict[str, Any]:
    ev = item.evidence
    out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in ev.items() if k in _HINT_EVIDENCE}
    if isinstance(ev.get("numbers"), list):  # what was read from the answer, never what was expected
        out["numbers"] = [{k: v for k, v in row.items() if k in ("part", "found", "unit", "text", "why",
                                                                  "graded_here")}
                          for row in ev["numbers"] if isinstance(row, dict)]
    if isinstance(ev.get("steps"), list):  # the student's own steps, marked right or wrong
        out["steps"] = [{k: v for k, v in s.items() if k in ("formula", "written", "holds", "text")}
                        for s in ev["steps"] if isinstance(s, dict)]
    if isinstance(ev.get("misconceptions"), list):
        out["misconceptions"] = [{k: v for k, v in m.items() if k in ("misconception", "label", "phrase",
                                                                       "sentence", "deduction")}
                                 for m in ev["misconceptions"] if isinstance(m, dict)]
    if isinstance(ev.get("missed"), list):
        out["missed_count"] = len(ev["missed"])
    return out


# ---- the guard against answer-key numbers ----------------------------------------------------

_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:[,\u00a0\u202f ]\d{3})+|\d+)(?:\.(\d+))?\s*(k|K|M|million|thousand)?(?![\w])")
_SCALE = {"k": 1e3, "K": 1e3, "thousand": 1e3, "M": 1e6, "million": 1e6}


def numbers_in(text: str) -> list[tuple[float, int]]:
    """(value, significant digits) of each number written in `text`, in any usual spelling."""
    found = []
    for m in _NUMBER.finditer(text or ""):
        whole = re.sub(r"[,\u00a0\u202f ]", "", m.group(1))
        frac = m.group(2) or ""
        value = float(f"{whole}.{frac}" if frac else whole) * _SCALE.get(m.group(3) or "", 1.0)
        digits = len((whole + frac).lstrip("0")) or 1
        if not frac:
            digits = len(whole.rstrip("0").lstrip("0")) or 1
        found.append((value, digits))
    return found


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def answer_key_numbers(item: ItemResult) -> set[float]:
    """Numbers the grader wrote (feedback, reference, expected values) that the student did not."""
    ev = item.evidence
    texts = [item.feedback]
    texts += [str(row.get("expected", "")) for row in ev.get("numbers") or [] if isinstance(row, dict)]
    values: set[float] = set()
    for leaf in _leaves(ev.get("reference")):
        if isinstance(leaf, int | float) and not isinstance(leaf, bool):
            values.add(float(leaf))
        elif isinstance(leaf, str):
            texts.append(leaf)
    for text in texts:
        values.update(v for v, _ in numbers_in(text))
    students = {v for v, _ in numbers_in(str(ev.get("excerpt", "")))}
    return {v for v in values if v >= 10 and v not in students}


def mentions(text: str, secrets: set[float]) -> bool:
    """Does `text` write one of `secrets`, to the precision it is written in (0.9 M is 903,400)?"""
    for value, digits in numbers_in(text):
        if value < 10:
            continue
        for s in secrets:
            if s > 0 and abs(value - s) / s < 0.01:
                return True
            if _round_sig(s, digits) == value:
                return True
    return False


def _round_sig(x: float, digits: int) -> float:
    from math import floor, log10

    if x == 0:
        return 0.0
    return round(x, -int(floor(log10(abs(x)))) + digits - 1)


def keep_clean(sentences: Iterable[str], secrets: set[float]) -> list[str]:
    return [s for s in sentences if s and not mentions(s, secrets)]


# ---- a whole result ------------------------------------------------------------------------


def student_result(result: SubmissionResult, rubric: Any = None,
                   moment: str = SELF_CHECK) -> SubmissionResult:
    """A copy of `result` with every item (and its diagnostics) at its reveal level for `moment`."""
    out = copy.deepcopy(result)
    specs = {i.id: i for i in rubric.items} if rubric is not None else {}
    originals = {i.id: i for i in result.items()}
    for q in out.questions:
        q.items = [student_item(item, level_for(specs.get(item.id), moment), specs.get(item.id))
                   for item in q.items]
    kept = []
    for d in out.diagnostics:
        spec = specs.get(d.item or "")
        shown = _diagnostic(d, level_for(spec, moment), originals.get(d.item or ""), spec)
        if shown is not None:
            kept.append(shown)
    out.diagnostics = kept
    return out


def _diagnostic(d: Diagnostic, level: str, item: ItemResult | None, spec: Any) -> Diagnostic | None:
    """A result-level diagnostic at `level`: its code stays; its message becomes the hint."""
    if level == "answer" or item is None or (level == "hint" and item.kind not in ANSWER_KEY_KINDS):
        return d
    if level == "none":
        return None
    own = dict(getattr(spec, "hints", None) or {})
    message = (own.get(d.code) or PART_HINTS.get((d.code, _part(item))) or HINTS.get(d.code)
               or _misconception_hint(item, d.code) or d.code)
    if mentions(message, answer_key_numbers(item)):
        message = d.code
    return Diagnostic(code=d.code, question=d.question, message=message, item=d.item, cell=d.cell, fix=None)


def handed_back(result: SubmissionResult) -> SubmissionResult:
    """The result as the report handed back after the deadline shows it (`--student-mode`): each
    item at its `reveal_after_deadline`, read from the rubric the result was graded with."""
    from pathlib import Path

    from grader.rubric import RubricError, load_rubric

    try:
        rubric = load_rubric(result.rubric) if result.rubric and Path(result.rubric).is_file() else None
    except RubricError:
        rubric = None
    return student_result(result, rubric, AFTER_DEADLINE)
