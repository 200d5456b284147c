"""Stage 4 of Q2 grading: what the student reads (the figure quoted, expected, the working) and
the evidence shown with it; puts stages 1-3 together for one part (`grade_part`)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from grader.checks.base import Diagnosis, Outcome
from grader.parammath.conventions import _layer_formula, _mb, breakdown, targets
from grader.parammath.negation import signed_negative
from grader.parammath.reading import PARTS, Reading
from grader.parammath.rivals import uncommitted
from grader.parammath.verdict import Verdict, grade_params, grade_ram
from grader.textnumbers import format_number

DEFAULT_TOLERANCE = 0.005  # relative, on top of the precision written: 564.6 MB for 565.6 MB passes
DEFAULT_PARTIAL = 0.5  # credit for a sound method with an arithmetic slip

_WHAT = {
    "params": "total number of parameters",
    "ram_prediction": "RAM for one prediction",
    "ram_batch": "RAM for the mini-batch",
}


def _expected_text(part: str, ref: dict[str, Any]) -> str:
    if part == "params":
        terms = " + ".join(format_number(layer["params"]) for layer in ref["layers"])
        return f"{format_number(ref['params_total'])} ({terms})"
    if part == "ram_prediction":
        conv = ref["ram_prediction"]
        return (
            f"about {_mb(conv['optimised-minimum'])} as the optimised minimum, or "
            f"{_mb(conv['all-layers-kept'])} keeping every layer"
        )
    return f"about {_mb(ref['ram_batch']['batch-minimum'])} for {ref['batch_size']} images"


def _expected_short(part: str, ref: dict[str, Any]) -> str:
    if part == "params":
        return format_number(ref["params_total"])
    if part == "ram_prediction":
        return f"{ref['ram_prediction']['optimised-minimum'] / 1e6:.1f} MB"
    return f"{ref['ram_batch']['batch-minimum'] / 1e6:.1f} MB"



def grade_part(
    reading: Reading,
    part: str,
    ref: dict[str, Any],
    *,
    partial: float = DEFAULT_PARTIAL,
    tolerance: float = DEFAULT_TOLERANCE,
    cell: int | None = None,
) -> Outcome:
    """The outcome of one part for an answer already read: credit, feedback, diagnoses, evidence."""
    if part not in PARTS:
        raise ValueError(f"params.part must be one of {', '.join(PARTS)}, got {part!r}")
    if part != "params" and reading.conflicts.get(part) and _all_accepted(reading, part, ref, tolerance):
        # "12.6 MB or 14.1 MB (depending on whether every layer is kept)": two accepted
        # conventions offered together are one right answer, not a shotgun
        reading = replace(reading, picks={**reading.picks, part: reading.withheld[part]},
                          conflicts={k: v for k, v in reading.conflicts.items() if k != part})
    pick = reading.picks.get(part)
    what = _WHAT[part]
    expected = _expected_text(part, ref)
    if part == "params":
        verdict = grade_params(reading, ref, partial)
    else:
        verdict = grade_ram(part, reading, ref, partial, tolerance)
    if pick is not None and signed_negative(reading.text, pick.quantity):
        note = f"{pick.quantity.raw} has a minus sign: a {what} is never negative."
        verdict = Verdict(0.0, f"{note} Expected {expected}.",
                          [Diagnosis("negative-value", note, fix=f"Give the {what} as a positive number.")],
                          review=True)
    rivals = reading.conflicts.get(part, [])
    if pick is not None and not rivals:
        rivals = _conflicting_restatements(reading, part, ref, verdict, partial, tolerance)
        if rivals:
            pick = None
    if pick is None and rivals:
        listed = ", ".join(q.raw for q in rivals)
        note = f"Several different values are given for the {what}: {listed}."
        verdict = Verdict(
            0.0,
            f"{note} Only one can be your answer: state it once (show the others as working or "
            f"say why you reject them). Expected {expected}.",
            [Diagnosis("conflicting-values", note, fix=f"Give one value for the {what}.")],
        )
    elif pick is None:
        code = "batch-not-answered" if part == "ram_batch" else "no-number-found"
        diagnoses = [
            Diagnosis(
                code,
                f"No number for the {what} was found in the answer.",
                fix=f"State the {what} as a number with its unit.",
            )
        ]
        if part == "ram_batch" and not reading.quantities:
            diagnoses.append(Diagnosis("no-number-found", "The answer contains no numbers."))
        verdict = Verdict(
            0.0, f"No {what} found in your answer; expected {expected}. {breakdown(part, ref)}", diagnoses
        )
    else:
        q = pick.quantity
        shown = q.raw + (f" (read as {format_number(q.value)}: {q.note})" if q.note else "")
        if verdict.credit >= 1.0:
            verdict.feedback = (
                f"Correct: {shown}"
                + (f" ({verdict.convention})" if verdict.convention else "")
                + f"; expected {expected}."
            )
        else:
            explain = breakdown(part, ref) if part != "params" or not verdict.feedback else ""
            verdict.feedback = f"Your {what}: {shown}; expected {expected}. {verdict.feedback} {explain}"
            verdict.feedback = re.sub(r"\s+", " ", verdict.feedback).strip()
    for d in verdict.diagnoses:
        d.cell = cell
    numbers = []
    for p in PARTS:
        pk = pick if p == part else reading.picks.get(p)
        if p != part and pk is None and not reading.conflicts.get(p):
            continue
        numbers.append(
            {
                "part": p,
                "found": pk.quantity.raw if pk else None,
                "conflicting": [q.raw for q in (rivals if p == part else reading.conflicts.get(p, []))],
                "expected": _expected_short(p, ref),
                "value": pk.quantity.value if pk else None,
                "unit": "parameters"
                if p == "params"
                else (pk.quantity.unit if pk and pk.quantity.unit else "MB"),
                "text": pk.segment.text if pk else "",
                "why": pk.why if pk else "no number in a sentence about this part",
                "graded_here": p == part,
            }
        )
    numbers.sort(key=lambda row: not row["graded_here"])
    evidence: dict[str, Any] = {
        "excerpt": reading.text.strip()[:2000],
        "numbers": numbers,
        "rejected_by_student": [reading.quantities[i].raw for i in sorted(reading.negated)],
        "steps": [eq.to_dict() for eq in reading.equations][:20],
        "reference": _reference_evidence(part, ref),
    }
    # a number chosen by a fallback rule (no sentence named its part) is a guess: say so
    confidence = pick.confidence if pick is not None else 0.8
    if rivals:
        confidence = 0.3  # which value the student meant is a human's call
    elif verdict.review:
        confidence = 0.5
    elif pick is not None and verdict.credit == 0.0 and _near_miss(reading, part, ref, tolerance):
        confidence = 0.5  # a few percent off an accepted figure: a method slip a TA may still credit
    elif pick is not None and verdict.credit == 0.0 and _unit_slip(reading, part, ref, tolerance):
        confidence = 0.5  # "12.6 KB": the right digits with another unit prefix; a TA decides
    elif pick is not None and verdict.credit < 1.0 and _QUOTED_SOURCE.search(reading.text):
        confidence = 0.5  # "According to the book (ch. 14): ... 12 MB": another network's figures quoted
    elif pick is None and _FORMULA_CODE.search(reading.text):
        confidence = 0.5  # "params = (3*3*3+1)*100 + ..." never run: a human can work the number out
    elif pick is None and part != "params" and _bare_figure(reading, part):
        confidence = 0.5  # "pred = 12.6": a figure for the part without its unit; a TA reads the unit
    return Outcome(
        credit=verdict.credit,
        feedback=verdict.feedback,
        diagnoses=verdict.diagnoses,
        evidence=evidence,
        confidence=confidence,
        needs_review=confidence < 0.6 and verdict.credit < 1.0,
    )


def _bare_figure(reading: Reading, part: str) -> bool:
    """A number with decimals and no unit, not a step of a formula, in a sentence about `part`; or
    amounts of memory added up there with no result written ('Batch: 526 MB + 36 MB + 3.6 MB.')."""
    for i, q in enumerate(reading.quantities):
        seg = reading.segment_at(q.start)
        if seg is None or part not in seg.labels:
            continue
        if not q.is_memory and i not in reading.operands and re.fullmatch(r"\d+[.,]\d+", q.raw):
            return True
        counted = reading.picks.get("params")
        if (not q.is_memory and i not in reading.operands and q.value >= 1e6
                and reading.part_of.get(i) != "params" and (counted is None or counted.quantity is not q)):
            return True  # "pred: 12613600" printed with no unit: bytes, most likely; a TA reads the unit
        if not q.is_memory and q.value >= 1e6 and any(
                eq.rhs.start == q.start and _TIMES_FOUR.search(eq.lhs.text) for eq in reading.equations):
            return True  # "RAM batch = 4*(...) = 565,613,600": bytes by its 4 bytes a float, unwritten
        if q.is_memory and i in reading.operands and re.match(r"\s*\+\s*\d", reading.text[q.end : seg.end]):
            return True
    return False


#: The answer quotes a source ("according to the book", "ch. 14", "laut Buch"): wrong figures there
#: may be the source's own example copied, which a TA confirms
_QUOTED_SOURCE = re.compile(
    r"\b(?:according\s+to|from|in|as\s+in)\s+the\s+(?:book|textbook|slides?|lecture)\b|\bch(?:apter|ap\.|\.)\s*\d+|"
    r"\blaut\s+(?:dem\s+)?(?:Buch|Lehrbuch)|\bselon\s+le\s+livre|\bsegún\s+el\s+libro|"
    r"\bsegundo\s+o\s+livro", re.I)


_TIMES_FOUR = re.compile(r"(?<![\d.])4\s*[*×x·]|[*×x·]\s*4(?![\d.])")
#: A code line that assigns an arithmetic formula to a variable ("ram = (act + params) * 4 / 1e6").
_FORMULA_CODE = re.compile(
    r"^[ \t]*[A-Za-z_]\w*[ \t]*=[ \t]*[\w \t()]*\d[\w \t().]*[*+][\w \t()*+/.-]*$", re.M)


#: How far from an accepted figure a value with no credit still makes a TA look (12.41 MB for 12.6 MB,
#: 576.4 MB for 565.6 MB: the "valid" output size, an extra term the question leaves out).
NEAR_MISS = 0.03


def _memory_pick_and_accepted(reading: Reading, part: str, ref: dict[str, Any]) -> tuple[Any, list[float]]:
    """A RAM part's picked amount and the figures accepted for it (None, [] for params or no
    memory amount); the accepted figures follow the student's own parameter count."""
    pick = reading.picks.get(part)
    if part == "params" or pick is None or not pick.quantity.is_memory:
        return None, []
    params = reading.picks.get("params")
    count = params.quantity.value if params else None
    return pick, [t.value for t in targets(part, ref, count, DEFAULT_PARTIAL) if t.accepted]


