"""A concepts item's params (rubrics/assignment06.yaml) validated and compiled into objects."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from grader.textmatch import Phrase, compile_phrase

KEYWORD_SHARE = 0.25  # the most a bare list of terms can earn, as a share of the item's points


class ConceptRubricError(ValueError):
    """The item's concept rubric (params) is malformed; the message names the item and key."""


@dataclass
class Concept:
    id: str
    label: str
    points: float
    phrases: list[Phrase]
    patterns: list[str] = field(default_factory=list)
    hint: str = ""
    group: str | None = None
    subject: str | None = None  # counts only from text about this subject (Q6: an architecture)
    unless: list[Phrase] = field(default_factory=list)  # in the same part: the match is cancelled
    unless_patterns: list[str] = field(default_factory=list)
    #: regexes run over the whole answer (its sentences joined by newlines), credited to the
    #: sentence the match ends in: "the map is 7x7x512. Replace it by Conv2D(4096, kernel_size=7)"
    #: states the kernel size across two sentences
    context_patterns: list[str] = field(default_factory=list)


@dataclass
class Misconception:
    id: str
    label: str
    deduction: float
    phrases: list[Phrase]
    correction: str
    patterns: list[str] = field(default_factory=list)
    unless: list[Phrase] = field(default_factory=list)
    subject: str | None = None
    unless_patterns: list[str] = field(default_factory=list)  # regexes over the part that cancel it


@dataclass
class ConceptRubric:
    concepts: list[Concept]
    misconceptions: list[Misconception]
    step: float = 0.5
    subjects: dict[str, list[Phrase]] = field(default_factory=dict)  # name -> ways to name it
    keyword_share: float = KEYWORD_SHARE
    vocabulary: dict[str, frozenset[str]] = field(default_factory=dict)  # per prompt, for confidence


# ---- rubric params -> objects ---------------------------------------------------------------


def parse_params(item_id: str, params: dict[str, Any]) -> ConceptRubric:
    """Validate and compile an item's concept rubric. Raises ConceptRubricError."""
    return _parse_cached(item_id, json.dumps(params, sort_keys=True, default=str))


@lru_cache(maxsize=64)
def _parse_cached(item_id: str, params_json: str) -> ConceptRubric:
    params = json.loads(params_json)

    def fail(key: str, msg: str) -> ConceptRubricError:
        return ConceptRubricError(f"{item_id}.params.{key}: {msg}")

    def phrases(where: str, raw: Any, *, required: bool = True) -> list[Phrase]:
        if raw is None and not required:
            return []
        if not isinstance(raw, list) or (required and not raw) or not all(isinstance(p, str) for p in raw):
            raise fail(where, "must be a list of phrase strings (words, `a|b` for alternatives)")
        try:
            return [compile_phrase(p) for p in raw]
        except ValueError as exc:
            raise fail(where, str(exc)) from None

    def patterns(where: str, raw: Any) -> list[str]:
        raw = raw or []
        for p in raw:
            try:
                re.compile(p)
            except (re.error, TypeError) as exc:
                raise fail(where, f"bad regular expression {p!r}: {exc}") from None
        return list(raw)

    def number(where: str, raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
            raise fail(where, f"must be a number >= 0, got {raw!r}")
        return float(raw)

    raw_subjects = params.get("subjects") or {}
    if not isinstance(raw_subjects, dict):
        raise fail("subjects", "must map a subject name to a list of ways to write it")
    subjects = {str(k): phrases(f"subjects.{k}", v) for k, v in raw_subjects.items()}

    def subject(where: str, raw: Any) -> str | None:
        if raw is None:
            return None
        if str(raw) not in subjects:
            raise fail(where, f"unknown subject {raw!r}; declare it under params.subjects")
        return str(raw)

    raw_concepts = params.get("concepts")
    if not isinstance(raw_concepts, list) or not raw_concepts:
        raise fail("concepts", "a concepts item needs a non-empty list of concepts")
    concepts, seen = [], set()
    for i, c in enumerate(raw_concepts):
        where = f"concepts[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("id"), str):
            raise fail(where, "each concept needs an `id` string")
        if c["id"] in seen:
            raise fail(where + ".id", f"concept id {c['id']!r} is used twice")
        seen.add(c["id"])
        unknown = set(c) - {"id", "label", "points", "phrases", "patterns", "hint", "group", "subject",
                            "unless", "unless_patterns", "context_patterns"}
        if unknown:
            raise fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
        concepts.append(Concept(
            id=c["id"], label=str(c.get("label", c["id"])), points=number(where + ".points", c.get("points")),
            phrases=phrases(where + ".phrases", c.get("phrases")),
            patterns=patterns(where + ".patterns", c.get("patterns")),
            hint=str(c.get("hint", "")).strip(), group=c.get("group"),
            subject=subject(where + ".subject", c.get("subject")),
            unless=phrases(where + ".unless", [str(u) for u in c.get("unless") or []], required=False),
            unless_patterns=patterns(where + ".unless_patterns", c.get("unless_patterns")),
            context_patterns=patterns(where + ".context_patterns", c.get("context_patterns")),
        ))
    misconceptions = []
    for i, m in enumerate(params.get("misconceptions") or []):
        where = f"misconceptions[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("id"), str):
            raise fail(where, "each misconception needs an `id` string")
        unknown = set(m) - {"id", "label", "deduction", "phrases", "patterns", "unless", "correction",
                            "subject", "unless_patterns"}
        if unknown:
            raise fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
        if not str(m.get("correction", "")).strip():
            raise fail(where + ".correction", "a misconception needs a correction the student can read")
        deduction = number(where + ".deduction", m.get("deduction"))
        if deduction <= 0:
            raise fail(where + ".deduction", "must be > 0 (a stated misconception must cost points)")
        misconceptions.append(Misconception(
            id=m["id"], label=str(m.get("label", m["id"])), deduction=deduction,
            phrases=phrases(where + ".phrases", m.get("phrases"), required=not m.get("patterns")),
            patterns=patterns(where + ".patterns", m.get("patterns")),
            subject=subject(where + ".subject", m.get("subject")),
            unless=phrases(where + ".unless", [str(u) for u in m.get("unless") or []], required=False),
            unless_patterns=patterns(where + ".unless_patterns", m.get("unless_patterns")),
            correction=str(m["correction"]).strip(),
        ))
    step = number("step", params.get("step", 0.5))
    share = number("keyword_share", params.get("keyword_share", KEYWORD_SHARE))
    return ConceptRubric(concepts=concepts, misconceptions=misconceptions, step=step or 0.5,
                         subjects=subjects, keyword_share=min(1.0, share))


# ---- grading --------------------------------------------------------------------------------

