"""Highlight matched phrases inside an answer excerpt, HTML-escaped, as <mark> spans."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape


def highlight(text: str, phrases: Iterable[str], wrong: Iterable[str] = ()) -> Markup:
    """Escape `text` and wrap every case-insensitive occurrence of any phrase in <mark>;
    `wrong` phrases (misconceptions) get <mark class="wrong">.

    Longer phrases win where two overlap, so "max pooling" is one mark, not "pooling" inside it.
    """
    text = str(text or "")
    bad = {p.strip().lower() for p in wrong if isinstance(p, str) and p.strip()}
    every = [*phrases, *wrong]
    wanted = sorted({p.strip() for p in every if isinstance(p, str) and p.strip()}, key=len, reverse=True)
    if not wanted:
        return Markup(escape(text))
    pattern = re.compile("|".join(re.escape(p) for p in wanted), re.IGNORECASE)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(str(escape(text[pos:m.start()])))
        if m.group(0).lower() in bad:
            out.append(f'<mark class="wrong" title="misconception">{escape(m.group(0))}</mark>')
        else:
            out.append(f'<mark title="matched">{escape(m.group(0))}</mark>')
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def phrases_of(matches: object) -> list[str]:
    """The phrases out of an evidence `matches` list ({concept, phrase, sentence}); tolerant."""
    if not isinstance(matches, list):
        return []
    return [m["phrase"] for m in matches if isinstance(m, dict) and isinstance(m.get("phrase"), str)]
