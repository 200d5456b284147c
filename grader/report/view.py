"""What the templates show, computed from results: evidence split by kind, the cells a report
refers to, hidden-item filtering, and class statistics. Templates stay free of logic.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from grader.report.highlight import highlight, phrases_of
from grader.report.svg import histogram, history_charts
from grader.results import ItemResult, SubmissionResult

SPECIAL_KEYS = ("excerpt", "matches", "numbers", "architecture", "history", "accuracy", "cells", "override",
                "notebook_reported")  # the last: grader/gaps.py, shown by _item_environment.html.j2
ARCH_COLUMNS = ("class", "name", "output_shape", "params", "trainable")
NUMBER_COLUMNS = ("part", "found", "expected", "unit", "text")


def shown(item: ItemResult, student_mode: bool) -> bool:
    """Whether an item's feedback, evidence and diagnoses may appear in this report."""
    return not (student_mode and item.visibility == "hidden")


def short(value: Any, limit: int = 400) -> str:
    """A value as one readable string for generic tables (JSON for containers), capped."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str, ensure_ascii=False)
        except (TypeError, ValueError):  # e.g. non-string keys that JSON cannot hold
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Generic:
    """One generic evidence value, laid out by shape: text, key/value pairs, or a table."""

    kind: str  # "text" | "pairs" | "table"
    text: str = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def generic(value: Any, max_rows: int = 50) -> Generic:
    """A list of records becomes a table, a flat dict key/value pairs, anything else text."""
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        columns = list(dict.fromkeys(k for r in value for k in r))
        rows = [
            [short(r.get(c, ""), 200) if r.get(c) is not None else "" for c in columns]
            for r in value[:max_rows]
        ]
        return Generic("table", columns=columns, rows=rows)
    if isinstance(value, dict) and value and all(_scalar(v) for v in value.values()):
        return Generic("pairs", pairs=[(str(k), short(v, 200)) for k, v in value.items()])
    if isinstance(value, list) and all(_scalar(v) for v in value):
        return Generic("text", text=", ".join(short(v, 200) for v in value))
    return Generic("text", text=short(value))


@dataclass
class EvidenceView:
    excerpt: Markup | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[dict[str, Any]] = field(default_factory=list)
    architecture: list[dict[str, Any]] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)
    accuracy: dict[str, Any] | None = None
    accuracy_gap: float | None = None  # printed - measured, in accuracy units (0..1)
    cells: list[int] = field(default_factory=list)
    other: list[tuple[str, Generic]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.excerpt
            or self.matches
            or self.numbers
            or self.architecture
            or self.charts
            or self.accuracy
            or self.cells
            or self.other
        )


def _rows(value: Any, columns: tuple[str, ...]) -> list[dict[str, Any]] | None:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        return None
    return [{c: r.get(c) for c in columns} for r in value]


def evidence_view(evidence: dict[str, Any]) -> EvidenceView:
    """Split evidence into the specially rendered keys and a generic key/value table.

    A special key whose value has an unexpected shape falls back to the generic table, so a
    check's evidence is always shown, never dropped.
    """
    ev = evidence if isinstance(evidence, dict) else {"evidence": evidence}
    view = EvidenceView()
    other = {k: v for k, v in ev.items() if k not in SPECIAL_KEYS}
    matches = ev.get("matches")
    if isinstance(matches, list) and all(isinstance(m, dict) for m in matches):
        view.matches = matches
    elif matches is not None:
        other["matches"] = matches
    if isinstance(ev.get("excerpt"), str):
        view.excerpt = highlight(
            ev["excerpt"], phrases_of(view.matches), phrases_of(ev.get("misconceptions"))
        )
    elif ev.get("excerpt") is not None:
        other["excerpt"] = ev["excerpt"]
    for key, columns in (("numbers", NUMBER_COLUMNS), ("architecture", ARCH_COLUMNS)):
        if key in ev:
            rows = _rows(ev[key], columns)
            if rows is None:
                other[key] = ev[key]
            else:
                setattr(view, key, rows)
    if "history" in ev:
        view.charts = history_charts(ev["history"])
        if not view.charts:
            other["history"] = ev["history"]
    if isinstance(ev.get("accuracy"), dict):
        view.accuracy = {
            "printed": None,
            "measured": None,
            "keras_evaluate": None,
            "cell": None,
            **ev["accuracy"],
        }
        view.accuracy_gap = accuracy_gap(view.accuracy)
    elif ev.get("accuracy") is not None:
        other["accuracy"] = ev["accuracy"]
    cells = ev.get("cells")
    if isinstance(cells, list) and all(isinstance(c, int) for c in cells):
        view.cells = cells
    elif cells is not None:
        other["cells"] = cells
    view.other = [(k, generic(v)) for k, v in other.items()]
    return view


def override_view(item: ItemResult, student_mode: bool) -> dict[str, Any] | None:
    """Who set a manual grade, when, from what automatic grade; the private note only for
    instructors (never in a student copy)."""
    ov = item.evidence.get("override") if item.manual and isinstance(item.evidence, dict) else None
    if not isinstance(ov, dict):
        return None
    return {
        "by": str(ov.get("by") or ""),
        "at": str(ov.get("at") or "")[:16].replace("T", " "),
        "automatic": ov.get("automatic_score"),
        "note": "" if student_mode else str(ov.get("note") or ""),
    }


def accuracy_gap(acc: dict[str, Any]) -> float | None:
    """Printed minus measured accuracy (both as fractions; a printed 91 means 0.91), or None."""
    printed, measured = acc.get("printed"), acc.get("measured")
    if isinstance(printed, bool) or isinstance(measured, bool):
        return None
    if not isinstance(printed, int | float) or not isinstance(measured, int | float):
        return None
    printed = printed / 100 if printed > 1 else printed
    measured = measured / 100 if measured > 1 else measured
    return round(printed - measured, 4)


def number_ok(row: dict[str, Any]) -> bool | None:
    """Whether a found number matches the expected one (2 % relative), None if not comparable."""
    for key in ("ok", "correct", "holds"):
        if isinstance(row.get(key), bool):
            return row[key]
    found, expected = row.get("found"), row.get("expected")
    if not isinstance(found, int | float) or not isinstance(expected, int | float):
        return None
    return abs(found - expected) <= 0.02 * max(abs(expected), 1e-12)


@dataclass
class CellView:
    index: int
    status: str = ""
    duration_s: float | None = None
    error: str = ""
    output: str = ""
    source: str = ""
    refs: list[str] = field(default_factory=list)  # what points at this cell


def _notebook_sources(path: str) -> dict[int, str]:
    """Cell sources of the graded notebook, if the file is still where it was graded."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {
            i: "".join(c.get("source", "")) if isinstance(c.get("source"), list) else str(c["source"])
            for i, c in enumerate(data.get("cells", []))
            if isinstance(c, dict) and "source" in c
        }
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return {}


