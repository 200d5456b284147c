"""Highlight matched phrases inside an answer excerpt, HTML-escaped, as <mark> spans."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape


def highlight(text: str, phrases: Iterable[str]) -> Markup:
    """Escape `text` and wrap every case-insensitive occurrence of any phrase in <mark>.

    Longer phrases win where two overlap, so "max pooling" is one mark, not "pooling" inside it.
    """
    text = str(text or "")
    wanted = sorted({p.strip() for p in phrases if isinstance(p, str) and p.strip()}, key=len, reverse=True)
    if not wanted:
        return Markup(escape(text))
    pattern = re.compile("|".join(re.escape(p) for p in wanted), re.IGNORECASE)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(str(escape(text[pos:m.start()])))
        out.append(f'<mark title="matched">{escape(m.group(0))}</mark>')
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def phrases_of(matches: object) -> list[str]:
    """The phrases out of an evidence `matches` list ({concept, phrase, sentence}); tolerant."""
    if not isinstance(matches, list):
        return []
    return [m["phrase"] for m in matches if isinstance(m, dict) and isinstance(m.get("phrase"), str)]
