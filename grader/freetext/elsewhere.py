"""An answer to another question: pasted under the wrong heading, it earns little here and much there.

A TA who reads "Max pooling has no weights to train, so it is cheaper than a convolution" under
"what would you try when the GPU runs out of memory?" sees the answer to the pooling question and
sends it back; the grader's phrases only see a 0 (or a point for an incidental word). The answer
is graded against every other concepts question of the rubric, and it is another question's
answer when (all three):

- it earns at most a quarter of the points here,
- it earns at least three quarters of another question's points from two or more of that
  question's concepts stated (not bare terms), and
- it shares at least as many words with that question's prompt as with this one's: a pooling
  answer that says "pooling loses resolution" answers the pooling question, whatever Q8 thinks.

Measured on every labelled set but the held-out blind11/blind12: 12 answers are caught, all 12
answers to another question; no answer to its own question is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.freetext.rubric import parse_params
from grader.freetext.scoring import Grade, grade_text
from grader.textmatch import tokenize

if TYPE_CHECKING:
    from grader.rubric import Rubric

OWN_SHARE_MAX = 0.25
OTHER_SHARE_MIN = 0.75
OTHER_CONCEPTS_MIN = 2


@dataclass(frozen=True)
class Elsewhere:
    question: str  # the question id the answer seems to answer
    number: str  # its number, as the student reads it
    share: float  # of that question's points it would earn


def _prompt_overlap(text_stems: set[str], prompt: str) -> int:
    return len(text_stems & {t.stem for t in tokenize(prompt)})


def answers_other_question(text: str, grade: Grade, question_id: str, rubric: Rubric) -> Elsewhere | None:
    """The other question `text` answers (see the module docstring), or None."""
    if not grade.points or grade.score > OWN_SHARE_MAX * grade.points:
        return None
    own = rubric.question(question_id)
    stems = {t.stem for t in tokenize(text)}
    own_overlap = _prompt_overlap(stems, own.prompt)
    best: Elsewhere | None = None
    for q in rubric.questions:
        # the cheap test first: grading against another question costs a full grade
        if q.id == question_id or _prompt_overlap(stems, q.prompt) < own_overlap:
            continue
        for item in q.items:
            if item.kind != "concepts" or not item.points:
                continue
            other = grade_text(text, parse_params(item.id, item.params), item.points, q.prompt)
            share = other.score / item.points
            stated = {m["concept"] for m in other.matches if not m["bare"]}
            if (share >= OTHER_SHARE_MIN and len(stated) >= OTHER_CONCEPTS_MIN
                    and (best is None or share > best.share)):
                best = Elsewhere(q.id, str(q.number), share)
    return best
