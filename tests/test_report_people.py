"""Reports written for people: the three-part paragraph, evidence in words and collapsed, no
repetition, training curves only from two epochs, the class report's attention list and
missing-as-missing, and the terminal summary within 80 columns."""

from __future__ import annotations

import copy
import html
import re

import pytest
from rich.console import Console

from grader.report import render_class_report, render_submission
from grader.report.samples import engine_results, showcase_result, status_results
from grader.report.terminal import batch_table

INTERNAL = ("confidence_reasons", "evaluates_to", "holds false", "graded_here", "{\"", "[{", "None")


@pytest.fixture(scope="module")
def alice(root):
    return engine_results(root)[0]


def visible_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_alice_reads_in_words_with_evidence_closed(alice):
    page = render_submission(alice)
    text = visible_text(page)
    for key in INTERNAL:
        assert key not in text, key
    assert "<details class=\"evidence\" open" not in page and page.count('<details class="evidence">') >= 8
    # one paragraph per item, in three parts: alice's q2.params earned nothing, so wrong + next
    q2 = re.search(r'<article class="item failed" id="q2.params">.*?</article>', page, re.S).group(0)
    assert "<b>Wrong:</b> Your total number of parameters: 9,027,000" in q2 and "<b>Next:</b>" in q2
    assert "this works out to 2,700, not 27,000" in page  # the working, in words
    q1 = re.search(r'id="q1.concepts">.*?</article>', page, re.S).group(0)
    assert "<b>Earned:</b> far fewer parameters" in q1 and "<b>Wrong:</b>" in q1 and "<b>Next:</b>" in q1


def test_alices_q2_answer_and_working_appear_once(alice):
    page = render_submission(alice)
    assert page.count("Total Parameters = 9,027,000") == 1
    assert visible_text(page).count("this works out to 2,700, not 27,000") == 1
    assert "Same working as q2.params" in page


def test_one_epoch_gets_a_line_and_two_epochs_get_curves():
    r = showcase_result()
    item = r.item("q9.architecture")
    item.evidence["history"] = {"loss": [0.41], "accuracy": [0.87], "val_accuracy": [0.9]}
    page = render_submission(r)
    assert "<polyline" not in page
    assert "1 epoch of training: loss 0.41, accuracy 0.87, val accuracy 0.9." in page
    item.evidence["history"] = {"loss": [0.41, 0.3], "accuracy": [0.87, 0.9]}
    assert render_submission(r).count("<polyline") == 2


def test_private_note_only_in_the_instructors_copy():
    r = showcase_result()
    item = r.item("q4.concepts")
    item.manual = True
    item.feedback = "Graded by hand: Well argued."
    item.evidence["override"] = {"points": 5, "comment": "Well argued.", "note": "PRIVATE: compare with erin",
                                 "by": "ta-lee", "at": "2026-12-01T10:00:00+00:00", "automatic_score": 4}
    instructor, student = render_submission(r), render_submission(r, student_mode=True)
    assert "PRIVATE: compare with erin" in instructor and "PRIVATE" not in student
    for page in (instructor, student):
        assert "Graded by hand: Well argued." in page and "Score set by ta-lee on 2026-12-01 10:00" in page


def test_class_report_leads_with_attention_and_shows_missing_as_missing(root):
    results = [*engine_results(root), showcase_result(), *status_results()]
    blank = copy.deepcopy(results[0])
    blank.student, blank.submission = "zoe", "zoe.ipynb"
    for i in blank.question("q3").items:
        i.status, i.score = "missing", 0.0
    blank.recompute_scores()
    page = render_class_report([*results, blank])
    order = [page.index(f'id="{s}"') for s in ("attention", "students", "histogram", "items")]
    assert order == sorted(order)
    attention = page[page.index('id="attention"'):page.index('id="students"')]
    assert "Not fully graded" in attention and "Items to review" in attention
    for r in status_results():  # timeout, error, invalid: each named under not fully graded
        assert f">{r.student}</a>" in attention
    row = re.search(r'<tr><td data-v="zoe">.*?</tr>', page, re.S).group(0)
    assert '<td class="num missing" data-v="-1.0">missing</td>' in row
    assert '<td class="num na" data-v="" title="not graded">–</td>' in page
    assert 'class="sortable"' in page and "<script src" not in page


def test_terminal_summary_fits_80_columns_with_flags(root):
    results = [*engine_results(root), showcase_result(), *status_results()]
    console = Console(width=80, record=True, highlight=False)
    table, heading = batch_table(results)
    console.print(heading)
    console.print(table)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert heading.startswith("profile quick") and " to review" in heading and "provisional" in heading
    bob = next(line for line in lines if line.lstrip().startswith("bob "))
    assert "1 review" in bob and "prov" in bob and "manual" in bob
    assert len([line for line in lines if line.strip()]) == len(results) + 3  # heading, header, rule
