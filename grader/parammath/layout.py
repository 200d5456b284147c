"""Stage 0 of Q2 grading: the answer's layout turned into plain sentences with their units: the
prose, the code's arithmetic (evaluated without running it) and its outputs; markdown tables
read cell by cell under their column names; units a table header, a code comment or a variable
name gives ('ram_single_mb = 12.61', '| memory (KB) |'); three bare lines in the question's order."""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from grader.textsegments import segments


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def answer_text(answer: Any, prompt: str) -> str:
    """The answer's prose and code comments, plus simple arithmetic in its code and its outputs;
    sentences copied from the question's prompt are left out."""
    from grader.parammath.outputs import (  # it uses this module
        bytes_in_bare_arithmetic,
        jupyter_out_tuples,
        jupyter_out_units,
        label_printed_lines,
    )

    prose = label_printed_lines(answer.text or "", answer.code or "")
    parts = [bytes_in_bare_arithmetic(jupyter_out_units(jupyter_out_tuples(prose)))]
    code_lines = _code_arithmetic(answer.code or "")
    if code_lines:
        parts.append("\n\n".join(code_lines))
    if getattr(answer, "outputs_text", ""):
        parts.append(answer.outputs_text)
    text = "\n\n".join(p.strip("\n") for p in parts if p.strip())  # prose, code, outputs: paragraphs apart
    norm_prompt = _norm(prompt)
    if not norm_prompt:
        return text
    kept = [text[:0]]
    pos = 0
    for seg in segments(text):
        n = _norm(seg.text)
        if len(n) >= 20 and n in norm_prompt:
            kept.append(text[pos : seg.start])
            pos = seg.end
    kept.append(text[pos:])
    return "".join(kept)


def _code_arithmetic(code: str) -> list[str]:
    """`name = <arithmetic>` lines of the student's code, evaluated without running anything:
    'params total = 903400'. Names of memory variables (ram, mem, bytes) get a byte unit."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    env: dict[str, Any] = {}
    lines = []
    source = code.splitlines()
    for node in tree.body:
        printed = _printed_result(node, source)
        if printed:
            lines.append(printed)
            continue
        if not (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            continue
        name = node.targets[0].id
        listed = _eval_list(node.value, env)
        if listed is not None:
            env[name] = listed  # "maps = [100 * 150 * 100, ...]": kept for sum(maps), maps[0]
            continue
        value = _eval_node(node.value, env)
        if value is None:
            continue
        env[name] = value
        label = name.replace("_", " ")
        unit = ""
        if re.search(r"(?:^|_)(?:ram|mem|memory)(?:_|$)|bytes|(?:^|_)mb$", name, re.I):
            unit = " MB" if re.search(r"mb$|_mb_", name, re.I) else " bytes"
            scaled = _scaled_unit(node.value)
            if scaled and unit == " bytes":
                unit = f" {scaled}"  # "mem = (...) * 4 / 1e6": the student's figure is in MB
        elif _scaled_unit(node.value) and _BYTES_PER_VALUE.search(
                ast.get_source_segment(code, node.value) or ""):
            unit = f" {_scaled_unit(node.value)}"  # "pred = (maps + params) * 4 / 1e6": bytes to MB
        elif _sum_of_names(node.value, env) and _PARAM_WORDS.search(code) and not _PARAM_WORDS.search(name):
            label += " parameters"  # "total = p1 + p2 + p3" in code about parameters: the count
        said = _COMMENT_UNIT.search(source[node.lineno - 1]) if node.lineno <= len(source) else None
        if said:
            unit = f" {said.group(1)}"  # "ram_pred = 12.6  # MB": the comment names the unit
        shown = f"{value:.10g}"
        noted = _PRINTED.search(source[node.lineno - 1]) if node.lineno <= len(source) else None
        if noted:
            try:
                written = float(noted.group(1).replace(",", "").replace("_", ""))
            except ValueError:
                written = None
            if written is not None and abs(written - value) <= 0.01 * abs(value):
                shown = noted.group(1)  # "ram_one = ... / 1e6  # -> 14.13 MB": the figure as written
        lines.append(f"{label} = {shown}{unit}.")
    return lines


_PARAM_WORDS = re.compile(r"param|weight", re.I)
_PRINTED = re.compile(
    r"#\s*(?:->|=>|=|output:?|prints?:?|gives:?)?\s*([\d][\d_,.]*(?:[eE][-+]?\d+)?)\s*([KMG]i?B|bytes)?")


def _name_unit(name: str) -> str:
    """The byte unit a variable's name implies: pred_mb -> MB, ram_bytes -> bytes, mem -> bytes."""
    named = _NAME_UNIT_RE.search(name)
    if named:
        return _NAME_UNIT[named.group(1).lower()]
    return "bytes" if re.search(r"(?:^|_)(?:ram|mem|memory)(?:_|$)", name, re.I) else ""


