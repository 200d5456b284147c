"""Checks that a rendered page is well-formed and self-contained (used by tests and tools).

HTML errors come from html5lib, the WHATWG parsing algorithm that browsers follow, so a page
it accepts without errors is parsed the same way everywhere (html5lib is a test dependency).
"""

from __future__ import annotations

import re

# src=/href=/xlink:href=/action= attribute values and CSS url(...) values
_ATTR = re.compile(
    r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE
)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]*)""", re.IGNORECASE)
_IMPORT = re.compile(r"""@import\s+['"]?([^'";\s]+)""", re.IGNORECASE)


def html_errors(text: str) -> list[str]:
    """Parse errors html5lib reports for `text` (empty list: well-formed HTML5)."""
    import html5lib

    parser = html5lib.HTMLParser(strict=False)
    parser.parse(text)
    return [
        f"line {line}, col {col}: {code} {data or ''}".strip() for (line, col), code, data in parser.errors
    ]


def external_urls(text: str) -> list[str]:
    """Every reference in `text` that would make the browser fetch something from elsewhere.

    In-page anchors (`#q2`) and relative links to sibling reports (`alice.html`) are allowed;
    anything with a scheme (http:, https:, ftp:, file:, ...) or starting with `//` is not,
    except `data:` URIs.
    """
    values = [next(v for v in m.groups() if v is not None) for m in _ATTR.finditer(text)]
    values += _CSS_URL.findall(text) + _IMPORT.findall(text)
    bad = []
    for v in values:
        v = v.strip()
        if v.startswith("//") or (re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", v) and not v.startswith("data:")):
            bad.append(v)
    return bad
