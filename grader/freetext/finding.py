"""The rubric's concepts found in an answer's units: the best match per concept."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from grader.freetext.attribution import about as attributed
from grader.freetext.reading import Unit, pattern_hit
from grader.freetext.retraction import claim_withdrawn
from grader.freetext.rubric import Concept, ConceptRubric
from grader.textmatch import PhraseMatch, find_phrase, is_negation, negated_span, without_head_nouns

RELAXED_SCORE = 0.95  # a match with the phrase's head noun left out counts as uncertain


def find_concepts(units: list[Unit], rubric: ConceptRubric,
                   wrong: list[tuple[str, tuple[int, int]]] | None = None):
    matches: list[dict[str, Any]] = []
    found: dict[str, str] = {}  # concept id -> "yes" (a statement) | "bare" (only as a term)
    weak: set[str] = set()  # found only through typo tolerance
    explained: set[str] = set()  # every sentence that matched some concept
    set_aside: set[str] = set()  # concepts read and rejected (negated, contradicted, withdrawn)
    texts = list(dict.fromkeys(u.text for u in units))
    after = {t: texts[i + 1:i + 3] for i, t in enumerate(texts)}  # the next two sentences

    def withdrawn(u: Unit, end: int) -> bool:
        return claim_withdrawn(u.text, end, after[u.text])

    for c in rubric.concepts:
        best: tuple[int, float, PhraseMatch | None, str, str] | None = None
        for u in units:
            about = attributed(c.subject, u, rubric)
            if not u.tokens:
                continue
            if about is None or u.denied:
                # read and set aside (about another subject, or denied): not a missed paraphrase
                if any(find_phrase(p, u.tokens, u.text) for p in c.phrases):
                    explained.add(u.text)
                    set_aside.add(c.id)
                continue
            rank = 1 if about == "yes" else 0
            negated = any(is_negation(t.word) for t in u.tokens)
            for phrase in c.phrases:
                m = find_phrase(phrase, u.tokens, u.text)
                if m is None and negated and find_phrase(phrase, u.tokens, u.text, guard_negation=False):
                    explained.add(u.text)  # "float16 does not help": read as rejected
                    set_aside.add(c.id)
                if m and (_contradicted(c, u) or _overlaps(u, m, wrong or [])
                          or withdrawn(u, u.tokens[m.end].end)):
                    explained.add(u.text)  # "within the same feature map": read as the opposite
                    set_aside.add(c.id)
                    if withdrawn(u, u.tokens[m.end].end):  # the retraction was read too
                        nxt = after[u.text]
                        explained.update(nxt[:2] if nxt and nxt[0].rstrip().endswith("?") else nxt[:1])
                    m = None
                if m:
                    explained.add(u.text)
                if m and (best is None or (rank, m.score) > best[:2]):
                    best = (rank, m.score, m, u.text, m.text)
            if best is None or best[0] < rank:
                # "only convolutions", "chop off the dense head": the head noun left out; a
                # weaker match (it lowers the confidence like a typo does)
                for phrase in c.phrases:
                    short = without_head_nouns(phrase)
                    m = find_phrase(short, u.tokens, u.text) if short else None
                    if m and not (_contradicted(c, u) or _overlaps(u, m, wrong or [])
                                  or withdrawn(u, u.tokens[m.end].end)):
                        explained.add(u.text)
                        score = min(m.score, RELAXED_SCORE)
                        if best is None or (rank, score) > best[:2]:
                            best = (rank, score, m, u.text, m.text)
            hit = pattern_hit(c.patterns, u.span)
            if (hit and not _contradicted(c, u) and not _hit_negated(u, hit)
                    and not withdrawn(u, u.tokens[0].start + hit.end())):
                explained.add(u.text)
                if best is None or (rank, 1.0) > best[:2]:
                    best = (rank, 1.0, None, u.text, hit.group())
        if c.context_patterns and (best is None or best[0] < 1):
            hit = _context_hit(c, units, texts)
            if hit is not None:
                explained.add(hit[1])
                if best is None or hit[0] > best[0]:
                    best = (hit[0], 1.0, None, hit[1], hit[2])
        if best is None:
            continue
        rank, score, m, sentence, span = best
        found[c.id] = "yes" if rank else "bare"
        if score < 0.97:
            weak.add(c.id)
        matches.append({
            "concept": c.id, "label": c.label, "points": c.points,
            "phrase": span, "sentence": sentence, "bare": not rank,
            "rubric_phrase": m.phrase.text if m else "pattern", "similarity": score,
        })
    return matches, found, weak, explained, set_aside - set(found)


def _context_hit(c: Concept, units: list[Unit], texts: list[str]) -> tuple[int, str, str] | None:
    """A context pattern's hit: (rank, the sentence it ends in, its words there), or None. Only
    for concepts without a subject; nothing from a denied sentence."""
    if c.subject is not None or not texts:
        return None
    joined = "\n".join(texts)
    hit = pattern_hit(c.context_patterns, joined)
    if hit is None:
        return None
    starts, at = [], 0
    for t in texts:
        starts.append(at)
        at += len(t) + 1
    i = bisect_right(starts, max(hit.start(), hit.end() - 1)) - 1
    sentence = texts[i]
    own = [u for u in units if u.text == sentence and u.tokens]
    if not own or any(u.denied for u in own) or _contradicted(c, own[0]):
        return None
    lo = max(hit.start(), starts[i]) - starts[i]
    words = sentence[lo:hit.end() - starts[i]].strip() or sentence
    return (0 if all(u.bare for u in own) else 1), sentence, words


def _hit_negated(u: Unit, hit: re.Match[str]) -> bool:
    offset = u.tokens[0].start  # patterns run on the span, tokens hold sentence offsets
    return negated_span(u.tokens, u.text, offset + hit.start(), offset + hit.end())


def _overlaps(u: Unit, m: PhraseMatch, wrong: list[tuple[str, tuple[int, int]]]) -> bool:
    lo, hi = u.tokens[m.start].start, u.tokens[m.end].end
    return any(text == u.text and lo < b and a < hi for text, (a, b) in wrong)


def _contradicted(c: Concept, u: Unit) -> bool:
    """The same part says the opposite ("within the same feature map" for lateral inhibition)."""
    if pattern_hit(c.unless_patterns, u.span):
        return True
    return any(find_phrase(p, u.tokens, u.text, slack=0, guard_negation=False) for p in c.unless)

