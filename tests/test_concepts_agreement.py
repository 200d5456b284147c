"""The free-text grader against TA labels (tests/data/freetext_*.yaml), as the benchmark reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.freetext_agreement import evaluate, summary  # noqa: E402

LABELS = ROOT / "tests" / "data" / "freetext_labels.yaml"
HOLDOUT = ROOT / "tests" / "data" / "freetext_holdout.yaml"


@pytest.fixture(scope="module")
def rows():
    return evaluate(LABELS)


def test_labelled_set_is_big_and_varied():
    answers = yaml.safe_load(LABELS.read_text())["answers"]
    assert len(answers) >= 60
    assert {a["question"] for a in answers} == {"q1", "q3", "q4", "q5", "q6", "q7", "q8"}
    styles = {a["style"] for a in answers}
    assert {"good", "partial", "wrong", "off-topic", "filler", "copied", "misconception", "typo",
            "comment"} <= styles
    assert len({a["id"] for a in answers}) == len(answers)


def test_exact_point_agreement_is_at_least_80_percent(rows):
    s = summary(rows)
    assert s["agreement"] >= 0.80, s
    assert s["mae"] <= 0.5, s


def test_holdout_agreement_is_at_least_80_percent():
    s = summary(evaluate(HOLDOUT))
    assert s["agreement"] >= 0.80, s


def test_no_answer_stating_a_misconception_gets_full_credit(rows):
    stated = [r for r in rows if r.misconception]
    assert len(stated) >= 7
    full = [r.id for r in stated if r.predicted >= r.max_points]
    assert full == []


def test_filler_and_copied_answers_never_get_full_credit(rows):
    assert all(r.predicted < r.max_points for r in rows if r.style in ("filler", "copied", "off-topic"))


def test_benchmark_script_prints_agreement_and_mae():
    out = subprocess.run([sys.executable, "benchmarks/freetext_agreement.py"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "exact-point agreement:" in out.stdout and "mean absolute error:" in out.stdout


# ---- the realistic sets of issue 13 (styles real hand-ins use, labelled before tuning) --------

REAL = ROOT / "tests" / "data" / "freetext_realistic.yaml"
REAL_HOLDOUT = ROOT / "tests" / "data" / "freetext_realistic_holdout.yaml"


def test_realistic_sets_are_big_and_cover_the_styles_real_students_use():
    answers = [a for p in (REAL, REAL_HOLDOUT) for a in yaml.safe_load(p.read_text())["answers"]]
    assert len(answers) >= 150
    held = yaml.safe_load(REAL_HOLDOUT.read_text())["answers"]
    assert len(held) >= 50  # a third of the 155 written first; later additions are in-sample only
    assert {"essay", "keywords", "oneliner", "paraphrase", "mixed-arch", "blog", "non-native",
            "wrong-question", "foreign"} <= {a["style"] for a in answers}
    assert len({a["id"] for a in answers}) == len(answers)


def test_realistic_held_out_within_a_point_or_flagged_and_few_flagged():
    s = summary(evaluate(REAL_HOLDOUT))
    assert s["within1_or_flagged"] >= 0.90, s
    assert s["flagged"] <= 0.25, s


def test_realistic_keyword_lists_and_misconceptions_never_get_full_credit():
    rows = evaluate(REAL) + evaluate(REAL_HOLDOUT)
    assert [r.id for r in rows if r.style == "keywords" and r.predicted >= r.max_points] == []
    assert [r.id for r in rows if r.misconception and r.predicted >= r.max_points] == []
    assert all(r.needs_review for r in rows if r.review_expected)  # not English: a human grades it


DEV2 = ROOT / "tests" / "data" / "freetext_dev2.yaml"


def test_second_development_set_within_a_point_or_flagged():
    # freetext_dev2.yaml: 59 answers labelled before the grader saw them (first runs: 87.5% for
    # the 32 f2- answers, 88.9% for the 27 f3- answers, within a point or flagged)
    rows = evaluate(DEV2)
    s = summary(rows)
    assert s["within1_or_flagged"] >= 0.95 and s["flagged"] <= 0.25, s
    assert [r.id for r in rows if r.misconception and r.predicted >= r.max_points] == []
    assert all(r.needs_review for r in rows if r.review_expected)
