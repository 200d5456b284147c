"""Decide where each question starts, and build the answers.

Every marker is scored against every question's prompt, title and aliases. A marker whose text
clearly is one question's prompt is an anchor for that question, whatever its number says (the
prompt wins). The numbering the student followed (the rubric's, another edition's, or one shifted
by a skipped question) is the one that agrees best with the anchors and with what the numbered
segments' code does. Numbered markers without a clear prompt are then chosen as the heaviest
chain in question order (headings and labels weigh more than list items, items of a list that
restarts at 1 weigh least) that fits between the anchors. A question's answer runs from its start
to the next start; code cells no marker claims are assigned by what they do (assign_by_content).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from grader.locate.answer import Answer, How, QuestionSpec
from grader.locate.match import Target, best_copy, best_match
from grader.locate.segment import Marker, Unit, find_markers, notebook_units, split_answer
from grader.locate.visible import markdown_to_text

if TYPE_CHECKING:
    from grader.notebook import Notebook

STRONG = {"heading", "bold", "label", "comment"}
_THRESHOLD = {"numbered": 0.55, "heading": 0.55, "bold": 0.55, "label": 0.55, "comment": 0.55,
              "title": 0.5, "prompt": 0.85}
_MARGIN = {"prompt": 0.15, "title": 0.15}
MNIST = re.compile(r"\bmnist\b", re.I)
TRANSFER = re.compile(
    r"\bapplications\b|\b(?:MobileNet\w*|ResNet\d+\w*|VGG1[69]|EfficientNet\w*|Xception|InceptionV3|"
    r"DenseNet\d+|ConvNeXt\w*|NASNet\w*)\s*\(|weights\s*=\s*['\"]imagenet|hub\.KerasLayer", re.I)
#: data sets a transfer-learning answer loads (its first cells, before the base is built)
DATA_HINT = re.compile(r"\bcifar\d*\b|flowers|image_dataset_from_directory|tfds\.load", re.I)
_IMPORT = re.compile(r"^\s*(?:import|from)\s")


@dataclass
class Start:
    question: str
    unit: int
    marker: Marker | None
    how: How
    confidence: float
    score: float = 0.0  # prompt similarity of the marker's title to this question


def code_task(code: str) -> str | None:
    """What a piece of code does, read from its source: 'transfer' (a pretrained
    keras.applications base), 'scratch' (MNIST) or None. Import lines do not count."""
    body = "\n".join(line for line in code.splitlines()
                     if not _IMPORT.match(line) and not line.lstrip().startswith("#"))
    if TRANSFER.search(body):
        return "transfer"
    if MNIST.search(body):
        return "scratch"
    if DATA_HINT.search(body):
        return "transfer-data"
    return None


def editions(specs: list[QuestionSpec]) -> dict[str, dict[int, str]]:
    """Numberings: the rubric's, each alias edition's, and the rubric's shifted by one."""
    out: dict[str, dict[int, str]] = {"rubric": {s.number: s.id for s in specs}}
    for s in specs:
        for a in s.aliases:
            if a.edition and a.number is not None:
                out.setdefault(a.edition, {})[a.number] = s.id
    out["numbered one lower"] = {s.number - 1: s.id for s in specs if s.number > 1}
    out["numbered one higher"] = {s.number + 1: s.id for s in specs}
    return out