def _near_miss(reading: Reading, part: str, ref: dict[str, Any], tolerance: float) -> bool:
    """The amount picked for a RAM part lies within NEAR_MISS (but outside the tolerance) of an
    accepted figure."""
    pick, accepted = _memory_pick_and_accepted(reading, part, ref)
    if pick is None:
        return False
    return any(tolerance < abs(v - a) / a <= NEAR_MISS for a in accepted for v, _ in pick.quantity.readings())


def _unit_slip(reading: Reading, part: str, ref: dict[str, Any], tolerance: float) -> bool:
    """The amount picked has an accepted figure's digits under another prefix (12.6 KB, 565.6 GB)."""
    pick, accepted = _memory_pick_and_accepted(reading, part, ref)
    if pick is None:
        return False
    v = pick.quantity.value
    return any(abs(v * f - a) <= tolerance * a for a in accepted for f in (1e-6, 1e-3, 1e3, 1e6))


def _all_accepted(reading: Reading, part: str, ref: dict[str, Any], tolerance: float) -> bool:
    base = reading.withheld.get(part)
    if base is None or uncommitted(reading, reading.conflicts[part]):
        return False
    for q in reading.conflicts[part]:
        alt = replace(reading, picks={**reading.picks, part: replace(base, quantity=q)})
        if grade_ram(part, alt, ref, DEFAULT_PARTIAL, tolerance).credit < 1.0:
            return False
    return True


def _conflicting_restatements(reading: Reading, part: str, ref: dict[str, Any], verdict: Verdict,
                              partial: float, tolerance: float) -> list:
    """The values other sentences state for `part` that would be graded differently from the one
    picked: two answers to one part, so neither is the answer (a human decides)."""
    pick = reading.picks.get(part)
    others = reading.restated.get(part, [])
    if pick is None or not others:
        return []
    differing = []
    for other in others:
        alt = replace(reading, picks={**reading.picks, part: other})
        v = (grade_params(alt, ref, partial) if part == "params"
             else grade_ram(part, alt, ref, partial, tolerance))
        if abs(v.credit - verdict.credit) > 1e-9:
            differing.append(other.quantity)
    return [pick.quantity, *differing] if differing else []


def _reference_evidence(part: str, ref: dict[str, Any]) -> dict[str, Any]:
    if part == "params":
        return {
            "layers": [
                {
                    "layer": layer["name"],
                    "output_shape": layer["output_shape"],
                    "formula": _layer_formula(layer),
                }
                for layer in ref["layers"]
            ],
            "total": ref["params_total"],
            "source": ref.get("source", ""),
        }
    return {name: _mb(value) for name, value in ref[part].items()} | {"source": ref.get("source", "")}


