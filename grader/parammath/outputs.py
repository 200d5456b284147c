"""Stage 0 of Q2 grading, outputs pasted as text: a bare number printed by code says what it is
only through the code that printed it. Two layouts: a code cell's `print(...)` calls and the
output block pasted under them ('# output:' then one line per print), and Jupyter cells pasted as
fenced code (or an IPython console's `In [n]:` lines) with their `Out[n]:` value ('(acts + p) * 4 / 1e6'
then 'Out[6]: 14.1336')."""

from __future__ import annotations

import ast
import re

from grader.parammath.layout import _BYTES_PER_VALUE, _NAME_UNIT, _NAME_UNIT_RE, _scaled_unit

_OUTPUT_HEAD = re.compile(r"^\s*(?:#\s*)?(?:output|outputs|prints?|result|results)\s*:?\s*$", re.I)
_BARE = re.compile(r"\s*(?:#\s*)?(?P<num>\d[\d_,.]*(?:[eE][-+]?\d+)?)\s*")
_FENCED_CELL = re.compile(r"```[\w+-]*[ \t]*\n(?P<code>.*?)\n```[ \t]*\n+"
                          r"(?P<out>\s*Out\s*\[\s*\d*\s*\]\s*:\s*)"
                          r"(?P<num>\d[\d_,.]*(?:[eE][-+]?\d+)?)[ \t]*$", re.S | re.M)


def _print_labels(code: str) -> list[list[str] | None]:
    """For each top-level print(...) in order: the names printed ('n_params' -> 'n params'; one per
    argument of 'print(n_params, ram_pred_mb)'), or None."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    out: list[list[str] | None] = []
    for node in tree.body:
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "print"):
            args = list(node.value.args)
            for k, arg in enumerate(args):
                if (isinstance(arg, ast.JoinedStr) and len(arg.values) == 1
                        and isinstance(arg.values[0], ast.FormattedValue)):
                    args[k] = arg.values[0].value  # print(f"{total:,}")
            names = [_named(a.id) for a in args if isinstance(a, ast.Name)]
            out.append(names if names and len(names) == len(args) else None)
    return out


def _tuple_names(code: str) -> list[str] | None:
    """The names of a cell's last expression when it is a tuple of names ('n, pred_mb, batch_mb')."""
    try:
        node = ast.parse(code.strip().split("\n")[-1].strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Tuple) and node.elts and all(isinstance(e, ast.Name) for e in node.elts):
        return [_named(e.id) for e in node.elts]  # type: ignore[attr-defined]
    return None


_VALUE = r"\d[\d_.]*(?:[eE][-+]?\d+)?"
_SEVERAL = re.compile(rf"\s*\(?\s*({_VALUE}(?:\s*,?\s+{_VALUE})+)\s*,?\s*\)?\s*")


def _labelled(line: str, names: list[str]) -> str | None:
    """'903400 12.6136 565.6136' (or '(903400, 12.6136, 565.6136)') printed for three names: each
    value under its name, '; ' between them; None when the line holds another number of values."""
    if len(names) == 1:
        m = _BARE.fullmatch(line)
        return names[0].format(m.group("num")) if m else None
    m = _SEVERAL.fullmatch(line)
    values = re.split(r"\s*,\s*|\s+", m.group(1).strip()) if m else []
    if len(values) != len(names):
        return None
    return "; ".join(n.format(v) for n, v in zip(names, values, strict=True))


def _named(name: str) -> str:
    """'n_params' -> 'n params'; 'ram_pred_mb' -> 'ram pred: {} MB': a unit suffix of the name is
    the unit of the value printed."""
    unit = _NAME_UNIT_RE.search(name)
    if not unit:
        return name.replace("_", " ") + ": {}"
    return name[: unit.start()].replace("_", " ") + ": {} " + _NAME_UNIT[unit.group(1).lower()]


_CODE_FENCE = re.compile(r"```(?:python|py|ipython)?[ \t]*\n(?P<code>.*?)\n```", re.S)


