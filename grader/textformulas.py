"""Arithmetic a student writes: formulas ("100 feature maps x (3x3x3 parameters)"), evaluated with
Python's own `ast` (numbers and + - * / ** only, never eval), and the equations 'formula = result'
with whether each step holds. The numbers themselves are read by grader.textnumbers."""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from typing import Any

from grader.textnumbers import BYTE_UNITS, Quantity, agrees, find_quantities, is_european

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
#: "=>" and "==>" mean "so", not "equals": "3.6 MB of weights => 14.1 MB" is no formula.
_EQ_SPLIT = re.compile(r"(?<![<>!=])(?:≈|≃|~=|~|=(?![=>]))")
#: A word's letters and the marks that join them (Thai and Devanagari vowel signs, Arabic and
#: Hebrew points, combining accents, the zero-width (non-)joiner of Persian "وزن‌ها"): "น้ำหนัก" is one
#: word, not letters and symbols that break the formula it stands in.
_MARKS = "\u0300-\u036f\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0900-\u0903\u093a-\u094f\u0962\u0963" \
         "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u200c\u200d"
_TOKEN = re.compile(rf"(?P<op>\*\*|\^|[+\-*/×x·⋅∙÷()])|(?P<word>(?:[^\W\d]|[{_MARKS}])+)|(?P<other>\S)")


