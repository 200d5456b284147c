"""The HTML reports, rendered on real engine results and on results covering every evidence key.

Checks here need no browser: well-formed HTML5 (html5lib), no external URL, the content each
report promises, and that a student copy never shows a hidden item's details.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from markupsafe import escape

from grader.report import render_class_report, render_submission
from grader.report.highlight import highlight
from grader.report.samples import (
    HIDDEN_DIAGNOSIS,
    HIDDEN_EVIDENCE,
    HIDDEN_FEEDBACK,
    engine_results,
    executed_results,
    showcase_result,
    status_results,
)
from grader.report.selfcheck import external_urls, html_errors
from grader.results import Diagnostic, SubmissionResult

SIMILARITY = [
    {
        "kind": "text",
        "question": "q4",
        "students": ["alice", "bob"],
        "similarity": 0.93,
        "excerpt": "Max pooling keeps the strongest activation",
    },
    {
        "kind": "output",
        "question": None,
        "students": ["carol", "dave"],
        "similarity": 1.0,
        "excerpt": "Epoch 1/5 - 12s - loss: 1.91",
    },
]


@pytest.fixture(scope="module")
def real(tmp_path_factory, root) -> list[SubmissionResult]:
    malformed = tmp_path_factory.mktemp("nb") / "mallory.ipynb"
    malformed.write_text('{"cells": [', encoding="utf-8")
    return engine_results(root, malformed)


@pytest.fixture(scope="module")
def executed() -> list[SubmissionResult]:
    return [copy.deepcopy(r) for r in executed_results()]


@pytest.fixture(scope="module")
def every(real, executed) -> list[SubmissionResult]:
    return [*real, *executed, showcase_result(), *status_results()]


def test_engine_results_cover_the_statuses(real):
    assert [r.status for r in real] == ["graded", "graded", "invalid"]
    assert all(r.questions for r in real)


@pytest.mark.parametrize("student_mode", [False, True])
def test_every_report_is_valid_self_contained_html(every, student_mode):
    for r in every:
        page = render_submission(r, student_mode=student_mode)
        assert html_errors(page) == [], r.student
        assert external_urls(page) == [], r.student
        assert "<link" not in page and "<script src" not in page  # inline only
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), r.student
        for anchor in re.findall(r'href="#([^"]+)"', page):  # every in-page link has a target
            assert anchor in ids, (r.student, anchor)
        assert f"{r.score:g} / {r.max_score:g} points" in page
        for q in r.questions:
            assert f'<section class="q" id="{q.id}">' in page
            for i in q.items:
                assert f'id="{i.id}"' in page


def test_real_execution_problems_link_to_their_cells(executed):
    raises, hangs = executed
    assert hangs.status == "timeout" and raises.execution["problems"]
    for r in executed:
        page = render_submission(r)
        for p in r.execution["problems"]:
            if p["cell"] is not None:
                assert f'<a href="#cell-{p["cell"]}">cell {p["cell"]}</a>' in page
                assert f'<details class="cell" id="cell-{p["cell"]}">' in page
    page = render_submission(raises)
    assert "ValueError: Shapes (None, 10) and (None, 1) are incompatible" in page
    assert "raise ValueError(" in page  # the cell's source, read back from the notebook
    assert 'class="badge b-timeout">timeout</span>' in render_submission(hangs)


def test_header_shows_student_status_profile_device_and_date(every):
    for r in every:
        page = render_submission(r)
        for text in (r.student, r.status, r.profile, r.device):
            assert text in page
        if r.started_at:
            assert r.started_at in page
        if r.message:
            assert 'id="message"' in page


def test_special_evidence_is_rendered():
    page = render_submission(showcase_result())
    # excerpt: escaped, with the matched phrases highlighted
    assert '<mark title="matched">no parameters</mark>' in page
    assert '&lt;b&gt;<mark title="matched">downsamples</mark>&lt;/b&gt;' in page
    # numbers found vs expected, in words, a missing number named and marked
    assert "<b>Batch of 50</b> you wrote 4.8 MB, expected 240.2" in page
    assert '<li class="bad"><b>Float size</b> no number found in your answer; expected 4' in page
    # architecture table, training curves and the per-digit chart as inline SVG, accuracy in words
    assert "<td>MaxPooling2D</td><td>max_pooling2d</td>" in page
    assert page.count('<svg class="chart"') == 2 and page.count("<polyline") == 4
    assert page.count('<svg class="chart class-chart"') == 1 and page.count('class="cbar"') == 10
    assert "The notebook printed 0.91; the grader measured 0.664" in page
    assert "The printed figure is 24.6 points above what the model scores." in page
    # other keys in words; cell links point at rendered cells
    assert "<b>Tolerance</b> 0.02" in page and "<b>not found</b> learned-downsampling" in page
    for cell in (4, 12, 13, 14, 16):
        assert f'href="#cell-{cell}"' in page and f'id="cell-{cell}"' in page


def test_diagnoses_problems_and_flags_are_shown():
    r = showcase_result()
    page = render_submission(r)
    for d in r.diagnostics:
        assert f'id="diag-{d.code}"' in page and d.message in page and d.fix in page
    assert "name &#39;histroy&#39; is not defined" in page  # the execution problem, with its cell
    assert '<details class="cell" id="cell-16">' in page
    for badge in ("b-manual", "b-review", "b-provisional"):
        assert f'class="badge {badge}"' in page
    assert "Score set by an instructor" in page
    for key in ("seeds", "budget", "kernel_tensorflow", "python"):
        assert f"<th>{key}</th>" in page


def test_non_graded_statuses_say_why(every):
    for r in [x for x in every if x.status != "graded"]:
        page = render_submission(r)
        assert f'class="badge b-{r.status}"' in page
        assert str(escape(r.message)) in page


def _with_hidden_secrets(result: SubmissionResult, make_hidden: str) -> SubmissionResult:
    """Alice's real result with one item made hidden (as a rubric can), and every hidden item
    given distinctive feedback, evidence and a diagnosis."""
    r = copy.deepcopy(result)
    r.item(make_hidden).visibility = "hidden"
    hidden = [i for i in r.items() if i.visibility == "hidden"]
    for i in hidden:
        i.feedback = HIDDEN_FEEDBACK
        i.evidence = {
            "excerpt": HIDDEN_EVIDENCE,
            "matches": [{"concept": "leak", "phrase": "SECRET-PHRASE", "sentence": HIDDEN_EVIDENCE}],
            "cells": [99],
            "detail": "SECRET-DETAIL-VALUE",
        }
        i.diagnoses = [HIDDEN_DIAGNOSIS]
        r.diagnostics.append(
            Diagnostic(
                HIDDEN_DIAGNOSIS, i.id.split(".")[0], HIDDEN_FEEDBACK, item=i.id, cell=99, fix="SECRET-FIX"
            )
        )
    return r


def test_student_copy_of_alice_leaks_no_hidden_item(real):
    alice = real[0]
    assert alice.student == "alice"
    r = _with_hidden_secrets(alice, "q2.ram_batch")
    hidden = [i for i in r.items() if i.visibility == "hidden"]
    secrets = ("SECRET-", HIDDEN_DIAGNOSIS, "cell-99")
    instructor = render_submission(r)
    assert all(s in instructor for s in secrets)  # the test can see the secrets when they are shown
    student = render_submission(r, student_mode=True)
    for s in secrets:
        assert s not in student, s
    for i in hidden:  # ... and the hidden items still show their points
        assert f'<article class="item hidden-item" id="{i.id}">' in student
        assert f"{i.score:g} / {i.max_score:g}</span>" in student


def test_student_copy_of_showcase_leaks_nothing():
    page = render_submission(showcase_result(), student_mode=True)
    assert "SECRET" not in page and HIDDEN_DIAGNOSIS not in page
    assert "1 hidden check: only its points are shown." in page


def test_malformed_evidence_falls_back_to_a_table():
    r = showcase_result()
    r.item("q2.params").evidence = {
        "numbers": "1,199,882",
        "history": {"loss": "n/a"},
        "accuracy": 0.7,
        "cells": "four",
        "matches": "none",
        "excerpt": ["not", "a", "string"],
    }
    page = render_submission(r)
    assert html_errors(page) == []
    for key in ("numbers", "history", "accuracy", "cells", "matches", "excerpt"):
        assert f"<b>{key.capitalize()}</b>" in page


def test_odd_evidence_values_still_render():
    r = showcase_result()
    r.item("q2.params").evidence = {
        "nan": float("nan"),
        "inf": float("inf"),
        (1, 2): "tuple key",
        "nested": {"a": [{"b": {"c": [1, 2, {"d": None}]}}]},
        "long": "x" * 5000,
        "history": {"loss": [float("nan"), 1.0], "accuracy": [0.5]},
    }
    page = render_submission(r)
    assert html_errors(page) == [] and "could not be rendered" not in page
    assert "<b>Nested</b>" in page and "x" * 5000 not in page


def test_a_result_that_breaks_the_template_still_gets_a_report():
    r = showcase_result()
    r.item("q4.concepts").score = None  # not a number: '%g' formatting fails in the full report
    r.item("q9.methodology").feedback = HIDDEN_FEEDBACK
    page = render_submission(r, student_mode=True)
    assert "could not be rendered (TypeError" in page and html_errors(page) == []
    assert 'id="q4.concepts"' in page and "SECRET" not in page
    assert "SECRET" in render_submission(r)


def test_the_accuracy_cell_is_linked_even_without_a_diagnosis():
    r = showcase_result()
    r.diagnostics = []
    page = render_submission(r)
    assert 'href="#cell-14"' in page and 'id="cell-14"' in page


def test_repeated_diagnosis_codes_get_unique_anchors():
    r = showcase_result()
    r.diagnostics.append(Diagnostic("batch-not-multiplied", "q2", "again", item="q2.ram_batch"))
    page = render_submission(r)
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert 'id="diag-batch-not-multiplied-2"' in page


def test_highlight_prefers_longer_phrases_and_escapes():
    out = str(highlight("Max pooling <vs> pooling", ["pooling", "max pooling"]))
    assert out == ('<mark title="matched">Max pooling</mark> &lt;vs&gt; <mark title="matched">pooling</mark>')


def test_misconception_phrases_are_marked_differently():
    out = str(
        highlight("Pooling learns weights and has no parameters", ["no parameters"], ["learns weights"])
    )
    assert '<mark class="wrong" title="misconception">learns weights</mark>' in out
    assert '<mark title="matched">no parameters</mark>' in out


def test_class_report_sections(every, tmp_path):
    page = render_class_report(every, SIMILARITY)
    assert html_errors(page) == [] and external_urls(page) == []
    graded = [r for r in every if r.status == "graded"]
    # histogram: one bar per bin, labelled counts add up to the graded submissions
    counts = [int(c) for c in re.findall(r'<rect class="hbar"[^>]*><title>[^<]*: (\d+)</title>', page)]
    assert len(counts) == 10 and sum(counts) == len(graded)
    # every student links to the report file grader.output writes (always a relative file link)
    for r in every:
        assert f'<a href="./{Path(r.submission).stem}.html">{r.student}</a>' in page
    # not graded, with status and message
    section = page.split('id="not-graded"')[1].split("</section>")[0]
    for r in every:
        assert (r.student in section) == (r.status != "graded")
    # diagnoses with their students; per-question means; item difficulty; similarity groups
    diag = page.split('id="diagnoses"')[1].split("</section>")[0]
    assert "batch-not-multiplied" in diag and '<a href="./bob.html">bob</a>' in diag
    assert re.search(r"<td>q2 · Parameters and memory of a CNN</td><td class=\"num\">", page)
    assert re.search(r"<td>q9.methodology <span class=\"badge b-hidden\">hidden</span></td>", page)
    sim = page.split('id="similarity"')[1].split("</section>")[0]
    assert "alice, bob" in sim and "93 %" in sim and "whole notebook" in sim and "Epoch 1/5" in sim


def test_class_report_of_nothing_graded():
    page = render_class_report(status_results())
    assert html_errors(page) == []
    assert "No submission reached <code>graded</code>." in page


def test_compiled_templates_kept_between_processes_render_the_same(tmp_path, monkeypatch):
    """The report's templates compiled once and read back from the grader's cache folder (a new
    process's Environment) give the page compiling them gives; the cache folder must be private."""
    import importlib

    import grader.report as report

    result = showcase_result()
    monkeypatch.setenv("GRADER_CACHE_DIR", "off")
    fresh = importlib.reload(report).render_submission(result)
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    try:
        first = importlib.reload(report).render_submission(result)  # compiles and writes the cache
        assert any(p.suffix == ".cache" for p in tmp_path.glob("jinja-*/*"))
        again = importlib.reload(report)
        loaded = []
        real = again._QuietBytecodeCache.load_bytecode

        def counting(self, bucket):
            real(self, bucket)
            loaded.append(bucket.code is not None)

        monkeypatch.setattr(again._QuietBytecodeCache, "load_bytecode", counting)
        assert again.render_submission(result) == first == fresh
        assert loaded and all(loaded)  # every template came from the cache
        folder = next(tmp_path.glob("jinja-*"))
        folder.chmod(0o777)
        assert importlib.reload(report)._bytecode_cache() is None
        folder.chmod(0o700)
    finally:
        monkeypatch.undo()  # the environment this session had, and its Environment
        importlib.reload(report)
