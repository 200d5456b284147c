"""`grader review` in real headless Chromium: two TAs review every flagged item of a 5-student
class at the same time, with the keyboard; a reload shows what was saved; afterwards the CSV,
the HTML reports and the gradebook all carry the TAs' grades. Plus a burst of simultaneous
saves over HTTP that must lose nothing.

The class is graded for real on the static questions (no kernel), with the rubric's review
threshold raised so that enough answers are flagged to make a queue.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.gradebook import Gradebook
from grader.report.browser import chromium, find_chromium
from grader.review.queue import build_queue

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="chromium and chromedriver are not installed"),
]

STATIC = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]


def _messy(src: Path, dst: Path, edit) -> None:
    nb = nbformat.read(str(src), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = edit(cell.source)
    nbformat.write(nb, str(dst))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, root) -> Path:
    """OUT of a graded 5-student class (alice, bob, carol and two hand-ins written differently)."""
    base = tmp_path_factory.mktemp("review")
    subs = base / "class"
    subs.mkdir()
    for name in ("alice", "bob", "carol"):
        shutil.copy(root / "submissions" / f"{name}.ipynb", subs)
    _messy(subs / "bob.ipynb", subs / "dave.ipynb", lambda s: s.lower().replace("parameters", "params"))
    _messy(subs / "carol.ipynb", subs / "erin.ipynb", lambda s: s.replace("the ", "teh ").upper())
    data = yaml.safe_load((root / "rubrics" / "assignment06.yaml").read_text(encoding="utf-8"))
    data["questions"] = [q for q in data["questions"] if q["id"] in STATIC]
    data["total"] = sum(i["points"] for q in data["questions"] for i in q["items"])
    data["review_threshold"] = 0.96  # flag more answers (most are judged at 0.95 or above): a queue
    rubric = base / "static.yaml"
    rubric.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = base / "out"
    run = subprocess.run([sys.executable, "-m", "grader", "run", str(subs), "--rubric", str(rubric),
                          "--out", str(out), "-j", "2"], cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture()
def served(graded_class, tmp_path, root):
    """A copy of the graded class, served by `grader review` on a free port of 127.0.0.1."""
    out = tmp_path / "out"
    shutil.copytree(graded_class, out)
    command = [sys.executable, "-m", "grader", "review", str(out), "--port", "0", "--by", "ta-one"]
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + proc.stderr.read()
        yield out, f"http://127.0.0.1:{match.group(1)}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _queue(out: Path):
    with Gradebook(out / "gradebook.sqlite") as book:
        return build_queue(book.current())


def _points(entry) -> float:
    """What the TA gives: one point more than the grader, within the item's maximum."""
    return min(entry.max_score, entry.score + 1)


