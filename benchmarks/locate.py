"""How fast answers are located: `grader locate` in a fresh process (imports included) and the
locator alone on every layout notebook. Prints figures; asserts nothing.

    python benchmarks/locate.py [--runs 5] [NOTEBOOK]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default="submissions/alice.ipynb")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    walls = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", "locate", args.notebook], cwd=ROOT, check=True,
                       capture_output=True)
        walls.append(time.perf_counter() - started)
    print(f"grader locate {args.notebook}: median {statistics.median(walls):.2f} s, "
          f"min {min(walls):.2f} s over {args.runs} fresh processes")

    sys.path.insert(0, str(ROOT))
    from grader.notebook import load_notebook
    from grader.rubric import load_rubric

    rubric = load_rubric()
    layouts = sorted((ROOT / "tests" / "layouts").glob("*.ipynb"))
    notebooks = [load_notebook(p) for p in layouts]
    rubric.locate_answers(notebooks[0])  # warm the lazy imports
    started = time.perf_counter()
    for nb in notebooks:
        rubric.locate_answers(nb)
    per = (time.perf_counter() - started) / len(notebooks)
    print(f"locator alone: {per * 1000:.1f} ms per notebook over {len(notebooks)} layout notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
