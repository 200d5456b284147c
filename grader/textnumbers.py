"""Numbers, amounts of memory and arithmetic steps, read from a student's free text.

Students write "903,400", "903.400" (dot as thousands separator), "903 400", "0.9 M",
"9.03e5", "9.03 × 10^5", "36.11 megabytes", "3,6 MB" and formulas such as
"100 feature maps x (3x3x3 parameters) = 27,000". This module turns such text into
`Quantity` objects (value in base units: a plain count, or bytes), `Equation` objects (a
formula, what it really evaluates to and what the student wrote after "=", in
grader.textformulas); grader.textsegments
cuts the text into `Segment`s (sentences, so a caller can decide from context what a number answers).

Why hand-written: the libraries that extract quantities (quantulum3, price-parser) read
"903.400" as 903.4, do not know KiB vs KB, and do not evaluate formulas written with "x" or
"×". Formulas are evaluated with Python's own `ast` (numbers and + - * / ** only, never eval),
so the arithmetic is the standard library's, not ours.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

#: Byte units, canonical name -> bytes. "Mb" and "mb" are read as megabytes: students mean that.
BYTE_UNITS: dict[str, float] = {
    "B": 1,
    "kB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    # bits, for students who state memory in bits ("100.9 Mbit"): an eighth of the byte unit
    "kbit": 125,
    "Mbit": 125_000,
    "Gbit": 125_000_000,
    "bit": 0.125,  # "100,908,800 bits": a figure counted in bits throughout
}
#: The decimal unit and its binary twin: students mix them up, so both readings are tried.
UNIT_TWIN = {"kB": "KiB", "KiB": "kB", "MB": "MiB", "MiB": "MB", "GB": "GiB", "GiB": "GB"}

#: Also the French (octet, Ko/Mo/Go, Kio/Mio/Gio), Russian (байт, КБ/МБ/ГБ) and Arabic (بايت,
#: ميغابايت: megabyte, with Western digits) spellings.
_UNIT_WORDS: list[tuple[str, str]] = [
    (r"kilobits?|kbits?|Kbits?", "kbit"),
    (r"megabits?|Mbits?|mbits?", "Mbit"),
    (r"gigabits?|Gbits?|gbits?", "Gbit"),
    (r"bits?|Bits?", "bit"),  # "96 Millionen Bit": German capitalises nouns
    (r"[Kk]ibibytes?|KiB|kiB|Kib|Kio|КиБ", "KiB"),
    (r"[Mm]ebibytes?|MiB|Mib|Mio|МиБ", "MiB"),
    (r"[Gg]ibibytes?|GiB|Gib|Gio|ГиБ", "GiB"),
    (r"[Kk]ilo[- ]?[Bb]ytes?|kbytes?|KBytes?|KB|kB|Kb|kb|kilo-?octets?|Ko|ko|"
     r"КБ|Кб|кБ|кб|килобайт(?:а|ов)?|كيلوبايت|کیلوبایت", "kB"),
    (r"[Mm]ega[- ]?[Bb]ytes?|megs?|Mbytes?|MBytes?|MB|Mb|mb|mB|m[ée]ga-?octets?|Mo|"
     r"МБ|Мб|мб|мегабайт(?:а|ов)?|ميغابايت|ميجابايت|ميقابايت|مگابایت", "MB"),
    (r"[Gg]iga[- ]?[Bb]ytes?|gigs?|Gbytes?|GBytes?|GB|Gb|gb|giga-?octets?|Go|"
     r"ГБ|Гб|гб|гигабайт(?:а|ов)?|غيغابايت|جيجابايت|قيقابايت|گیگابایت", "GB"),
    (r"[Bb]ytes?|B|octets?|байт(?:а|ов)?|Б|بايت", "B"),
]
#: "Mio." is a million in German ("0,9 Mio. Parameter") but the mebioctet (MiB) in French
#: ("12,03 Mio"): a million only right before a word for parameters.
_MILLION_WORD = r"Mio\.?(?=\s*(?:de\s+)?(?:[Pp]aram|[Gg]ewicht|weights|poids|pesos|Werte))"
_MULTIPLIER_WORDS: list[tuple[str, float]] = [
    (r"thousand|k|K|тыс\.?", 1e3),
    (r"万|萬", 1e4),  # Chinese / Japanese "90.34万" = 903,400
    (r"亿|億", 1e8),
    # "0,9 millones", "0,9 milioni", "0,9 milhões", "0,9 Millionen"
    (rf"millions?|millones|millón|millon|milion[ei]|milh(?:ões|ão|oes|ao)|Million(?:en)?|mio|{_MILLION_WORD}|mn|M|"
     r"млн\.?|миллион(?:а|ов)?", 1e6),
    (r"billions?|bn|млрд\.?|Mrd\.?|Milliarden?|milliards?", 1e9),  # "0,57 Mrd. Byte", "milliards"
]
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

_MANTISSA = r"""
    \d{1,4}(?:,\d{1,4}){2,}(?=[ \t]*(?:bytes?|octets?|B)\b)  # 12,6136,00 bytes (commas garbled)
  | \d{1,2}(?:,\d{2})+,\d{3}(?![\d]|,\d)    # 9,03,400  1,26,13,600 (Indian lakh/crore grouping)
  | \d{1,3}(?:,\d{3})+,\d{1,2}(?![\d])       # 1,802,00 (grouping commas misplaced)
  | \d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])     # 903,400  1,343,400.5 (not 90,3400)
  | \d{1,3}(?:\.\d{3}){2,}(?:,\d+)?         # 1.343.400 (dots as thousands separators)
  | \d{1,3}(?:'\d{3})+(?:\.\d+)?            # 903'400
  | \d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+,\d{1,2}(?![\d,.]\d)  # 12 613,6 (space groups, decimal comma)
  | \d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?![\d,.]\d)  # 903 400
  | \d+(?:[.,]\d+)?                         # 903400  12.6  12,6
  | [.,]\d+                                 # .5