def safe_eval(expr: str) -> float | None:
    """Evaluate numbers joined by + - * / ** and parentheses; None for anything else."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 30:
                raise ValueError("exponent too large")
            return _OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = ev(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        raise ValueError(type(node).__name__)

    try:
        value = ev(tree)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) else None


@dataclass
class Formula:
    """An arithmetic expression found in text: its Python form, value and operands."""

    text: str  # as written
    python: str  # what was evaluated
    value: float
    operands: list[Quantity]
    is_sum: bool  # only additions of numbers: a total of earlier terms
    is_memory: bool  # some operand carried a byte unit, so the value is in bytes
    plain: float | None = None  # the value with every unit ignored: "50 × (6 + 3) MB" is 450 (MB)
    #: the Python form with each bare term of the top-level sum times `U` (its unit, unwritten):
    #: "6 + 3 + 902,700 × 4 B" -> "6 * U + 3 * U + 902700.0 * 4.0"; None when no term is bare
    mixed: str | None = None


def _side_tokens(text: str, offset: int, european: bool | None = None) -> list[tuple[str, Any, int, int]]:
    """Tokens of one side of an equation: ('num', Quantity) | ('op', '+') | ('(' ...) | ('word', w)."""
    quantities = find_quantities(text, european=european)
    tokens: list[tuple[str, Any, int, int]] = []
    pos = 0
    for q in [*quantities, None]:
        stop = q.start if q else len(text)
        for m in _TOKEN.finditer(text, pos, stop):
            if m.group("op"):
                tokens.append(("op", m.group("op"), m.start() + offset, m.end() + offset))
            elif m.group("word"):
                word = m.group("word")
                kind = "op" if word in ("x", "X") else "word"
                tokens.append((kind, "*" if kind == "op" else word, m.start() + offset, m.end() + offset))
            else:
                tokens.append(("other", m.group("other"), m.start() + offset, m.end() + offset))
        if q:
            q.start += offset
            q.end += offset
            tokens.append(("num", q, q.start, q.end))
            pos = stop + (q.end - q.start)
    return tokens


#: Words a layer's index follows: "layers 1+2 alive at once", "Schicht 2", "couches 1 et 2".
_INDEXED = re.compile(
    r"(?:layers?|conv\d*|schicht(?:en)?|couches?|capas?|camadas?|strati?|lapisan|katman)$", re.I)


def _layer_indices(tokens: list[tuple[str, Any, int, int]]) -> list[tuple[str, Any, int, int]]:
    """'(layers 1+2 alive at the same time) + 3.6 MB': small plain numbers after a word for layers,
    and the '+' or ',' between them, name layers; they are words, not operands."""
    out = list(tokens)
    for i, tok in enumerate(out):
        if tok[0] != "word" or not _INDEXED.match(tok[1]):
            continue
        j = i + 1
        while j < len(out):
            kind, value = out[j][0], out[j][1]
            if kind == "num" and not value.is_memory and value.value == int(value.value) and value.value <= 9:
                out[j] = ("word", value.raw, out[j][2], out[j][3])
            elif not (kind == "op" and value in "+&" and j + 1 < len(out) and out[j + 1][0] == "num"):
                break
            else:
                out[j] = ("word", value, out[j][2], out[j][3])
            j += 1
    return out


def _clean(tokens: list[tuple[str, Any, int, int]]) -> list[tuple[str, Any, int, int]]:
    """Drop words, and operators that join words ('bytes/parameter', 'mini-batch'); keep arithmetic."""
    tokens = _layer_indices(tokens)
    out = []
    worded = -1  # the index in `out` after which words were dropped
    for i, tok in enumerate(tokens):
        if tok[0] == "word":
            worded = len(out)
            continue
        if tok[0] == "op" and tok[1] not in "()":
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if tok[1] in "+×*" and nxt is not None and nxt[0] == "word":
                # "10.52 MB + weights 3.6 MB": a word or two naming the next term
                k = next((j for j in range(i + 1, min(i + 4, len(tokens))) if tokens[j][0] != "word"), None)
                if k is not None and (tokens[k][0] == "num" or tokens[k][1] == "("):  # "+ params (3.61 MB)"
                    nxt = tokens[k]
                elif k is None and tok[1] == "+" and i + 4 >= len(tokens):
                    # "... + 34.33 MiB + weights =": a term named but given no value; what the
                    # formula adds up to cannot be told, so it is no step to check
                    out.append(("other", "+ " + nxt[1], tok[2], tok[3]))
                    continue
            if nxt is None or not (nxt[0] == "num" or nxt[1] == "("):
                continue
        if tok[1] == ")" and out and out[-1][1] == "(" and out[-1][0] == "op":
            out.pop()  # "3.6 MB (weights)": the parentheses held only words
            continue
        if (tok[1] == ")" and len(out) >= 3 and out[-1][0] == "num" and out[-2][1] == "("
                and out[-2][0] == "op" and (out[-3][0] == "num" or out[-3][1] == ")")):
            if (worded == len(out) - 2 and out[-3][0] == "num" and not out[-3][1].is_memory
                    and out[-1][1].is_memory):
                # "+ 50 input images (34.33 MiB)": the amount in parentheses is what the counted
                # things take, the term's value; the count only said how many
                out[-3] = out[-1]
            del out[-2:]  # "902,700 × 4 B (3.61 MB)": a value restated in parentheses, not a factor
            continue
        out.append(tok)
    return out


_PY_OPS = {"×": "*", "x": "*", "·": "*", "⋅": "*", "∙": "*", "÷": "/", "^": "**"}


def _python(tokens: list[tuple[str, Any, int, int]], *, plain: bool = False) -> str:
    parts = []
    for kind, value, _, _ in tokens:
        if kind == "num":
            parts.append(repr(value.number if plain else value.value))
        elif kind == "op":
            parts.append(_PY_OPS.get(value, value))
        else:
            parts.append(value)
    return " ".join(parts)


def _bare_terms(tokens: list[tuple[str, Any, int, int]]) -> str | None:
    """'6 + 3 + 902,700 × 4 B': a sum whose terms are bare numbers and amounts in bytes; the bare
    ones are in a unit the student left out (MB from the line before), marked `U`."""
    if not any(t[0] == "num" and t[1].is_memory for t in tokens) or any(t[1] == "(" for t in tokens):
        return None
    parts, bare = [], False
    for i, (kind, value, _, _) in enumerate(tokens):
        if kind == "num":
            prev = tokens[i - 1][1] if i else "+"
            nxt = tokens[i + 1][1] if i + 1 < len(tokens) else "+"
            alone = not value.is_memory and prev == "+" and nxt == "+"
            bare = bare or alone
            parts.append(f"{value.value!r} * U" if alone else repr(value.value))
        else:
            parts.append(_PY_OPS.get(value, value))
    return " ".join(parts) if bare else None


def _formula(tokens: list[tuple[str, Any, int, int]], text: str, offset: int) -> Formula | None:
    nums = [t[1] for t in tokens if t[0] == "num"]
    if not nums or any(t[0] == "other" for t in tokens):
        return None
    python = _python(tokens)
    value = safe_eval(python)
    if value is None:
        return None
    ops = {t[1] for t in tokens if t[0] == "op"} - {"(", ")"}
    start, end = tokens[0][2] - offset, tokens[-1][3] - offset
    return Formula(
        text=text[start:end].strip(),
        python=python,
        value=value,
        operands=nums,
        is_sum=bool(ops) and ops <= {"+"},
        is_memory=any(q.is_memory for q in nums),
        plain=safe_eval(_python(tokens, plain=True)),
        mixed=_bare_terms(tokens),
    )


def formula_at_end(text: str, offset: int = 0, european: bool | None = None) -> Formula | None:
    """The longest arithmetic expression that ends `text` (the left side of an '=')."""
    tokens = _clean(_side_tokens(text, offset, european))
    for i in range(len(tokens)):
        if tokens[i][0] not in ("num", "op") or (tokens[i][0] == "op" and tokens[i][1] != "("):
            continue
        tail = tokens[i:]
        formula = _formula(tail, text, offset)
        if formula is not None:
            if i and tokens[i - 1][0] == "op" and tokens[i - 1][1] not in "()":
                return None  # "526 MB; + 36 MB + 3.6 MB": only the end of a longer sum, not a formula
            return formula
    return None


@dataclass
class Equation:
    """'formula = result' as a student wrote it, and whether the arithmetic holds."""

    lhs: Formula
    rhs: Quantity
    holds: bool
    start: int
    end: int
    text: str
    approx: bool = False  # written with ≈ or ~

    @property
    def true_value(self) -> float:
        return self.lhs.value

    @property
    def is_sum(self) -> bool:
        return self.lhs.is_sum

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.lhs.text,
            "evaluates_to": self.lhs.value,
            "written": self.rhs.raw,
            "holds": self.holds,
            "text": self.text,
        }


def _holds(lhs: Formula, rhs: Quantity, approx: bool) -> bool:
    """Does the formula's value equal the result written (to its precision, 1 % for amounts)?"""
    rel = 0.01 if approx or lhs.is_memory or rhs.is_memory else 0.0
    if rhs.is_memory and not lhs.is_memory:
        # "1,500,000 floats = 6 MB": a count of floats stated in bytes; both readings count
        holds = agrees(lhs.value, rhs, rel=rel) or agrees(lhs.value * 4, rhs, rel=rel)
    else:
        holds = agrees(lhs.value, rhs, rel=rel)
    if not holds and lhs.mixed and rhs.unit:
        # "6 + 3 + 902,700*4 B (3.61 MB) = 12.61 MB": the bare terms are in the result's unit
        value = safe_eval(lhs.mixed.replace("U", repr(float(BYTE_UNITS[rhs.unit]))))
        holds = value is not None and agrees(value, rhs, rel=rel)
    if not holds and lhs.plain is not None and (lhs.is_memory or rhs.is_memory):
        # "50 × (6 + 3 + 1.52) MB = 526 MB": the arithmetic holds in the student's own unit
        holds = (abs(lhs.plain - rhs.number)
                 <= max(rhs.precision * rhs.number / (rhs.value or 1), rel * abs(rhs.number)) + 1e-9)
    return holds


