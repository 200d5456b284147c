"""Text from submissions made safe for the terminal.

File names and student text reach the terminal through rich (summaries, progress lines) and
plain prints (error messages). A file name can carry escape sequences (clearing the screen,
retitling the window, faking a line) or rich markup (`[link=...]`, `[bold red]`) that would be
interpreted instead of shown. `plain` removes control and escape sequences (and bidirectional
overrides that reorder what is shown); `markup_safe` also escapes rich markup with rich's own
`rich.markup.escape`, so the text prints exactly as written.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, then any
# remaining C0/C1 control character and the Unicode bidi controls
_SEQUENCES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x9b[0-?]*[ -/]*[@-~]?"
                        r"|[\x1b\x9d][\]P_^X][^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)?|\x1b.?")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def plain(text: object) -> str:
    """`text` without escape sequences or control characters (newlines and tabs become spaces)."""
    s = _SEQUENCES.sub("", str(text))
    return _CONTROLS.sub(lambda m: " " if m.group() in "\n\t\r" else "", s)


def markup_safe(text: object) -> str:
    """`plain(text)` with rich markup escaped, for console.print and rich tables."""
    from rich.markup import escape

    return escape(plain(text))
