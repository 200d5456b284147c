"""Load and validate a submitted notebook, and locate the answer to each question in it.

Loading never raises anything but `InvalidSubmission`, whose message is one line a student can
act on. Locating never raises: a question that cannot be found is simply absent from the map.
"""

from __future__ import annotations

import difflib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.validator import ValidationError


class InvalidSubmission(Exception):
    """The file cannot be graded as a notebook. The message says why and what to do."""


@dataclass
class Cell:
    index: int
    cell_type: str  # "markdown" | "code" | "raw"
    source: str
    outputs_text: str = ""  # text the stored outputs of a code cell show (what was printed)


@dataclass
class Notebook:
    path: Path
    cells: list[Cell]
    node: Any  # the nbformat NotebookNode, for execution

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_type == "code"]


def load_notebook(path: str | Path) -> Notebook:
    """Read and validate an .ipynb file (nbformat 4, any minor version)."""
    path = Path(path)
    if not path.exists():
        raise InvalidSubmission(f"{path}: no such file; check the path and try again")
    if path.is_dir():
        raise InvalidSubmission(f"{path}: is a folder, not a notebook file")
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(
            f"{path}: not a text file (not UTF-8); save the notebook from Jupyter as .ipynb"
        ) from None
    except OSError as exc:
        raise InvalidSubmission(f"{path}: cannot be read ({exc.strerror})") from None
    if not raw.strip():
        raise InvalidSubmission(f"{path}: the file is empty; save the notebook and hand it in again")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidSubmission(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the file is damaged or is not an .ipynb notebook: re-download it from Jupyter"
        ) from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise InvalidSubmission(
            f"{path}: JSON but not a Jupyter notebook (no 'cells'/'nbformat' keys); "
            "hand in the .ipynb file itself"
        )
    major = data.get("nbformat")
    if major != 4:
        raise InvalidSubmission(
            f"{path}: notebook format {major} is not supported; open and save it in Jupyter "
            "(format 4)"
        )
    try:
        node = nbformat.reads(raw, as_version=4)
        nbformat.validate(node)
    except ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        first_line = str(exc.message).splitlines()[0]
        raise InvalidSubmission(
            f"{path}: not a valid notebook at {where}: {first_line}; re-save it from Jupyter"
        ) from None
    except Exception as exc:  # nbformat raises a few unrelated types for odd files
        raise InvalidSubmission(f"{path}: not a valid notebook ({exc}); re-save it from Jupyter") from None
    cells = [
        Cell(index=i, cell_type=c.cell_type, source=c.source, outputs_text=_outputs_text(c))
        for i, c in enumerate(node.cells)
    ]
    if not any(c.source.strip() for c in cells):
        raise InvalidSubmission(
            f"{path}: the notebook has no content (every cell is empty); "
            "hand in the notebook with your answers"
        )
    return Notebook(path=path, cells=cells, node=node)


def cell_output(cell: Any) -> tuple[str, list[tuple[str, str]]]:
    """What a code cell's outputs show as text (streams and text/plain), and its errors as
    (name, value) pairs. Shared by the loader (stored outputs) and the runner (fresh ones)."""
    parts: list[str] = []
    errors: list[tuple[str, str]] = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            errors.append((out.get("ename", ""), out.get("evalue", "")))
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts), errors


def _outputs_text(cell: Any) -> str:
    if cell.cell_type != "code":
        return ""
    text, errors = cell_output(cell)
    return text + "".join(f"{name}: {value}" for name, value in errors)


# ---- locating answers --------------------------------------------------------------------

@dataclass
class Answer:
    """What a student wrote for one question, and the cells it came from."""

    question: str  # "q2"
    number: int
    heading_cell: int
    cells: list[int] = field(default_factory=list)  # every cell between this heading and the next
    text: str = ""  # the prose answer: markdown (tags stripped) plus code comments, prompt removed
    code: str = ""  # the code cells' source, joined
    outputs_text: str = ""  # what the code cells' stored outputs show
    code_cells: list[int] = field(default_factory=list)
    text_cells: list[int] = field(default_factory=list)  # cells that contributed to `text`

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "heading_cell": self.heading_cell,
            "cells": self.cells,
            "text_cells": self.text_cells,
            "code_cells": self.code_cells,
        }