def cell_views(result: SubmissionResult, student_mode: bool) -> list[CellView]:
    """Every cell a shown diagnosis, execution problem, problem cell or evidence refers to."""
    refs: dict[int, list[str]] = defaultdict(list)
    hidden = {i.id for i in result.items() if not shown(i, student_mode)}
    for d in result.diagnostics:
        if d.cell is not None and d.item not in hidden:
            refs[int(d.cell)].append(d.code)
    execution = result.execution or {}
    runs = {c.get("index"): c for c in execution.get("cells", []) if isinstance(c, dict)}
    for p in execution.get("problems", []):
        if isinstance(p, dict) and p.get("cell") is not None:
            refs[int(p["cell"])].append(str(p.get("kind", "problem")))
    for idx, c in runs.items():
        if c.get("status") not in (None, "ok") and isinstance(idx, int):
            refs[idx].append(str(c.get("status")))
    needs_source = set(refs)  # diagnoses, problems, failed cells: their source is worth showing
    for item in result.items():
        if item.id in hidden:
            continue
        ev = item.evidence if isinstance(item.evidence, dict) else {}
        cells = ev.get("cells")
        if isinstance(cells, list):  # where an answer was found: already shown with its question
            for c in cells:
                if isinstance(c, int):
                    refs[c].append(item.id)
        acc = ev.get("accuracy")
        if isinstance(acc, dict) and isinstance(acc.get("cell"), int):
            refs[acc["cell"]].append(item.id)
            needs_source.add(acc["cell"])
    sources = _notebook_sources(result.path) if refs else {}
    views = []
    for idx in sorted(refs):
        run = runs.get(idx, {})
        error = ": ".join(x for x in (run.get("error_name", ""), run.get("error_value", "")) if x)
        views.append(
            CellView(
                index=idx,
                status=str(run.get("status", "")),
                duration_s=run.get("duration_s"),
                error=short(error, 600),
                output=short(run.get("output_text", ""), 1500),
                source=short(sources.get(idx, ""), 1500) if idx in needs_source else "",
                refs=list(dict.fromkeys(refs[idx])),
            )
        )
    return views


