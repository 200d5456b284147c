"""Regenerate the README's report screenshots under docs/ in a headless Chromium.

    python tools/screenshots.py                       # static questions: no kernel, seconds
    python tools/screenshots.py --questions all --data-dir ../shared/datasets   # every question

Grades submissions/alice.ipynb, reference/assignment06.ipynb and a malformed file with the real
engine, renders alice's report (at 1280 px and on a 390 px phone) and the class report over
those and the built non-graded samples, and saves full-page PNGs (capped in height). It also
saves the built sample result that shows every kind of evidence, and prints alice's page height
with the evidence closed (the report's default) and open, in pixels and in 800 px screens.
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
from grader.report.samples import (  # noqa: E402
    STATIC_QUESTIONS,
    engine_results,
    showcase_result,
    status_results,
)
from grader.report.view import report_name  # noqa: E402
from grader.results import write_atomic  # noqa: E402


def shrink(png: Path, max_height: int) -> None:
    """Crop to `max_height` pixels and re-save optimised, so the repository stays small."""
    from PIL import Image

    with Image.open(png) as image:
        image = image.convert("RGB")
        if image.height > max_height:
            image = image.crop((0, 0, image.width, max_height))
        image.quantize(colors=128).save(png, optimize=True)  # text and flat colours: small palette PNGs


def page_heights(driver, page: Path, width: int) -> tuple[int, int]:
    """The page's height as it opens (collapsed blocks closed) and with every <details> open."""
    driver.set_window_size(width, 800)
    driver.get(page.resolve().as_uri())
    closed = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    opened = int(driver.execute_script("return document.documentElement.scrollHeight"))
    return closed, opened


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where the PNGs go (default docs/)")
    parser.add_argument("--questions", default=",".join(STATIC_QUESTIONS),
                        help="questions to grade, or 'all' (runs the notebooks: needs --data-dir)")
    parser.add_argument("--data-dir", default=None, help="offline datasets, for --questions all")
    parser.add_argument("--from-out", default=None, metavar="OUT",
                        help="use the results a `grader run --out OUT` saved (OUT/alice.json, ...) instead "
                             "of grading again")
    parser.add_argument("--max-height", type=int, default=5200, help="crop the PNGs to this many pixels")
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
        if args.from_out:
            from grader.results import SubmissionResult

            results = [SubmissionResult.load(p) for p in sorted(Path(args.from_out).glob("*.json"))]
        else:
            results = engine_results(ROOT, malformed, questions)
        for r in results:
            write_atomic(work / report_name(r), render_submission(r))
        write_atomic(work / "index.html", render_class_report([*results, *status_results()], []))
        showcase = showcase_result()
        write_atomic(work / "showcase.html", render_submission(showcase))
        with chromium() as driver:
            for page, png, width in (("alice.html", "alice-report.png", 1280),
                                     ("index.html", "class-report.png", 1280),
                                     ("showcase.html", "report-evidence.png", 1000)):
                target = full_page_screenshot(driver, work / page, out / png, width=width,
                                              expand=page == "showcase.html")  # every kind, open
                shrink(target, args.max_height)
                print(f"wrote {target}")
            for width, label in ((1280, "desktop"), (390, "phone")):
                closed, opened = page_heights(driver, work / "alice.html", width)
                print(f"alice's report at {width} px ({label}): {closed} px with evidence closed "
                      f"({closed / 800:.1f} screens of 800 px), {opened} px with every block open")
            phone = out / "alice-report-phone.png"
            full_page_screenshot(driver, work / "alice.html", phone, width=390)
            shrink(phone, args.max_height)
            print(f"wrote {phone}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
