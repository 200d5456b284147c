"""Agreement of the free-text grader with TA labels (tests/data/freetext_*.yaml).

    python benchmarks/freetext_agreement.py [--labels FILE ...] [--rubric FILE] [-v]

For each labelled set (by default: the realistic in-sample and held-out sets of issue 13, the
older rubric-worded sets, the second development set freetext_dev2.yaml, then the third blind
set freetext_blind3.yaml, development data since its first look) it prints:
exact-point agreement, within-1-point share, the share flagged needs-review, the share of
auto-graded (not flagged) answers within 1 point, the share "within 1 point or flagged" (the
issue's bar), mean absolute error, and the answers that state a listed misconception yet got
full credit. -v lists every answer more than a point off.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks.concepts import grade_text, parse_params  # noqa: E402
from grader.locate.visible import visible_markdown  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402

DATA = ROOT / "tests" / "data"
LABELS = DATA / "freetext_labels.yaml"
SETS = {
    "realistic in-sample": DATA / "freetext_realistic.yaml",
    "realistic held-out": DATA / "freetext_realistic_holdout.yaml",
    "realistic blind": DATA / "freetext_blind.yaml",
    "realistic blind2": DATA / "freetext_blind2.yaml",  # second blind set (issue 13 round 2)
    "rubric-worded in-sample": DATA / "freetext_labels.yaml",
    "rubric-worded held-out": DATA / "freetext_holdout.yaml",
}
SETS["dev2"] = DATA / "freetext_dev2.yaml"  # second development set (issue 13, round 2)
# third blind set: its first look (within 1 point or flagged 86.6%) is the honest figure; it was
# then used to fix the grader's misses by class, so it is development data from here on
SETS["blind3 (dev after first look 86.6%)"] = DATA / "freetext_blind3.yaml"
# fourth blind set, written while blind3's fixes were made and scored only after they merged
SETS["blind4"] = DATA / "freetext_blind4.yaml"
# fifth blind set (a class taught from slides and videos): first look 82.1% within 1 point or
# flagged (25.0% flagged); its misses were then fixed by class, so it is development data now
SETS["blind5 (dev after first look 82.1%)"] = DATA / "freetext_blind5.yaml"
# sixth blind set (an engineering class), written while blind5's fixes were made and scored once
# after they merged: 92.9% within 1 point or flagged, 22.6% flagged (the same before the fixes).
# Never tuned on.
SETS["blind6"] = DATA / "freetext_blind6.yaml"
# seventh blind set (an online MOOC / bootcamp cohort), written in stop 24 and scored once on the
# grader of stop 23: 91.7% within 1 point or flagged, 20.2% flagged. Never tuned on.
SETS["blind7"] = DATA / "freetext_blind7.yaml"
# eighth blind set (a statistics / business-analytics master's class), written in stop 26 and
# scored once on the grader of stop 24 (HEAD 32c07b1): 85.7% within 1 point or flagged, 23.8%
# flagged. Its misses are then fixed by class, so it is development data from here on.
SETS["blind8 (dev after first look 85.7%)"] = DATA / "freetext_blind8.yaml"
# ninth and tenth blind sets (informal non-native CS undergraduates; physicists, neuroscientists and
# electrical engineers), written in stop 27 while blind8's misses were fixed and scored once after
# those fixes merged (HEAD 7db17c5): blind9 89.3% within 1 point or flagged, 17.9% flagged;
# blind10 89.3%, 27.4% flagged. Two misconception patterns were then fixed from their misses, so
# they are development data from here on.
SETS["blind9 (dev after first look 89.3%)"] = DATA / "freetext_blind9.yaml"
SETS["blind10 (dev after first look 89.3%)"] = DATA / "freetext_blind10.yaml"
# eleventh and twelfth blind sets (a first-year "AI for everyone" elective; an evening course of
# working software engineers), written in stop 29 and scored once on the free-text grader of stop
# 27 (HEAD ace5323): blind11 89.3% within 1 point or flagged, 27.4% flagged; blind12 84.5%, 17.9%
# flagged. The matcher's fixes of stop 29 were then made on blind8-10 without reading them; after
# those fixes merged (HEAD fd53f14): blind11 89.3%, 26.2% flagged; blind12 88.1%, 17.9% flagged.
# Thirteenth and fourteenth blind sets (a medical-imaging master's class; mathematics and economics
# undergraduates), written in stop 29 and scored once after those fixes (HEAD fd53f14): blind13
# 84.5% within 1 point or flagged, 25.0% flagged; blind14 92.9%, 26.2% flagged. The four together,
# the honest held-out figure of the grader of stop 29: 298/336 = 88.7%, 23.8% flagged. From here
# on their misses may be fixed by class, so they are development data.
SETS["blind11 (dev after held-out look 89.3%)"] = DATA / "freetext_blind11.yaml"
SETS["blind12 (dev after held-out look 88.1%)"] = DATA / "freetext_blind12.yaml"
SETS["blind13 (dev after first look 84.5%)"] = DATA / "freetext_blind13.yaml"
SETS["blind14 (dev after first look 92.9%)"] = DATA / "freetext_blind14.yaml"
# fifteenth and sixteenth blind sets (a community-college class of career changers; a robotics /
# computer-vision lab course), written at the end of stop 29 after blind11-14's fixes merged and
# scored once on that grader (HEAD e036f80): blind15 95.2% within 1 point or flagged, 17.9%
# flagged; blind16 94.0%, 15.5% flagged; together 159/168 = 94.6%, 16.7% flagged. Never tuned on.
SETS["blind15"] = DATA / "freetext_blind15.yaml"
SETS["blind16"] = DATA / "freetext_blind16.yaml"


@dataclass
class Row:
    id: str
    question: str
    style: str
    label: float
    predicted: float
    max_points: float
    misconception: bool
    confidence: float
    needs_review: bool
    review_expected: bool = False

    @property
    def error(self) -> float:
        return abs(self.label - self.predicted)


def evaluate(labels_path: Path = LABELS, rubric_path: Path | None = None) -> list[Row]:
    rubric = load_rubric(rubric_path)
    answers = yaml.safe_load(labels_path.read_text(encoding="utf-8"))["answers"]
    rows = []
    for a in answers:
        question = rubric.question(a["question"])
        item = next(i for i in question.items if i.kind == "concepts")
        text = visible_markdown(a["text"])  # what the locator hands the check: hidden HTML dropped
        grade = grade_text(text, parse_params(item.id, item.params), item.points, question.prompt)
        rows.append(Row(a["id"], a["question"], a.get("style", ""), float(a["points"]), grade.score,
                        item.points, bool(a.get("misconception")), grade.confidence,
                        grade.confidence < rubric.review_threshold, bool(a.get("review"))))
    return rows


def summary(rows: list[Row]) -> dict[str, float]:
    n = len(rows)
    auto = [r for r in rows if not r.needs_review]
    return {
        "n": n,
        "agreement": sum(1 for r in rows if r.error < 1e-9) / n,
        "within1": sum(1 for r in rows if r.error <= 1 + 1e-9) / n,
        "flagged": (n - len(auto)) / n,
        "auto_within1": (sum(1 for r in auto if r.error <= 1 + 1e-9) / len(auto)) if auto else 1.0,
        "within1_or_flagged": sum(1 for r in rows if r.needs_review or r.error <= 1 + 1e-9) / n,
        "mae": sum(r.error for r in rows) / n,
    }


def line(s: dict[str, float]) -> str:
    return (f"n={s['n']:<4} within-1 {s['within1']:.1%}  flagged {s['flagged']:.1%}  "
            f"auto-graded within-1 {s['auto_within1']:.1%}  within-1-or-flagged "
            f"{s['within1_or_flagged']:.1%}  exact {s['agreement']:.1%}  MAE {s['mae']:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, action="append", help="a labelled set (repeatable)")
    ap.add_argument("--rubric", type=Path, default=None)
    ap.add_argument("-v", "--verbose", action="store_true", help="list answers more than 1 point off")
    args = ap.parse_args(argv)
    sets = {p.name: p for p in args.labels} if args.labels else SETS
    for name, path in sets.items():
        t0 = time.perf_counter()
        rows = evaluate(path, args.rubric)
        ms = (time.perf_counter() - t0) * 1000 / max(1, len(rows))
        s = summary(rows)
        print(f"{name}: {line(s)}  ({ms:.1f} ms/answer)")
        # kept for older callers: the exact wording the rubric-worded test looks for
        print(f"  exact-point agreement: {s['agreement']:.1%}  mean absolute error: {s['mae']:.2f} points")
        for q in sorted({r.question for r in rows}, key=lambda x: int(x[1:])):
            print(f"  {q}: {line(summary([r for r in rows if r.question == q]))}")
        full_misc = [r for r in rows if r.misconception and r.predicted >= r.max_points - 1e-9]
        print(f"  misconception answers with full credit: {len(full_misc)}"
              + (f" ({', '.join(r.id for r in full_misc)})" if full_misc else ""))
        review = [r for r in rows if r.review_expected]
        if review:
            print(f"  answers the labels send to a TA (not English, hidden text, another question, unclear): "
                  f"{len(review)}, flagged "
                  f"{sum(1 for r in review if r.needs_review)}")
        if args.verbose:
            for r in rows:
                if r.error > 1 + 1e-9 or (r.error > 1e-9 and not r.needs_review):
                    print(f"    {r.id:<34} label {r.label:g}  grader {r.predicted:g}  "
                          f"conf {r.confidence:.2f}{'  REVIEW' if r.needs_review else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