def label_printed_lines(text: str, code: str) -> str:
    """'# output:\\n# 903400' under 'print(n_params)': the bare line becomes 'n params: 903400'."""
    if not code:  # a notebook pasted as markdown: the code sits in a ```python fence of the text
        fence = _CODE_FENCE.search(text)
        code = fence.group("code") if fence else ""
    labels = _print_labels(code) if code else []
    if not labels:
        return text
    lines = text.split("\n")
    heads = [i for i, line in enumerate(lines) if _OUTPUT_HEAD.match(line)] or _output_fence(lines)
    for i in heads:
        first = i + 2 if i + 1 < len(lines) and lines[i + 1].strip().startswith("```") else i + 1
        for k, names in enumerate(labels):
            j = first + k
            if j >= len(lines):
                break
            done = _labelled(lines[j], names) if names else None
            if done:
                lines[j] = done
        break
    return "\n".join(lines)


_PLAIN_FENCE = re.compile(r"\s*```\s*(?:text|output|console)?\s*$", re.I)


def _output_fence(lines: list[str]) -> list[int]:
    """'```python ... print(x) ...```' then a plain '```' fence of bare numbers: the cell's output
    pasted under it with no 'Output:' line. The index of the line before that fence opens (so
    the fence is read as under a header), or none."""
    for i, line in enumerate(lines):
        if not (line.strip() == "```" and i + 1 < len(lines)):
            continue
        k = i + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        if k >= len(lines) or not _PLAIN_FENCE.fullmatch(lines[k]):
            continue
        end = next((j for j in range(k + 1, len(lines)) if lines[j].strip().startswith("```")), None)
        body = [ln for ln in lines[k + 1 : end] if ln.strip()] if end else []
        # "903400 12.6136 630.68" printed by "print(params, pred_mb, batch_mb)": several on a line
        if body and all(_BARE.fullmatch(ln) or _SEVERAL.fullmatch(ln) for ln in body):
            return [k - 1]
    return []


def _cell_unit(code: str) -> str:
    """The unit of a cell's last expression: bytes scaled by a last division ('... * 4 / 1e6')."""
    last = code.strip().split("\n")[-1]
    try:
        node = ast.parse(last.strip(), mode="eval").body
    except SyntaxError:
        return ""
    if isinstance(node, ast.Name):  # "ram_pred_mb" shown alone: the unit of the name's suffix
        suffix = _NAME_UNIT_RE.search(node.id)
        return _NAME_UNIT[suffix.group(1).lower()] if suffix else ""
    # "(4*(acts) + 4*903400) / 1e6": the 4 bytes of a float32 may come first too
    if not (_BYTES_PER_VALUE.search(last) or _FOUR_TIMES.search(last)):
        return ""
    unit = _scaled_unit(node)
    if unit:
        return unit
    # "50*4*(maps + inputs) + 4*903400": a product by the bytes per value, unscaled, counts bytes
    return "bytes" if isinstance(node, ast.BinOp) and not _plain_count(last) else ""


_FOUR_TIMES = re.compile(r"(?<![\w.])4\s*\*")


def _plain_count(expr: str) -> bool:
    """'(3*3*3+1)*100 + ...': a parameter count (every product has a '+1' bias term) counts no bytes."""
    return "+1)" in expr.replace(" ", "") and "4*" not in expr.replace(" ", "")


#: An IPython console pasted as text: "In [4]: (acts + p) * 4 / 1e6" then "Out[4]: 14.1336".
#: The In cell may run on over indented lines ("In [12]: a = ...\n         ram_pred_mb").
_CONSOLE = re.compile(r"^(?P<code>\s*In\s*\[\s*\d*\s*\]\s*:.*(?:\n[ \t]+\S.*)*)\n"
                      r"(?P<out>\s*Out\s*\[\s*\d*\s*\]\s*:\s*)"
                      r"(?P<num>\d[\d_,.]*(?:[eE][-+]?\d+)?)[ \t]*$", re.M)


