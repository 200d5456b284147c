"""Values the student rejects or reports as someone else's: "The total is NOT 903,400",
"903,400 is wrong", "the book says 903,400 but I disagree", "не 903 400". A rejected value is
never the student's answer."""

from __future__ import annotations

import re

from grader.parammath.cues import NEGATED_BEFORE
from grader.textnumbers import Quantity
from grader.textsegments import Segment

#: "Some people say 903,400 but ...": a value reported as someone else's; rejected only when the
#: student then contrasts it ("but", "however", "I disagree"), not in "the book says 903,400 and I agree"
_REPORTED_BEFORE = re.compile(
    r"\b(?:some(?:\s+people)?|others?|people|many|they|the\s+(?:book|internet|solution))\s+"
    r"(?:say|said|claim|claimed|get|got|write|wrote|think)s?\s+(?:(?:it\s+is|it'?s|that|the\s+answer\s+is)\s+)?$",
    re.I)
_CONTRAST_AFTER = re.compile(r"^[^.;]{0,40}?\b(?:but|however|though|disagree|wrong|incorrect)\b", re.I)

#: After a value: the student rejects it or gives it as someone else's ("903,400 is wrong",
#: "903,400 parameters is what the book says but I get ...").
_NEGATED_AFTER = re.compile(
    r"^\s*(?:(?:parameters?|params|weights|[KMG]i?B|bytes)\s+)?(?:\(\s*)?(?:is|are|would\s+be|seems)?\s*"
    r"(?:not\s+(?:right|correct|true|the\s+answer)|incorrect|wrong|a\s+mistake|,?\s*but\s+I\s+(?:don'?t|do\s+not)\s+agree|"
    r",?\s*but\s+I\s+disagree|"
    r"what\s+(?:the\s+)?(?:book|author|solution|others?|internet|chatgpt)\s+(?:says|gives|gets))\b", re.I)


#: Struck-through text: "~~903,400~~", "<del>630 MB</del>", "<s>9 MB</s>".
_STRUCK = re.compile(r"~~[^~\n]+~~|<(del|s|strike)>.*?</\1>", re.I | re.S)


def struck(text: str, q: Quantity) -> bool:
    """The value stands in struck-through text: the student retracted it."""
    return any(m.start() <= q.start and q.end <= m.end() for m in _STRUCK.finditer(text))


def is_negated(text: str, q: Quantity, seg: Segment) -> bool:
    """'The total is NOT 903,400', 'it is not 3.6 MB', 'does NOT need 630 MB', '903,400 is wrong',
    '~~903,400~~ 902,700'."""
    return bool(struck(text, q) or NEGATED_BEFORE.search(text[seg.start : q.start])
                or _NEGATED_AFTER.match(text[q.end : seg.end])
                or (_REPORTED_BEFORE.search(text[seg.start : q.start])
                    and _CONTRAST_AFTER.match(text[q.end : seg.end])))


#: A minus sign written as the value's sign, not as a subtraction: at the start of a line or after
#: ':', '=', '(' or an opening word ("params: -903400", "RAM = −14.1 MB", "is -12.6 MB").
_MINUS_SIGN = re.compile(r"(?:^|[:=(\[]|\b(?:is|are|was|be|needs?|takes?|uses?|of|about|approx(?:imately)?))"
                         r"[ \t*_]*[-−–][ \t]?$", re.I | re.M)


def signed_negative(text: str, q: Quantity) -> bool:
    """The value is written with a minus sign: a count or an amount of memory is never negative,
    so it is no answer a TA would credit ('params: -903400')."""
    return bool(_MINUS_SIGN.search(text[max(0, q.start - 40) : q.start]))