"""
_MULT_ALT = "|".join(w for w, _ in _MULTIPLIER_WORDS)
_UNIT_ALT = "|".join(w for w, _ in _UNIT_WORDS)
_NUMBER_RE = re.compile(
    rf"""
    (?<![0-9A-WYZa-wyz_.,'])                     # not inside a word or another number ("float32")
    (?P<mantissa>{_MANTISSA})
    (?:
        (?P<exp>[eE][-+]?\d+)                      # 9.03e5
      | \s*(?:[x×*·⋅∙]\s*10\s*(?:\^|\*\*)\s*(?P<pow>[-+]?\d+)|[x×*·⋅∙]\s*10(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+))
    )?
    (?:[ \t\u00a0]*(?P<mult>{_MULT_ALT})(?![A-Za-zА-Яа-яЁё])              # not across lines
       (?:(?:[ \t]+(?:de|di|of)[ \t]+|[ \t]*d['’][ \t]*)(?=(?:{_UNIT_ALT})\b))?)?  # "12,6 millions d'octets"
    (?:[ \t\u00a0]*(?P<unit>{_UNIT_ALT})(?:(?<=[A-Z])s)?(?![A-Za-zА-Яа-яЁё]))?  # "12.6 MBs" too
    """,
    re.VERBOSE,
)
_COUNT_CONTEXT = re.compile(
    r"^\s*(?:trainable\s+)?(?:param|weight|float|value|number|neuron|connection)", re.I
)


@dataclass
class Quantity:
    """One number as written. `value` is in base units: a count, or bytes when `unit` is set."""

    raw: str
    value: float
    start: int
    end: int
    unit: str | None = None  # canonical byte unit (B, kB, MB, GB, KiB, MiB, GiB) or None
    precision: float = 0.5  # half a unit of the last digit written, in base units
    note: str = ""  # how an ambiguous spelling was read
    number: float = 0.0  # the number before its byte unit (36.11 for "36.11 MB")
    alternatives: list[float] = field(default_factory=list)  # other readings ("2.800": 2.8 or 2800)

    @property
    def is_memory(self) -> bool:
        return self.unit is not None

    def readings(self) -> list[tuple[float, str]]:
        """(bytes, unit) for each plausible reading: MB is also tried as MiB and back."""
        out = [(self.value, self.unit or "")] + [(v, self.unit or "") for v in self.alternatives]
        if self.unit in UNIT_TWIN:
            twin = UNIT_TWIN[self.unit]
            out.append((self.number * BYTE_UNITS[twin], twin))
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unit_name(word: str) -> str:
    for pattern, name in _UNIT_WORDS:
        if re.fullmatch(pattern, word):
            return name
    raise ValueError(word)


def _multiplier(word: str) -> float:
    if re.fullmatch(r"Mio\.?", word):
        return 1e6  # the lookahead that made it a million is behind us
    for pattern, factor in _MULTIPLIER_WORDS:
        if re.fullmatch(pattern, word):
            return factor
    raise ValueError(word)


def _parse_mantissa(text: str, after: str) -> tuple[float, int, str, float | None]:
    """(value, decimals written, note, other reading) for a digit string; `after` follows it."""
    note = ""
    other = None
    if re.fullmatch(r"\d{1,4}(?:,\d{1,4}){2,}", text) and re.match(r"[ \t]*(?:bytes?|octets?|B)\b", after) \
            and not re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3}", text):
        text, note = text.replace(",", ""), "grouping commas garbled: read as the digits written"
    elif re.fullmatch(r"\d{1,2}(?:,\d{2})+,\d{3}", text):
        text, note = text.replace(",", ""), "Indian digit grouping (lakh, crore)"
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+,\d{1,2}", text):
        # "1,802,00": the digits as written (180,200); a dropped zero (1,802,000) is the other reading
        last = text.rsplit(",", 1)[1]
        text, note = text.replace(",", ""), "grouping commas misplaced: read as the digits written"
        other = float(text + "0" * (3 - len(last)))
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?", text):
        text, note = text.replace(".", "").replace(",", "."), "dots read as thousands separators"
    elif re.fullmatch(r"\d{1,3}(?:'\d{3})+(?:\.\d+)?", text):
        text = text.replace("'", "")
    elif re.fullmatch(r"\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:,\d+)?", text):
        text = re.sub(r"\s", "", text).replace(",", ".")
    elif re.fullmatch(r"\d{1,3}\.\d{3}", text) and _COUNT_CONTEXT.match(after):
        # "903.400 parameters": a count with a fractional part makes no sense, so the dot groups digits
        text, note, other = text.replace(".", ""), "dot read as a thousands separator", float(text)
    elif re.fullmatch(r"\d{1,3}\.\d{3}", text):
        other = float(text.replace(".", ""))  # "2.800" may group digits too
    elif re.fullmatch(r"\d{1,3},\d{4,}", text):
        # "12,6136 MB" is a decimal comma; "90,3400 parameters" is 903400 with the comma misplaced
        other = float(text.replace(",", ""))
        text, note = text.replace(",", "."), "comma read as a decimal point (or misplaced grouping)"
    elif re.fullmatch(r"\d+,\d{1,2}|\d+,\d{4,}|,\d+", text):
        text, note = text.replace(",", "."), "comma read as a decimal point"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), decimals, note, other


#: A text written the European way: dots group thousands ("1.500.000") or commas are decimal
#: points ("12,6 MB"), and no dot is a decimal point ("12.6").
_EUROPEAN = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3}){2,}(?![\d.,])|(?<![\d.,])\d+,\d{1,2}(?![\d.,])")
_DOT_DECIMAL = re.compile(r"(?<![\d.,])\d+\.(?:\d{1,2}|\d{4,})(?![\d.,])")


#: Digits grouped with commas outside an amount of mega- or gigabytes: "903,400", "1,500,000 floats".
_COMMA_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,]|\.\d|\s*(?:[MG]i?B|Mo|Go|МБ)\b)")


def is_european(text: str) -> bool:
    return bool(_EUROPEAN.search(text)) and not _DOT_DECIMAL.search(text)


def find_quantities(text: str, *, european: bool | None = None) -> list[Quantity]:
    """Every number in `text`, with its unit and multiplier applied. In a text written the European
    way, '750.000' is 750,000 (elsewhere it may be either, and both readings are kept)."""
    if european is None:
        european = is_european(text)
    out: list[Quantity] = []
    for m in _NUMBER_RE.finditer(text):
        mantissa = m.group("mantissa")
        value, decimals, note, other = _parse_mantissa(mantissa, text[m.end("mantissa") :])
        step = 10.0**-decimals
        exponent = m.group("exp") or m.group("pow") or (m.group("sup") or "").translate(_SUPERSCRIPTS)
        if exponent:
            exp = int(exponent.lstrip("eE"))
            value, step = value * 10.0**exp, step * 10.0**exp
        if m.group("mult"):
            factor = _multiplier(m.group("mult"))
            value, step = value * factor, step * factor
        number = value
        unit = _unit_name(m.group("unit")) if m.group("unit") else None
        alternatives = (
            [other] if other is not None and not unit and not exponent and not m.group("mult") else []
        )
        if (european and alternatives and value < alternatives[0]
                and re.fullmatch(r"\d{1,3}\.\d{3}", mantissa)):
            value, step, alternatives = alternatives[0], 1.0, [value]
            note = note or "dot read as a thousands separator (the answer writes numbers that way)"
            number = value
        if unit == "B" and european and not exponent and re.fullmatch(r"\d{1,3}\.\d{3}", mantissa):
            # "4 · 903.400 Byte" in an answer that writes 1.500.000: a fraction of a byte is no
            # figure anyone works out, so the dot groups digits
            value = number = float(mantissa.replace(".", ""))
            step, note = 1.0, "dot read as a thousands separator (the answer writes numbers that way)"
        if (unit in ("MB", "GB", "MiB", "GiB") and not exponent and not m.group("mult")
                and re.fullmatch(r"\d{1,3},\d{3}", mantissa)
                and (european or not _COMMA_GROUPED.search(text))):
            # "12,614 MB" where the answer groups no digits with commas (or writes the European way):
            # a decimal comma; 12,614 megabytes for one image is not what anyone works out
            value = number = float(mantissa.replace(",", "."))
            step, note = 0.001, "comma read as a decimal point (the answer groups no digits with commas)"
        if unit:
            value, step = value * BYTE_UNITS[unit], step * BYTE_UNITS[unit]
        out.append(
            Quantity(
                raw=m.group(0).strip(),
                value=value,
                start=m.start(),
                end=m.end(),
                unit=unit,
                precision=step / 2,
                note=note,
                number=number,
                alternatives=alternatives,
            )
        )
    return out


PRECISION_CAP = 0.1


def agrees(true_value: float, q: Quantity, *, rel: float = 0.0) -> bool:
    """Does `q` (as written, to its precision, MB read as MiB too) equal `true_value`?"""
    for value, _unit in q.readings():
        step = q.precision * (value / q.value) if q.value and value != q.value and q.unit else q.precision
        if q.alternatives and value in q.alternatives:
            step = 0.5
        # "about 1 GB" is not 565.6 MB, nor "~1M" 903,400: a figure written with one digit agrees
        # to its precision only while that is within 10% ("~0.9M", "about 13 MB" still do)
        step = min(step, max(0.5, PRECISION_CAP * abs(true_value)))
        if abs(value - true_value) <= max(step, rel * abs(true_value)) + 1e-9:
            return True
    return False


def format_number(value: float, digits: int = 0) -> str:
    """903400 -> '903,400'; with digits, 12.6136 -> '12.61'."""
    if digits:
        return f"{value:,.{digits}f}"
    return f"{round(value):,}"


def __getattr__(name: str) -> Any:
    """The formula names lived here before grader.textformulas: old imports keep working."""
    if name in ("Equation", "Formula", "find_equations", "formula_at_end", "safe_eval"):
        import grader.textformulas as formulas
        return getattr(formulas, name)
    raise AttributeError(name)