def locate(nb: Notebook, specs: list[QuestionSpec]) -> dict[str, Answer]:
    units = notebook_units(nb)
    markers = find_markers(units)
    targets = [Target(s.id, s.texts()) for s in specs]
    by_id = {s.id: s for s in specs}
    order = {s.id: k for k, s in enumerate(specs)}
    scored = [_score(m, targets) for m in markers]
    prompt_q: list[str | None] = []
    for m, (q, s, second) in zip(markers, scored, strict=True):
        ok = q is not None and s >= _THRESHOLD[m.style] and s - second >= _MARGIN.get(m.style, 0.1)
        prompt_q.append(q if ok else None)
    tasks = {s.task: s.id for s in specs if s.task}
    numbered = [k for k, m in enumerate(markers) if m.number is not None]
    evidence = {k: _segment_task(units, markers, k) for k in numbered}
    numberings = editions(specs)
    edition = _choose_edition(numberings, markers, prompt_q, evidence, tasks)
    numbering = numberings[edition]

    anchors: dict[str, Start] = {}
    for k, m in enumerate(markers):
        q = prompt_q[k]
        if q is None:
            continue
        s = scored[k][1]
        agrees = m.number is not None and numbering.get(m.number) == q
        how: How = ("heading" if m.style in STRONG else "number") if agrees else "prompt-match"
        conf = 0.97 if agrees else round(min(0.9, 0.45 + s / 2), 2)
        old = anchors.get(q)
        key = (agrees, s)
        if old is None or key > (old.how != "prompt-match", old.score + 0.1):
            anchors[q] = Start(q, m.unit, m, how, conf, s)

    chain_input = []
    for k, m in enumerate(markers):
        if m.number is None or prompt_q[k] is not None:
            continue
        q = numbering.get(m.number)
        if q is None or q not in order:
            continue
        if m.style in STRONG:
            weight = 3.0 if m.delimited else 1.2
        elif m.style == "numbered":
            weight = 0.3 if (m.run > 1 and m.run_first == 1) else 1.0
        else:
            weight = 0.5
        weight += Target(q, by_id[q].texts()).score(m.title) if m.title else 0.0
        chain_input.append((m, q, weight))
    # an unnumbered anchor just after its own numbered heading: the heading starts the answer
    for q, a in list(anchors.items()):
        if a.marker is None or a.marker.number is not None:
            continue
        before = [m for m, q2, w in chain_input if q2 == q and m.unit < a.unit and w >= 3]
        if before:
            m = before[-1]
            between = [b for b in anchors.values() if m.unit < b.unit < a.unit]
            if not between:
                anchors[q] = Start(q, m.unit, m, "heading" if m.style in STRONG else "number", 0.9)
    chain = _best_chain([(m, q, w) for m, q, w in chain_input if q not in anchors], anchors, order)
    starts = sorted([*anchors.values(), *chain], key=lambda s: s.unit)
    if edition != "rubric":
        for s in starts:
            if s.how in ("heading", "number"):
                s.confidence = round(s.confidence - 0.1, 2)
    bounds = _boundaries(markers, numbering, starts)
    answers: dict[str, Answer] = {}
    for i, start in enumerate(starts):
        nxt = [s.unit for s in starts[i + 1:]] + [b for b in bounds if b > start.unit]
        end = min(nxt) if nxt else len(units)
        answer = build_answer(nb, by_id[start.question], start, units, start.unit, end)
        if answer is not None:
            answer.edition = edition
            answers[start.question] = answer
    _share_joint_answers(starts, answers, numbering, by_id)
    assign_by_content(nb, units, answers, specs, edition)
    return {s.id: answers[s.id] for s in specs if s.id in answers}


def _share_joint_answers(starts: list[Start], answers: dict[str, Answer], numbering: dict[int, str],
                         by_id: dict[str, QuestionSpec]) -> None:
    """One block under "Questions 1 and 2" (or "Q3-Q5") answers each question it names that has
    no answer of its own; each check then reads the part it grades from the whole block."""
    for start in starts:
        first = answers.get(start.question)
        if first is None or start.marker is None:
            continue
        for n in start.marker.also:
            q = numbering.get(n)
            if q in by_id and q not in answers:
                answers[q] = dataclasses.replace(first, question=q, number=by_id[q].number,
                                                 confidence=round(min(first.confidence, 0.8), 2))


def _score(m: Marker, targets: list[Target]) -> tuple[str | None, float, float]:
    """Best question for a marker's title: a plain line must be a copy of a prompt; a heading or
    label may paraphrase it. Long titles are cut (an answer line is not a prompt)."""
    if not m.title:
        return None, 0.0, 0.0
    title = m.title[:400]
    return best_copy(title, targets) if m.style == "prompt" else best_match(title, targets)


def _segment_task(units: list[Unit], markers: list[Marker], k: int) -> str | None:
    """What the code right under a numbered marker does (only when no prose answer comes first)."""
    end = markers[k + 1].unit if k + 1 < len(markers) else len(units)
    m = markers[k]
    if m.answer:
        return None
    for j in range(m.unit + 1, end):
        u = units[j]
        if u.kind in ("prose", "comment") and u.text.strip() and j != m.title_unit:
            return None
        if u.kind in ("code", "fence"):
            task = code_task(u.text)
            if task in ("scratch", "transfer"):
                return task
    return None


