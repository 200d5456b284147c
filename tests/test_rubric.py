"""Rubric loading: the real rubric is valid, and each broken rubric names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.rubric import DEFAULT_RUBRIC, RubricError, load_rubric


def test_assignment_rubric_covers_ten_questions_and_100_points():
    rubric = load_rubric()
    assert [q.id for q in rubric.questions] == [f"q{n}" for n in range(1, 11)]
    assert rubric.total == pytest.approx(100)
    assert {"q2.params", "q2.ram_prediction", "q2.ram_batch"} <= {i.id for i in rubric.items}
    assert any(i.hidden for i in rubric.items), "at least one hidden item"
    assert all(i.points > 0 for i in rubric.items)


def broken(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DEFAULT_RUBRIC.read_text())
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["questions"][1]["items"][0].update(points="five"),
     r"questions\[1\] \(q2\)\.items\[0\] \(q2\.params\)\.points: 'five' is not of type 'number'"),
    (lambda d: d["questions"][0]["items"][0].update(kind="telepathy"),
     r"items\[0\]\.kind: unknown check kind 'telepathy'; known kinds: .*concepts"),
    (lambda d: d["questions"][0]["items"][0].update(colour="red"),
     r"questions\[0\] \(q1\)\.items\[0\] \(q1\.concepts\): unknown key 'colour'"),
    (lambda d: d["questions"][2]["items"][0].update(id="q4.concepts"),
     r"item id 'q4.concepts' is used twice|must start with its question id 'q3.'"),
    (lambda d: d["questions"][0]["items"][0].update(points=9),
     r"total: the items' points add up to 101, not 100"),
    (lambda d: d.pop("questions"),
     r"top level: 'questions' is required but missing"),
    (lambda d: d["questions"][1]["items"][0]["params"].update(reference="no_such_value"),
     r"q2\.params\.params\.reference: unknown reference value 'no_such_value'"),
    (lambda d: d["questions"][0]["items"][0].update(visibility="secret"),
     r"visibility: 'secret' is not one of \['public', 'hidden'\]"),
])
def test_broken_rubric_names_file_and_key(tmp_path, mutate, message):
    path = broken(tmp_path, mutate)
    with pytest.raises(RubricError, match=message) as exc:
        load_rubric(path)
    assert str(exc.value).startswith(str(path))


def test_misspelt_kind_names_the_close_one_every_known_kind_and_what_to_do(tmp_path):
    path = broken(tmp_path, lambda d: d["questions"][1]["items"][0].update(kind="param_math"))
    with pytest.raises(RubricError) as exc:
        load_rubric(path)
    message = str(exc.value)
    assert "unknown check kind 'param_math'" in message and "did you mean 'param-math'?" in message
    from grader.checks import KINDS

    assert all(kind in message for kind in KINDS)
    assert "Use one of these" in message and "grader.checks.KINDS" in message


def test_yaml_syntax_error_gives_line(tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text("assignment: a\nquestions:\n  - id: q1\n    items: [\n")
    with pytest.raises(RubricError, match=r"syntax.yaml: not valid YAML \(line \d+"):
        load_rubric(path)


def test_missing_rubric_file(tmp_path):
    with pytest.raises(RubricError, match="no such rubric file; pass --rubric"):
        load_rubric(tmp_path / "nope.yaml")


def _load_in_fresh_process(path: Path, cache: str) -> list[str]:
    """[which of jsonschema and PyYAML it imported, the question ids]: `load_rubric(path)` in a new
    process."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    code = ("import json, sys; from grader.rubric import load_rubric; r = load_rubric(sys.argv[1]); "
            "print(json.dumps([[m for m in ('jsonschema', 'yaml') if m in sys.modules], "
            "[q.id for q in r.questions]]))")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], cwd=root, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(root), "GRADER_CACHE_DIR": cache})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_rubric_that_passed_the_schema_is_not_parsed_again_until_it_changes(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    path = broken(tmp_path, lambda d: d.update(title="Another edition"))  # valid, not the installed bytes
    ids = [f"q{n}" for n in range(1, 11)]
    assert _load_in_fresh_process(path, str(cache)) == [["jsonschema", "yaml"], ids]
    assert _load_in_fresh_process(path, str(cache)) == [[], ids]
    assert len(list((cache / "rubric-schema").iterdir())) == 1
    # the same file changed so that it breaks the schema: validated again, and refused
    data = yaml.safe_load(path.read_text())
    data["questions"][0]["items"][0]["points"] = "five"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("GRADER_CACHE_DIR", str(cache))
    with pytest.raises(RubricError, match=r"points: 'five' is not of type 'number'"):
        load_rubric(path)
    assert len(list((cache / "rubric-schema").iterdir())) == 1, "a refused rubric is not remembered"


def test_rubric_cache_off_or_unwritable_still_validates(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_CACHE_DIR", "off")
    assert _load_in_fresh_process(DEFAULT_RUBRIC, "off")[0] == ["jsonschema", "yaml"]
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("GRADER_CACHE_DIR", str(blocked))
    assert load_rubric().total == pytest.approx(100)
    path = broken(tmp_path, lambda d: d["questions"][0]["items"][0].update(colour="red"))
    with pytest.raises(RubricError, match="unknown key 'colour'"):
        load_rubric(path)
