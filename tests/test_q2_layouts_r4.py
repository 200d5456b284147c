"""Q2 answers in layouts the fourth fixing round met (issue 13): LaTeX macros glued to digits,
terms named without a value, counts with their memory in parentheses, code outputs pasted as a
bare fence, and the messy styles of the next class (summary() output, bytes or bits only,
scientific notation, digit separators, tables with a Total row, self-corrections, formulas left
unevaluated). Static: no notebook, no kernel, no TensorFlow."""

from __future__ import annotations

from grader.checks.parammath import grade_answer
from grader.rubric import load_rubric
from grader.textformulas import find_equations

RUBRIC = load_rubric()
PARAMS = RUBRIC.item("q2.params").params
PROMPT = RUBRIC.question("q2").prompt
PARTS = ("params", "ram_prediction", "ram_batch")


def grade(text: str, code: str = "") -> dict:
    return grade_answer(text, PARAMS, code=code, prompt=PROMPT)


def credits(out: dict) -> list[float]:
    return [out[p].credit for p in PARTS]


def found(outcome) -> str | None:
    return next(n["found"] for n in outcome.evidence["numbers"] if n["graded_here"])


def test_a_latex_times_glued_to_its_power_of_ten_still_multiplies():
    out = grade("$$N = (27+1)\\cdot 100 + (900+1)\\cdot 200 + (1800+1)\\cdot 400 = 903\\,400$$\n"
                "$$M_{batch} = 50\\cdot 4\\,(2.63\\cdot10^6 + 1.8\\cdot10^5) + 4N "
                "\\approx 5.66\\times10^{8}\\ \\text{B} = 566\\ \\text{MB}$$")
    assert out["ram_batch"].credit == 1 and found(out["ram_batch"]) == "566 MB"


def test_a_term_named_without_a_value_makes_no_step_to_check():
    # the weights were given a value in an earlier sentence; "+ weights" is no slip
    assert find_equations("Prediction: 6 MB + 3 MB + weights = 12.6 MB") == []
    out = grade("Params: 903,400, weights 3.61 MB.\nPrediction: 6 MB + 3 MB + weights = 12.6 MB.\n"
                "Batch of 50: 50 x 10.52 MB + 36 MB + weights = 565.6 MB.")
    assert credits(out) == [1, 1, 1]


def test_a_count_with_its_memory_in_parentheses_adds_that_memory():
    (eq,) = find_equations("50 x 10.03 MiB + 50 input images (34.33 MiB) + 3.45 MiB = 539.41 MiB")
    assert eq.holds
    # a product restated in parentheses is still no factor
    (eq,) = find_equations("902,700 x 4 B (3.61 MB) = 3.61 MB")
    assert eq.holds and eq.lhs.value == 902_700 * 4
