"""Split a notebook into lines and find every question marker inside them.

A markdown cell, and a code cell that is prose (it does not parse as Python and reads as
sentences), becomes one unit per visible line; fenced code inside prose is kept as code. A
Python code cell stays one unit, its first comment line being a possible label ("# Question 9").
A comment-only code cell is prose written as comments. Markers are found at the start of any
prose line: headings at any level, bold labels (`**1.**What`), `Q 3 -`, `Exercise 3`, numbered
items (`3.`, `3)`, `1.What`) and lines that may be a copied prompt (checked by content later).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from grader.locate.visible import visible_markdown

if TYPE_CHECKING:
    from grader.notebook import Cell, Notebook

UnitKind = Literal["prose", "mdcode", "fence", "code", "comment"]
Style = Literal["heading", "bold", "label", "comment", "numbered", "title", "prompt"]


@dataclass
class Unit:
    """One piece of the notebook in reading order: a prose line, or a whole code cell."""

    cell: int
    line: int  # line number in the cell's visible text (0 for a code cell)
    kind: UnitKind  # prose; mdcode (fenced code in markdown: read as text); fence (code inside a
    #                  prose code cell: that question's code); code (a Python cell); comment
    text: str


@dataclass
class Marker:
    """A place where a question may start."""

    unit: int
    cell: int
    number: int | None
    style: Style
    title: str  # what names the question: the rest of the label line, or the next line
    answer: str = ""  # text after "Ans:" on the label line
    title_unit: int | None = None  # the unit the title came from when it is the next line
    delimited: bool = True  # "3." / "3)" / "Question 3": not a bare "3 layers"
    run: int = 1  # numbered items: how many numbered lines in a row this one is part of
    run_first: int | None = None  # and the number that run starts with
    level: int | None = None  # markdown heading level (1 for "#"), headings only
    also: list[int] = field(default_factory=list)  # "Questions 1 and 2", "Q3-Q5": the other numbers


_LABEL = (r"(?:q(?:uestion|ues|n|u)?s?|ans(?:wer)?|ex(?:ercise|\.)?|exc|problem|prob|task|aufgabe|frage"
          r"|ejercicio"
          r"|pregunta)")
_NUM_HEAD = re.compile(
    rf"^(?P<label>{_LABEL}\s*\.?\s*[-–]?\s*(?:no\.?|nr\.?|number|#)?\s*)?(?P<n>\d{{1,2}})(?!\d|\.\d|,\d)"
    r"(?P<delim>\s*[.):\-–—]+|\s*$|\s+)(?P<rest>.*)$", re.I)
_TIMES = re.compile(r"^\s*[x×*/+]\s*\d")
_NUMBERED = re.compile(r"^(?P<indent>\s*)\(?(?P<n>\d{1,2})\s*[.)](?!\d)\s*(?P<rest>.*)$")
_LABELLED = re.compile(rf"^\s*(?P<all>{_LABEL}\s*\.?\s*[-–]?\s*(?:no\.?|#)?\s*"
                       r"(?:\d{1,2}(?!\d)|(?:one|two|three|four|five|six|seven|eight|nine|ten)\b"
                       r"|(?:xii|xi|x|ix|viii|vii|vi|v|iv|iii|ii|i)(?=\s*(?:[.):\-–—]|$))).*)$", re.I)
_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})(?P<inner>.*)$")
_BOLD_START = re.compile(r"^\s*(?:\*\*|__)")
_ANS = re.compile(r"(?:^|\s)(?:\*\*|__)?(?:ans(?:wer)?|sol(?:ution)?|response)\s*(?:\*\*|__)?\s*[:\-–=>]+\s*",
                  re.I)
_MAGIC = re.compile(r"^\s*[%!?]")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODEY = re.compile(r"(?:[=\[\]{}]|\w\(|^\s*(?:import|from|def|class|for|if|while|return|print)\b)")


def strip_bold(text: str) -> str:
    return re.sub(r"(\*\*|__)", "", text).strip().strip("*_").strip()


def split_answer(text: str) -> tuple[str, str]:
    """"What is X? Ans: Y" -> ("What is X?", "Y")."""
    m = _ANS.search(text)
    if not m:
        return text.strip(), ""
    return text[: m.start()].strip(), text[m.end():].strip()


def python_source(source: str) -> bool:
    return _parse(source) is not None


def _parse(source: str) -> ast.Module | None:
    lines = ["" if _MAGIC.match(line) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def string_answers(tree: ast.Module) -> tuple[str, bool]:
    """(text, whether it is printed) of a cell that only holds strings or prints them: answers
    typed as a docstring or as print("Ans: ..."); ("", False) for any other code."""
    parts: list[str] = []
    printed = False
    for node in tree.body:
        value = node.value if isinstance(node, ast.Expr) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print":
            args, printed = value.args, True
        else:
            args = [value] if value is not None else []
        if not args or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            return "", False
        parts.append(" ".join(a.value for a in args))
    return "\n".join(parts), printed


def _prose_line(line: str) -> bool:
    words = re.findall(r"[A-Za-z]{2,}", line)
    return len(words) >= 3 and not _CODEY.search(line.split("Ans")[0])


def reads_as_prose(source: str) -> bool:
    """A code cell that is not Python but sentences (answers typed into a code cell)."""
    if any(_FENCE.match(line) for line in source.splitlines()):
        return True
    lines = [line for line in source.splitlines() if line.strip()]
    if not lines:
        return False
    prose = sum(_prose_line(line) for line in lines)
    return prose >= max(1, 0.5 * len(lines))


def cell_units(cell: Cell) -> list[Unit]:
    """The units of one cell, in order."""
    if cell.cell_type in ("markdown", "raw"):
        return _prose_units(cell.index, visible_markdown(cell.source), fence_kind="mdcode")
    if cell.cell_type != "code" or not cell.source.strip():
        return []
    tree = _parse(cell.source)
    if tree is not None:
        strings, printed = string_answers(tree)
        if strings.strip() and (not printed or any(
                (found := line_marker(line, first_line=False)) and found[0] is not None
                for line in strings.splitlines())):
            # answers typed as a docstring, or printed under a label: print("3) Ans: ...")
            return _prose_units(cell.index, strings, fence_kind="fence")
        lines = [line for line in cell.source.splitlines() if line.strip()]
        if lines and all(line.lstrip().startswith("#") for line in lines):
            text = "\n".join(re.sub(r"^\s*#+\s?", "", line) for line in cell.source.splitlines())
            return [Unit(cell.index, i, "comment", line) for i, line in enumerate(text.splitlines())]
        return [Unit(cell.index, 0, "code", cell.source)]
    if reads_as_prose(cell.source):
        return _prose_units(cell.index, cell.source, fence_kind="fence")
    return [Unit(cell.index, 0, "code", cell.source)]


def _prose_units(index: int, text: str, *, fence_kind: UnitKind) -> list[Unit]:
    units: list[Unit] = []
    fence: str | None = None
    for i, line in enumerate(text.splitlines()):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            continue
        if fence is not None:
            if m and m.group(1) == fence:
                fence = None
                continue
            units.append(Unit(index, i, fence_kind, line))
            continue
        units.append(Unit(index, i, "prose", line))
    return units


def notebook_units(nb: Notebook) -> list[Unit]:
    return [u for cell in nb.cells for u in cell_units(cell)]


# ---- markers -------------------------------------------------------------------------------

_WORDS = {w: i for i, w in enumerate(["one", "two", "three", "four", "five", "six", "seven", "eight",
                                       "nine", "ten"], 1)}
_WORD_NUMBER = re.compile(rf"^({_LABEL}\s*)({'|'.join(_WORDS)})\b", re.I)
_ROMANS = {r: i for i, r in enumerate(
    ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"], 1)}
_ROMAN = "|".join(sorted(_ROMANS, key=len, reverse=True))
# "Question IV", "Exercise ix:" (a label, then a delimiter or the line's end) and "IV." / "VII)" /
# "IV -" (a delimiter needed) at the start of a heading or bold label: "**I** think" stays a pronoun
_ROMAN_NUMBER = re.compile(rf"^(?:((?:{_LABEL})\s*\.?\s*)({_ROMAN})(?=\s*(?:[.):\-–—]|$))"
                           rf"|()({_ROMAN})(?=\s*[.):\-–—]))", re.I)


def _arabic(inner: str) -> str:
    """'Question Three' / 'Question IV:' / 'VII.' -> 'Question 3' / 'Question 4:' / '7.'."""
    inner = _WORD_NUMBER.sub(lambda m: m.group(1) + str(_WORDS[m.group(2).lower()]), inner)
    return _ROMAN_NUMBER.sub(lambda m: (m.group(1) or "") + str(_ROMANS[(m.group(2) or m.group(4)).lower()]),
                             inner)


def _numbered_head(inner: str) -> tuple[int | None, str, bool]:
    """'Question 3: What ...' / '3. What' / '6.' / 'Question Three' -> (3, 'What ...', delimited)."""
    inner = _arabic(inner.strip())
    m = _NUM_HEAD.match(inner)
    if not m or _TIMES.match(m.group("rest") or ""):
        return None, inner, True
    delimited = bool(m.group("label")) or bool(m.group("delim").strip()) or not m.group("rest")
    return int(m.group("n")), strip_bold(m.group("rest")), delimited


def line_marker(text: str, *, first_line: bool, comment: bool = False) -> tuple | None:
    """(number, style, title, delimited) if a question may start at this prose line."""
    if not text.strip():
        return None
    h = _HEADING.match(text)
    lead = h.group("inner")[:1] if h else ""
    if h and not comment and (lead in (" ", "\t", "*", "_") or lead.isalnum()):
        inner = strip_bold(h.group("inner").strip().rstrip("#"))
        number, rest, delimited = _numbered_head(inner)
        if number is not None:
            return number, "heading", rest, delimited
        return (None, "title", inner, True) if inner else None
    if _BOLD_START.match(text):
        m = re.match(r"^\s*(\*\*|__)(.+?)\1(.*)$", text)
        inside, after = (m.group(2), m.group(3)) if m else (text, "")
        number, rest, delimited = _numbered_head(strip_bold(inside))
        if number is not None and delimited:
            title = (rest + " " + strip_bold(after)).strip()
            return number, "bold", title, True
        if m and not after.strip():
            return None, "title", strip_bold(inside), True
    if _LABELLED.match(text):
        number, rest, delimited = _numbered_head(strip_bold(text))
        if number is not None and delimited:
            return number, "label", rest, True
    m = _NUMBERED.match(text)
    if m and not _TIMES.match(m.group("rest")):
        if len(m.group("indent").replace("\t", "    ")) >= 2:
            return None
        return int(m.group("n")), "numbered", strip_bold(m.group("rest")), True
    stripped = text.strip()
    if (first_line or stripped.endswith("?") or re.fullmatch(r"[*_].+[*_]", stripped)) and \
            len(re.findall(r"[A-Za-z]{3,}", stripped)) >= 4:
        return None, "prompt", strip_bold(stripped.strip("*_")), True
    return None


_Q = rf"(?:{_LABEL}\s*\.?\s*)?"
_JOINT = re.compile(rf"^{_Q}(?P<n>\d{{1,2}})(?P<list>(?:\s*(?:,|&|\+|/|\band\b)\s*{_Q}\d{{1,2}}(?!\d))+)"
                    rf"|^{_Q}(?P<a>\d{{1,2}})(?:\s*(?:[-–]|\bto\b)\s*{_LABEL}\s*\.?\s*|[-–]|\s+to\s+)"
                    r"(?P<b>\d{1,2})(?!\d)", re.I)


def joint_numbers(text: str) -> list[int]:
    """The other questions a label answers together: "Questions 1 and 2" -> [2], "Q3-Q5" -> [4, 5]."""
    inner = strip_bold(re.sub(r"^\s{0,3}#{1,6}\s*|^\s*#+\s*", "", text))
    m = _JOINT.match(_arabic(inner))
    if not m:
        return []
    if m.group("list"):
        return [int(n) for n in re.findall(r"\d{1,2}", m.group("list"))]
    a, b = int(m.group("a")), int(m.group("b"))
    return list(range(a + 1, b + 1)) if 0 < b - a <= 5 else []


_CODE_LABEL = re.compile(
    rf"^\s*#+\s*(?:\*\*|__)?\s*(?:{_LABEL}\s*\.?\s*\d{{1,2}}\b|\d{{1,2}}\b|[A-Za-z])", re.I)


def find_markers(units: list[Unit]) -> list[Marker]:
    markers: list[Marker] = []
    previous_cell = -1
    for i, unit in enumerate(units):
        first = unit.cell != previous_cell
        previous_cell = unit.cell
        if unit.kind == "code":
            line = next((ln for ln in unit.text.splitlines() if ln.strip()), "")
            if _CODE_LABEL.match(line):
                inner = re.sub(r"^\s*#+\s*", "", line)
                number, rest, delimited = _numbered_head(strip_bold(inner))
                if number is not None:
                    markers.append(Marker(i, unit.cell, number, "comment", rest, delimited=delimited,
                                          also=joint_numbers(line)))
                elif number is None and len(re.findall(r"[A-Za-z]{3,}", inner)) >= 2:
                    markers.append(Marker(i, unit.cell, None, "comment", strip_bold(inner)))
            continue
        if unit.kind not in ("prose", "comment"):
            continue
        found = line_marker(unit.text, first_line=first and unit.kind == "prose",
                            comment=unit.kind == "comment")
        if found is None:
            continue
        number, style, title, delimited = found
        title, answer = split_answer(title)
        marker = Marker(i, unit.cell, number, style, title, answer=answer, delimited=delimited)
        heading = _HEADING.match(unit.text) if unit.kind == "prose" else None
        if heading and style in ("heading", "title"):
            marker.level = len(heading.group("hashes"))
        if number is not None and style in ("heading", "bold", "label"):
            marker.also = joint_numbers(unit.text)
        if not title and not answer:
            marker.title, marker.title_unit = _next_line(units, i)
        markers.append(marker)
    _number_runs(units, markers)
    return markers


def _next_line(units: list[Unit], i: int) -> tuple[str, int | None]:
    """The first non-empty prose line after unit i, in this cell or the next."""
    cell = units[i].cell
    for j in range(i + 1, min(len(units), i + 12)):
        u = units[j]
        if u.cell not in (cell, cell + 1) or u.kind not in ("prose", "comment"):
            if u.kind == "code" or u.cell > cell + 1:
                break
            continue
        if u.text.strip():
            if _HEADING.match(u.text) and u.cell != cell:
                break
            return strip_bold(re.sub(r"^\s{0,3}#{1,6}\s*", "", u.text)).strip("*_ "), j
    return "", None


def _number_runs(units: list[Unit], markers: list[Marker]) -> None:
    """Mark numbered items that sit in a list: consecutive numbered lines of one cell."""
    numbered = [m for m in markers if m.style == "numbered"]
    run: list[Marker] = []

    def close() -> None:
        for m in run:
            m.run, m.run_first = len(run), run[0].number

    for m in numbered:
        if run and m.cell == run[-1].cell and _only_blank_between(units, run[-1].unit, m.unit):
            run.append(m)
        else:
            close()
            run = [m]
    close()


def _only_blank_between(units: list[Unit], a: int, b: int) -> bool:
    return all(not units[k].text.strip() for k in range(a + 1, b))
