"""The reports in a real headless Chromium: they load without console errors, show the total and
every question, draw something (screenshot pixel variance), and fit a phone's width."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.report import render_class_report, render_submission
from grader.report.browser import chromium, find_chromium
from grader.report.samples import engine_results, executed_results, showcase_result, status_results
from grader.report.view import report_name
from grader.results import write_atomic

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="chromium and chromedriver are not installed (Debian packages chromium chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory, root) -> dict[str, tuple[Path, object]]:
    """Every student report (instructor and student copies) and the class report, on disk."""
    out = tmp_path_factory.mktemp("reports")
    malformed = out / "mallory.ipynb"
    malformed.write_text("not a notebook", encoding="utf-8")
    results = [*engine_results(root, malformed), *executed_results(), showcase_result(), *status_results()]
    found: dict[str, tuple[Path, object]] = {}
    for r in results:
        found[r.student] = (write_atomic(out / report_name(r), render_submission(r)), r)
        student_copy = out / "student" / report_name(r)
        found[f"{r.student} (student copy)"] = (
            write_atomic(student_copy, render_submission(r, student_mode=True)),
            r,
        )
    found["index"] = (write_atomic(out / "index.html", render_class_report(results, [])), results)
    return found


@pytest.fixture(scope="module")
def browser():
    with chromium(width=1000, height=900) as driver:
        yield driver


def _severe_logs(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _pixel_spread(png: bytes) -> float:
    import io

    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    return ImageStat.Stat(image).stddev[0]


def test_student_reports_in_chromium(pages, browser):
    from selenium.webdriver.common.by import By

    for name, (path, result) in pages.items():
        if name == "index":
            continue
        browser.set_window_size(1000, 900)
        browser.get(path.resolve().as_uri())
        assert browser.execute_script("return document.readyState") == "complete"
        assert _severe_logs(browser) == [], name
        total = browser.find_element(By.ID, "total")
        assert total.is_displayed() and f"{result.score:g} / {result.max_score:g}" in total.text
        for q in result.questions:
            heading = browser.find_element(By.CSS_SELECTOR, f"section#{q.id} h2")
            browser.execute_script("arguments[0].scrollIntoView()", heading)
            assert heading.is_displayed() and heading.text.startswith(q.id), (name, q.id)
        browser.execute_script("window.scrollTo(0, 0)")
        assert _pixel_spread(browser.get_screenshot_as_png()) > 10, f"{name}: screenshot looks blank"


def test_charts_render_with_real_size(pages, browser):
    from selenium.webdriver.common.by import By

    path, _ = pages["bob"]
    browser.get(path.resolve().as_uri())
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 3  # loss and metrics curves, and the per-digit accuracy bars
    for c in charts:
        assert c.size["width"] > 200 and c.size["height"] > 100
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart polyline")) == 4
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.class-chart rect.cbar")) == 10


def test_class_report_in_chromium(pages, browser):
    from selenium.webdriver.common.by import By

    path, results = pages["index"]
    browser.set_window_size(1000, 900)
    browser.get(path.resolve().as_uri())
    assert _severe_logs(browser) == []
    rows = browser.find_elements(By.CSS_SELECTOR, "#students tr")
    assert len(rows) == len(results) + 1
    bars = browser.find_elements(By.CSS_SELECTOR, "#histogram rect.hbar")
    assert len(bars) == 10 and any(b.size["height"] > 5 for b in bars)
    assert _pixel_spread(browser.get_screenshot_as_png()) > 10
    # the student links open the reports written next to index.html
    link = browser.find_element(By.LINK_TEXT, "alice")
    link.click()
    assert browser.find_element(By.ID, "student").text == "alice"
    assert _severe_logs(browser) == []


def test_reports_fit_a_phone_screen(pages, browser):
    browser.set_window_size(390, 844)
    try:
        for name in ("bob", "alice", "index"):
            path, _ = pages[name]
            browser.get(path.resolve().as_uri())
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name}: {overflow}px wider than a 390px phone screen"
            size = browser.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
            assert size >= 14
    finally:
        browser.set_window_size(1000, 900)


def test_class_table_sorts_by_clicking_a_heading(pages, browser):
    from selenium.webdriver.common.by import By

    path, results = pages["index"]
    browser.set_window_size(1000, 900)
    browser.get(path.resolve().as_uri())
    heading = browser.find_element(By.XPATH, "//table[@id='student-table']//th[text()='total']")
    totals_js = ("return [...document.querySelectorAll('#student-table tbody tr')]"
                 ".map(r => parseFloat(r.cells[1].dataset.v))")
    heading.click()
    ascending = browser.execute_script(totals_js)
    assert ascending == sorted(r.score for r in results)
    heading.click()
    assert browser.execute_script(totals_js) == sorted((r.score for r in results), reverse=True)
    by_name = browser.find_element(By.XPATH, "//table[@id='student-table']//th[text()='student']")
    by_name.click()
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#student-table tbody td:first-child")]
    assert names == sorted(names, key=str.lower)
    assert _severe_logs(browser) == []


def test_nothing_is_clipped_on_a_phone(pages, browser):
    """Every element fits the 390 px screen or sits inside a box that scrolls sideways."""
    clipped_js = """
      const out = [];
      document.querySelectorAll('details').forEach(d => d.open = true);
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= innerWidth + 1) continue;
        let p = el.parentElement, scrolls = false;
        for (; p; p = p.parentElement) {
          const o = getComputedStyle(p).overflowX;
          if (o === 'auto' || o === 'scroll') { scrolls = true; break; }
        }
        if (!scrolls) out.push(el.tagName + '.' + el.className);
      }
      return out;"""
    browser.set_window_size(390, 844)
    try:
        for name in ("alice", "bob", "index"):
            path, _ = pages[name]
            browser.get(path.resolve().as_uri())
            assert browser.execute_script(clipped_js) == [], name
    finally:
        browser.set_window_size(1000, 900)


def test_alices_report_is_about_six_screens_with_evidence_closed(pages, browser):
    path, _ = pages["alice"]
    browser.set_window_size(1280, 800)
    browser.get(path.resolve().as_uri())
    closed = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    opened = browser.execute_script("return document.documentElement.scrollHeight")
    print(f"alice (static questions) at 1280 px: {closed} px closed, {opened} px open")
    assert closed <= 6 * 800 < opened
    browser.set_window_size(1000, 900)