_Q = r"(?:q(?:uestion)?|ex(?:ercise)?\.?|problem|task|aufgabe)"
# Strong markers: a markdown heading, a bold label or an explicit "Question N" label.
_STRONG_PATTERNS = [
    re.compile(rf"^\s{{0,3}}#{{1,6}}\s*(?:{_Q}\s*)?(\d{{1,2}})\b(?!\s*[x×*/+-]\s*\d)", re.I),
    re.compile(rf"^\s*(?:\*\*|__)\s*(?:{_Q}\s*)?(\d{{1,2}})\s*[.):]?\s*(?:\*\*|__)?", re.I),
    re.compile(rf"^\s*{_Q}\s*(\d{{1,2}})\s*(?:[.):\-]|$|\s)", re.I),
    re.compile(r"^\s*<h[1-6][^>]*>\s*(?:q(?:uestion)?\s*)?(\d{1,2})\b", re.I),
]
# Weak markers: "3) ..." or "3. ..." at the start of a cell; numbered lists look the same, so
# these count only where no strong marker exists for that number and the order fits.
_WEAK_PATTERN = re.compile(r"^\s*(\d{1,2})\s*[.)]\s+\S")
# A question label inside a code cell comment: "# Question 9", "# Q10", "# 9. Build a CNN".
_CODE_PATTERN = re.compile(
    rf"^\s*#+\s*(?:\*\*|__)?\s*(?:{_Q}\s*(\d{{1,2}})\b|(\d{{1,2}})\s*[.)]\s+[A-Za-z])", re.I
)


@dataclass
class _Marker:
    number: int
    cell: int
    strength: int  # 2 strong, 1 weak


def _markers(nb: Notebook, max_number: int) -> list[_Marker]:
    found: list[_Marker] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = [ln for ln in cell.source.splitlines() if ln.strip()]
            for pos, line in enumerate(lines[:3]):
                number = _match_strong(line)
                if number is not None and 1 <= number <= max_number:
                    found.append(_Marker(number, cell.index, 2))
                    break
                if pos == 0:
                    m = _WEAK_PATTERN.match(line)
                    if m and 1 <= int(m.group(1)) <= max_number:
                        found.append(_Marker(int(m.group(1)), cell.index, 1))
                        break
        elif cell.cell_type == "code":
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
            m = _CODE_PATTERN.match(first)
            if m:
                number = int(m.group(1) or m.group(2))
                if 1 <= number <= max_number:
                    found.append(_Marker(number, cell.index, 2))
    return found


def _match_strong(line: str) -> int | None:
    for pattern in _STRONG_PATTERNS:
        m = pattern.match(line)
        if m:
            return int(m.group(1))
    return None


def _choose_headings(markers: list[_Marker], max_number: int) -> dict[int, int]:
    """Pick one heading cell per question number so that the headings appear in order.

    Strong markers win; among them the first in the notebook. A weak marker is used only
    when it sits between the chosen headings of the questions before and after it.
    """
    chosen: dict[int, int] = {}
    for m in markers:
        if m.strength == 2 and m.number not in chosen:
            chosen[m.number] = m.cell
    # drop strong picks that break the order (e.g. "# 3 layers" inside answer 7)
    ordered = sorted(chosen.items())
    keep: dict[int, int] = {}
    last_cell = -1
    for number, cell in ordered:
        if cell > last_cell:
            keep[number] = cell
            last_cell = cell
    chosen = keep
    for m in markers:
        if m.strength != 1 or m.number in chosen:
            continue
        before = [c for n, c in chosen.items() if n < m.number]
        after = [c for n, c in chosen.items() if n > m.number]
        if (not before or max(before) < m.cell) and (not after or m.cell < min(after)):
            chosen[m.number] = m.cell
    return chosen