def visible_diagnostics(result: SubmissionResult, student_mode: bool) -> list[tuple[str, Any]]:
    """(anchor, diagnostic) for every diagnosis the report may show; anchors are unique, and the
    first of each code is `diag-<code>`, the target of the item's links."""
    hidden = {i.id for i in result.items() if not shown(i, student_mode)}
    seen: Counter[str] = Counter()
    out = []
    for d in result.diagnostics:
        if d.item in hidden:
            continue
        seen[d.code] += 1
        out.append((f"diag-{d.code}" + (f"-{seen[d.code]}" if seen[d.code] > 1 else ""), d))
    return out


def problems(result: SubmissionResult) -> list[dict[str, Any]]:
    execution = result.execution or {}
    return [p for p in execution.get("problems", []) if isinstance(p, dict)]


def environment_rows(result: SubmissionResult) -> list[tuple[str, str]]:
    rows = [
        ("profile", result.profile),
        ("device", result.device),
        ("grader", result.grader_version),
        ("rubric", Path(result.rubric).name if result.rubric else ""),
    ]
    seen = {k for k, _ in rows} | {"timings"}
    rows += [(k, short(v)) for k, v in sorted(result.environment.items()) if k not in seen]
    timings = result.environment.get("timings")
    if isinstance(timings, dict):
        rows.append(("grading time", timing_words(timings)))
    execution = result.execution or {}
    if execution.get("duration_s") is not None:
        rows.append(("execution", f"{execution.get('status', '')} in {execution['duration_s']:.1f} s"))
    return [(k, v) for k, v in rows if v not in ("", None)]


def timing_words(timings: dict[str, Any]) -> str:
    """Where a grading's time went (engine.py `environment.timings`), in words, never raw JSON."""
    parts = []
    for key, label in (("execution_s", "running the notebook"), ("cells_s", "its cells"),
                       ("evaluation_s", "measuring the models"), ("checks_s", "checks")):
        value = timings.get(key)
        if isinstance(value, int | float) and value > 0:
            parts.append(f"{label} {value:.1f} s")
    return ", ".join(parts)


def similarity_groups(groups: list[dict] | None) -> list[dict[str, Any]]:
    """Batch similarity groups with every key the class report shows, most similar first."""
    out = []
    for g in groups or []:
        if not isinstance(g, dict):
            continue
        sim = g.get("similarity")
        out.append(
            {
                "kind": str(g.get("kind") or ""),
                "question": g.get("question"),
                "students": [str(s) for s in g.get("students") or []],
                "similarity": float(sim) if isinstance(sim, int | float) else 0.0,
                "excerpt": str(g.get("excerpt") or ""),
            }
        )
    return sorted(out, key=lambda g: -g["similarity"])


# ---- class report ------------------------------------------------------------------------


