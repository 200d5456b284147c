"""Rubric YAML -> typed objects, validated with messages that name the file and the key.

The structure is checked with a JSON schema (jsonschema reports the exact path of the first
offending key, which is what an instructor editing YAML needs); rules a schema cannot express
(unique ids, known check kinds, known reference names, the points total) are checked after.

The data of a file that passed the schema is kept in the user's cache under a hash of its bytes,
this module's code and PyYAML's (`_kept_file`), so the next process that loads it (a student's
self-check) imports neither PyYAML nor jsonschema; any change to one of them parses and
validates anew.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.machine import cache_root

if TYPE_CHECKING:
    import jsonschema

    from grader.locate import QuestionSpec
    from grader.notebook import Answer, Notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
# GRADER_RUBRIC names the rubric used without --rubric: a wheel install ships only the student
# rubric (setup.py), so an instructor grading from one (or tox) points it at the full rubric.
DEFAULT_RUBRIC = Path(os.environ.get("GRADER_RUBRIC") or REPO_ROOT / "rubrics" / "assignment06.yaml")


class RubricError(Exception):
    """The rubric file is unusable. The message names the file and the offending key."""


# What a course notebook may use (grader/envcheck.py, `grader doctor`): import name -> pip
# requirement, and the files it may load from the data dir (any one of `files` will do).
_ENVIRONMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "packages": {"type": "object", "additionalProperties": {"type": "string"}},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "files"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "files": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "questions": {"type": "array", "items": {"type": "string"}},
                    "optional": {"type": "boolean"},
                    "note": {"type": "string"},
                },
            },
        },
    },
}

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["assignment", "questions"],
    "additionalProperties": False,
    "properties": {
        "assignment": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "total": {"type": "number", "exclusiveMinimum": 0},
        "reference": {"type": "string"},
        "review_threshold": {"type": "number", "minimum": 0, "maximum": 1},
        "execution": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cell_timeout": {"type": "number", "exclusiveMinimum": 0},
                "timeout": {"type": "number", "exclusiveMinimum": 0},
                "memory": {"type": ["string", "integer"]},
                "output_limit": {"type": ["string", "integer"]},
                "files": {"type": "array", "items": {"type": "string"}},
                "max_parallel_trainings": {"type": "integer", "minimum": 1},
            },
        },
        "environment": _ENVIRONMENT_SCHEMA,
        "profiles": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "quick": {"type": "object"},
                "full": {"type": "object"},
            },
        },
        "questions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "items"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": r"^q\d{1,2}$"},
                    "title": {"type": "string"},
                    "prompt": {"type": "string"},
                    # other wordings of the question students copy: another edition's exercise
                    # (with the number it has there) or a common paraphrase; the locator picks the
                    # numbering (edition) that fits the copied prompts best
                    "aliases": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "minProperties": 1,
                            "dependentRequired": {"edition": ["number"], "number": ["edition"]},
                            "additionalProperties": False,
                            "properties": {
                                "prompt": {"type": "string", "minLength": 1},
                                "edition": {"type": "string", "minLength": 1},
                                "number": {"type": "integer", "minimum": 1, "maximum": 99},
                            },
                        },
                    },
                    # what the question's code does, for finding unlabelled code by content
                    "task": {"enum": ["scratch", "transfer"]},
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["id", "kind", "points"],
                            "additionalProperties": False,
                            "properties": {
                                "id": {"type": "string", "pattern": r"^q\d{1,2}\.[a-z0-9_]+$"},
                                "kind": {"type": "string"},
                                "title": {"type": "string"},
                                "points": {"type": "number", "exclusiveMinimum": 0},
                                "visibility": {"enum": ["public", "hidden"]},
                                "params": {"type": "object"},
                                # what a student sees (grader/feedback_levels.py)
                                "reveal": {"enum": ["none", "hint", "answer"]},
                                "reveal_after_deadline": {"enum": ["none", "hint", "answer"]},
                                "hints": {"type": "object", "additionalProperties": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    },
}


@dataclass
class RubricItem:
    id: str
    question: str
    kind: str
    points: float
    visibility: str = "public"
    title: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    reveal: str = "hint"  # what the self-check shows: none | hint | answer
    reveal_after_deadline: str = "answer"  # what the report handed back shows
    hints: dict[str, str] = field(default_factory=dict)  # nudge per diagnosis code or concept id

    @property
    def hidden(self) -> bool:
        return self.visibility == "hidden"


@dataclass
class Question:
    id: str
    number: int
    title: str
    prompt: str
    items: list[RubricItem]
    aliases: list[dict[str, Any]] = field(default_factory=list)  # {prompt, edition?, number?}
    task: str | None = None  # "scratch" | "transfer"

    @property
    def points(self) -> float:
        return sum(i.points for i in self.items)


@dataclass
class Rubric:
    path: Path
    assignment: str
    title: str
    questions: list[Question]
    execution: dict[str, Any]
    profiles: dict[str, dict[str, Any]]
    reference: str
    review_threshold: float
    digest: str  # sha256 of the file's bytes: part of the cache key
    environment: dict[str, Any] = field(default_factory=dict)  # packages and data notebooks may use

    @property
    def items(self) -> list[RubricItem]:
        return [item for q in self.questions for item in q.items]

    @property
    def total(self) -> float:
        return sum(q.points for q in self.questions)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def item(self, item_id: str) -> RubricItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def profile(self, name: str) -> dict[str, Any]:
        return dict(self.profiles.get(name, {}))

    def locate_answers(self, notebook: Notebook) -> dict[str, Answer]:
        """This rubric's questions located in a notebook, their copied prompts removed."""
        from grader.locate import locate_answers

        return locate_answers(notebook, specs=self.question_specs())

    def question_specs(self) -> list[QuestionSpec]:
        """The questions as the locator looks for them (prompt, title, aliases, task)."""
        from grader.locate import Alias, QuestionSpec

        return [QuestionSpec(id=q.id, number=q.number, prompt=q.prompt, title=q.title,
                             aliases=[Alias(**a) for a in q.aliases], task=q.task or _task_of(q))
                for q in self.questions]


