"""Items told in words for people: one short paragraph in three parts (what earned credit, what
is wrong, what to do next) and the evidence as plain sentences, never internal keys or JSON.

Used by the HTML reports and the review app. The checks' own evidence keys stay as they are
(the JSON result and the gradebook keep them); only what a person reads is worded here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from grader.results import Diagnostic, ItemResult

# Keys for instructors only: the answer key and why the grader is unsure.
INSTRUCTOR_ONLY = {"reference", "confidence_reasons"}

_PARTS = re.compile(r"(Credit for:|Correction(?: \(-[\d.]+\))?:|To improve:)")


@dataclass
class Story:
    credit: str = ""
    wrong: str = ""
    next: str = ""
    not_graded: bool = False  # `wrong` says why the grader could not grade it (not the student's fault)

    @property
    def empty(self) -> bool:
        return not (self.credit or self.wrong or self.next)


@dataclass
class Line:
    """One piece of evidence: a short label and a sentence; `ok` colours it (True/False/None)."""

    label: str
    text: str
    ok: bool | None = None
    rows: list[list[str]] = field(default_factory=list)  # a small table, when a list of records


def _join(parts: list[str]) -> str:
    parts = [p.strip().rstrip(".") for p in parts if p and p.strip()]
    return "; ".join(dict.fromkeys(parts)) + ("." if parts else "")


def _split_feedback(feedback: str) -> Story:
    """The concept checks write "Credit for: ... Correction (-1): ... To improve: ...": split it."""
    story = Story()
    pieces = _PARTS.split(feedback)
    if len(pieces) == 1:
        return story
    lead = pieces[0].strip()
    for marker, text in zip(pieces[1::2], pieces[2::2], strict=False):
        text = text.strip()
        if marker.startswith("Credit"):
            story.credit = _join([story.credit, text])
        elif marker.startswith("Correction"):
            story.wrong = _join([story.wrong, text])
        else:
            story.next = _join([story.next, text])
    if lead:
        story.wrong = _join([lead, story.wrong]) if not story.credit else story.wrong
    return story


def story(item: ItemResult, diagnostics: list[Diagnostic] | None = None) -> Story:
    """What earned credit, what is wrong, what to do next, from the item's feedback and evidence."""
    feedback = item.feedback or ""
    manual = None
    if item.manual:
        m = re.match(r"Graded by hand(?:: (.*?)|\.)?(?: \(Automatic feedback: (.*)\))?$", feedback, re.S)
        if m:
            manual, feedback = (m.group(1) or "").strip(), (m.group(2) or "").strip()
    s = _split_feedback(feedback)
    if s.empty and feedback:
        if item.status == "passed":
            s.credit = feedback
        elif item.status in ("skipped",):
            s.wrong, s.not_graded = feedback, True
            s.next = "Nothing for you to do: the course staff grade this part."
        else:
            first, _, rest = feedback.partition(". ")
            if item.score > 0:
                s.credit = f"{item.score:g} of {item.max_score:g} points."
            s.wrong = first.rstrip(".") + "."
            if rest:
                s.next = rest.strip()
    told = f"{s.wrong} {s.next}".lower()
    fixes = [d.fix for d in diagnostics or [] if d.item == item.id and d.fix
             and d.fix.lower().rstrip(".")[:60] not in told]
    if fixes and item.status != "passed":
        s.next = _join([s.next, *fixes])
    s.credit, s.wrong, s.next = (_short(s.credit), _short(s.wrong), _short(s.next, 1))
    if item.status == "passed" and not s.credit:
        s.credit = "Full credit."
    if item.status == "passed" and not s.next:
        s.next = ""
    if manual is not None:
        by_hand = "Graded by hand" + (f": {manual}" if manual else "")
        s.credit = by_hand.rstrip(".") + "." + (f" {s.credit}" if s.credit and item.score > 0 else "")
    return s


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def _short(text: str, sentences: int = 2, limit: int = 240) -> str:
    """At most `sentences` sentences (and `limit` characters): the paragraph stays short; the
    evidence holds the rest (concepts not found, the working)."""
    parts = _SENTENCE.split(text.strip()) if text else []
    out = " ".join(parts[:sentences])
    if len(out) > limit:
        out = out[: limit - 1].rsplit(" ", 1)[0] + "…"
    return out


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def humanise(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").strip().capitalize()


def _plain(value: Any, depth: int = 0) -> str:
    """Any value as words: lists joined, mappings as "key: value" pairs, never braces."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _num(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if depth > 1:
            return f"{len(value)} entries"
        return "; ".join(f"{humanise(str(k)).lower()}: {_plain(v, depth + 1)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if depth > 1:
            return f"{len(value)} entries"
        return ", ".join(_plain(v, depth + 1) for v in value[:30]) + (" …" if len(value) > 30 else "")
    return str(value)


def _points(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return f" ({_num(value)} point{'' if value == 1 else 's'})"


def _cap(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evidence_lines(item: ItemResult, *, student_mode: bool = False) -> list[Line]:
    """The item's evidence as sentences (the answer itself, charts and accuracy are shown apart)."""
    ev = item.evidence if isinstance(item.evidence, dict) else {"evidence": item.evidence}
    lines: list[Line] = []
    for m in ev.get("matches") if _records(ev.get("matches")) else []:
        if isinstance(m, dict):
            what = m.get("label") or m.get("concept") or ""
            lines.append(Line("recognised", f"“{_cap(str(m.get('phrase', '')), 80)}” counts as {what}"
                              + _points(m.get("points")), True))
    for m in ev.get("misconceptions") if _records(ev.get("misconceptions")) else []:
        if isinstance(m, dict):
            ded = m.get("deduction")
            lines.append(Line("mistake", f"“{_cap(str(m.get('phrase', '')), 80)}” {m.get('label', '')}"
                              + (f" (−{_num(ded)})" if isinstance(ded, int | float) and ded else ""), False))
    for m in ev.get("missed") if _records(ev.get("missed")) else []:
        if isinstance(m, dict):
            lines.append(Line("not found", str(m.get("label") or m.get("concept") or ""), None))
    for key in ("missing_concepts",):
        if isinstance(ev.get(key), list) and ev[key]:
            lines.append(Line("not found", ", ".join(map(str, ev[key]))))
    for n in ev.get("numbers") if _records(ev.get("numbers")) else []:
        if not isinstance(n, dict):
            continue
        if n.get("graded_here") is False:
            continue
        part = humanise(str(n.get("part", "number")))
        found, expected = n.get("found"), n.get("expected")
        ok = _number_ok(n)
        unit = f" {n['unit']}" if n.get("unit") and not re.search(r"[a-zA-Z]", str(found or "")) else ""
        expect = f"; expected {expected}" if expected is not None else ""
        if found is None:
            text = "no number found in your answer" + expect
        else:
            text = f"you wrote {found}{unit}" + (f", expected {expected}" if expected is not None else "")
        lines.append(Line(part, text, ok))
    for st in ev.get("steps") if _records(ev.get("steps")) else []:
        if not isinstance(st, dict):
            continue
        holds = st.get("holds")
        formula, written = st.get("formula", ""), st.get("written", "")
        value = st.get("evaluates_to")
        if holds is False and value is not None:
            text = f"{formula} = {written}: this works out to {_num(value)}, not {written}"
        elif holds:
            text = f"{formula} = {written}: correct"
        else:
            text = f"{formula} = {written}"
        lines.append(Line("working", text, holds if isinstance(holds, bool) else None))
    if not student_mode and isinstance(ev.get("confidence_reasons"), list) and ev["confidence_reasons"]:
        lines.append(Line("why unsure", "; ".join(map(str, ev["confidence_reasons"]))))
    if not student_mode and isinstance(ev.get("reference"), dict):
        ref = ev["reference"]
        layers = ref.get("layers")
        if isinstance(layers, list):
            lines.append(Line("reference", "; ".join(
                f"{x.get('layer')}: {x.get('formula')}" for x in layers if isinstance(x, dict))))
        rest = {k: v for k, v in ref.items() if k not in ("layers", "source")}
        if rest:
            lines.append(Line("reference", _plain(rest)))
    if isinstance(ev.get("ignored_question_text"), list) and ev["ignored_question_text"]:
        lines.append(Line("not graded", "the question's own text, copied into the answer: "
                          + " ".join(map(str, ev["ignored_question_text"]))))
    for key, value in ev.items():
        key = str(key)  # a check may use any hashable key
        if _told(key, value) or (student_mode and key in INSTRUCTOR_ONLY):
            continue
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            cols = list(dict.fromkeys(str(k) for r in value for k in r))[:6]
            lines.append(Line(humanise(key), "", rows=[[humanise(c) for c in cols]]
                              + [[_cap(_plain(r.get(c, "")), 120) for c in cols] for r in value[:20]]))
            continue
        lines.append(Line(humanise(key), _cap(_plain(value))))
    return lines


def _records(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(r, dict) for r in value)


def _told(key: str, value: Any) -> bool:
    """Whether `key` is worded by a special rule above or shown apart (answer, charts,
    accuracy, cells); a value of an unexpected shape is not, and goes to the generic lines."""
    if key in ("matches", "misconceptions", "missed", "numbers", "steps", "architecture"):
        return _records(value)
    if key in ("missing_concepts", "confidence_reasons", "ignored_question_text"):
        return isinstance(value, list)
    if key == "reference":
        return isinstance(value, dict)
    if key == "excerpt":
        return isinstance(value, str)
    if key == "history":
        series = value.values() if isinstance(value, dict) else []
        return any(isinstance(v, list) and v and all(isinstance(x, int | float) for x in v) for v in series)
    if key == "accuracy":
        return isinstance(value, dict)
    if key == "cells":
        return isinstance(value, list) and all(isinstance(c, int) for c in value)
    if key == "per_class":
        return isinstance(value, list)
    return key in ("override", "points", "confidence")


def _number_ok(row: dict[str, Any]) -> bool | None:
    for key in ("ok", "correct", "holds"):
        if isinstance(row.get(key), bool):
            return row[key]
    value, expected = row.get("value"), _first_number(row.get("expected"))
    if row.get("found") is None:
        return False
    if isinstance(value, int | float) and isinstance(expected, int | float):
        scale = {"kb": 1e3, "mb": 1e6, "gb": 1e9}.get(str(row.get("unit") or "").lower(), 1.0)
        return any(abs(value - e) <= 0.02 * max(abs(e), 1e-12)
                   for e in {expected, expected * scale})
    return None


def _first_number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", str(value or ""))
    return float(m.group().replace(",", "")) if m else None


def confidence_words(item: ItemResult) -> str:
    """The automatic judgement's confidence in words ("" for items judged exactly)."""
    c = item.confidence
    if c is None or item.manual:
        return ""
    pct = round(c * 100)
    level = "sure" if c >= 0.9 else "fairly sure" if c >= 0.7 else "unsure"
    return f"The grader is {level} of this judgement ({pct} %)."


def history_summary(history: Any) -> str:
    """One line for a training history too short to draw (fewer than two epochs)."""
    if not isinstance(history, dict):
        return ""
    parts = []
    epochs = 0
    for k, v in history.items():
        if isinstance(v, list) and v and isinstance(v[-1], int | float):
            epochs = max(epochs, len(v))
            parts.append(f"{k.replace('_', ' ')} {v[-1]:.3g}")
    if not parts:
        return ""
    return f"{epochs} epoch{'s' if epochs != 1 else ''} of training: " + ", ".join(parts) + "."


def epochs(history: Any) -> int:
    if not isinstance(history, dict):
        return 0
    return max((len(v) for v in history.values() if isinstance(v, list)), default=0)

