"""Regenerate the README's report screenshots under docs/ in a headless Chromium.

    python tools/screenshots.py                       # static questions: no kernel, seconds
    python tools/screenshots.py --questions all --data-dir ../shared/datasets   # every question

Grades submissions/alice.ipynb, reference/assignment06.ipynb and a malformed file with the real
engine, renders alice's report and the class report over the three, and saves full-page PNGs
(capped in height). It also saves the built sample result that shows every kind of evidence.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.report import render_class_report, render_submission  # noqa: E402
from grader.report.browser import chromium, full_page_screenshot  # noqa: E402
from grader.report.samples import STATIC_QUESTIONS, engine_results, showcase_result  # noqa: E402
from grader.report.view import report_name  # noqa: E402
from grader.results import write_atomic  # noqa: E402


def shrink(png: Path, max_height: int) -> None:
    """Crop to `max_height` pixels and re-save optimised, so the repository stays small."""
    from PIL import Image

    with Image.open(png) as image:
        image = image.convert("RGB")
        if image.height > max_height:
            image = image.crop((0, 0, image.width, max_height))
        image.save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where the PNGs go (default docs/)")
    parser.add_argument("--questions", default=",".join(STATIC_QUESTIONS),
                        help="questions to grade, or 'all' (runs the notebooks: needs --data-dir)")
    parser.add_argument("--data-dir", default=None, help="offline datasets, for --questions all")
    parser.add_argument("--max-height", type=int, default=2600, help="crop the PNGs to this many pixels")
    args = parser.parse_args(argv)
    if args.data_dir:
        import os

        os.environ["GRADER_DATA_DIR"] = str(Path(args.data_dir).resolve())
    questions = None if args.questions == "all" else [q.strip() for q in args.questions.split(",")]
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        malformed = work / "malformed.ipynb"
        malformed.write_text('{"cells": [ this is not JSON', encoding="utf-8")
        if questions is None:
            from grader.rubric import load_rubric

            questions = [q.id for q in load_rubric(ROOT / "rubrics" / "assignment06.yaml").questions]
        results = engine_results(ROOT, malformed, questions)
        for r in results:
            write_atomic(work / report_name(r), render_submission(r))
        write_atomic(work / "index.html", render_class_report(results, []))
        showcase = showcase_result()
        write_atomic(work / "showcase.html", render_submission(showcase))
        shots = {"alice.html": "alice-report.png", "index.html": "class-report.png",
                 "showcase.html": "report-evidence.png"}
        with chromium() as driver:
            for page, png in shots.items():
                target = full_page_screenshot(driver, work / page, out / png, width=1000)
                shrink(target, args.max_height)
                print(f"wrote {target}")
            driver.set_window_size(390, 844)
            driver.get((work / "alice.html").resolve().as_uri())
            phone = out / "alice-report-phone.png"
            driver.save_screenshot(str(phone))
            shrink(phone, 844)
            print(f"wrote {phone}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