def _first_number_at(text: str, pos: int) -> int:
    """Where the first number after `pos` starts (-1: none)."""
    m = re.compile(r"\d").search(text, pos)
    return m.start() if m else -1


def _running_total(earlier: list[Equation], text: str, at: int, lhs: Formula) -> Formula | None:
    """'... = 526 MB + 50*0.72 = 36 MB + 3.6 MB ≈ 565.6 MB': the last result of a running sum adds
    the earlier results of its line that a '+' carries on from (None when there are none)."""
    line_start = text.rfind("\n", 0, at) + 1
    carried = [eq.rhs for eq in earlier if eq.rhs.start >= line_start and eq.rhs.is_memory
               and re.match(r"\s*\+", text[eq.rhs.end :]) and eq.rhs.end <= lhs.operands[0].start]
    if not carried:
        return None
    python = " + ".join([*(repr(q.value) for q in carried), f"({lhs.python})"])
    return Formula(text=lhs.text, python=python, value=lhs.value + sum(q.value for q in carried),
                   operands=[*carried, *lhs.operands], is_sum=lhs.is_sum, is_memory=True)


def _worded_sum_before(text: str, q: Quantity, left_start: int) -> bool:
    """'layer 1 and 2 (6MB+3MB) and parameters 3.6MB': an amount of memory earlier on the line,
    with no '=' after it, that words join to `q`: `q` is the last term of that sum, not a value
    converted ('36,108,000 bytes = 36.1 MB') nor the result of a chain ('= 3,613,600 B = 3.6 MB')."""
    line_start = max(text.rfind("\n", 0, q.start) + 1, left_start)
    before = text[line_start : q.start]
    earlier = [m for m in find_quantities(before) if m.is_memory]
    # "inputs 0.72 MB; 3,613,600 bytes = 36.1 MB": another clause converts a value of its own
    return bool(earlier) and q.is_memory and not re.search(
        r"[;:]|\.\s|" + _EQ_SPLIT.pattern, before[earlier[-1].end :])


