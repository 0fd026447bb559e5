"""Reading workflow files: YAML checked against a schema, every problem named with its line.

A pure module (no Flask, no database). ``check_text`` returns every problem of a file;
``load_text`` builds the ``Workflow`` or raises ``WorkflowFileError`` with the problems. The
names a file may use for roles, guards, effects and inputs are passed in by the caller (the
app knows which guards and effects are registered), so the checks stay independent of them.
The format is documented in ``docs/workflows.md``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from tracker.workflow.definitions import (
    RETURN_FROM_REJECTION,
    RETURN_TO_PREVIOUS,
    SAME_STATE,
    LocalText,
    State,
    Transition,
    Workflow,
)

LANGUAGES = ("en", "fr", "de")
SPECIAL_TARGETS = (RETURN_TO_PREVIOUS, RETURN_FROM_REJECTION, SAME_STATE)
BADGES = ("primary", "secondary", "success", "danger", "warning", "info", "light", "dark")
BUTTONS = (*BADGES, *(f"outline-{b}" for b in BADGES))

_TEXT = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {lang: {"type": "string", "minLength": 1} for lang in LANGUAGES},
            "required": ["en"],
            "additionalProperties": False,
        },
    ]
}
_NAMES = {"type": "array", "items": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}}
_KEY = r"^[a-z][a-z0-9_]*$"

SCHEMA = {
    "type": "object",
    "required": ["key", "label", "initial", "states", "transitions"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": r"^[a-z][a-z0-9-]{1,39}$"},
        "label": _TEXT,
        "description": _TEXT,
        "initial": {"type": "string"},
        "two_stage": {"type": "boolean"},
        "groups": {
            "type": "object",
            "propertyNames": {"pattern": _KEY},
            "additionalProperties": _NAMES,
        },
        "states": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": _KEY, "maxLength": 32},
            "additionalProperties": {
                "type": "object",
                "required": ["label"],
                "additionalProperties": False,
                "properties": {
                    "label": _TEXT,
                    "applicant_label": _TEXT,
                    "badge": {"enum": list(BADGES)},
                    "terminal": {"type": "boolean"},
                    "applicant_edits": {"type": "boolean"},
                },
            },
        },
        "transitions": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": _KEY, "maxLength": 40},
            "additionalProperties": {
                "type": "object",
                "required": ["label", "from", "to", "roles"],
                "additionalProperties": False,
                "properties": {
                    "label": _TEXT,
                    "from": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "to": {"type": "string"},
                    "roles": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "guards": _NAMES,
                    "effects": _NAMES,
                    "inputs": _NAMES,
                    "requires_reason": {"type": "boolean"},
                    "reason_label": _TEXT,
                    "notify_applicant": {"type": "boolean"},
                    "public": {"type": "boolean"},
                    "button": {"enum": list(BUTTONS)},
                    "confirm": _TEXT,
                    "history_label": _TEXT,
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow file, at a line (1-based; 0 when the file is unreadable)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class WorkflowFileError(ValueError):
    """A workflow file that cannot be used; ``problems`` lists every reason with its line."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Vocabulary:
    """The names a workflow file may use, from what the installation has built in."""

    roles: frozenset[str]
    guards: frozenset[str]
    effects: frozenset[str]
    inputs: frozenset[str]


def _to_data(loader, node, path: tuple, lines: dict, problems: list[Problem]):
    """Plain data from a YAML node, recording the line of every path (a key given twice is
    a problem, not silently the last value)."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                problems.append(Problem(key_node.start_mark.line + 1, f"“{key}” is given twice"))
            result[key] = _to_data(loader, value_node, (*path, key), lines, problems)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_data(loader, item, (*path, index), lines, problems)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def parse(text: str) -> tuple[dict | None, dict, list[Problem]]:
    """The file's data, the line of each path in it, and the problems of reading it."""
    problems: list[Problem] = []
    lines: dict[tuple, int] = {}
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines, [Problem(1, "the file is empty")]
        data = _to_data(loader, node, (), lines, problems)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return None, lines, [Problem(line, f"not valid YAML: {getattr(error, 'problem', error)}")]
    finally:
        loader.dispose()
    return data, lines, problems