def _choose_edition(numberings: dict[str, dict[int, str]], markers: list[Marker],
                    prompt_q: list[str | None], evidence: dict[int, str | None],
                    tasks: dict[str, str]) -> str:
    def agreement(numbering: dict[int, str]) -> float:
        score = 0.0
        for k, m in enumerate(markers):
            if m.number is None:
                continue
            q = numbering.get(m.number)
            if prompt_q[k] is not None:
                score += 1.0 if q == prompt_q[k] else 0.0
            elif evidence.get(k) and tasks.get(evidence[k]):
                score += 0.5 if q == tasks[evidence[k]] else 0.0
        return score

    base = agreement(numberings["rubric"])
    best, best_score = "rubric", base
    for name, numbering in numberings.items():
        if name == "rubric":
            continue
        need = 2.0 if name.startswith("numbered one") else 1.0
        score = agreement(numbering)
        if score >= base + need and score > best_score:
            best, best_score = name, score
    return best


def _best_chain(cands: list[tuple[Marker, str, float]], anchors: dict[str, Start],
                order: dict[str, int]) -> list[Start]:
    """The heaviest sequence of numbered markers in question order that fits the anchors."""
    fixed = [(order[a.question], a.unit) for a in anchors.values()]

    def fits(q: str, unit: int) -> bool:
        return all((o < order[q]) == (u < unit) for o, u in fixed if o != order[q])

    cands = sorted((c for c in cands if fits(c[1], c[0].unit)), key=lambda c: c[0].unit)
    best: list[float] = []
    prev: list[int] = []
    for j, (m, q, w) in enumerate(cands):
        top, arg = 0.0, -1
        for i in range(j):
            if order[cands[i][1]] < order[q] and cands[i][0].unit < m.unit and best[i] > top:
                top, arg = best[i], i
        best.append(top + w)
        prev.append(arg)
    if not cands:
        return []
    j = max(range(len(cands)), key=lambda k: (best[k], -k))
    out: list[Start] = []
    while j >= 0:
        m, q, w = cands[j]
        strong = m.style in STRONG and m.delimited
        conf = 0.85 if strong else (0.7 if w >= 1 else 0.45)
        out.append(Start(q, m.unit, m, "heading" if m.style in STRONG else "number", conf))
        j = prev[j]
    return out[::-1]


def _boundaries(markers: list[Marker], numbering: dict[int, str], starts: list[Start]) -> list[int]:
    """Numbered markers of exercises the rubric does not have ("8." in another edition): the
    answer before them ends there."""
    out = []
    chosen = {s.unit for s in starts}
    for m in markers:  # a section heading above the question's own ("# Part 2") ends its answer
        if m.level is None or m.number is not None or m.unit in chosen:
            continue
        before = [s for s in starts if s.unit < m.unit]
        if before and before[-1].marker is not None and before[-1].marker.level is not None \
                and m.level < before[-1].marker.level and m.level <= 2:
            out.append(m.unit)
    for m in markers:
        if m.number is None or m.number in numbering or m.unit in chosen or m.run > 1:
            continue
        if m.style == "numbered" and not m.title:
            continue
        before = [s for s in starts if s.unit < m.unit and s.marker is not None and s.marker.number]
        after = [s for s in starts if s.unit > m.unit and s.marker is not None and s.marker.number]
        if before and before[-1].marker.number < m.number and \
                (not after or m.number < after[0].marker.number):
            out.append(m.unit)
    return out


# ---- building an answer -------------------------------------------------------------------

def _clean(line: str) -> str:
    line = re.sub(r"^\s{0,3}#{1,6}\s*", "", line)
    line = line.replace("**", "").replace("__", "").replace("`", "")
    line = re.sub(r"^\s*(?:ans(?:wer)?|sol(?:ution)?)\s*[:\-–=>]+\s*", "", line, flags=re.I)
    return line.rstrip()


def comment_text(code: str) -> str:
    lines = []
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#!"):
            lines.append(stripped.lstrip("#").strip())
    return "\n".join(lines)


def strip_prompt(text: str, prompts: list[str]) -> str:
    """Remove the question's own wording where the student copied it above the answer."""
    sentences = [_norm(p) for prompt in prompts for p in re.split(r"(?<=[.?!:])\s+|\n", prompt)]
    sentences = [p for p in sentences if len(p) > 12]
    if not sentences:
        return text.strip()
    kept = []
    for line in text.splitlines():
        norm = _norm(line)
        if len(norm) > 12:
            best = max(fuzz.ratio(norm, p) for p in sentences) / 100
            if best > 0.8 or any(norm in p for p in sentences):
                continue
        kept.append(line)
    return "\n".join(kept).strip()


