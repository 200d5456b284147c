"""Sentences of a student's free text (`Segment`s): where each one starts and ends, so a caller
can decide from context what a number in it answers. A line that does not end a sentence runs on
into the next when the next one continues it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Segment:
    """A sentence (or a line with no sentence end) and where it sits in the text."""

    text: str
    start: int
    end: int
    labels: list[str] = field(default_factory=list)


#: A sentence may start with a number ("... of weights). 50 images need 565.6 MB"), but not after
#: a question mark: "36 MB? 526 MB? 565.6 MB?" is one list of guesses, not three sentences.
#: "。", "；", "।" end a sentence in scripts that put no space after them.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÖØ-ÞА-ЯЁ(*\-•#]|$)|(?<=[A-Za-zА-Яа-яЁё)][.!])\s+(?=\d)|"
                           r"(?<=[。；！？।])\s*(?=\S)")
#: "ca. 12,6 MB", "approx. 14 MB": a period that ends an abbreviation, not a sentence
_ABBREVIATION = re.compile(
    r"\b(?:ca|approx|appr|circa|e\.g|i\.e|resp|vs|etc|no|nr|bzw|z\.b|env|aprox)\.$", re.I)


def segments(text: str) -> list[Segment]:
    """Split into sentences; a line that does not end a sentence runs on when the next line
    continues it (starts lower-case, with a digit, an operator or a parenthesis)."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    blocks: list[tuple[int, int]] = []
    fenced = False  # inside a ``` block each line stands alone (aligned output, not prose)
    for start, end in lines:
        line = text[start:end]
        if not line.strip():
            continue
        if re.match(r"\s*(?:```|~~~)", line):
            fenced = not fenced
            blocks.append((start, end))
            continue
        if blocks and not fenced and not re.match(r"\s*(?:```|~~~)", text[blocks[-1][0]:blocks[-1][1]]):
            prev = text[blocks[-1][0] : blocks[-1][1]].rstrip()
            nxt = line.lstrip()
            # a line runs on when it cannot end there (an operator, a comma), when the next one
            # continues an equation, or when a sentence without a formula wraps ("One prediction\nneeds")
            # short notes, one amount a line ("total: 903,400 parameters\nprediction 12.6 MB"), are
            # no prose wrapped between words
            notes = len(prev) < 60 and bool(re.search(r"\d", prev) and re.search(r"\d", nxt))
            runs_on = (
                not re.search(r"[.!?;]$", prev)
                and not re.match(r"[-•*]\s", nxt)
                and bool(
                    re.search(r"[×x*+/=≈~,(]$|\b(?:and|of|plus|or|the|a|an|for|to|with|in|on|by|per|at)$",
                              prev)
                    or re.match(r"[=≈~×*+/]", nxt)
                    or (prev.endswith(":") and re.match(r"[~≈]?\s*\d[\d.,]*\s*[KMG]i?B\b", nxt))
                    or (re.match(r"[a-z(]", nxt) and not re.search(r"[=:≈~]", prev) and not notes)
                    # a sentence wrapped between two words, in any script ("одновременно\nнужно")
                    or (prev[-1:].islower() and nxt[:1].islower() and not re.search(r"[=≈~]", prev)
                        and not re.match(r"\w+\s*=", nxt) and not notes)
                    # "... ≈ 12,6 MB (feature map 1 dan 2 = 9 MB, ditambah\nparameter 3,6 MB).": an
                    # open parenthesis; "... = 3,72 Mo\npour les paramètres, donc ...": a long line of
                    # prose wrapped before a word that cannot start a sentence (lower case, no label)
                    or (prev.count("(") > prev.count(")") and not re.match(r"\w+\s*[=:]", nxt))
                    or (len(prev) >= 70 and re.match(r"[a-zà-ÿ]+\s+[a-zà-ÿ]", nxt) is not None
                        and not re.match(r"\w+\s*[=:]", nxt))
                )
            )
            if runs_on and (start - blocks[-1][1]) <= 1:
                blocks[-1] = (blocks[-1][0], end)
                continue
        blocks.append((start, end))
    out: list[Segment] = []
    for start, end in blocks:
        chunk = text[start:end]
        cut = 0
        ends = [m for m in _SENTENCE_END.finditer(chunk)
                if not (m.end() < len(chunk) and chunk[m.end()].isdigit()
                        and _ABBREVIATION.search(chunk[: m.start()]))]
        for m in [*ends, None]:
            stop = m.start() if m else len(chunk)
            piece = chunk[cut:stop]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                out.append(
                    Segment(
                        text=piece.strip(),
                        start=start + cut + lead,
                        end=start + cut + lead + len(piece.strip()),
                    )
                )
            if m:
                cut = m.end()
    return out