_TAG = re.compile(r"</?(?:code|pre|p|br|b|i|em|strong|span|div|font|u|li|ul|ol)[^>]*>", re.I)


def markdown_to_text(source: str) -> str:
    """Markdown/HTML answer text as plain prose: tags and heading marks removed."""
    text = _TAG.sub("\n", source)
    text = html.unescape(text)
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.M)
    text = text.replace("**", "").replace("__", "").replace("`", "")
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _comment_text(code: str) -> str:
    lines = []
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#!"):
            lines.append(stripped.lstrip("#").strip())
    return "\n".join(lines)


def _strip_prompt(text: str, prompt: str | None) -> str:
    """Remove the question's own wording where the student copied it above the answer."""
    if not prompt:
        return text
    prompt_lines = [_normalise(p) for p in re.split(r"(?<=[.?!])\s+|\n", prompt) if p.strip()]
    prompt_lines = [p for p in prompt_lines if len(p) > 12]
    kept = []
    for line in text.splitlines():
        norm = _normalise(line)
        if norm and prompt_lines and len(norm) > 12:
            best = max(difflib.SequenceMatcher(None, norm, p).ratio() for p in prompt_lines)
            if best > 0.8 or any(norm in p for p in prompt_lines):
                continue
        kept.append(line)
    return "\n".join(kept).strip()


def _normalise(text: str) -> str:
    text = re.sub(rf"^\s*(?:{_Q}\s*)?\d{{1,2}}\s*[.):]?\s*", "", text.strip(), flags=re.I)
    return re.sub(r"\s+", " ", text).strip().lower()


def locate_answers(
    nb: Notebook, question_numbers: list[int], prompts: dict[int, str] | None = None
) -> dict[str, Answer]:
    """Map "qN" to the student's answer for each question that can be found.

    A question's cells are those from its heading up to the next question's heading.
    """
    prompts = prompts or {}
    max_number = max(question_numbers) if question_numbers else 0
    headings = _choose_headings(_markers(nb, max_number), max_number)
    starts = sorted(headings.items(), key=lambda kv: kv[1])
    answers: dict[str, Answer] = {}
    for pos, (number, start) in enumerate(starts):
        end = starts[pos + 1][1] if pos + 1 < len(starts) else len(nb.cells)
        if number not in question_numbers:
            continue
        cells = nb.cells[start:end]
        text_parts: list[str] = []
        text_cells: list[int] = []
        code_parts: list[str] = []
        outputs: list[str] = []
        code_cells: list[int] = []
        for cell in cells:
            if cell.cell_type in ("markdown", "raw"):
                body = markdown_to_text(cell.source)
                if cell.index == start:
                    body = _drop_heading_line(body)
                if body:
                    text_parts.append(body)
                    text_cells.append(cell.index)
            elif cell.cell_type == "code":
                code_parts.append(cell.source)
                code_cells.append(cell.index)
                if cell.outputs_text:
                    outputs.append(cell.outputs_text)
                comments = _comment_text(cell.source)
                if comments:
                    text_parts.append(comments)
                    text_cells.append(cell.index)
        text = _strip_prompt("\n".join(text_parts), prompts.get(number))
        answers[f"q{number}"] = Answer(
            question=f"q{number}",
            number=number,
            heading_cell=start,
            cells=[c.index for c in cells],
            text=text,
            code="\n\n".join(code_parts),
            outputs_text="\n".join(outputs),
            code_cells=code_cells,
            text_cells=text_cells,
        )
    return answers


def _drop_heading_line(body: str) -> str:
    """Remove the question label ("1.", "Question 2:", "Q3)") but keep what follows on the line."""
    lines = body.splitlines()
    if not lines:
        return body
    first = re.sub(rf"^\s*(?:{_Q}\s*)?\d{{1,2}}\s*[.):\-]?\s*", "", lines[0], flags=re.I)
    return "\n".join([first, *lines[1:]]).strip()