def only_new(text: str, prompts: list[str]) -> str:
    """`text` less every line that is a piece of a prompt (several of its sentences on one line
    too). The answer's text keeps such lines (free-text checks show them as ignored); this
    decides whether anything but the question was written."""
    whole = [_norm(p) for p in prompts if p]
    kept = []
    for line in text.splitlines():
        norm = _norm(line)
        if len(norm) > 12 and any(len(norm) <= 1.1 * len(w) and fuzz.partial_ratio(norm, w) >= 90
                                  for w in whole):
            continue
        kept.append(line)
    return "\n".join(kept)


def _norm(text: str) -> str:
    text = re.sub(r"^\s*(?:[-*]\s*)?(?:[a-z]\s*[.)]\s*)?(?:(?:q(?:uestion)?|ex(?:ercise)?)\s*)?"
                  r"\d{0,2}\s*[.):]?\s*", "", text.strip(), flags=re.I)
    return re.sub(r"\s+", " ", text).strip().lower()


def _real_code(code: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in code.splitlines())


def build_answer(nb: Notebook, spec: QuestionSpec, start: Start, units: list[Unit], a: int,
                 b: int) -> Answer | None:
    """The answer made of units a..b-1; None when it holds nothing but the copied question."""
    m = start.marker
    drop_title = False  # a copied prompt is removed by strip_prompt; a title may be the answer
    text_parts: list[tuple[int, str]] = []
    code_parts: list[str] = []
    code_cells: list[int] = []
    outputs: list[str] = []
    fences: dict[int, list[str]] = {}
    cells: list[int] = []
    spans: dict[int, list[int]] = {}
    for k in range(a, b):
        u = units[k]
        if u.text.strip():
            cells.append(u.cell)
        if u.kind in ("prose", "mdcode", "comment", "fence"):
            spans.setdefault(u.cell, []).append(u.line)
        if k == a and m is not None and u.kind != "code":
            own_title = m.title if m.title_unit is None and not drop_title else ""
            for head in (own_title, m.answer):
                if head:
                    text_parts.append((u.cell, _clean(head)))
            if u.kind == "comment":
                _add_code(nb, u.cell, code_parts, code_cells, outputs, comments=False)
            continue
        if m is not None and k == m.title_unit and drop_title:
            continue
        if u.kind in ("prose", "mdcode", "comment"):
            line = _clean(u.text)
            if line.strip():
                text_parts.append((u.cell, line))
            if u.kind == "comment":
                _add_code(nb, u.cell, code_parts, code_cells, outputs, comments=False)
        elif u.kind == "fence":
            fences.setdefault(u.cell, []).append(u.text)
        elif u.kind == "code":
            source = u.text
            if k == a:  # the label line of "# Question 9" is not part of the answer's text
                lines = source.splitlines()
                first = next(i for i, ln in enumerate(lines) if ln.strip())
                source_comments = "\n".join(lines[first + 1:])
            else:
                source_comments = source
            _add_code(nb, u.cell, code_parts, code_cells, outputs, comments=False)
            comments = comment_text(source_comments)
            if comments:
                text_parts.append((u.cell, comments))
    for cell, lines in fences.items():
        code_parts.append("\n".join(lines))
        if cell not in code_cells:
            code_cells.append(cell)
    text = strip_prompt("\n".join(t for _, t in text_parts), spec.texts())
    kept_cells = [c for c, t in text_parts if t.strip() and t.strip() in text]
    code = "\n\n".join(code_parts)
    if len(re.sub(r"[\W_]+", "", only_new(text, spec.texts()))) < 2 and not _real_code(code):
        return None  # nothing but the copied question: missing, not located
    label = ""
    if m is not None:
        label = units[m.unit].text.strip()
        if m.title_unit is not None:
            label += " / " + units[m.title_unit].text.strip()
    return Answer(
        question=spec.id, number=spec.number, heading_cell=units[a].cell,
        cells=sorted(set(cells)), text=text, code=code, outputs_text="\n".join(outputs),
        code_cells=sorted(set(code_cells)), text_cells=sorted(set(kept_cells)),
        how=start.how, confidence=start.confidence, label=label[:160],
        spans=[(c, min(ls), max(ls)) for c, ls in spans.items()],
    )


def _add_code(nb: Notebook, cell: int, code_parts: list[str], code_cells: list[int],
              outputs: list[str], *, comments: bool) -> None:
    if cell in code_cells:
        return
    code_cells.append(cell)
    source = nb.cells[cell].source
    code_parts.append(source)
    if nb.cells[cell].outputs_text:
        outputs.append(nb.cells[cell].outputs_text)


# ---- code assigned by what it does --------------------------------------------------------