_TUPLE_CELL = re.compile(r"```[\w+-]*[ \t]*\n(?P<code>(?:(?!```).)*?)\n```[ \t]*\n+"
                         r"(?P<out>\s*Out\s*\[\s*\d*\s*\]\s*:[ \t]*)(?P<values>\([^()\n]*\))[ \t]*$",
                         re.S | re.M)


def jupyter_out_tuples(text: str) -> str:
    """'```python\nn_params, ram_pred_mb, ram_batch_mb\n```\nOut[7]: (903400, 12.6136, 565.6136)':
    each value of the tuple under its name (and the unit of the name's suffix)."""
    def label(m: re.Match[str]) -> str:
        names = _tuple_names(m.group("code"))
        done = _labelled(m.group("values"), names) if names else None
        return m.group(0) if done is None else m.group(0)[: m.start("out") - m.start()] + done
    return _TUPLE_CELL.sub(label, text)


def jupyter_out_units(text: str) -> str:
    """'```python\\n(acts + p) * 4 / 1e6\\n```\\nOut[6]: 14.1336': the Out value takes the unit the
    cell's last line turns bytes into (MB here)."""
    def unit(m: re.Match[str]) -> str:
        u = _cell_unit(m.group("code"))
        return m.group(0) + (f" {u}" if u else "")
    def console(m: re.Match[str]) -> str:
        u = _cell_unit(re.sub(r"^\s*In\s*\[\s*\d*\s*\]\s*:", "", m.group("code")))
        return m.group(0) + (f" {u}" if u else "")
    return _CONSOLE.sub(console, _FENCED_CELL.sub(unit, text))


_ARITHMETIC_LINE = re.compile(r"[\d\s*+()×x.,/-]+=\s*\d[\d,.]*\s*")
_TIMES_FOUR = re.compile(r"[*×x]\s*4(?![\d.])|(?<![\d.])4\s*[*×x]")
_ANY_UNIT = re.compile(r"\b(?:[KMG]i?B|[kKMG]b|bytes?|octets?|float|RAM|memory)\b", re.I)


_BARE_RESULT = re.compile(r"^[^\n]*?(?:RAM|memory|Speicher|m[ée]moire)[^\n=]*=(?P<lhs>[^\n=]+)="
                          r"\s*(?:\d{1,3}(?:,\d{3}){2,}|\d{7,})[ \t]*\.?[ \t]*$", re.I | re.M)
_BYTES_WRITTEN = re.compile(r"\d\s*(?:bytes?|B)\b")


def bytes_by_the_answers_convention(text: str) -> str:
    """'RAM batch = 4*(50*2,810,000 + 903,400) = 565,613,600' in an answer that writes its other
    figures in bytes ('= 12,613,600 bytes'): the bare result of a product by 4 (bytes per float32)
    on a memory line counts bytes too."""
    if not _BYTES_WRITTEN.search(text):
        return text
    return _BARE_RESULT.sub(lambda m: m.group(0).rstrip(" \t.") + " bytes"
                            if _TIMES_FOUR.search(m.group("lhs")) else m.group(0), text)


def bytes_in_bare_arithmetic(text: str) -> str:
    """Lines of bare arithmetic and no unit anywhere ('100*150*100*4=6000000'): a product with a
    factor of 4 (bytes per float32) counts bytes, so its result is given the unit."""
    if _ANY_UNIT.search(text):
        return bytes_by_the_answers_convention(text)
    lines = text.split("\n")
    if sum(bool(_ARITHMETIC_LINE.fullmatch(ln)) for ln in lines if ln.strip()) < 3:
        return text
    return "\n".join(f"{ln.rstrip()} bytes" if _ARITHMETIC_LINE.fullmatch(ln) and _TIMES_FOUR.search(ln)
                     else ln for ln in lines)
