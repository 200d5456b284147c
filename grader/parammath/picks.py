"""What stage 1 of Q2 grading hands on: the `Reading` of an answer (its numbers, formulas and
sentences, and which part each number was given) and the `Pick` chosen for each part."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.textformulas import Equation
from grader.textnumbers import Quantity
from grader.textsegments import Segment


@dataclass
class Pick:
    """The number chosen as the student's answer to one part, and why."""

    quantity: Quantity
    segment: Segment
    why: str
    cued: bool = True  # False when no sentence named the part and a fallback rule chose

    @property
    def confidence(self) -> float:
        return 0.95 if self.cued else 0.5


@dataclass
class Reading:
    text: str
    segments: list[Segment]
    quantities: list[Quantity]
    equations: list[Equation]
    part_of: dict[int, str]  # quantity index -> params | ram_prediction | ram_batch | ram
    operands: set[int]  # quantity indices used as operands of a formula
    picks: dict[str, Pick | None] = field(default_factory=dict)
    negated: set[int] = field(default_factory=set)  # "NOT 903,400": a value the student rejects
    #: part -> several different values offered for it ("902,700? 903,400?"): none is the answer
    conflicts: dict[str, list[Quantity]] = field(default_factory=dict)
    #: part -> other values stated as the answer to it in other sentences ("| RAM predict | 14.1
    #: MB |" and later "needs 7.2 MB for a single prediction"); the verdict decides if they conflict
    restated: dict[str, list[Pick]] = field(default_factory=dict)
    batch_cue: re.Pattern[str] | None = None
    #: part -> the value that would have been picked had it no rivals
    withheld: dict[str, Pick] = field(default_factory=dict)
    #: quantities given a part by their position in a list of the three answers (a guess)
    placed: set[int] = field(default_factory=set)

    def equations_in(self, part: str) -> list[Equation]:
        """Equations whose result sits in a sentence about `part` ('' for sentences about none)."""
        out = []
        for eq in self.equations:
            seg = self.segment_at(eq.rhs.start)
            if seg is not None and (part in seg.labels if part else not seg.labels):
                out.append(eq)
        return out

    def segment_at(self, pos: int) -> Segment | None:
        for seg in self.segments:
            if seg.start <= pos < seg.end + 1:
                return seg
        return None
