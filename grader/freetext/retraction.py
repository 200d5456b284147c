"""Self-corrections: a claim the student takes back at once is not asserted.

Students think on the page: "increase the batch size ... no, sorry, that's backwards, a bigger
batch needs more memory", "it reduces the parameters... well, actually it has none at all",
"every neuron is connected to every neuron... sorry, that's fully CONNECTED". A TA reads the
claim as withdrawn and deducts nothing for it. A retraction is a marker after the claim in its
own sentence, or opening the next one; "actually" alone is too common ("it actually has no
weights") and counts only where it opens the next sentence with a turn ("well, actually").
"""

from __future__ import annotations

import re

#: After the claim, in its own sentence: "..., no, sorry", "-- wait, that's wrong".
_AFTER = re.compile(
    r"\b(?:no+\s*,?\s*(?:wait|sorry)|sorry|oops|scratch that|strike that|my bad|nope|"
    r"(?:that|this|it)\s*(?:'s|is|was)\s+(?:wrong|backwards|incorrect|not right|not true|a mistake)|"
    r"(?:i\s+)?take\s+(?:that|it)\s+back|never\s*mind|i\s+was\s+wrong|(?:edit|update)\s*:)", re.I)
#: Opening the next sentence: "Sorry, ...", "Well, actually ...", "No wait, ...", "Correction: ...".
_OPENS = re.compile(
    r"^\W*(?:(?:well|hmm+|oh|ok|okay|erm|uh)\W+)?"
    r"(?:actually\b|no\s*,|no+\s+(?:wait|sorry)\b|nope\b|sorry\b|wait\b|oops\b|scratch that|"
    r"my bad|correction\s*:|(?:edit|update)\s*:|i mean\b|i\s+take\s+(?:that|it)\s+back|"
    r"i\s+was\s+wrong|let\s+me\s+correct|"
    r"(?:that|this)\s*(?:'s|is|was)\s+(?:wrong|backwards|incorrect|not right|not true))", re.I)


def withdrawn(sentence: str, claim_end: int, next_sentence: str | None) -> bool:
    """The claim ending at `claim_end` in `sentence` is taken back right after it."""
    if _AFTER.search(sentence[claim_end:]):
        return True
    return bool(next_sentence) and bool(_OPENS.match(next_sentence))
