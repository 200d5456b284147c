"""Notebook code that reaches into the grader's in-kernel capture, found in the source.

The capture (grader/execute/inkernel/50_capture.py) runs in a private namespace, but Python lets
determined code reach it anyway: through a hooked function's closure cells or globals, the
garbage collector's list of objects, stack frames, or the capture folder on disk. Architecture,
parameter counts and accuracy are scored from the saved model file (modelfile.py), which such
code cannot change unnoticed; the training-method items (`diagnostic`, and what of
`transfer-pipeline` is not read from the files) still use the capture's record of the data each
fit saw (fingerprints, label counts, validation data), which only the kernel can see.

So a notebook whose code reaches into functions' internals or the grader's own names earns
none of those items' credit until a TA has looked (`grader-introspection`, needs review). Code
built at run time (exec/eval of strings, base64, getattr with a computed name) could hide the
same reach, but some honest notebooks use eval: those items are flagged for review and keep
their credit. A static scan is a tripwire, not a proof: code obfuscated past these patterns is
bounded by what the capture-read items are worth (the methodology points), since everything
else is measured from the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.checks.base import Diagnosis, Outcome

#: the item kinds whose credit rests on capture records only the kernel could see
CAPTURE_READ_KINDS = ("diagnostic", "transfer-pipeline")

#: reaching the capture: the grader's names and files, functions' internals, frames, the gc
REACH = re.compile(
    r"\b_grader|['\"/]\.grader\b|capture\.json"
    r"|__closure__|cell_contents|__globals__|co_freevars|func_globals|__code__"
    r"|\bf_globals\b|\bf_locals\b|\bf_back\b|_getframe|__builtins__|__subclasses__"
    r"|\bgc\s*\.\s*get_(?:objects|referrers|referents)"
    r"|\binspect\s*\.\s*(?:getclosurevars|currentframe|stack|getmembers|unwrap)"
    r"|\bctypes\b")
#: code whose text is only known at run time
DYNAMIC = re.compile(
    r"(?<![\w.])(?:exec|eval|compile)\s*\(|__import__\s*\(|\bbase64\b|\bmarshal\b"
    r"|\bcodecs\s*\.\s*decode|\bsys\s*\.\s*modules\b"
    # getattr/setattr whose attribute name is not a plain literal ('__clo' + 'sure__', ''.join(...))
    r"|\b(?:get|set)attr\s*\([^,()\n]+,\s*+(?!['\"]\w+['\"]\s*[,)])")


@dataclass(frozen=True)
class Finding:
    kind: str  # "reach" (credit withheld) or "dynamic" (reviewed only)
    cell: int  # index among the notebook's cells
    text: str  # what matched, as written


def scan(cells: list[tuple[int, str]]) -> list[Finding]:
    """Findings in (cell index, source) pairs, the first per cell and kind."""
    found = []
    for index, source in cells:
        for kind, pattern in (("reach", REACH), ("dynamic", DYNAMIC)):
            match = pattern.search(source)
            if match:
                found.append(Finding(kind, index, match.group(0).strip()))
    return found


def notebook_findings(ctx) -> list[Finding]:
    """The notebook's findings (cached on the context)."""
    key = "introspection:findings"
    if key not in ctx.cache:
        ctx.cache[key] = scan([(c.index, c.source) for c in ctx.notebook.code_cells])
    return ctx.cache[key]


def guard(kind: str, ctx, outcome: Outcome) -> Outcome:
    """The outcome of a capture-read item, held back or flagged when the code reaches the capture."""
    if kind not in CAPTURE_READ_KINDS or outcome.status in ("missing", "skipped", "error"):
        return outcome
    findings = notebook_findings(ctx)
    reach = [f for f in findings if f.kind == "reach"]
    dynamic = [f for f in findings if f.kind == "dynamic"]
    if reach:
        first = reach[0]
        message = (f"cell {first.cell} reads the grader's internals (`{first.text}`), which is how a "
                   "notebook edits the grader's record of its training, so this item's credit is held "
                   "until a TA has reviewed it")
        outcome.credit = 0.0
        outcome.needs_review = True
        outcome.confidence = 0.0
        before = outcome.feedback.rstrip(". ")
        outcome.feedback = f"Held for review: {message} (without the hold: {before[:1].lower()}{before[1:]})."
        outcome.diagnoses = [Diagnosis("grader-introspection", message, first.cell,
                                       "Remove the code that inspects closures, globals, frames, the "
                                       "garbage collector or the grader's files; a TA will regrade.")
                             ] + list(outcome.diagnoses)
        outcome.evidence = {**outcome.evidence, "introspection": [f.__dict__ for f in reach]}
    elif dynamic:
        outcome.needs_review = True
        outcome.confidence = min(outcome.confidence if outcome.confidence is not None else 1.0, 0.5)
        outcome.evidence = {**outcome.evidence, "dynamic_code": [f.__dict__ for f in dynamic]}
        outcome.feedback += (f" (Reviewed by a TA: cell {dynamic[0].cell} runs code built at run time, "
                             f"`{dynamic[0].text}`.)")
    return outcome
