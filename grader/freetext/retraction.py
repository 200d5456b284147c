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


# ---- a right claim taken back earns nothing --------------------------------------------------
# A TA credits what the student stands by: "Pooling has no learnable weights... hmm wait, I think
# it does keep one per channel?", "ResNet: skip connections... or was that DenseNet? ignore that
# one", "the parameters are reduced... well, in fact not always, so I am not sure it is an
# advantage" earn nothing for the claim withdrawn. Stricter than for misconceptions: "actually"
# and "sorry" open many sentences that go on to add a point ("Actually, it is also faster").

#: After the claim, in its own sentence.
_AFTER_CLAIM = re.compile(
    r"\b(?:no+\s*,?\s*(?:wait|sorry)|scratch that|strike that|my bad|"
    r"(?:that|this|it)\s*(?:'s|is|was)\s+(?:wrong|backwards|incorrect|not right|not true|a mistake)|"
    r"(?:i\s+)?take\s+(?:that|it)\s+back|never\s*mind|i\s+was\s+wrong|"
    r"ignore\s+(?:that|this|it)|forget\s+(?:that|this|it|what\s+i\s+said)|disregard\s+(?:that|this))\b", re.I)
#: Opening the next sentence.
_OPENS_CLAIM = re.compile(
    r"^\W*(?:(?:well|hmm+|oh|ok|okay|erm|uh|so)\W+)?"
    r"(?:no\s*,|no+\s+(?:wait|sorry)\b|nope\b|wait\b|oops\b|scratch that|my bad|correction\s*:|"
    r"i\s+take\s+(?:that|it)\s+back|i\s+was\s+wrong|(?:actually|in\s+fact)\s*,?\s*(?:no|not)\b|"
    r"not\s+always\b|ignore\s+(?:that|this)|forget\s+(?:that|this)|"
    r"(?:that|this)\s*(?:'s|is|was)\s+(?:wrong|backwards|incorrect|not right|not true))", re.I)
#: Anywhere in the next sentence: "ignore that one", "so I am not sure it is really an advantage".
_DOUBTS_CLAIM = re.compile(
    r"\b(?:ignore\s+(?:that|this|it)|forget\s+(?:that|this|what\s+i\s+said)|disregard\s+(?:that|this)|"
    r"don'?t\s+count\s+(?:that|this|it)|scratch\s+that|(?:i\s+)?take\s+(?:that|it)\s+back|"
    r"i(?:'m|\s+am)?\s+not\s+sure\s+(?:that\s+|whether\s+|if\s+)?(?:it|that|this)\s*(?:'s|is|was)\s+"
    r"(?:really\s+|actually\s+)?(?:an?\s+)?(?:advantage|true|right|correct|the\s+case))", re.I)


def claim_withdrawn(sentence: str, claim_end: int, following: list[str]) -> bool:
    """A (right) claim ending at `claim_end` is taken back: a marker after it in its sentence, an
    opening turn or a doubt in the next sentence, or "ignore that" after a doubting question
    ("... or was that DenseNet? I keep mixing them up, ignore that one")."""
    if _AFTER_CLAIM.search(sentence[claim_end:]):
        return True
    if not following:
        return False
    nxt = following[0]
    if _OPENS_CLAIM.match(nxt) or _doubted(nxt):
        return True
    return nxt.rstrip().endswith("?") and len(following) > 1 and _doubted(following[1])


#: A doubt that goes on to narrow the claim keeps it: "I'm not sure that's right in general,
#: maybe only when the map is already 1x1" states when it holds.
_CAVEAT = re.compile(r"\b(?:in\s+general|only\s+(?:when|if|for|in)|unless|except)\b", re.I)


def _doubted(sentence: str) -> bool:
    m = _DOUBTS_CLAIM.search(sentence)
    return bool(m) and not _CAVEAT.search(sentence, m.end())
