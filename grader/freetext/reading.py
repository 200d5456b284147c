"""An answer read into units: its sentences (minus the question's), split by what they are about."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from grader.freetext.rubric import ConceptRubric
from grader.textmatch import Token, denial_end, denial_start, normalise, split_sentences, tokenize
from grader.textunits import bare_items, subject_spans


@dataclass
class Unit:
    """A part of a sentence about one subject (the whole sentence where no subject is named)."""

    text: str  # the whole sentence (token offsets refer to it)
    tokens: list[Token]
    subject: str | None = None
    bare: bool = False  # only names terms (textunits.is_bare)
    denied: bool = False  # states something to deny it ("it is not true that ...")

    @property
    def span(self) -> str:
        if not self.tokens:
            return ""
        last = self.tokens[-1]
        end = last.end
        # a token read from a normalised "32 x 32" ("32x32" plus padding) ends inside the original
        m = _SPACED_PRODUCT.match(self.text, last.start)
        if m and m.end() > end:
            end = m.end()
        return self.text[self.tokens[0].start:end]


_SPACED_PRODUCT = re.compile(r"\d+\s*[x×*]\s*\d+")




#: A markdown link reference definition renders as nothing: "[//]: # (weight sharing ...)" is
#: the markdown comment trick, text a reader never sees (HTML comments and hidden styles are
#: removed earlier, by grader/locate/visible.py).
_UNRENDERED = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]*\S*[ \t]*(?:\([^\n]*\)|\"[^\n]*\"|'[^\n]*')?[ \t]*$",
                         re.M)


def sentences(text: str, prompt: str) -> tuple[list[Unit], list[str]]:
    """The answer's sentences, without those that only repeat the question."""
    prompt_parts = [normalise(p) for p in split_sentences(prompt.replace("?", "?\n"))] if prompt else []
    kept, ignored = [], []
    for s in split_sentences(_UNRENDERED.sub("", text)):
        if copies_prompt(normalise(s), prompt_parts):
            ignored.append(s)
            continue
        tokens = tokenize(s)
        if tokens:
            kept.append(Unit(s, tokens))
    return kept, ignored


def units(sentences: list[Unit], rubric: ConceptRubric) -> list[Unit]:
    """Each sentence split by the subject it is about; bare and denied sentences marked."""
    all_spans = []
    previous: str | None = None
    for s in sentences:
        spans = subject_spans(s.tokens, s.text, rubric.subjects, previous)
        all_spans.append(spans)
        previous = spans[-1].subject
    bare = bare_items([s.text for s in sentences],
                      [any(sp.names_subject for sp in spans) for spans in all_spans])
    out: list[Unit] = []
    for s, spans, b in zip(sentences, all_spans, bare, strict=True):
        reach = denial_end(s.text)
        begin = denial_start(s.text) if reach is not None else 0
        for sp in spans:
            tokens = s.tokens[sp.start:sp.end]
            if reach is None:
                out.append(Unit(s.text, tokens, sp.subject, b, False))
                continue
            # the student's claim before a forward denial ("..., contrary to the MLP"), the
            # denied claim, then the student's own correction after a break, if any
            for part, no in (([t for t in tokens if t.start < begin], False),
                             ([t for t in tokens if begin <= t.start < reach], True),
                             ([t for t in tokens if t.start >= reach], False)):
                if part:
                    out.append(Unit(s.text, part, sp.subject, b, no))
    return out


def copies_prompt(sentence: str, prompt_parts: list[str]) -> bool:
    for p in prompt_parts:
        if len(p) < 12:
            continue
        if fuzz.ratio(sentence, p) >= 85:
            return True
        if len(sentence) <= len(p) * 1.15 + 10 and fuzz.partial_ratio(sentence, p) >= 92:
            return True
    return False


def pattern_hit(patterns: list[str], sentence: str) -> re.Match[str] | None:
    for pat in patterns:
        m = re.search(pat, normalise(sentence))
        if m:
            return m
    return None

