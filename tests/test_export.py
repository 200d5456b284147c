"""Exports: the CSV grade sheet and Gradescope's results.json, from a real gradebook and the CLI."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys

import jsonschema
import pytest

from grader.export import csv_text, gradescope_results, validate_gradescope
from grader.gradebook import Gradebook
from grader.report.samples import HIDDEN_DIAGNOSIS, engine_results, showcase_result, status_results

REQUIRED_TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "tags", "visibility"}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory, root):
    """A real gradebook: alice, the reference and a malformed file graded by the engine."""
    folder = tmp_path_factory.mktemp("gb")
    malformed = folder / "mallory.ipynb"
    malformed.write_text('{"nbformat": 4', encoding="utf-8")
    path = folder / "gradebook.sqlite"
    with Gradebook(path) as book:
        for r in [*engine_results(root, malformed), showcase_result(), *status_results()]:
            book.record(r)
    return path


def _cli(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_csv_has_one_row_per_student_with_question_points(gradebook):
    with Gradebook(gradebook) as book:
        results = book.latest()
    possible, *rows = list(csv.DictReader(io.StringIO(csv_text(results))))
    assert possible["student"] == "Points Possible"
    assert float(possible["q2"]) == max(q.max_score for r in results for q in r.questions if q.id == "q2")
    assert [r["student"] for r in rows] == sorted((r.student for r in results), key=str.lower)
    by_name = {r.student: r for r in results}
    for row in rows:
        r = by_name[row["student"]]
        assert row["status"] == r.status and float(row["total"]) == r.score
        for q in r.questions:
            assert float(row[q.id]) == q.score
    assert {r["student"]: r["status"] for r in rows}["mallory"] == "invalid"
    assert next(r for r in rows if r["student"] == "bob")["needs_review"] == "q4.concepts"


def test_gradescope_output_follows_the_spec_for_every_result(gradebook):
    with Gradebook(gradebook) as book:
        results = book.latest()
    for r in results:
        data = gradescope_results(r)
        validate_gradescope(data)
        assert isinstance(data["execution_time"], int | float) and not isinstance(
            data["execution_time"], bool
        )
        assert data["score"] == r.score and data["stdout_visibility"] in ("hidden", "visible")
        scored = [t for t in data["tests"] if "score" in t]
        assert sum(t["score"] for t in scored) == pytest.approx(r.score)
        assert sum(t["max_score"] for t in scored) == pytest.approx(r.max_score)
        for t in scored:
            assert t.keys() >= REQUIRED_TEST_KEYS
            item = r.item(t["name"].split(":")[0].split(" ")[0])
            assert t["status"] == ("passed" if item.status == "passed" else "failed")
            assert t["score"] == item.score and t["max_score"] == item.max_score
        if r.status != "graded":
            assert r.message in data["output"]


def test_hidden_items_show_points_only_by_default():
    r = showcase_result()
    data = gradescope_results(r)
    visible_text = json.dumps([t for t in data["tests"] if t["visibility"] == "visible"]) + data["output"]
    assert "SECRET" not in visible_text and HIDDEN_DIAGNOSIS not in visible_text
    hidden_test = next(t for t in data["tests"] if t["name"] == "q9.methodology (hidden check)")
    assert hidden_test["visibility"] == "visible" and hidden_test["output"] == "Hidden check: 0 / 4 points."
    details = next(t for t in data["tests"] if t["name"].startswith("q9.methodology (details"))
    assert (
        details["visibility"] == "hidden"
        and "score" not in details
        and "SECRET-FEEDBACK" in details["output"]
    )


@pytest.mark.parametrize("mode", ["hidden", "after_due_date", "after_published"])
def test_hidden_items_can_map_to_a_gradescope_visibility(mode):
    data = gradescope_results(showcase_result(), hidden=mode)
    (test,) = [t for t in data["tests"] if t["name"].startswith("q9.methodology")]
    assert test["visibility"] == mode and "SECRET-FEEDBACK" in test["output"]
    assert all(t["visibility"] == "visible" for t in data["tests"] if t is not test)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(execution_time="12"),
        lambda d: d.update(visibility="public"),
        lambda d: d.update(unknown_key=1),
        lambda d: d["tests"][0].update(status="partial"),
        lambda d: d["tests"][0].update(number=2.1),
        lambda d: (d.pop("score"), d["tests"][0].pop("score")),
    ],
)
def test_the_schema_rejects_what_the_spec_does_not_allow(change):
    data = copy.deepcopy(gradescope_results(showcase_result()))
    change(data)
    with pytest.raises(jsonschema.ValidationError):
        validate_gradescope(data)


def test_cli_export_gradescope_and_csv(gradebook, root, tmp_path):
    out = tmp_path / "results.json"
    proc = _cli(
        root,
        "export",
        "--format",
        "gradescope",
        "--gradebook",
        str(gradebook),
        "--student",
        "alice",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    validate_gradescope(data)
    assert data["extra_data"]["submission"] == "alice.ipynb"
    proc = _cli(
        root, "export", "--format", "csv", "--gradebook", str(gradebook), "--out", str(tmp_path / "g.csv")
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list(csv.DictReader((tmp_path / "g.csv").open()))) == 7 + 1  # + points possible


def test_cli_export_usage_errors(gradebook, root, tmp_path):
    proc = _cli(root, "export", "--format", "gradescope", "--gradebook", str(gradebook))
    assert proc.returncode == 2
    assert (
        "--student is needed" in proc.stderr and "alice" in proc.stderr and len(proc.stderr.splitlines()) == 1
    )
    proc = _cli(root, "export", "--gradebook", str(tmp_path / "none.sqlite"))
    assert proc.returncode == 2 and "no gradebook there" in proc.stderr
    assert not (tmp_path / "none.sqlite").exists()
    proc = _cli(root, "export", "--format", "gradescope", "--gradebook", str(gradebook), "--student", "zoe")
    assert proc.returncode == 2 and "no submission for student 'zoe'" in proc.stderr


def test_cli_report_and_override(gradebook, root, tmp_path):
    book = tmp_path / "gb.sqlite"
    book.write_bytes(gradebook.read_bytes())
    proc = _cli(
        root,
        "override",
        "--gradebook",
        str(book),
        "--student",
        "bob",
        "--item",
        "q4.concepts",
        "--score",
        "5",
        "--comment",
        "good enough",
        "--note",
        "PRIVATE-NOTE: talked to bob",
        "--by",
        "ta-kim",
    )
    assert proc.returncode == 0, proc.stderr
    assert "total now 22.5 / 36" in proc.stdout
    saved = (tmp_path / "overrides.yaml").read_text()  # beside the gradebook
    assert "good enough" in saved and "PRIVATE-NOTE" in saved and "ta-kim" in saved
    # re-rendered at once, from the gradebook: the student's page and the class files agree
    assert "Graded by hand: good enough" in (tmp_path / "bob.html").read_text()
    assert "PRIVATE-NOTE" in (tmp_path / "bob.html").read_text()  # the instructor's copy
    assert next(r for r in csv.DictReader((tmp_path / "grades.csv").open())
                if r["student"] == "bob")["total"] == "22.5"
    sim = tmp_path / "sim.json"
    sim.write_text(
        json.dumps(
            [
                {
                    "kind": "code",
                    "question": "q9",
                    "students": ["bob", "carol"],
                    "similarity": 0.97,
                    "excerpt": "model.add(Conv2D(32",
                }
            ]
        )
    )
    proc = _cli(
        root, "report", "--gradebook", str(book), "--out", str(tmp_path / "html"), "--similarity", str(sim)
    )
    assert proc.returncode == 0, proc.stderr
    index = (tmp_path / "html" / "index.html").read_text()
    assert "model.add(Conv2D(32" in index and "2 manual" in index
    bob = (tmp_path / "html" / "bob.html").read_text()
    assert "b-manual" in bob and "Graded by hand: good enough" in bob
    proc = _cli(root, "report", "--gradebook", str(book), "--out", str(tmp_path / "student"),
                "--student-mode")
    assert proc.returncode == 0, proc.stderr
    assert "PRIVATE-NOTE" not in (tmp_path / "student" / "bob.html").read_text()
    assert "good enough" in (tmp_path / "student" / "bob.html").read_text()
    assert {p.name for p in (tmp_path / "html").glob("*.html")} >= {
        "alice.html",
        "mallory.html",
        "index.html",
    }


def test_cli_writes_to_stdout_and_student_mode_reports(gradebook, root, tmp_path):
    proc = _cli(
        root,
        "export",
        "--format",
        "gradescope",
        "--gradebook",
        str(gradebook),
        "--student",
        "bob",
        "--out",
        "-",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    validate_gradescope(data)
    assert "SECRET" not in json.dumps([t for t in data["tests"] if t["visibility"] == "visible"])
    proc = _cli(root, "export", "--gradebook", str(gradebook), "--out", "-")
    assert proc.returncode == 0 and proc.stdout.startswith("student,student_id,submission,status,total")
    proc = _cli(root, "report", "--gradebook", str(gradebook), "--out", str(tmp_path), "--student-mode")
    assert proc.returncode == 0, proc.stderr
    assert "SECRET" not in (tmp_path / "bob.html").read_text()
