"""The rubric as a student may see it: public items only, and no answer wording (concept hints,
misconception corrections, an item's hint) where an item does not reveal its answer.

`grader assign` writes it as `grader-selfcheck/rubric.yaml`, and the wheel build (setup.py)
ships it as the package's default rubric, so what a student installs holds no hidden item and no
reference wording. It needs only PyYAML: setup.py loads this file by path at build time, before
the package (and its dependencies) can be imported.
"""

from __future__ import annotations

from typing import Any

import yaml

NEUTRAL_CORRECTION = "This claim is not right: check it against the course material."


def student_rubric_data(data: dict[str, Any]) -> dict[str, Any]:
    """`data` (a parsed rubric YAML) without hidden items or hidden answer wording."""
    data = dict(data)
    data.pop("total", None)  # the public items' points no longer add up to it
    questions = []
    for q in data.get("questions") or []:
        items = [dict(i) for i in q.get("items") or [] if i.get("visibility", "public") == "public"]
        for item in items:
            if item.get("reveal", "hint") != "answer":
                item["params"] = _without_answer_wording(item.get("params") or {})
        if items:
            questions.append({**q, "items": items})
    data["questions"] = questions
    return data


def _without_answer_wording(params: dict[str, Any]) -> dict[str, Any]:
    params = dict(params)
    if isinstance(params.get("concepts"), list):
        params["concepts"] = [{k: v for k, v in c.items() if k != "hint"} for c in params["concepts"]]
    if isinstance(params.get("misconceptions"), list):
        params["misconceptions"] = [{**m, "correction": NEUTRAL_CORRECTION} for m in params["misconceptions"]]
    params.pop("hint", None)
    return params


def student_rubric_text(text: str, *, written_by: str) -> str:
    """The student rubric of the rubric YAML `text`, with a header naming what wrote it."""
    data = yaml.safe_load(text)
    head = (f"# Self-check rubric for {data.get('assignment', 'this assignment')}, written by {written_by}: "
            "public items only. Do not edit.\n")
    return head + yaml.safe_dump(student_rubric_data(data), sort_keys=False, allow_unicode=True, width=100)
