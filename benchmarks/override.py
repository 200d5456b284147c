"""Time one manual override on a graded class: `Gradebook.override` + re-rendering the student's
report, the class report and grades.csv (in-process), and the whole `grader override` command.

    python benchmarks/override.py [--students 5] [--repeat 5]

The class is alice, bob and carol (copied to reach --students) graded on the static questions
with a rubric cut to them, so no kernel starts.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from grader.cli import main as grader_main

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subs = work / "class"
        subs.mkdir()
        names = ["alice", "bob", "carol"]
        for k in range(args.students):
            shutil.copy(ROOT / "submissions" / f"{names[k % 3]}.ipynb", subs / f"{names[k % 3]}{k:03d}.ipynb")
        data = yaml.safe_load((ROOT / "rubrics" / "assignment06.yaml").read_text(encoding="utf-8"))
        data["questions"] = [q for q in data["questions"] if q["id"] not in ("q9", "q10")]
        data["total"] = sum(i["points"] for q in data["questions"] for i in q["items"])
        rubric = work / "static.yaml"
        rubric.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        out = work / "out"
        subprocess.run([sys.executable, "-m", "grader", "run", str(subs), "--rubric", str(rubric), "--out",
                        str(out)], cwd=ROOT, check=True, capture_output=True)
        book = str(out / "gradebook.sqlite")
        inproc, command = [], []
        for k in range(args.repeat):
            start = time.perf_counter()
            grader_main(["override", "--gradebook", book, "--student", "alice000", "--item", "q4.concepts",
                         "--score", str(k % 6), "--note", "benchmark"])
            inproc.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "grader", "override", "--gradebook", book, "--student",
                            "alice000", "--item", "q1.concepts", "--score", str(k % 8)], cwd=ROOT, check=True,
                           capture_output=True)
            command.append(time.perf_counter() - start)
    print(f"{args.students} students, {args.repeat} overrides each way")
    print(f"in-process (override + re-render):  median {statistics.median(inproc) * 1000:.0f} ms, "
          f"first {inproc[0] * 1000:.0f} ms")
    print(f"whole `grader override` command:    median {statistics.median(command) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