def _wait(driver, predicate, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return
        except Exception:  # the page is between two loads
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out on {driver.current_url}")


def test_two_tas_review_the_whole_class_with_the_keyboard(served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    out, url = served
    queue = _queue(out)
    assert len({e.student for e in queue}) >= 4 and len(queue) >= 8
    assert all(not e.done for e in queue)
    given: dict[tuple[str, str], tuple[float, str]] = {}
    with chromium(width=1100, height=900) as one, chromium(width=1100, height=900) as two:
        # TA one starts from the queue page with Enter; items come grouped by question
        one.get(url + "/")
        summary = one.find_element(By.ID, "summary").text
        assert f"{len(queue)} items need a person across 5 students" in summary
        one.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)
        _wait(one, lambda: one.find_element(By.ID, "points"))
        assert one.switch_to.active_element == one.find_element(By.ID, "points")  # type, press Enter
        first = queue[0]
        assert one.find_element(By.ID, "title").text.startswith(f"{first.student} · {first.item_id}")
        # TA two takes the second half of the queue and names themselves once
        half = queue[len(queue) // 2:]
        two.get(f"{url}/item/{half[0].student}/{half[0].item_id}")
        name = two.find_element(By.ID, "by")
        name.clear()
        name.send_keys("ta-two")
        mine_one, mine_two = queue[: len(queue) // 2], list(half)
        while mine_one or mine_two:
            pairs = []
            for driver, mine, who in ((one, mine_one, "ta-one"), (two, mine_two, "ta-two")):
                if not mine:
                    continue
                e = mine.pop(0)
                if not driver.current_url.endswith(f"/item/{e.student}/{e.item_id}"):
                    driver.get(f"{url}/item/{e.student}/{e.item_id}")
                # the page shows the answer's evidence, the automatic points and why
                assert driver.find_element(By.ID, "auto").text.startswith("Automatic grade:")
                assert driver.find_element(By.ID, "why").text.startswith("Needs a person:")
                body = driver.find_element(By.TAG_NAME, "main").text
                assert "confidence_reasons" not in body and "evaluates_to" not in body
                driver.find_element(By.ID, "comment").send_keys(f"Checked by hand ({who}).")
                box = driver.find_element(By.ID, "points")
                box.send_keys(f"{_points(e):g}")
                pairs.append((driver, e, who, box))
            for driver, _e, _, box in pairs:  # both saves go out together: one by Enter, one by Ctrl+Enter
                if driver is one:
                    box.send_keys(Keys.ENTER)
                else:
                    driver.find_element(By.ID, "note").send_keys(Keys.CONTROL, Keys.ENTER)
            for driver, e, who, _ in pairs:
                _wait(driver, lambda d=driver, e=e: f"/item/{e.student}/{e.item_id}" not in d.current_url)
                given[e.key] = (_points(e), who)
        # every item is done: the queue page says so, after a reload too
        one.get(url + "/")
        assert one.find_element(By.ID, "all-done").is_displayed()
        one.refresh()
        assert one.find_element(By.ID, "all-done").is_displayed()
        done = one.find_elements(By.CSS_SELECTOR, "#items td.done")
        assert len(done) == len(queue)
        # a reload of an item shows what was saved and by whom
        e = queue[-1]
        two.get(f"{url}/item/{e.student}/{e.item_id}")
        two.refresh()
        saved = two.find_element(By.ID, "saved").text
        assert f"{_points(e):g} / {e.max_score:g}" in saved and "ta-two" in saved
    assert len(given) == len(queue)
    # the gradebook, the CSV and the HTML reports all carry the TAs' grades
    with Gradebook(out / "gradebook.sqlite") as book:
        current = {r.student: r for r in book.current()}
    for (student, item_id), (points, who) in given.items():
        item = current[student].item(item_id)
        assert item.manual and item.score == points and item.evidence["override"]["by"] == who
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    for student, r in current.items():
        assert float(rows[student]["total"]) == r.score
        html = (out / f"{student}.html").read_text(encoding="utf-8")
        assert f'id="total">{r.score:g} / {r.max_score:g} points' in html
        assert set(rows[student]["manual_items"].split(";")) == {k[1] for k in given if k[0] == student}
    assert all(e.done for e in _queue(out))


def test_simultaneous_saves_lose_nothing(served):
    out, url = served
    queue = _queue(out)
    errors: list[str] = []

    def save(entries, who):
        for e in entries:
            body = urllib.parse.urlencode({"points": f"{_points(e):g}", "by": who, "note": f"burst {who}"})
            request = urllib.request.Request(f"{url}/item/{e.student}/{e.item_id}", data=body.encode(),
                                             method="POST")
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    if response.status != 200:
                        errors.append(f"{e.key}: HTTP {response.status}")
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(f"{e.key}: {exc}")

    threads = [threading.Thread(target=save, args=(queue[k::2], f"ta-{k}")) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    saved = yaml.safe_load((out / "overrides.yaml").read_text(encoding="utf-8"))
    assert sum(len(v) for v in saved.values()) == len(queue)
    with Gradebook(out / "gradebook.sqlite") as book:
        current = {r.student: r for r in book.current(False)}  # the runs alone, without the file
    for e in queue:
        item = current[e.student].item(e.item_id)
        assert item.manual and item.score == _points(e), e.key
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert all(float(rows[s]["total"]) == r.score for s, r in current.items())
