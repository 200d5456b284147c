"""English numbers written in words, as digits: 'nine hundred and three thousand parameters' ->
'903 thousand parameters', 'twelve point six megabytes' -> '12.6 megabytes', 'twenty-eight' ->
'28'. A lone small word ('one prediction', 'two layers') stays a word: the cues read it so.

A number that ends in its scale word keeps it ('903 thousand'), so it is as precise as written.
A Chinese / Japanese count in myriads with its remainder ('90万3400') is one number too."""

from __future__ import annotations

import re

_UNITS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])}
_TEENS = {w: i + 10 for i, w in enumerate(
    ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
     "nineteen"])}
_TENS = {w: (i + 2) * 10 for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}
_WORDS = {**_UNITS, **_TEENS, **_TENS, "hundred": 100, **_SCALES, "and": 0, "a": 1, "point": 0}
_RUN = re.compile(r"\b(?:(?:" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b[\s-]*)+", re.I)


def _parse(words: list[str]) -> tuple[str, int] | None:
    """The digits of the number the words start with, and how many words it takes (None: no number)."""
    total = cur = 0
    last = ""  # the kind of the last word taken: unit, teen, tens, hundred, scale
    scale_word = ""
    taken = 0
    decimals = ""
    j = 0
    while j < len(words):
        w = words[j]
        nxt = words[j + 1] if j + 1 < len(words) else ""
        if w == "a" and not last and nxt in ("hundred", *_SCALES):
            cur, last = 1, "unit"
        elif w == "and" and last in ("hundred", "scale") and (nxt in _UNITS or nxt in _TEENS or nxt in _TENS):
            pass
        elif w in _UNITS and last in ("", "tens", "hundred", "scale"):
            cur += _UNITS[w]
            last = "unit"
        elif (w in _TEENS or w in _TENS) and last in ("", "hundred", "scale"):
            cur += _TEENS.get(w) or _TENS[w]
            last = "teen" if w in _TEENS else "tens"
        elif w == "hundred" and last in ("unit", "teen") and cur < 100:
            cur *= 100
            last = "hundred"
        elif w in _SCALES and last in ("unit", "teen", "tens", "hundred") and cur:
            total += cur * _SCALES[w]
            cur, last, scale_word = 0, "scale", w
        elif w == "point" and last in ("unit", "teen", "tens") and nxt in _UNITS:
            k = j + 1
            while k < len(words) and words[k] in _UNITS:
                decimals += str(_UNITS[words[k]])
                k += 1
            taken = k
            break
        else:
            break
        j += 1
        if last != "":
            taken = j
    if not last:
        return None
    value = total + cur
    if decimals:
        return f"{value}.{decimals}", taken
    if last == "scale":
        return f"{value // _SCALES[scale_word]:,} {scale_word}".replace(",", ""), taken
    return str(value), taken


def digits_for_number_words(text: str) -> str:
    """Each run of number words becomes digits, unless it is one small word ('one', 'two layers')."""
    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        parts = list(re.finditer(r"[A-Za-z]+", run))
        words = [p.group(0).lower() for p in parts]
        out, pos, i = [], 0, 0
        while i < len(words):
            parsed = _parse(words[i:])
            if parsed is None or (parsed[1] == 1 and words[i] in _UNITS) or words[i] in ("and", "point"):
                i += 1
                continue
            digits, n = parsed
            spanned = run[parts[i].start() : parts[i + n - 1].end()]
            # "about nine\nhundred and three thousand": the number keeps the line break before it
            out += [run[pos : parts[i].start()], "\n" * ("\n" in spanned), digits]
            pos = parts[i + n - 1].end()
            i += n
        return "".join(out) + run[pos:]
    return _RUN.sub(repl, text)


#: "90万3400" (Japanese, Chinese: 90 myriads and 3,400): one count, not 900,000 and 3,400
_MYRIADS = re.compile(r"(?<![\d.,])(\d{1,4})[万萬](\d{1,4})(?![\d.,万萬])")


def digits_for_myriads(text: str) -> str:
    return _MYRIADS.sub(lambda m: str(int(m.group(1)) * 10_000 + int(m.group(2))), text)
