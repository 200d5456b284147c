"""Reveal levels: a self-check gives hints and diagnoses, never the answer key, unless the rubric
says `reveal: answer` (grader/feedback_levels.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_markdown_cell, new_notebook

from grader.feedback_levels import mentions, numbers_in, student_item
from grader.results import ItemResult

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = ROOT / "rubrics" / "assignment06.yaml"

# a wrong Q2 (biases left out, RAM of the parameters only) and a wrong Q5, as students write them
EVE_Q2 = ("layer1: 3*3*3*100 = 2700\nlayer2 : 3x3x100x200=180000\nlayer 3 -> 3*3*200*400 = 720000\n\n"
          "total = 902,700 params\n\nram for 1 image: 902700*4 bytes = 3.6 MB i think (just the weights)\n"
          "for the batch of 50 -> 50 x 3.6MB = 180 MB")
EVE_Q5 = ("you add LRN so neurons get more sensitive than their neighbors, its basically like batch "
          "normalization")

#: the answer key in the spellings a leak could take
ANSWER_KEY = [
    re.compile(r"903[\s,.\u00a0\u202f]?400"), re.compile(r"\b0[.,]9\d*\s*(M\b|million)"),
    re.compile(r"12[.,]6\s*MB"), re.compile(r"12[.,]03"), re.compile(r"56[45][.,]6"),
    re.compile(r"539[.,]41"),
    re.compile(r"2[,\s]?800\b"), re.compile(r"180[,\s]?200"), re.compile(r"720[,\s]?400"),
]


def _reference_sentences() -> list[str]:
    """The reference notebook's Q2 and Q5 answers, and the rubric's own model wording for Q5."""
    nb = nbformat.read(ROOT / "reference" / "assignment06.ipynb", as_version=4)
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown" and not c.source.startswith("#"))
    sentences = [s.strip(" *-\n") for s in re.split(r"(?<=[.!?])\s+", text)]
    q5 = next(q for q in yaml.safe_load(RUBRIC.read_text())["questions"] if q["id"] == "q5")
    params = q5["items"][0]["params"]
    sentences += [c["hint"] for c in params["concepts"]] + [m["correction"] for m in params["misconceptions"]]
    return [re.sub(r"\s+", " ", s.replace("**", "")) for s in sentences if len(s) > 30]


def _eve(folder: Path) -> Path:
    path = folder / "eve.ipynb"
    nbformat.write(new_notebook(cells=[
        new_markdown_cell("# HW6 - eve"), new_markdown_cell("**Q2)**"), new_markdown_cell(EVE_Q2),
        new_markdown_cell("**Q5)**"), new_markdown_cell(EVE_Q5)]), path)
    return path


def _check(notebook: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "check", str(notebook), "-q", "q2,q5", "--static",
                           "--exit-zero", *extra], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", **_env()})


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "COLUMNS"}


def _leaks(text: str, sentences: list[str]) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    found = [p.pattern for p in ANSWER_KEY if p.search(flat)]
    return found + [s for s in sentences if s in flat]


def _rubric_with(tmp_path: Path, reveal: dict[str, str]) -> Path:
    data = yaml.safe_load(RUBRIC.read_text())
    for q in data["questions"]:
        for item in q["items"]:
            if item["id"] in reveal:
                item["reveal"] = reveal[item["id"]]
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_wrong_q2_and_q5_get_hints_and_diagnoses_but_no_answer_key(tmp_path: Path) -> None:
    nb = _eve(tmp_path)
    sentences = _reference_sentences()
    text = _check(nb)
    assert text.returncode == 0, text.stderr
    as_json = _check(nb, "--json")
    result = json.loads(as_json.stdout)
    levels = result["self_check"]["reveal"]
    assert set(levels) == {"q2.params", "q2.ram_prediction", "q2.ram_batch", "q5.concepts"}
    assert all(level == "hint" for level in levels.values())
    assert _leaks(text.stdout, sentences) == []
    assert _leaks(as_json.stdout, sentences) == []
    items = {i["id"]: i for q in result["questions"] for i in q["items"]}
    for item in items.values():  # every item whose reveal is not `answer`
        assert _leaks(json.dumps(item, ensure_ascii=False), sentences) == [], item["id"]
    # the hints name the kind of mistake and where; diagnoses stay
    assert items["q2.params"]["diagnoses"] == ["missing-biases"]
    assert "biases" in items["q2.params"]["feedback"]
    assert "only the parameters" in items["q2.ram_prediction"]["feedback"]
    assert set(items["q5.concepts"]["diagnoses"]) >= {"lrn-boosts-sensitivity"}
    assert "reconsider" in items["q5.concepts"]["feedback"]
    assert "feature maps" in items["q5.concepts"]["feedback"]  # the rubric's nudge, not its answer
    assert "biases" in text.stdout and "missing-biases" in as_json.stdout
    assert {d["code"] for d in result["diagnostics"]} >= {"missing-biases", "ram-params-only"}
    assert all(d["fix"] is None for d in result["diagnostics"])


def test_reveal_answer_shows_the_expected_values_for_that_item_only(tmp_path: Path) -> None:
    """The same check with q2.params set to `answer`: its feedback has the key, the others still not."""
    rubric = _rubric_with(tmp_path, {"q2.params": "answer", "q5.concepts": "none"})
    result = json.loads(_check(_eve(tmp_path), "--json", "--rubric", str(rubric)).stdout)
    items = {i["id"]: i for q in result["questions"] for i in q["items"]}
    assert "903,400" in items["q2.params"]["feedback"]
    sentences = _reference_sentences()
    for item_id in ("q2.ram_prediction", "q2.ram_batch", "q5.concepts"):
        assert _leaks(json.dumps(items[item_id], ensure_ascii=False), sentences) == [], item_id
    q5 = items["q5.concepts"]  # level none: the score and the status only
    assert q5["feedback"] == "Not right yet." and q5["diagnoses"] == []
    assert set(q5["evidence"]) <= {"excerpt", "cells"}
    assert not any(d["item"] == "q5.concepts" for d in result["diagnostics"])


@pytest.mark.parametrize("text", ["903,400", "903400", "903 400", "903\u202f400", "0.9 M", "0.90 million",
                                  "about 903.4k"])
def test_the_guard_knows_the_spellings_of_a_number(text: str) -> None:
    assert mentions(f"you should get {text} parameters", {903400.0})


def test_the_guard_leaves_other_numbers_alone() -> None:
    assert not mentions("3 × 3 kernels, a stride of 2 and 100 feature maps", {903400.0, 12.6e6})
    assert numbers_in("12.6 MB and 1,500,000 floats") == [(12.6, 3), (1500000.0, 2)]


def test_a_hint_written_by_the_instructor_that_gives_the_number_away_is_dropped() -> None:
    item = ItemResult(id="q2.params", score=0, max_score=5, status="failed", kind="param-math",
                      feedback="Your total: 902,700; expected 903,400.", diagnoses=["missing-biases"],
                      evidence={"excerpt": "total = 902,700", "reference": {"total": 903400}})

    class Spec:
        hints = {"missing-biases": "Add the biases to get 903 400."}

    shown = student_item(item, "hint", Spec())
    assert "903" not in shown.feedback and shown.feedback  # falls back to a generic line
    assert "reference" not in shown.evidence
    assert student_item(item, "answer").feedback == item.feedback


def test_a_bad_level_is_refused() -> None:
    item = ItemResult(id="q1.concepts", score=0, max_score=1, status="failed", feedback="x", kind="concepts")
    with pytest.raises(ValueError, match="none, hint, answer"):
        student_item(item, "solution")


def test_the_report_handed_back_shows_what_reveal_after_deadline_allows(tmp_path: Path) -> None:
    data = yaml.safe_load(RUBRIC.read_text())
    q2 = next(q for q in data["questions"] if q["id"] == "q2")
    q2["items"][0]["reveal_after_deadline"] = "hint"  # q2.params keeps its answer back; the others: answer
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(yaml.safe_dump(data, sort_keys=False))
    nb = _eve(tmp_path)
    for mode in ("--student-mode", None):
        out = tmp_path / (mode or "instructor")
        proc = subprocess.run([sys.executable, "-m", "grader", "run", str(nb), "--questions", "q2",
                               "--rubric", str(rubric), "--out", str(out), *([mode] if mode else [])],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    handed_back = (tmp_path / "--student-mode" / "eve.html").read_text()
    instructor = (tmp_path / "instructor" / "eve.html").read_text()
    assert "903,400 (2,800 + 180,200 + 720,400)" in instructor
    assert "903,400 (2,800 + 180,200 + 720,400)" not in handed_back  # q2.params: hint
    assert "565.6 MB" in handed_back  # q2.ram_batch: the answer, after the deadline
    assert "leaves out the biases" in handed_back


def test_an_answer_under_the_wrong_question_gets_a_hint_to_move_it(tmp_path: Path) -> None:
    """A student pastes the pooling answer under Q3: the self-check says where it seems to belong
    (a hint of its own, not the generic 'not full credit yet'), never what Q3's answer is."""
    path = tmp_path / "frank.ipynb"
    nbformat.write(new_notebook(cells=[
        new_markdown_cell("**Q3)**"),
        new_markdown_cell("i'd go for max pool, it doesnt have any weights to learn so it costs less "
                          "compute than a strided conv, plus small shifts of the input barely change "
                          "the max.")]), path)
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(path), "-q", "q3", "--static",
                           "--exit-zero", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=_env())
    assert done.returncode == 0, done.stderr
    items = [i for q in json.loads(done.stdout)["questions"] for i in q["items"]]
    item = next(i for i in items if i["id"] == "q3.concepts")
    assert "another-question" in item["diagnoses"]
    assert "different question" in item["feedback"]
    assert "batch" not in item["feedback"].lower()  # no Q3 remedy given away
