"""Similar answers across a batch, for the instructor's class report. Never scored.

Three kinds of group, each as {kind, question, students, similarity, excerpt}:
- `text`: near-identical free-text answers to one question (normalised prose);
- `code`: near-identical code of one question (comments and blank lines dropped, whitespace
  collapsed, so re-indenting or re-commenting a copy does not hide it);
- `output`: identical printed output lines that could not plausibly repeat by chance, such as
  training log lines with losses and timings (`469/469 - 12s 25ms/step - loss: 0.2712`).

Text and code are compared with rapidfuzz: `process.cdist` computes the whole students x
students matrix of normalised Indel similarity (the same measure as difflib's ratio) in C++,
so a class of a few hundred is a fraction of a second per question, where difflib would take
minutes; we chose it over MinHash (datasketch) because classes are small enough for exact
pairwise scores, which are easier to explain to an instructor than estimated Jaccard. Pairs at
or above the threshold are joined into groups (union-find); a group's `similarity` is the
lowest score between two of its members that were joined directly.

Short answers ("Yes.", `model.summary()`) are ignored: identical short text is not evidence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TEXT_THRESHOLD = 0.88
CODE_THRESHOLD = 0.92
MIN_TEXT_CHARS = 80
MIN_CODE_CHARS = 120
MIN_SHARED_OUTPUT_LINES = 2
EXCERPT_CHARS = 240

# A printed line that carries measurements: several numbers with a decimal part or a unit.
# Each alternative starts only where a run of digits starts (the look-behind), so a line of
# 60,000 digits costs one pass instead of one backtracking scan per digit (quadratic).
_MEASURED = re.compile(r"(?<![\d.])\d+\.\d{3,}|(?<!\d)\d+(?:ms|s|us)/step|(?<!\d)\d+s\b")

#: bounds on what one student's entry may cost: longer text is cut before comparing (Indel
#: similarity is quadratic in length), longer output lines are not training-log lines
MAX_ENTRY_CHARS = 20_000
MAX_OUTPUT_CHARS = 200_000
MAX_LINE_CHARS = 1_000


def normalise_text(text: str) -> str:
    text = text.lower()
    text = re.sub(r"[^\w\s.%]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def normalise_code(code: str) -> str:
    lines = []
    for line in code.splitlines():
        line = re.sub(r"#.*$", "", line).strip()  # crude for '#' in strings; fine for a similarity cue
        if line:
            lines.append(re.sub(r"\s+", " ", line))
    return "\n".join(lines)


def measured_lines(output: str) -> set[str]:
    """Output lines with measurements (losses, timings) that two independent runs would not share."""
    found: set[str] = set()
    for raw in re.split(r"[\r\n]+", output[:MAX_OUTPUT_CHARS]):
        if len(raw) > MAX_LINE_CHARS:
            continue
        line = re.sub(r"\s+", " ", raw.replace("\x08", "")).strip()
        line = re.sub(r"\[=*>?\.*\]", "", line)  # the progress bar itself carries no information
        if len(line) >= 20 and len(_MEASURED.findall(line)) >= 2:
            found.add(line)
    return found


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, i: int) -> int:
        self.parent.setdefault(i, i)
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)

    def groups(self) -> list[list[int]]:
        members: dict[int, list[int]] = defaultdict(list)
        for i in list(self.parent):
            members[self.find(i)].append(i)
        return [sorted(m) for m in members.values() if len(m) > 1]


def similar_groups(
    entries: dict[str, str], *, kind: str, question: str | None, threshold: float, min_chars: int,
    originals: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Group students whose normalised entries (student -> text) are at least `threshold` alike."""
    from rapidfuzz import fuzz, process

    students = [s for s, t in entries.items() if len(t) >= min_chars]
    if len(students) < 2:
        return []
    texts = [entries[s][:MAX_ENTRY_CHARS] for s in students]
    matrix = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=threshold * 100, workers=1)
    groups = _Groups()
    link: dict[tuple[int, int], float] = {}
    for i in range(len(students)):
        for j in range(i + 1, len(students)):
            score = float(matrix[i][j]) / 100
            if score >= threshold:
                groups.join(i, j)
                link[(i, j)] = score
    found = []
    for members in groups.groups():
        scores = [s for (i, j), s in link.items() if i in members and j in members]
        first = students[members[0]]
        excerpt = (originals or entries).get(first, "")
        found.append({
            "kind": kind,
            "question": question,
            "students": [students[m] for m in members],
            "similarity": round(min(scores), 3),
            "excerpt": _excerpt(excerpt),
        })
    return found