_COMMENT_NUMBER = re.compile(r"(?<![\w.])(\d[\d_,]*(?:\.\d+)?(?:[eE][-+]?\d+)?)(?:\s*([KMG]i?B|bytes)\b)?")


def _printed_result(node: ast.AST, source: list[str]) -> str | None:
    """`print(pred_mb)  # 12.6136`, `print("one prediction:", (maps + params) * 4 / 1e6, "MB")  # 14.13`,
    `print(batch / 2**20)  # 539.41`: the student pasted the printed results into a comment; each
    is read under its label (the text printed before it, else its variables' names) and the unit
    the comment, the printed text, the name or a last division (/ 1e6, / 2**20) gives, when the
    comment holds one number per printed value. The rest of the comment ('(MB, one prediction)')
    goes with it."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "print"
            and node.lineno <= len(source) and "#" in source[node.lineno - 1]):
        return None
    args = node.value.args
    comment = source[node.lineno - 1].split("#", 1)[1]
    if (len(args) == 1 and isinstance(args[0], ast.Constant) and isinstance(args[0].value, int | float)
            and not isinstance(args[0].value, bool) and re.fullmatch(r"[\sA-Za-z()-]{3,40}", comment)):
        return f"{comment.strip()} = {args[0].value:g}."  # "print(903_400)  # parameters"
    values = [k for k, a in enumerate(args) if not (isinstance(a, ast.Constant) and isinstance(a.value, str))]
    if not args or not values or any(isinstance(args[k], ast.Constant) for k in values):
        return None
    numbers = list(_COMMENT_NUMBER.finditer(comment))
    if len(values) == 1 and numbers:
        numbers = numbers[:1]  # "print(params)  # 903400 (2,800 + 180,200 + 720,400)"
    if len(numbers) != len(values):
        return None
    rest = comment[numbers[-1].end():].strip(" .") if len(values) == 1 else ""
    comment_unit = _UNIT_WORD.search(rest) if rest else None
    out = []
    for k, m in zip(values, numbers, strict=True):
        arg = args[k]
        before = args[k - 1] if k else None
        after = args[k + 1] if k + 1 < len(args) else None
        label = (before.value.strip(" :=") if isinstance(before, ast.Constant) and before.value.strip(" :=")
                 else " ".join(n.id.replace("_", " ") for n in ast.walk(arg) if isinstance(n, ast.Name)))
        printed_unit = (after.value.strip() if isinstance(after, ast.Constant)
                        and _UNIT_WORD.fullmatch(str(after.value).strip()) else "")
        unit = (m.group(2) or printed_unit or (comment_unit.group(0) if comment_unit else "")
                or (_name_unit(arg.id) if isinstance(arg, ast.Name) else _scaled_unit(arg) or ""))
        out.append(f"{label} = {m.group(1).rstrip('.')}{' ' + unit if unit else ''}"
                   f"{' ' + rest if rest else ''}.")
    return "\n".join(out)


_BYTES_PER_VALUE = re.compile(r"\*\s*[248]\b")
_UNIT_WORD = re.compile(r"\b(?:KiB|MiB|GiB|kB|KB|MB|GB|bytes)\b")


def _sum_of_names(node: ast.AST, env: dict[str, Any]) -> bool:
    """`p1 + p2 + p3`: two or more variables computed before, added up."""
    names = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if not isinstance(node.right, ast.Name):
            return False
        names.append(node.right.id)
        node = node.left
    if not isinstance(node, ast.Name):
        return False
    names.append(node.id)
    return len(names) >= 2 and all(n in env for n in names)


_COMMENT_UNIT = re.compile(r"#\s*(?:in\s+)?(KiB|MiB|GiB|kB|KB|MB|GB|bytes)\b")
_DIVISORS = {1e3: "kB", 1e6: "MB", 1e9: "GB", 2.0**10: "KiB", 2.0**20: "MiB", 2.0**30: "GiB"}


def _scaled_unit(node: ast.AST) -> str | None:
    """The unit a byte count is turned into by a last division: `... / 1e6` -> MB, `/ 2**20` or
    `/ 1024 / 1024` -> MiB."""
    divisor = 1.0
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        d = _eval_node(node.right, {})
        if d is None:
            break
        divisor *= d
        node = node.left
    return _DIVISORS.get(divisor)


def _eval_list(node: ast.AST, env: dict[str, Any]) -> list[float] | None:
    """A list of numbers: a literal '[100 * 150 * 100, 50 * 75 * 200]' or a name bound to one."""
    if isinstance(node, ast.Name):
        value = env.get(node.id)
        return value if isinstance(value, list) else None
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        values = [_eval_node(e, env) for e in node.elts]
        return None if any(v is None for v in values) else values  # type: ignore[return-value]
    return None


#: sum(maps), np.prod([100, 150, 100]), math.prod(...): the list functions students use
_LIST_FUNCS = {"sum": sum, "prod": math.prod}


def _eval_call(node: ast.Call, env: dict[str, Any]) -> float | None:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name not in _LIST_FUNCS or len(node.args) != 1 or node.keywords:
        return None
    values = _eval_list(node.args[0], env)
    return None if values is None else float(_LIST_FUNCS[name](values))


def _eval_node(node: ast.AST, env: dict[str, Any]) -> float | None:
    ops = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b if b else None,
        ast.Pow: lambda a, b: a**b if abs(b) < 30 else None,
    }
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    if isinstance(node, ast.Name):
        value = env.get(node.id)
        return value if isinstance(value, float) else None
    if isinstance(node, ast.Call):
        return _eval_call(node, env)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        values = _eval_list(node.value, env)  # maps[0]
        k = node.slice.value
        if values is None or not isinstance(k, int) or not -len(values) <= k < len(values):
            return None
        return values[k]
    if isinstance(node, ast.BinOp) and type(node.op) in ops:
        a, b = _eval_node(node.left, env), _eval_node(node.right, env)
        return None if a is None or b is None else ops[type(node.op)](a, b)
    return None


_UNIT_NAMES = r"KiB|MiB|GiB|kB|KB|MB|GB|bytes"
_ASSIGNMENT = re.compile(rf"^(\s*)([A-Za-z_]\w*)\s*=\s*([\d.,]+)\s*(?:#\s*({_UNIT_NAMES})\b.*)?$")
#: "ram_single_mb = 12.61": the unit a variable's name ends with
_NAME_UNIT_RE = re.compile(r"_(mb|mib|gb|gib|kb|kib|bytes)$", re.I)
_MEMORY_M = re.compile(
    r"(?i)(\b(?:ram|memory|mem)\b[^\n,;]{0,12}?[=:]\s*[~≈]?\s*\d+(?:[.,]\d+)?)\s*([MGK])(?![A-Za-z])"
    r"(?!\s*(?:param|weight|float|value|number|neuron|connection))")  # "903.4K params" stays a count
_NAME_UNIT = {"mb": "MB", "mib": "MiB", "gb": "GB", "gib": "GiB", "kb": "kB", "kib": "KiB", "bytes": "bytes"}
_BOLD = re.compile(r"(?<![\w*])\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*(?![\w*])")
_HEADER_UNIT = re.compile(rf"[(\[]\s*(?:in\s+)?({_UNIT_NAMES})\s*[)\]]")
_BARE_NUMBER = re.compile(
    rf"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?!\d|[.,]\d|\s*(?:{_UNIT_NAMES}|[kKMG]i?B|[KMG]o)\b)")


#: Arabic-Indic, Persian, Devanagari and full-width digits (and the Arabic decimal / thousands
#: marks, the full-width point) as the Western ones. Not the full-width comma: it ends a clause.
_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９٫٬．",
    "0123456789012345678901234567890123456789.,.")


#: "batch of 50 565,61 MB": the batch size, then the amount; not one number grouped with a space
_BATCH_THEN_AMOUNT = re.compile(r"(\bbatch(?:[ \t]+size)?[ \t]+(?:of[ \t]+)?)(\d{1,3})[ \t]+"
                                r"(?=\d{1,3}(?:[.,]\d+)?[ \t]*[KMG]i?B\b)", re.I)
#: "Parameters: P = sum_i (k^2 * C_{i-1} + 1) * C_i": a line that names a symbol by its label
_SYMBOL_DEFINED = re.compile(r"(?m)^[ \t>*_#-]*(?P<label>[A-Za-z][A-Za-z ]{2,40}?)[*_]*[ \t]*:[ \t]*"
                             r"(?P<sym>[A-Za-z](?:_\w+)?)[ \t]*=")


def _symbols_named(text: str) -> str:
    """'Parameters: P = sum ...' then, under 'Now the numbers:', 'P = 2,800 + ... = 903,400': the
    numbered line gets the label its symbol was defined with ('Parameters: P = 2,800 + ...')."""
    labels = {m.group("sym"): m.group("label").strip() for m in _SYMBOL_DEFINED.finditer(text)}
    if not labels:
        return text
    def named(m: re.Match[str]) -> str:
        label = labels.get(m.group(2))
        return f"{m.group(1)}{label}: {m.group(2)}" if label else m.group(0)
    return re.sub(r"(?m)^([ \t]*)([A-Za-z](?:_\w+)?)(?=[ \t]*=[ \t]*[\d(])", named, text)


_POWER_OF_K = re.compile(r"(?<![\d.,])(10(?:00|24))([²³])")


def with_units(text: str) -> str:
    """Lines where the unit sits apart from the number, written with it: 'ram_single = 12.6  # MB'
    -> 'ram single: 12.6 MB' (a value, not a formula); '| Predict (MiB) | 13.48 |' ->
    '| Predict | 13.48 MiB |'."""
    text = text.translate(_DIGITS)  # "١٢٫٦", "１２．６": the digits as Western digits
    text = _plain_latex(text)
    # "565,613,600 B / 1024² = 539.4 MB": a squared or cubed 1000 / 1024 written out as a product
    text = _BATCH_THEN_AMOUNT.sub(r"\1\2: ", text)
    text = _symbols_named(text)
    text = _POWER_OF_K.sub(lambda m: " × ".join([m.group(1)] * (2 if m.group(2) == "²" else 3)), text)
    text = re.sub(r"(?m)^[ \t]*>[ \t]?", "", text)  # a markdown quote block: its lines as they read
    text = _BOLD.sub(r"\1", text)  # "**RAM (single instance)**": emphasis, not a power operator
    text = _tables_as_sentences(text)
    text = _header_unit(text)
    text = re.sub(r"(?<=\d)_(?=\d{3}(?!\d))", "", text)  # "903_400": Python's digit grouping
    # '"ram_prediction_mb": 12.61', 'pred_MB=12.6': the unit a key's name ends with, inline
    text = _KEY_UNIT.sub(lambda m: f"{m.group(1).replace('_', ' ')}: {m.group(3)} "
                                   f"{_NAME_UNIT[m.group(2).lower()]}", text)
    text = _UNIT_FIRST.sub(r"\2 \1", text)  # "MB 12.6" (Swahili and others put the unit first)
    # "12.6 ± 0.1 MB": the value with its unit; the margin is no second value
    text = re.sub(r"(\d+(?:[.,]\d+)?)\s*(?:±|\+/-|\+-)\s*\d+(?:[.,]\d+)?\s*([KMG]i?B)\b", r"\1 \2", text)
    # "12.6 / 14.1 / 18 MB", "12.6 or 14.1 MB": the unit written once applies to every value
    for _ in range(3):
        text, n = _SHARED_UNIT.subn(_share_unit, text)
        if not n:
            break
    # "903,400 · 12.6 MB · 565.6 MB": two or more spaced middots on a line with no '=' list values
    text = "\n".join(re.sub(r"[ \t]+·[ \t]+", "; ", ln) if ln.count(" · ") >= 2 and "=" not in ln else ln
                     for ln in text.split("\n"))
    # "903,400 parameters · 12.6 MB": a middot between words and a value separates items; between
    # two numbers ("3 · 3") it multiplies
    text = _MIDDOT_SEPARATOR.sub("; ", text)
    # "RAM(1) = 12.6M", "memory: 565.6M": in a sentence about memory, M is megabytes
    text = _MEMORY_M.sub(lambda m: f"{m.group(1)} {m.group(2).upper()}B", text)
    # "~12.6MB" opening a line means "about", not "≈" continuing the line above
    text = re.sub(r"(?m)^(\s*(?:[-*•]\s*)?)[~≈]\s*(?=\d)", r"\1about ", text)
    out = []
    for line in text.split("\n"):
        m = _ASSIGNMENT.match(line)
        if m and ("_" in m.group(2) or m.group(4)):
            named = _NAME_UNIT_RE.search(m.group(2))
            unit = m.group(4) or (_NAME_UNIT[named.group(1).lower()] if named else "")
            line = f"{m.group(1)}{m.group(2).replace('_', ' ')}: {m.group(3)}" + (f" {unit}" if unit else "")
        h = _HEADER_UNIT.search(line)
        if h:
            unit = h.group(1)
            rest = line[: h.start()] + line[h.end() :]
            line = _BARE_NUMBER.sub(lambda n, u=unit: f"{n.group(1)} {u}", rest)
        out.append(line)
    return "\n".join(out)


_SHARED_UNIT = re.compile(
    r"(?<![\d.,])(\d+(?:\.\d+)?)[ \t]*(/|\bor\b)[ \t]*(?=(\d+(?:\.\d+)?)[ \t]*([KMG]i?B)\b)")
def _share_unit(m: re.Match[str]) -> str:
    """Only between values of one kind and size (within 10×): '903400 / 12.6 MB' stays as it is."""
    a, b = float(m.group(1)), float(m.group(3))
    if a <= 0 or b <= 0 or not 0.1 <= a / b <= 10:
        return m.group(0)
    return f"{m.group(1)} {m.group(4)} {m.group(2)} "


_MIDDOT_SEPARATOR = re.compile(r"(?<=[A-Za-z%])[ \t]+[·•][ \t]+|(?<=\d)[ \t]+[·•][ \t]+(?=[^\W\d_])")
_KEY_UNIT = re.compile(
    r"\b([A-Za-z]\w*?)_(mb|mib|gb|gib|kb|kib|bytes)\b[\"']?\s*[:=]\s*"
    r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)(?![\d.]|,\d)", re.I)
#: A byte unit right before a number that has none of its own, not after another number:
#: "ni angalau MB 12.6" -> "12.6 MB"; "6 MB 3 MB" and "12.6 MB 565.6 MB" stay as they are.
_UNIT_FIRST = re.compile(
    r"(?<![\d.,])(?<![\d.,] )(?<![\w.,])(MB|GB|kB|KB|MiB|GiB|KiB|Mo|Go|МБ|ГБ|КБ)[ \t]+"
    r"(\d+(?:[.,]\d+)?)(?![\d.,]*\s*(?:[KMG]i?B|[KMG]o|bytes?|%|[МГК]Б))")


#: $...$, $$...$$ and the \(...\) / \[...\] delimiters
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$|\\\[(.+?)\\\]|\\\(([^\n]+?)\\\)", re.S)
_LATEX_WORDS = [
    # "\times10^{8}": a macro ends where its letters do ("\b" would need a non-word character next)
    (r"\{,\}", ","), (r"\\(?:times|cdot|ast)(?![A-Za-z])", " × "),
    (r"\\(?:approx|simeq|sim)(?![A-Za-z])", " ≈ "),
    (r"\\(?:text|mathrm|textrm|mbox|mathit|textbf|mathbf|operatorname)\s*\{([^{}]*)\}", r" \1"),
    (r"\^\{([^{}]*)\}", r"^\1"), (r"_\{([^{}]*)\}", r"_\1"),  # before \frac: its parts hold no braces
    (r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)"), (r"\\(?:left|right|big|Big)(?![A-Za-z])", ""),
    (r"\\[,;:! ]|~", " "), (r"\\(?:quad|qquad)(?![A-Za-z])", " "),
    (r"\\[A-Za-z]+", " "), (r"[{}]", ""),
]


_SIUNITX = re.compile(r"\\(?:SI|qty)\s*\{([^{}]*)\}\s*\{([^{}]*)\}|\\num\s*\{([^{}]*)\}")
_SI_PREFIX = {"kilo": "k", "mega": "M", "giga": "G", "kibi": "Ki", "mebi": "Mi", "gibi": "Gi"}


def _siunitx(m: re.Match[str]) -> str:
    """'\\SI{12.6}{\\mega\\byte}' -> '12.6 MB', '\\num{903400}' -> '903400' (siunitx, in or out of math)."""
    if m.group(3) is not None:
        return m.group(3)
    unit = m.group(2)
    named = re.fullmatch(r"\s*\\(kilo|mega|giga|kibi|mebi|gibi)?\s*\\?(byte|bit)\s*", unit)
    if named:
        unit = (_SI_PREFIX.get(named.group(1) or "", "")) + ("B" if named.group(2) == "byte" else "bit")
    return f"{m.group(1)} {unit.strip()}"


def _plain_latex(text: str) -> str:
    """'$903{,}400$', '$100 \\times 150 = 15{,}000$', '$\\approx 12.6\\,\\text{MB}$': LaTeX math
    as the numbers and operators it shows (notebooks render it; the reader reads the source)."""
    def plain(m: re.Match[str]) -> str:
        body = next(g for g in m.groups() if g is not None)
        for pattern, repl in _LATEX_WORDS:
            body = re.sub(pattern, repl, body)
        return re.sub(r"[ \t]{2,}", " ", body).strip()
    if "\\" in text:
        text = _SIUNITX.sub(_siunitx, text)
    return _MATH.sub(plain, text) if re.search(r"\$|\\[\[(]", text) else text


#: A heading or a label line whose unit is in parentheses: "### RAM (MB)", "**Memory (MiB):**"
_UNIT_HEADING = re.compile(r"^\s*(?:#{1,6}\s+)?[^\d\n|]{2,40}\(\s*([KMG]i?B|bytes)\s*\)\s*:?\s*$")
_BARE_ITEM = re.compile(r"^(\s*(?:[-*•]\s+)?[^\W\d][^\n:=]{0,40}[:=]\s*)(\d+(?:[.,]\d+)?)\s*$")


_COUNT_LABEL = re.compile(r"\bsize\b|\bcount\b|number\s+of|param|weights|images|filters", re.I)


def _header_unit(text: str) -> str:
    """'### RAM (MB)' then '- prediction: 12.61': a bare value under a heading that names its unit
    takes it, in the block of 'label: value' lines right under the heading."""
    lines = text.split("\n")
    unit = ""
    for k, line in enumerate(lines):
        m = _UNIT_HEADING.match(line)
        if m:
            unit = m.group(1)
            continue
        item = _BARE_ITEM.match(line) if unit else None
        if item and _COUNT_LABEL.search(item.group(1)):
            continue  # "- batch size: 50", "- params: 903400": a count under the heading, not memory
        if item:
            lines[k] = f"{item.group(1)}{item.group(2)} {unit}"
        elif line.strip():
            unit = ""  # the heading's block of values ends at the first other line
    return "\n".join(lines)


_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


_GENERIC_HEADER = re.compile(r"\s*(?:values?|answers?|results?|numbers?|amounts?|quantity|quantities|parts?|"
                             r"items?|what|questions?|q|#|)\s*", re.I)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables_as_sentences(text: str) -> str:
    """A markdown table with a header row is read row by row with each cell under its column's
    name: '| conv1 | 2,800 | 6,000 |' under '| layer | params | memory (KB) |' ->
    'layer conv1, params 2,800, memory 6,000 KB'. A column's unit applies to its cells only."""
    lines = text.split("\n")
    header: list[str] | None = None
    for k, line in enumerate(lines):
        if k and _TABLE_SEPARATOR.match(line) and "|" in lines[k - 1]:
            header = _cells(lines[k - 1])
            continue
        if header is None or "|" not in line:
            header = None if "|" not in line else header
            continue
        out = []
        for col, (name, cell) in enumerate(zip(header, _cells(line), strict=False)):
            if not cell:
                continue
            unit = _HEADER_UNIT.search(name)
            if unit:
                name = (name[: unit.start()] + name[unit.end() :]).strip()
                cell = _BARE_NUMBER.sub(rf"\1 {unit.group(1)}", cell)
            elif _BYTES_COLUMN.fullmatch(name) and not re.search(r"[×x*·+]", cell):
                # "| Bytes (float32) |", "| bytes |": the column counts bytes, its bare cells too
                cell = _BARE_NUMBER.sub(r"\1 bytes", cell)
            if _GENERIC_HEADER.fullmatch(name) or (col == 0 and not re.match(r"[\d~≈.]", cell)):
                name = ""  # "| value |", or the row's own label in the first column
            out.append(f"{name} {cell}".strip())
        label = out[0] + ": " if out and len(out) > 1 and not re.match(r"[\d~≈.]", out[0]) else ""
        lines[k] = label + ", ".join(out[1:] if label else out) + "."
    return "\n".join(lines)


