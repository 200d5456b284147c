"""Agreement of the free-text grader with the TA labels in tests/data/freetext_labels.yaml.

    python benchmarks/freetext_agreement.py [--labels FILE] [--rubric FILE] [-v]

Prints exact-point agreement, mean absolute error (points), per question, the answers that
state a listed misconception yet got full credit, and (with -v) every disagreement.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks.concepts import grade_text, parse_params  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402

LABELS = ROOT / "tests" / "data" / "freetext_labels.yaml"


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


def evaluate(labels_path: Path = LABELS, rubric_path: Path | None = None) -> list[Row]:
    rubric = load_rubric(rubric_path)
    answers = yaml.safe_load(labels_path.read_text(encoding="utf-8"))["answers"]
    rows = []
    for a in answers:
        question = rubric.question(a["question"])
        item = next(i for i in question.items if i.kind == "concepts")
        grade = grade_text(a["text"], parse_params(item.id, item.params), item.points, question.prompt)
        rows.append(Row(a["id"], a["question"], a.get("style", ""), float(a["points"]), grade.score,
                        item.points, bool(a.get("misconception")), grade.confidence,
                        grade.confidence < rubric.review_threshold))
    return rows


def summary(rows: list[Row]) -> dict[str, float]:
    n = len(rows)
    exact = sum(1 for r in rows if abs(r.label - r.predicted) < 1e-9)
    return {"n": n, "agreement": exact / n, "mae": sum(abs(r.label - r.predicted) for r in rows) / n}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--rubric", type=Path, default=None)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    args = ap.parse_args(argv)
    rows = evaluate(args.labels, args.rubric)
    s = summary(rows)
    print(f"answers: {s['n']}  exact-point agreement: {s['agreement']:.1%}  "
          f"mean absolute error: {s['mae']:.2f} points")
    for q in sorted({r.question for r in rows}, key=lambda x: int(x[1:])):
        qs = summary([r for r in rows if r.question == q])
        print(f"  {q}: n={qs['n']:<3} agreement {qs['agreement']:.0%}  MAE {qs['mae']:.2f}")
    flagged = [r for r in rows if r.needs_review]
    wrong_flagged = sum(1 for r in flagged if abs(r.label - r.predicted) > 1e-9)
    wrong = sum(1 for r in rows if abs(r.label - r.predicted) > 1e-9)
    print(f"flagged for review: {len(flagged)} ({wrong_flagged} of the {wrong} disagreements)")
    full_misc = [r for r in rows if r.misconception and r.predicted >= r.max_points - 1e-9]
    print(f"misconception answers with full credit: {len(full_misc)}"
          + (f" ({', '.join(r.id for r in full_misc)})" if full_misc else ""))
    if args.verbose:
        for r in rows:
            if abs(r.label - r.predicted) > 1e-9:
                print(f"  {r.id:<28} label {r.label:g}  grader {r.predicted:g}  conf {r.confidence:.2f}"
                      f"{'  REVIEW' if r.needs_review else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