def _line(lines: dict, path) -> int:
    path = tuple(path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def check_data(data, lines: dict, vocabulary: Vocabulary) -> list[Problem]:
    """Every problem of a parsed file: the schema, then what the schema cannot say."""
    problems = [
        Problem(_error_line(lines, error), _schema_message(error))
        for error in sorted(
            Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path)
        )
    ]
    if problems or not isinstance(data, dict):
        return problems
    states = data["states"]
    transitions = data["transitions"]

    def state_ref(name: str, path: tuple, *, special: bool = False) -> None:
        if name in states or (special and name in SPECIAL_TARGETS):
            return
        problems.append(Problem(_line(lines, path), f"unknown state “{name}”"))

    state_ref(data["initial"], ("initial",))
    for key, transition in transitions.items():
        base = ("transitions", key)
        for index, source in enumerate(transition["from"]):
            state_ref(source, (*base, "from", index))
        state_ref(transition["to"], (*base, "to"), special=True)
        for field, known, what in (
            ("roles", vocabulary.roles, "role"),
            ("guards", vocabulary.guards, "guard"),
            ("effects", vocabulary.effects, "effect"),
            ("inputs", vocabulary.inputs, "input"),
        ):
            for index, name in enumerate(transition.get(field, [])):
                if name not in known:
                    problems.append(
                        Problem(
                            _line(lines, (*base, field, index)),
                            f"unknown {what} “{name}” (known: {', '.join(sorted(known))})",
                        )
                    )
    for group, members in (data.get("groups") or {}).items():
        for index, name in enumerate(members):
            state_ref(name, ("groups", group, index))
    if problems:
        return problems

    # A proposal out of its draft has a reference (a database constraint): the first state is
    # the draft, and the ways out of it submit, withdraw, or stay.
    if data["initial"] != "draft":
        problems.append(Problem(_line(lines, ("initial",)), "the first state must be “draft”"))
    for key, transition in transitions.items():
        if data["initial"] not in transition["from"]:
            continue
        target = transition["to"]
        if not (
            "record_submission" in transition.get("effects", [])
            or target in ("withdrawn", SAME_STATE)
        ):
            problems.append(
                Problem(
                    _line(lines, ("transitions", key)),
                    f"“{key}” leaves the draft without submitting it (effect record_submission) "
                    "or withdrawing it (to “withdrawn”)",
                )
            )

    # Every state can be reached from the initial one, and every state that is not terminal
    # has a way out.
    reachable = {data["initial"]}
    queue = deque(reachable)
    while queue:
        state = queue.popleft()
        for transition in transitions.values():
            target = transition["to"]
            if state in transition["from"] and target in states and target not in reachable:
                reachable.add(target)
                queue.append(target)
    for key, state in states.items():
        if key not in reachable:
            problems.append(
                Problem(
                    _line(lines, ("states", key)),
                    f"state “{key}” cannot be reached from “{data['initial']}”",
                )
            )
        has_exit = any(key in t["from"] for t in transitions.values())
        if not state.get("terminal", False) and not has_exit:
            problems.append(
                Problem(
                    _line(lines, ("states", key)),
                    f"state “{key}” is not terminal but no transition leads out of it",
                )
            )
    return problems


def _error_line(lines: dict, error) -> int:
    """The line of a schema error: of the unexpected key itself when there is one."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = [key for key in error.instance if key not in known]
        if extra:
            return _line(lines, (*path, extra[0]))
    return _line(lines, path)


def _schema_message(error) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "the file"
    if error.validator == "required":
        return f"{where}: {error.message.replace(' is a required property', ' is required')}"
    if error.validator == "additionalProperties":
        return f"{where}: {error.message}"
    if error.validator == "oneOf":
        return f"{where}: give a text, or texts by language (en, fr, de)"
    return f"{where}: {error.message}"


def check_text(text: str, vocabulary: Vocabulary) -> list[Problem]:
    """Every problem of a workflow file's text, each with its line."""
    data, lines, problems = parse(text)
    if data is None:
        return problems
    return problems + check_data(data, lines, vocabulary)


def _text(value) -> LocalText | None:
    if value is None:
        return None
    return LocalText(value if isinstance(value, dict) else {"en": value})


def build(data: dict) -> Workflow:
    """The workflow a checked file describes."""
    states = {
        key: State(
            key=key,
            label=_text(spec["label"]),
            badge=spec.get("badge", "secondary"),
            applicant_label=_text(spec.get("applicant_label")),
            terminal=spec.get("terminal", False),
            applicant_edits=spec.get("applicant_edits", False),
        )
        for key, spec in data["states"].items()
    }
    transitions = {
        key: Transition(
            key=key,
            label=_text(spec["label"]),
            sources=frozenset(spec["from"]),
            target=spec["to"],
            roles=frozenset(spec["roles"]),
            guards=tuple(spec.get("guards", ())),
            effects=tuple(spec.get("effects", ())),
            inputs=tuple(spec.get("inputs", ())),
            requires_reason=spec.get("requires_reason", False),
            reason_label=_text(spec.get("reason_label")) or LocalText.default_reason(),
            notify_applicant=spec.get("notify_applicant", False),
            public=spec.get("public", True),
            button=spec.get("button", "primary"),
            confirm=_text(spec.get("confirm")),
            history_label=_text(spec.get("history_label")),
        )
        for key, spec in data["transitions"].items()
    }
    return Workflow(
        key=data["key"],
        label=_text(data["label"]),
        description=_text(data.get("description")),
        states=states,
        transitions=transitions,
        initial=data["initial"],
        two_stage=data.get("two_stage", False),
        groups={name: frozenset(members) for name, members in (data.get("groups") or {}).items()},
    )


def load_text(text: str, vocabulary: Vocabulary, source: str = "<text>") -> Workflow:
    data, lines, problems = parse(text)
    if data is not None:
        problems += check_data(data, lines, vocabulary)
    if problems:
        raise WorkflowFileError(source, problems)
    workflow = build(data)
    object.__setattr__(workflow, "source", source)
    return workflow


def load_file(path: Path, vocabulary: Vocabulary) -> Workflow:
    return load_text(path.read_text(encoding="utf-8"), vocabulary, str(path))