_BYTES_COLUMN = re.compile(r"\s*(?:memory\s+|size\s+|ram\s+)?(?:bytes?|octets?)\s*(?:\([^()]*\))?\s*", re.I)


_BARE_LINE = re.compile(r"^\s*(?:(?:[-*•]|\(?[a-c1-3][.):])\s*)?[~≈]?\s*(\d[\d,. ]*\d|\d)\s*$")


_BARE_ROW = re.compile(r"(\d[\d,]*\d|\d)\s*[;,/|]\s+(\d+(?:\.\d+)?)\s*[;,/|]\s+(\d+(?:\.\d+)?)")


def _bare_lines_in_mb(text: str) -> str:
    """'903,400 / 12.6 / 565.6' on three lines (or one) and no unit anywhere: the answers in the question's
    order, the two amounts of memory in megabytes (the unit the question's scale implies), or in the
    unit a note in words next to them names ('the RAM figures are in MiB')."""
    one = _BARE_ROW.match(text.strip())
    if one and float(one.group(2)) < float(one.group(1).replace(",", "")):  # "903400, 12.6, 565.6"
        return f"{one.group(1)}\n{one.group(2)} MB\n{one.group(3)} MB"
    lines = [ln for ln in text.split("\n") if ln.strip()]
    bare = [k for k, ln in enumerate(lines) if _BARE_LINE.match(ln)]
    # the three bare lines, and at most a note in words around them ("the RAM figures are in MiB")
    rest = " ".join(ln for k, ln in enumerate(lines) if k not in bare)
    if len(bare) != 3 or bare[2] - bare[0] != 2 or re.search(r"\d", rest):
        return text
    named = re.search(r"\b(MiB|GiB|KiB|kB|KB|GB|MB)\b", rest)
    unit = named.group(1) if named else "MB"
    out, k = [], 0
    for line in text.split("\n"):
        if line.strip() and _BARE_LINE.match(line):
            k += 1
            if k > 1:
                line = f"{line.rstrip()} {unit}"
        out.append(line)
    return "\n".join(out)