def _task_of(q: Question) -> str | None:
    """A model question's task from its items (a diagnostic item's `task` param)."""
    for item in q.items:
        task = item.params.get("task")
        if task in ("scratch", "transfer"):
            return str(task)
    return None


def load_rubric(path: str | Path | None = None, *, check_kinds: bool = True) -> Rubric:
    """`check_kinds=False` accepts item kinds no check grades (`grader locate`, which grades
    nothing). Checking them imports no check module (grader.checks.KINDS)."""
    path = Path(path) if path else DEFAULT_RUBRIC
    if not path.is_file():
        raise RubricError(f"{path}: no such rubric file; pass --rubric with an existing YAML file")
    raw = path.read_bytes()
    kept = _kept_file(raw)
    data = _kept_data(kept)
    if data is None:
        data = _parse_yaml(raw, path)
        check_schema(data, path)
        _keep(kept, data)
    return parse_rubric(data, path=path, digest=hashlib.sha256(raw).hexdigest(), check_kinds=check_kinds,
                        schema_checked=True)


def _parse_yaml(raw: bytes, path: Path) -> Any:
    import yaml

    try:
        # libyaml's loader when PyYAML has it: the same data, 30x faster (0.3 s per process here)
        return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RubricError(f"{path}: not valid YAML{where}: {problem}") from None


def _kept_file(raw: bytes) -> Path | None:
    """Where the data of these rubric bytes is kept once it passed the schema: the key covers
    the bytes, this module's code (the schema) and PyYAML's (its version), so a change to any
    of them parses and validates anew. Under GRADER_CACHE_DIR (`off`: no cache), else
    $XDG_CACHE_HOME/grader or ~/.cache/grader."""
    root = cache_root()
    if root is None:
        return None
    try:
        spec = importlib.util.find_spec("yaml")  # found, not imported
        code = Path(__file__).read_bytes() + b"\0" + Path(spec.origin).read_bytes()  # type: ignore[union-attr,arg-type]
    except (OSError, TypeError, AttributeError, ValueError):
        return None
    key = hashlib.sha256(code + b"\0" + raw).hexdigest()[:32]
    return Path(root) / "rubric-schema" / f"{key}.marshal"


def _kept_data(kept: Path | None) -> dict[str, Any] | None:
    if kept is None:
        return None
    try:
        data = marshal.loads(kept.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def _keep(kept: Path | None, data: Any) -> None:
    if kept is None:
        return
    try:
        blob = marshal.dumps(data)  # ValueError for what YAML can hold but marshal cannot (dates)
        kept.parent.mkdir(parents=True, exist_ok=True)
        tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, kept)
    except (OSError, ValueError):  # not kept: the next process parses and validates again
        pass