def find_equations(text: str) -> list[Equation]:
    """Each 'expression = number' in `text` (also ≈ and ~), checked by evaluating the expression.

    A chain 'a = b = c' gives two equations: the expression ending before each '=' and the
    first number after it, so "100×150×100 = 1,500,000 × 4 bytes = 6 MB" checks both steps.
    """
    out: list[Equation] = []
    european = is_european(text)  # one reading of "750.000" for the whole answer
    cuts = [(m.start(), m.end(), m.group(0)) for m in _EQ_SPLIT.finditer(text)]
    bounds = [0, *[c[1] for c in cuts]]
    for k, (s, e, sign) in enumerate(cuts):
        left_start = bounds[k]
        blank = text.rfind("\n\n", left_start, s)
        if blank >= 0:
            left_start = blank + 2  # a formula may wrap over lines, not over paragraphs
        lhs = formula_at_end(text[left_start:s], left_start, european)
        if lhs is None or (len(lhs.operands) == 1 and not lhs.is_memory):
            continue  # "Total = 903,400": a label, not a formula ("36,108,000 bytes = 36.1 MB" is one)
        if ((len(lhs.operands) == 1 and re.search(r"[A-Za-z]", text[lhs.operands[0].end : s]))
                or re.search(r"\n[ \t]*[A-Za-z_]\w*[ \t]*$", text[lhs.operands[-1].end : s])):
            continue  # "ram≈12.6mb batch≈566mb", "*400\nram = ...": a word before '=' labels the next value
        right_end = cuts[k + 1][0] if k + 1 < len(cuts) else len(text)
        blank = text.find("\n\n", e, right_end)
        right_end = blank if blank >= 0 else right_end
        rhs_q = find_quantities(text[e:right_end], european=european)
        if not rhs_q:
            continue
        rhs = rhs_q[0]
        rhs.start += e
        rhs.end += e
        between = text[e : rhs.start]
        if re.search(r"[A-Za-z]{3,}", between):
            continue  # "= the number of maps × 4": not a plain result
        approx = sign != "="
        holds = _holds(lhs, rhs, approx)
        if not holds and k and lhs.operands[0].start == _first_number_at(text, bounds[k]):
            # "= 526 MB + 50*0.72 = 36 MB + 3.6 MB ≈ 565.6 MB": a running sum that writes each
            # next term's own result; the term after the previous result is the formula
            rest = re.match(r"\s*\+\s*", text[lhs.operands[0].end : s])
            at = lhs.operands[0].end + (rest.end() if rest else 0)
            term = formula_at_end(text[at:s], at, european) if rest else None
            if term is not None and len(term.operands) >= 2 and _holds(term, rhs, approx):
                lhs, holds = term, True
        if not holds and lhs.is_memory and rhs.is_memory:
            total = _running_total(out, text, s, lhs)
            if total is not None and _holds(total, rhs, approx):
                lhs, holds = total, True
        if (not holds and len(lhs.operands) == 1 and rhs.is_memory and rhs.value > lhs.value
                and _worded_sum_before(text, lhs.operands[0], left_start)):
            continue  # "(6MB+3MB) and parameters 3.6MB = 12.6MB": the '=' ends a sum told in words
        start = lhs.operands[0].start
        out.append(
            Equation(
                lhs=lhs,
                rhs=rhs,
                holds=holds,
                start=min(start, s),
                end=rhs.end,
                text=text[min(start, s) : rhs.end].strip(),
                approx=approx,
            )
        )
    return out + _listed_sums(text, out, european)


