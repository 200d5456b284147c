"""How close a line a student wrote is to a question's prompt or title.

Content words (stopwords dropped, Snowball-stemmed) are compared with typo tolerance
(rapidfuzz's edit-distance ratio per word; a short word that begins a longer one counts too,
"conv" for "convolutional"). The score is the better of the word F1 (paraphrase of the whole
prompt or title) and the share of the line's words found in the prompt, scaled by how many
matched (a long copy of the prompt's first sentence). 0..1; under 0.5 is not a match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

_STOP = frozenset("""
a an the of to in on for and or is are was be been being it its this that these those what which
who whom why how when where would could should can will shall may might must do does did you your
we our us i my me if than rather then so as at by from with into about over under also any some
there their they them he she his her not no yes very just only such each other more most much many
one two vs answer ans question questions exercise ex task problem part q qn solution here below
above following go going through these steps step try
""".split())  # noqa: SIM905
_WORD = re.compile(r"[a-z][a-z0-9]+")  # numbers are left out: answers repeat the prompt's figures
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=8192)
def content_words(text: str) -> tuple[str, ...]:
    """The stems of a text's content words, in order, duplicates removed."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]
    return tuple(dict.fromkeys(_stemmer.stemWords(words)))


@lru_cache(maxsize=4096)
def _prefixes(words: tuple[str, ...]) -> frozenset[str]:
    """Every beginning (3+ letters, shorter than the word) of the words of 5+ letters."""
    return frozenset(w[:k] for w in words if len(w) >= 5 for k in range(3, len(w)))


def _matches(word: str, others: tuple[str, ...], other_set: frozenset[str]) -> bool:
    if word in other_set or word + "s" in other_set or (word.endswith("s") and word[:-1] in other_set):
        return True
    if len(word) >= 3 and word in _prefixes(others):  # "conv" for "convolutional"
        return True
    if len(word) >= 5 and any(word[:k] in other_set for k in range(3, len(word))):
        return True
    if len(word) >= 5:
        return process.extractOne(word, others, scorer=fuzz.ratio, score_cutoff=80) is not None
    return False


def similarity(text: str, target: str) -> float:
    """0..1: how well `text` (a heading, a copied prompt) matches `target` (a prompt or title)."""
    return _similarity(content_words(text), content_words(target))


@lru_cache(maxsize=65536)
def _similarity(t: tuple[str, ...], g: tuple[str, ...]) -> float:
    if not t or not g:
        return 0.0
    g_set, t_set = frozenset(g), frozenset(t)
    m_t = sum(_matches(w, g, g_set) for w in t)
    if m_t < 2 and not (m_t == 1 and len(t) == 1 and len(g) == 1):
        return 0.0
    m_g = sum(_matches(w, t, t_set) for w in g)
    precision, recall = m_t / len(t), m_g / len(g)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    copied = precision * min(1.0, m_t / 6)
    return round(max(f1, copied), 3)


@dataclass
class Target:
    """What a question may be recognised by: its prompt, title and other editions' wordings."""

    question: str
    texts: list[str] = field(default_factory=list)

    def score(self, text: str) -> float:
        return max((similarity(text, t) for t in self.texts if t), default=0.0)


def best_match(text: str, targets: list[Target]) -> tuple[str | None, float, float]:
    """(question, score, runner-up score) of the target that fits `text` best."""
    scored = sorted(((t.score(text), t.question) for t in targets), reverse=True)
    if not scored or scored[0][0] <= 0:
        return None, 0.0, 0.0
    second = scored[1][0] if len(scored) > 1 else 0.0
    return scored[0][1], scored[0][0], second


def copied(text: str, target: str) -> float:
    """0..1: how exactly `text` copies (part of) `target`, typos tolerated: for plain lines,
    which count as a question's start only when they are its wording, not a paraphrase."""
    a, b = _plain(text), _plain(target)
    if len(a) < 20 or not b:
        return 0.0
    if len(a) > len(b):
        return fuzz.ratio(a, b) / 100 if len(a) < 1.3 * len(b) else 0.0
    return fuzz.partial_ratio(a, b) / 100 * min(1.0, len(a) / min(len(b), 60))


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def best_copy(text: str, targets: list[Target]) -> tuple[str | None, float, float]:
    scored = sorted(((max((copied(text, t) for t in tg.texts if t), default=0.0), tg.question)
                     for tg in targets), reverse=True)
    if not scored or scored[0][0] <= 0:
        return None, 0.0, 0.0
    return scored[0][1], scored[0][0], scored[1][0] if len(scored) > 1 else 0.0