def check_schema(data: Any, path: Path) -> None:
    """Raise RubricError naming the first key that breaks the schema (jsonschema's path)."""
    import jsonschema  # here: a rubric remembered as valid never needs it (a tenth of a self-check)

    validator = jsonschema.Draft202012Validator(_SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        raise RubricError(f"{path}: {_key_path(data, err.absolute_path)}: {_explain(err)}")


def parse_rubric(data: Any, *, path: Path, digest: str = "", check_kinds: bool = True,
                 schema_checked: bool = False) -> Rubric:
    """`schema_checked`: the caller has already passed `data` through `check_schema`."""
    if not schema_checked:
        check_schema(data, path)

    if check_kinds:
        from grader.checks.base import known_kinds

        kinds = known_kinds()
    seen: set[str] = set()
    questions: list[Question] = []
    for qi, q in enumerate(data["questions"]):
        if q["id"] in seen:
            raise RubricError(f"{path}: questions[{qi}].id: question id {q['id']!r} is used twice")
        seen.add(q["id"])
        items: list[RubricItem] = []
        for ii, it in enumerate(q["items"]):
            where = f"questions[{qi}] ({q['id']}).items[{ii}]"
            if it["id"] in seen:
                raise RubricError(f"{path}: {where}.id: item id {it['id']!r} is used twice")
            seen.add(it["id"])
            if not it["id"].startswith(q["id"] + "."):
                raise RubricError(
                    f"{path}: {where}.id: {it['id']!r} must start with its question id "
                    f"'{q['id']}.'"
                )
            if check_kinds and it["kind"] not in kinds:
                raise RubricError(f"{path}: {where}.kind: {_unknown_kind(it['kind'], kinds)}")
            items.append(
                RubricItem(
                    id=it["id"],
                    question=q["id"],
                    kind=it["kind"],
                    points=float(it["points"]),
                    visibility=it.get("visibility", "public"),
                    title=it.get("title", ""),
                    params=dict(it.get("params") or {}),
                    reveal=it.get("reveal", "hint"),
                    reveal_after_deadline=it.get("reveal_after_deadline", "answer"),
                    hints=dict(it.get("hints") or {}),
                )
            )
        questions.append(
            Question(
                id=q["id"],
                number=int(q["id"][1:]),
                title=q.get("title", ""),
                prompt=q.get("prompt", ""),
                items=items,
                aliases=[dict(a) for a in q.get("aliases") or []],
                task=q.get("task"),
            )
        )
    rubric = Rubric(
        path=path,
        assignment=data["assignment"],
        title=data.get("title", data["assignment"]),
        questions=questions,
        execution=dict(data.get("execution") or {}),
        profiles={k: dict(v or {}) for k, v in (data.get("profiles") or {}).items()},
        reference=data.get("reference", ""),
        review_threshold=float(data.get("review_threshold", 0.6)),
        digest=digest,
        environment=dict(data.get("environment") or {}),
    )
    total = data.get("total")
    if total is not None and abs(rubric.total - float(total)) > 1e-6:
        raise RubricError(
            f"{path}: total: the items' points add up to {rubric.total:g}, not {total:g}; "
            "fix the points or the total"
        )
    _check_references(rubric)
    return rubric


def _unknown_kind(kind: str, kinds: set[str]) -> str:
    """What an instructor reads for a misspelt or new kind: the closest known ones, all of them,
    and where a new kind is declared."""
    import difflib

    close = difflib.get_close_matches(kind, sorted(kinds), n=2, cutoff=0.6)
    guess = f"did you mean {' or '.join(repr(k) for k in close)}? " if close else ""
    return (f"unknown check kind {kind!r}; known kinds: {', '.join(sorted(kinds))}. {guess}"
            "Use one of these; a new kind needs its check module in grader/checks/ and an entry "
            "in grader.checks.KINDS")


def _check_references(rubric: Rubric) -> None:
    """Every `reference:` name an item uses must exist in the rubric's reference module."""
    from reference import reference_names

    names = reference_names(rubric.reference)
    for item in rubric.items:
        ref = item.params.get("reference")
        if ref is not None and ref not in names:
            raise RubricError(
                f"{rubric.path}: {item.id}.params.reference: unknown reference value {ref!r}; "
                f"defined in {rubric.reference or 'reference'}: {', '.join(sorted(names)) or 'none'}"
            )


def _key_path(data: Any, path: Any) -> str:
    parts: list[str] = []
    node = data
    for p in path:
        if isinstance(p, int):
            label = ""
            if isinstance(node, list) and isinstance(node[p], dict) and "id" in node[p]:
                label = f" ({node[p]['id']})"
            parts.append(f"[{p}]{label}")
        else:
            parts.append(("." if parts else "") + str(p))
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            node = None
    return "".join(parts) or "top level"


def _explain(err: jsonschema.ValidationError) -> str:
    if err.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' was unexpected", err.message)
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return f"unknown key {', '.join(repr(e) for e in extra)}; allowed keys: {allowed}"
    if err.validator == "required":
        return err.message.replace("is a required property", "is required but missing")
    return err.message