def output_groups(outputs: dict[str, str], *, question: str | None) -> list[dict[str, Any]]:
    """Students who printed the same measured lines (training logs with identical numbers)."""
    lines = {s: measured_lines(o) for s, o in outputs.items()}
    lines = {s: ls for s, ls in lines.items() if ls}
    students = sorted(lines)
    groups = _Groups()
    link: dict[tuple[int, int], float] = {}
    shared_lines: dict[tuple[int, int], set[str]] = {}
    for i in range(len(students)):
        for j in range(i + 1, len(students)):
            a, b = lines[students[i]], lines[students[j]]
            shared = a & b
            if len(shared) >= MIN_SHARED_OUTPUT_LINES:
                groups.join(i, j)
                link[(i, j)] = len(shared) / len(a | b)
                shared_lines[(i, j)] = shared
    found = []
    for members in groups.groups():
        pairs = [(p, s) for p, s in link.items() if p[0] in members and p[1] in members]
        example = sorted(shared_lines[pairs[0][0]])
        found.append({
            "kind": "output",
            "question": question,
            "students": [students[m] for m in members],
            "similarity": round(min(s for _, s in pairs), 3),
            "excerpt": _excerpt("\n".join(example[:3])),
        })
    return found


def find_similar(answers_by_student: dict[str, dict[str, Any]],
                 prompts: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Groups over located answers: {student: {"q4": Answer, ...}} -> list of group dicts.

    Answers that are mostly the question's own wording (`prompts`, "q4" -> text) are ignored.
    """
    from rapidfuzz import fuzz

    prompts = {q: normalise_text(p) for q, p in (prompts or {}).items()}
    questions = sorted({q for answers in answers_by_student.values() for q in answers},
                       key=lambda q: int(q[1:]) if q[1:].isdigit() else 0)
    found: list[dict[str, Any]] = []
    for q in questions:
        texts, originals, codes, outputs = {}, {}, {}, {}
        for student, answers in answers_by_student.items():
            answer = answers.get(q)
            if answer is None:
                continue
            norm = normalise_text(answer.text[:MAX_ENTRY_CHARS * 2])
            if norm and not (prompts.get(q) and fuzz.partial_ratio(norm, prompts[q]) >= 90
                             and len(norm) < 1.3 * len(prompts[q])):
                texts[student], originals[student] = norm, answer.text
            if answer.code.strip():
                codes[student] = normalise_code(answer.code[:MAX_ENTRY_CHARS * 2])
            if answer.outputs_text.strip():
                outputs[student] = answer.outputs_text[:MAX_OUTPUT_CHARS]
        found += similar_groups(texts, kind="text", question=q, threshold=TEXT_THRESHOLD,
                                min_chars=MIN_TEXT_CHARS, originals=originals)
        found += similar_groups(codes, kind="code", question=q, threshold=CODE_THRESHOLD,
                                min_chars=MIN_CODE_CHARS)
        found += output_groups(outputs, question=q)
    found.sort(key=lambda g: (-len(g["students"]), -g["similarity"], g["question"] or ""))
    return found


def find_similar_notebooks(paths: Iterable[Path], rubric: Any) -> list[dict[str, Any]]:
    """Load and locate each notebook (unreadable ones are skipped) and group similar answers.
    Fewer than two notebooks have no pair: none is read (about 0.6 s of a single `grader run`)."""
    from grader.notebook import InvalidSubmission, load_notebook

    paths = list(paths)
    if len(paths) < 2:
        return []
    by_student: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            nb = load_notebook(path)
        except InvalidSubmission:
            continue
        by_student[Path(path).stem] = rubric.locate_answers(nb)
    return find_similar(by_student, {q.id: q.prompt for q in rubric.questions})


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"