def assign_by_content(nb: Notebook, units: list[Unit], answers: dict[str, Answer],
                      specs: list[QuestionSpec], edition: str) -> None:
    """Give a model question whose code was not found under a label the code cells that do its
    task (MNIST from scratch, a pretrained keras.applications base), taken from the preamble,
    from a prose question's segment, or from the end of the other model question's segment."""
    sig = {c.index: code_task(c.source) for c in nb.cells
           if c.cell_type == "code" and any(u.cell == c.index and u.kind == "code" for u in units)}
    task_of = {s.id: s.task for s in specs}
    for spec in specs:
        if not spec.task:
            continue
        mine = answers.get(spec.id)
        if mine and any(sig.get(c) == spec.task for c in mine.code_cells):
            continue
        owner = {c: qid for qid, ans in answers.items() for c in ans.code_cells}
        heads = {ans.heading_cell for qid, ans in answers.items() if qid != spec.id}
        start = None
        for cell, task in sorted(sig.items()):
            if task != spec.task:
                continue
            other = owner.get(cell)
            if other and task_of.get(other) == spec.task:
                continue
            if other and task_of.get(other) and not any(
                    sig.get(c) == task_of[other] for c in answers[other].code_cells if c < cell):
                continue  # that question's own code: do not take it away
            start = cell
            break
        if start is None:
            continue
        region = [start]
        for cell in range(start + 1, len(nb.cells)):
            if cell in heads or _other_start(nb, units, sig, cell, spec.task):
                break
            region.append(cell)
        if spec.task == "transfer":  # the data loading and notes just before the base
            cell = start - 1
            while cell >= 0 and cell not in heads and not _other_start(nb, units, sig, cell, spec.task) \
                    and (nb.cells[cell].cell_type != "code" or sig.get(cell) == "transfer-data"):
                region.insert(0, cell)
                cell -= 1
            while region and nb.cells[region[0]].cell_type != "code" and region[0] != start:
                if any(u.cell == region[0] and u.text.strip() for u in units):
                    break
                region.pop(0)
        while region and nb.cells[region[-1]].cell_type != "code":
            region.pop()
        for qid, ans in list(answers.items()):
            if qid != spec.id and set(region) & set(ans.cells):
                _remove_cells(nb, ans, set(region))
        code = [c for c in region if c in sig]
        code_src = "\n\n".join(nb.cells[c].source for c in code)
        outputs = "\n".join(nb.cells[c].outputs_text for c in code if nb.cells[c].outputs_text)
        texts = {c: (comment_text(nb.cells[c].source) if c in sig else markdown_to_text(nb.cells[c].source))
                 for c in region}
        comments = "\n".join(t for t in texts.values() if t)
        if mine is None:
            answers[spec.id] = Answer(
                question=spec.id, number=spec.number, heading_cell=region[0], cells=region, text=comments,
                code=code_src, outputs_text=outputs, code_cells=code,
                text_cells=[c for c, t in texts.items() if t],
                how="content", confidence=0.6, edition=edition,
                label=f"code that does the {spec.task} task", spans=[])
        else:
            mine.cells = sorted(set(mine.cells) | set(region))
            mine.code_cells = sorted(set(mine.code_cells) | set(code))
            mine.code = "\n\n".join(x for x in (mine.code, code_src) if x)
            mine.outputs_text = "\n".join(x for x in (mine.outputs_text, outputs) if x)
            mine.confidence = min(mine.confidence, 0.7)
            mine.label = (mine.label + f" + code by content (cells {region[0]}-{region[-1]})")[:200]


def _other_start(nb: Notebook, units: list[Unit], sig: dict[int, str | None], cell: int, task: str) -> bool:
    """Cell `cell` begins something else: another task's code, or a markdown heading."""
    if nb.cells[cell].cell_type == "code":
        other = sig.get(cell)
        return other is not None and other != task and not (task == "transfer" and other == "transfer-data")
    return any(u.cell == cell and u.kind == "prose" and u.text.lstrip().startswith("#") for u in units)


def _remove_cells(nb: Notebook, ans: Answer, cells: set[int]) -> None:
    ans.cells = [c for c in ans.cells if c not in cells]
    ans.code_cells = [c for c in ans.code_cells if c not in cells]
    ans.text_cells = [c for c in ans.text_cells if c not in cells]
    ans.code = "\n\n".join(nb.cells[c].source for c in ans.code_cells)
    ans.outputs_text = "\n".join(nb.cells[c].outputs_text for c in ans.code_cells if nb.cells[c].outputs_text)


__all__ = ["locate", "split_answer", "code_task", "editions"]
