"""The pytest plugin: a rubric file becomes a tree of pytest items, one per rubric item.

Shaped after pytest's "non-python tests" example: `pytest_collect_file` routes the rubric YAML
to `RubricFile`, `collect()` yields one `QuestionNode` per question and one `RubricItemNode`
per item, `runtest()` raises `ItemNotFullCredit` carrying the outcome, and `repr_failure()`
turns only that exception into a short message (real grader bugs keep pytest's traceback).

Plain pytest works too (the plugin is registered through the `pytest11` entry point and stays
inert unless `--submission` is given):

    pytest rubrics/assignment06.yaml --submission submissions/alice.ipynb \
        --data-dir ../shared/datasets -k q2
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest

from grader.checks import introspection
from grader.checks.base import AnswerMissing, Outcome, get_check, needs_execution, require_answer
from grader.context import GradingContext
from grader.rubric import Question, RubricItem

__all__ = ["AnswerMissing", "ItemNotFullCredit", "require_answer", "run_check"]


class ItemNotFullCredit(Exception):
    """A rubric item earned less than full credit; carries the outcome (not a grader bug)."""

    def __init__(self, item: RubricItem, outcome: Outcome) -> None:
        super().__init__(outcome.feedback)
        self.item = item
        self.outcome = outcome


def run_check(item: RubricItem, ctx: GradingContext) -> Outcome:
    """Run the check for one item. A missing answer becomes status `missing`, not an error."""
    try:
        require_answer(item, ctx)  # no located answer: `missing`, whatever the kind
        return introspection.guard(item.kind, ctx, get_check(item.kind)(item, ctx))
    except AnswerMissing:
        number = item.question[1:]
        return Outcome.missing(
            f"No answer to question {number} was found. Put it under a heading such as "
            f"'## Question {number}' or '#### {number}.' so the grader can find it.",
            searched="markdown headings, bold labels and '# Question N' code comments",
        )


# ---- collection ---------------------------------------------------------------------------

class RubricFile(pytest.File):
    def collect(self):
        session = self.config.stash[SESSION_KEY]
        for question in session.ctx.rubric.questions:
            yield QuestionNode.from_parent(self, name=question.id, question=question)


class QuestionNode(pytest.Collector):
    def __init__(self, *, question: Question, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.question = question

    def collect(self):
        for item in self.question.items:
            yield RubricItemNode.from_parent(self, name=item.id, spec=item)


class RubricItemNode(pytest.Item):
    def __init__(self, *, spec: RubricItem, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.add_marker(spec.visibility)
        self.add_marker("dynamic" if needs_execution(spec.kind) else "static")
        self.add_marker(_marker_name(spec.kind))

    def runtest(self) -> None:
        session = self.config.stash[SESSION_KEY]
        outcome = run_check(self.spec, session.ctx)
        session.outcomes[self.spec.id] = outcome
        status = outcome.resolved_status()
        if status == "passed":
            return
        if status == "skipped":
            pytest.skip(outcome.feedback)
        raise ItemNotFullCredit(self.spec, outcome)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ItemNotFullCredit):
            o = excinfo.value.outcome
            earned = o.credit * self.spec.points
            codes = f" [{', '.join(d.code for d in o.diagnoses)}]" if o.diagnoses else ""
            status = o.resolved_status()
            return f"{self.spec.id}: {earned:g}/{self.spec.points:g} {status}{codes}: {o.feedback}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.spec.id} ({self.spec.kind}, {self.spec.points:g} pts)"


def _marker_name(kind: str) -> str:
    return kind.replace("-", "_")


SESSION_KEY: pytest.StashKey[GraderSession] = pytest.StashKey()


# ---- the session --------------------------------------------------------------------------

class GraderSession:
    """Per-session state: the grading context, and the outcomes the items produced."""

    def __init__(self, ctx: GradingContext) -> None:
        self.ctx = ctx
        self.outcomes: dict[str, Outcome] = {}
        self.selected: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SESSION_KEY] = self
        for marker in ("public", "hidden", "static", "dynamic"):
            config.addinivalue_line("markers", f"{marker}: grader rubric items ({marker})")
        for item in self.ctx.rubric.items:
            config.addinivalue_line("markers", f"{_marker_name(item.kind)}: check kind {item.kind}")

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector):
        if file_path.resolve() == self.ctx.rubric.path.resolve():
            return RubricFile.from_parent(parent, path=file_path)
        return None

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        wanted = self.ctx.options.questions
        if wanted:
            keep = [i for i in items if getattr(i, "spec", None) and i.spec.question in wanted]
            drop = [i for i in items if i not in keep]
            if drop:
                config.hook.pytest_deselected(items=drop)
            items[:] = keep
        # Cheap first: static items (no kernel needed) before the ones that execute the notebook.
        items.sort(key=lambda i: needs_execution(i.spec.kind) if hasattr(i, "spec") else False)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selected = [i.spec.id for i in session.items if hasattr(i, "spec")]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if not isinstance(item, RubricItemNode) or call.when != "call" or call.excinfo is None:
            return report
        exc = call.excinfo.value
        if isinstance(exc, ItemNotFullCredit | pytest.skip.Exception):
            return report
        # An exception escaped the check: a grader bug, recorded as the item's error status.
        self.outcomes[item.spec.id] = Outcome(
            credit=0.0,
            status="error",
            feedback=(
                "The grader failed on this item (an internal error, not your mistake); "
                "your instructor will grade it by hand."
            ),
            evidence={
                "internal_error": f"{type(exc).__name__}: {exc}",
                "traceback": "".join(traceback.format_exception(exc))[-4000:],
            },
        )
        return report


# ---- plain `pytest rubrics/... --submission X` --------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "grade a notebook submission against a rubric")
    group.addoption("--submission", default=None, help="notebook to grade")
    group.addoption("--data-dir", dest="grader_data_dir", default=None,
                    help="offline datasets and weights (default: $GRADER_DATA_DIR)")
    group.addoption("--profile", dest="grader_profile", default="auto",
                    choices=["quick", "full", "auto"], help="training budget")
    group.addoption("--grader-out", default=None,
                    help="write <stem>.json and <stem>.html here after the session")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("submission", default=None)
    if not path or SESSION_KEY in config.stash:
        return
    from grader.context import GradingOptions
    from grader.engine import PlainPytestRun

    options = GradingOptions(
        profile=config.getoption("grader_profile"),
        data_dir=config.getoption("grader_data_dir"),
        out_dir=config.getoption("grader_out") or "reports",
    )
    rubric_args = [a for a in config.args if a.endswith((".yaml", ".yml"))]
    run = PlainPytestRun(Path(path), rubric_args[0] if rubric_args else None, options,
                         write=bool(config.getoption("grader_out")))
    config.pluginmanager.register(run.session, "grader-session")
    config.pluginmanager.register(run, "grader-plain-run")