_AMT = r"\d[\d.,]*(?:\s*(?:[KMG]i?B|bytes?)\b)?"
#: "the maps take 6 MB, 3 MB and 1.52 MB, so 10.25 MB in all": amounts listed, then their total in words
_LISTED_SUM = re.compile(
    rf"(?<![\d.,])(?P<items>{_AMT}(?:[ \t]*(?:,|\band\b|\bplus\b)[ \t]*{_AMT})+)[ \t]*,?[ \t]*"
    r"(?:so|thus|hence|which\s+(?:makes|gives|is)|that'?s|in\s+total|total(?:ling)?|altogether|giving|"
    r"gives)[ \t]+(?:about[ \t]+|approx\.?[ \t]+|roughly[ \t]+|~[ \t]*)?"
    r"(?P<total>\d[\d.,]*[ \t]*(?:[KMG]i?B|bytes?)\b)", re.I)


def _listed_sums(text: str, found: list[Equation], european: bool) -> list[Equation]:
    """A total stated in words after the amounts it adds up that does not equal their sum: a
    sum slip as much as a wrong 'a + b + c = d' (only those: a right one checks nothing new)."""
    out = []
    taken = {eq.rhs.start for eq in found}
    for m in _LISTED_SUM.finditer(text):
        (rhs,) = find_quantities(m.group("total"), european=european)[:1] or [None]
        items = find_quantities(m.group("items"), european=european)
        if rhs is None or rhs.unit is None or len(items) < 2 or m.start("total") in taken:
            continue
        scale = BYTE_UNITS[rhs.unit]
        values = [q.value if q.unit else q.number * scale for q in items]
        if any(q.unit is None and not re.fullmatch(r"\d+(?:[.,]\d+)?", q.raw) for q in items):
            continue  # "903,400, 12.6 MB": a count among the amounts, no list of terms
        rhs.start += m.start("total")
        rhs.end += m.start("total")
        for q in items:
            q.start += m.start("items")
            q.end += m.start("items")
        total = sum(values)
        lhs = Formula(text=m.group("items"), python=" + ".join(repr(v) for v in values), value=total,
                      operands=items, is_sum=True, is_memory=True)
        if _holds(lhs, rhs, approx=False) or not 0.8 * total <= rhs.value <= 1.25 * total:
            continue
        out.append(Equation(lhs=lhs, rhs=rhs, holds=False, start=m.start(), end=rhs.end,
                            text=text[m.start() : rhs.end].strip()))
    return out
