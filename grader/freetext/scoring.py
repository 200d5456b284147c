"""An answer graded against a concept rubric: found concepts, capped bare terms, deductions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.freetext.confidence import confidence as _confidence
from grader.freetext.finding import find_concepts
from grader.freetext.misconceptions import find_misconceptions
from grader.freetext.reading import sentences as _sentences
from grader.freetext.reading import units as _units
from grader.freetext.rubric import ConceptRubric
from grader.textlang import guess_language


@dataclass
class Grade:
    """The result of grading one answer text against a concept rubric (pure, no context)."""

    score: float
    points: float
    confidence: float
    matches: list[dict[str, Any]]
    missed: list[dict[str, Any]]
    misconceptions: list[dict[str, Any]]
    ignored_sentences: list[str]
    reasons: list[str]
    language: str = "English"
    keyword_list: bool = False  # bare terms earned (capped) credit

    @property
    def credit(self) -> float:
        return self.score / self.points if self.points else 0.0


def grade_text(text: str, rubric: ConceptRubric, points: float, prompt: str = "") -> Grade:
    """Grade `text` against `rubric` for an item worth `points`."""
    sentences, ignored = _sentences(text, prompt)
    units = _units(sentences, rubric)
    stated, used_sentences, taken_back = find_misconceptions(units, rubric)
    # the words that state a misconception earn nothing ("every neuron connected to every neuron
    # of the previous layer, but with convolutions" is not the definition of an FCN), nor do
    # those of a claim the student took back
    wrong = [(m["sentence"], m["span"]) for m in stated] + taken_back
    matches, found, weak, explained, set_aside = find_concepts(units, rubric, wrong)
    used_sentences |= explained

    by_group: dict[str, float] = {}
    bare_group: dict[str, float] = {}
    for c in rubric.concepts:
        if c.id in found:
            key = c.group or c.id
            target = bare_group if found[c.id] == "bare" else by_group
            target[key] = max(target.get(key, 0.0), c.points)
    stated_points = min(points, sum(by_group.values()))
    bare_points = sum(v - by_group.get(k, 0.0) for k, v in bare_group.items() if v > by_group.get(k, 0.0))
    cap = rubric.keyword_share * points
    keyword_list = bare_points > 0 and (bare_points > cap or stated_points == 0)
    earned = min(points, stated_points + min(bare_points, cap))
    deductions = sum(m["deduction"] for m in stated)
    raw = max(0.0, earned - deductions)
    score = min(points, round(raw / rubric.step) * rubric.step)
    if stated and score >= points:  # rounding must never restore full credit
        score = max(0.0, points - rubric.step)
    for key, value in bare_group.items():
        by_group[key] = max(by_group.get(key, 0.0), value)

    # a concept is missed unless it, or one worth as much in its group, was found
    missed = [
        {"concept": c.id, "label": c.label, "points": c.points, "hint": c.hint}
        for c in rubric.concepts
        if c.id not in found and not (c.group and by_group.get(c.group, 0.0) >= c.points)
    ]
    language = guess_language(text)
    confidence, reasons = _confidence(units, rubric, set(found), weak, stated, used_sentences,
                                      score, points, prompt, set_aside)
    if keyword_list:
        confidence = min(confidence, 0.4)
        reasons.append(f"a list of terms without statements: at most {rubric.keyword_share:.0%} of "
                       "the points from it; a human should judge what the student understood")
    if not language.english:
        confidence = min(confidence, 0.2)
        reasons.append(f"written in {language.language}, not English: the rubric's phrases cannot "
                       "read it; a human must grade it")
    return Grade(score=score, points=points, confidence=confidence, matches=matches, missed=missed,
                 misconceptions=stated, ignored_sentences=ignored, reasons=reasons,
                 language=language.language, keyword_list=keyword_list)

