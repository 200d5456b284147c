"""Markdown/HTML as the text a reader sees: what is hidden is never graded.

Dropped: HTML comments, elements hidden with `display:none`, `visibility:hidden`, the `hidden`
attribute, zero opacity or font size, text coloured white or transparent (`<font
color="white">`, `style="color:#fff"`, LaTeX `\\color{white}{...}`) and text moved off the page
or clipped away (`left:-9999px`, `text-indent:-9999px`, `clip:rect(0 0 0 0)`, `transform:scale(0)`,
a zero width or height with `overflow:hidden`: the screen-reader-only tricks). Headings (`<h3>`) become
markdown headings and `<b>`/`<strong>` bold marks, so question labels written in HTML are still
found. Fenced code blocks are kept verbatim (their `<` and `#` are code, not markup).

The stdlib HTML parser is enough here: it tolerates the unclosed, half-valid tags notebooks hold
and needs no dependency.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"}
_BLOCK = {"p", "div", "li", "ul", "ol", "tr", "table", "pre", "blockquote", "section", "details",
          "summary", "dl", "dt", "dd", "center"}
_WHITE = re.compile(
    r"^(?:white|transparent|#f{3}(?:f{3})?|#f{8}|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*(?:,\s*[\d.]+\s*)?\)"
    r"|rgba\([^)]*,\s*0(?:\.0*)?\s*\)|hsla?\(\s*\d+\s*,\s*\d+%\s*,\s*100%.*\))$", re.I)
_FENCE = re.compile(r"^(\s*)(```|~~~)")
_LATEX_HIDDEN = re.compile(
    r"\\(?:textcolor|color)\s*\{\s*(?:white|transparent)\s*\}\s*(?:\{[^{}]*\})?", re.I)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_OFFSET_KEYS = {"left", "top", "right", "bottom", "text-indent", "margin-left", "margin-top"}
# far enough off that nothing of a line of text stays on the page
_FAR_OFF = re.compile(r"-\s*(?:\d{4,}(?:\.\d+)?\s*(?:px)?|\d{3,}(?:\.\d+)?\s*(?:em|rem|vw|vh|%))")
_ZERO = re.compile(r"(?=\.?0)0*(?:\.0*)?(?:px|em|rem|pt|%)?")  # "0", "0px", ".0em"; not ""


def _style_hides(style: str) -> bool:
    """Does an inline style keep its element's text from a reader's eyes?"""
    decls: dict[str, str] = {}
    for decl in style.split(";"):
        key, _, val = decl.partition(":")
        decls[key.strip().lower()] = val.strip().lower().replace("!important", "").strip()
    for key, val in decls.items():
        if key == "display" and val == "none":
            return True
        if key == "visibility" and val in ("hidden", "collapse"):
            return True
        if key in ("opacity", "font-size") and _ZERO.fullmatch(val):
            return True
        if key == "color" and _WHITE.match(val):
            return True
        if key in _OFFSET_KEYS and _FAR_OFF.fullmatch(val):
            return True
        if key == "clip" and re.fullmatch(r"rect\(\s*0\D*0\D*0\D*0\D*\)", val):
            return True
        if key == "clip-path" and re.fullmatch(r"inset\(\s*(?:50|100)%\s*\)|circle\(\s*0\D*\)", val):
            return True
        if key == "transform" and re.fullmatch(r"scale[xy]?\(\s*0(?:\.0*)?\s*(?:,\s*[\d.]+\s*)?\)", val):
            return True
    clipped = decls.get("overflow") == "hidden"
    sizes = [decls[k] for k in ("width", "height", "max-width", "max-height") if k in decls]
    return clipped and any(_ZERO.fullmatch(v) for v in sizes)


def _hidden(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        name = name.lower()
        value = (value or "").strip()
        if name == "hidden":
            return True
        if name == "color" and _WHITE.match(value):
            return True
        if name == "style" and _style_hides(value):
            return True
    return False


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden_tag: str | None = None
        self.depth = 0  # nesting of hidden_tag inside the hidden element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.hidden_tag is not None:
            if tag == self.hidden_tag:
                self.depth += 1
            return
        if tag not in _VOID and _hidden(tag, attrs):
            self.hidden_tag, self.depth = tag, 1
            return
        self._mark(tag, opening=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.hidden_tag is None and tag in ("br", "hr"):
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden_tag is not None:
            if tag == self.hidden_tag:
                self.depth -= 1
                if self.depth == 0:
                    self.hidden_tag = None
            return
        self._mark(tag, opening=False)

    def _mark(self, tag: str, *, opening: bool) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n" + "#" * int(tag[1]) + " " if opening else "\n")
        elif tag in ("b", "strong"):
            self.out.append("**")
        elif tag in _BLOCK or tag in ("br", "hr", "code"):
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" ")  # "<td>params</td><td>903,400</td>": cells apart, not glued

    def handle_data(self, data: str) -> None:
        if self.hidden_tag is None:
            self.out.append(data)


def _html_visible(text: str) -> str:
    text = _COMMENT.sub("", text)
    text = _LATEX_HIDDEN.sub("", text)
    if "<" not in text and "&" not in text:
        return text
    parser = _Visible()
    parser.feed(text)
    parser.close()
    return "".join(parser.out)


def visible_markdown(source: str) -> str:
    """The markdown a reader sees: hidden HTML removed, HTML headings/bold as markdown.

    Fenced code blocks pass through unchanged. Line structure is kept where the HTML allows.
    """
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in source.splitlines():
        m = _FENCE.match(line)
        if fence is None and m:
            out.append(_html_visible("\n".join(prose)))
            prose = []
            fence = m.group(2)
            out.append(line)
        elif fence is not None:
            out.append(line)
            if m and m.group(2) == fence:
                fence = None
        else:
            prose.append(line)
    if prose:
        out.append(_html_visible("\n".join(prose)))
    text = "\n".join(out)
    return "\n".join(line.rstrip() for line in text.splitlines())


def markdown_to_text(source: str) -> str:
    """Markdown/HTML answer text as plain prose: hidden parts, tags and heading marks removed."""
    text = visible_markdown(source)
    text = html.unescape(text)
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.M)
    text = text.replace("**", "").replace("__", "").replace("`", "")
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()