def _natural(qid: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", qid))


def report_name(result: SubmissionResult) -> str:
    """The per-student report file next to index.html (as grader.output writes it)."""
    from grader.output import result_stem

    return f"{result_stem(result)}.html"


def report_href(result: SubmissionResult) -> str:
    """A link to that report that is always a relative file link: every character outside
    [A-Za-z0-9_.-~] percent-encoded and a leading "./", so a file named `javascript:x.ipynb`
    links to `./javascript%3Ax.html`, never runs a script or leaves the folder."""
    from urllib.parse import quote

    return "./" + quote(report_name(result), safe="")


@dataclass
class ClassView:
    count: int
    graded: list[SubmissionResult]
    not_graded: list[SubmissionResult]
    histogram: Markup
    mean: float | None
    median: float | None
    max_score: float
    questions: list[dict[str, Any]]
    items: list[dict[str, Any]]
    diagnoses: list[dict[str, Any]]


def class_view(results: list[SubmissionResult]) -> ClassView:
    graded = [r for r in results if r.status == "graded"]
    not_graded = [r for r in results if r.status != "graded"]
    max_score = max((r.max_score for r in results), default=0.0)
    scores = sorted(r.score for r in graded)
    mean = sum(scores) / len(scores) if scores else None
    median = None
    if scores:
        mid = len(scores) // 2
        median = scores[mid] if len(scores) % 2 else (scores[mid - 1] + scores[mid]) / 2
    qstats: dict[str, dict[str, Any]] = {}
    istats: dict[str, dict[str, Any]] = {}
    for r in graded:
        for q in r.questions:
            s = qstats.setdefault(q.id, {"id": q.id, "title": q.title, "max": q.max_score, "scores": []})
            s["scores"].append(q.score)
            for i in q.items:
                t = istats.setdefault(
                    i.id,
                    {
                        "id": i.id,
                        "title": i.title,
                        "kind": i.kind,
                        "max": i.max_score,
                        "visibility": i.visibility,
                        "credits": [],
                        "statuses": Counter(),
                    },
                )
                if not i.environment_skipped:  # not graded (grader/gaps.py): says nothing of difficulty
                    t["credits"].append(i.score / i.max_score if i.max_score else 0.0)
                t["statuses"][i.status] += 1
    questions = []
    for qid in sorted(qstats, key=_natural):
        s = qstats[qid]
        m = sum(s["scores"]) / len(s["scores"])
        questions.append({**s, "mean": m, "frac": m / s["max"] if s["max"] else 0.0})
    items = []
    for iid in sorted(istats, key=_natural):
        t = istats[iid]
        credit = sum(t["credits"]) / len(t["credits"]) if t["credits"] else 0.0
        # difficulty = share of the points the class did NOT get; 1.0 = nobody scored
        items.append(
            {
                **t,
                "mean_credit": credit,
                "difficulty": 1 - credit,
                "statuses": ", ".join(f"{k} {v}" for k, v in t["statuses"].most_common()),
            }
        )
    by_code: dict[str, dict[str, Any]] = {}
    for r in results:
        for d in r.diagnostics:
            e = by_code.setdefault(
                d.code,
                {"code": d.code, "questions": set(), "students": [], "message": d.message, "fix": d.fix},
            )
            e["questions"].add(d.question)
            if r.student not in [s["name"] for s in e["students"]]:
                e["students"].append({"name": r.student or r.submission, "href": report_href(r)})
    diagnoses = sorted(by_code.values(), key=lambda e: (-len(e["students"]), e["code"]))
    for e in diagnoses:
        e["questions"] = ", ".join(sorted(e["questions"], key=_natural))
    return ClassView(
        count=len(results),
        graded=graded,
        not_graded=not_graded,
        histogram=histogram(
            [r.score for r in graded], maximum=max_score, title=f"total score (0–{max_score:g})"
        ),
        mean=mean,
        median=median,
        max_score=max_score,
        questions=questions,
        items=items,
        diagnoses=diagnoses,
    )


@dataclass
class ItemPanel:
    """What a person reads for one item: the three-part story, the evidence in words (collapsed
    in the report), charts or a one-line training summary, and the accuracy comparison."""

    story: Any
    lines: list[Any]
    confidence: str = ""
    charts: list[Markup] = field(default_factory=list)
    training: str = ""  # one line when the history is too short to draw
    accuracy: dict[str, Any] | None = None
    accuracy_gap: float | None = None
    class_chart: Markup | None = None
    cells: list[int] = field(default_factory=list)
    architecture: list[dict[str, Any]] = field(default_factory=list)
    same_as: str = ""  # the item of this question whose evidence this one repeats

    @property
    def has_evidence(self) -> bool:
        return bool(self.lines or self.charts or self.training or self.accuracy or self.class_chart)


def item_panel(item: ItemResult, diagnostics: list, student_mode: bool = False) -> ItemPanel:
    from grader.report import words
    from grader.report.svg import class_accuracy_chart

    ev = item.evidence if isinstance(item.evidence, dict) else {}
    panel = ItemPanel(story=words.story(item, diagnostics),
                      lines=words.evidence_lines(item, student_mode=student_mode),
                      confidence=words.confidence_words(item))
    history = ev.get("history")
    if history is not None:
        if words.epochs(history) >= 2:
            panel.charts = history_charts(history)
        else:
            panel.training = words.history_summary(history)
    acc = ev.get("accuracy")
    if isinstance(acc, dict):
        panel.accuracy = {"printed": None, "measured": None, "keras_evaluate": None, "cell": None, **acc}
        panel.accuracy_gap = accuracy_gap(panel.accuracy)
        per_class = acc.get("per_class") or ev.get("per_class")
        if isinstance(per_class, list) and per_class:
            panel.class_chart = class_accuracy_chart(per_class)
    cells = ev.get("cells")
    if isinstance(cells, list):
        panel.cells = [c for c in cells if isinstance(c, int)]
    rows = _rows(ev.get("architecture"), ARCH_COLUMNS)
    if rows:
        panel.architecture = [{**r, "output_shape": _shape(r.get("output_shape"))} for r in rows]
    return panel


def _shape(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ", ".join("batch" if v is None else str(v) for v in value) + ")"
    return "" if value is None else str(value)


@dataclass
class QuestionPanel:
    answer: Markup | None  # the student's answer, highlighted, shown once per question
    answer_cells: list[int]
    items: dict[str, ItemPanel]


def question_panel(q: Any, diagnostics: list, student_mode: bool) -> QuestionPanel:
    """One question's items; the answer and evidence lines repeated by several items (Q2's three
    parts share one answer and one working) are shown once, at the first item."""
    answer, cells, seen = None, [], {}
    panels: dict[str, ItemPanel] = {}
    phrases, wrong = [], []
    for item in q.items:
        if not shown(item, student_mode):
            continue
        ev = item.evidence if isinstance(item.evidence, dict) else {}
        phrases += phrases_of(ev.get("matches") if isinstance(ev.get("matches"), list) else [])
        wrong += phrases_of(ev.get("misconceptions"))
    for item in q.items:
        if not shown(item, student_mode):
            continue
        ev = item.evidence if isinstance(item.evidence, dict) else {}
        if answer is None and isinstance(ev.get("excerpt"), str) and ev["excerpt"].strip():
            answer = highlight(ev["excerpt"], phrases, wrong)
            cells = [c for c in ev.get("cells") or [] if isinstance(c, int)]
        panel = item_panel(item, diagnostics, student_mode)
        kept = []
        for line in panel.lines:
            key = (line.label, line.text, str(line.rows))
            if key in seen:
                panel.same_as = panel.same_as or seen[key]
                continue
            seen[key] = item.id
            kept.append(line)
        panel.lines = kept
        panels[item.id] = panel
    return QuestionPanel(answer=answer, answer_cells=cells, items=panels)


# ---- who needs attention (class report) ----------------------------------------------------


@dataclass
class StudentRow:
    """One row of the class report's student table (sortable: `sort` values per column)."""

    result: SubmissionResult
    name: str
    href: str
    cells: dict[str, tuple[str, float | None, str]]  # question -> (shown, sort value, css class)
    review: int
    manual: int
    provisional: int
    env_gaps: int
    partial: str  # why the current grade is not a complete run ("" when it is)
    fraction: float | None  # score / max, None when not graded


def student_rows(results: list[SubmissionResult], qids: list[str]) -> list[StudentRow]:
    from grader.gradebook import run_scope

    rows = []
    for r in results:
        cells: dict[str, tuple[str, float | None, str]] = {}
        for qid in qids:
            q = next((x for x in r.questions if x.id == qid), None)
            if q is None:
                cells[qid] = ("–", None, "na")
            elif q.items and all(i.status == "missing" for i in q.items):
                cells[qid] = ("missing", -1.0, "missing")
            elif q.items and all(i.status == "skipped" for i in q.items):
                cells[qid] = ("skipped", None, "skipped")
            else:
                cells[qid] = (f"{q.score:g}", q.score, "")
        scope, why = run_scope(r)
        items = r.items()
        rows.append(StudentRow(
            result=r, name=r.student or r.submission, href=report_href(r), cells=cells,
            review=sum(i.needs_review for i in items), manual=sum(i.manual for i in items),
            provisional=sum(i.provisional for i in items), env_gaps=sum(i.environment_skipped for i in items),
            partial=why if scope != "complete" else "",
            fraction=r.score / r.max_score if r.max_score and r.status == "graded" else None))
    return rows


def attention(rows: list[StudentRow], lowest: int = 3) -> dict[str, list[StudentRow]]:
    """The students a person should look at first, by reason (a student may be under several)."""
    from grader.locate.answer import flags as locate_flags

    graded = sorted((r for r in rows if r.fraction is not None), key=lambda r: r.fraction)
    cut = graded[lowest - 1].fraction if len(graded) >= lowest else None
    return {
        "not fully graded": [r for r in rows if r.result.status != "graded" or r.partial],
        "items to review": sorted((r for r in rows if r.review), key=lambda r: -r.review),
        "environment gaps": [r for r in rows if r.env_gaps],
        "answers to find by hand": [r for r in rows if locate_flags(r.result.located)],
        "lowest scores": [r for r in graded if cut is not None and r.fraction <= cut][:max(lowest, 1)]
        if len(graded) > lowest else [],
    }
