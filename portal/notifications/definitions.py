"""Notification types are data: portal/notification_types/*.toml, one file per type.

The loader is strict because a mistake in a definition turns into a question providers cannot
answer or an answer inspectors cannot read. It fails at start-up, naming the file, type and question,
rather than on the day someone needs to notify a death.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFINITIONS_DIR = Path(__file__).parent.parent / "notification_types"

# fmt: off
KINDS = (
    "short_text", "long_text", "radios", "checkboxes", "yes_no", "date",
    "time", "datetime", "number", "age_band", "file", "person_identifier",
)
# fmt: on

DEADLINE_KINDS = ("without_delay", "as_soon_as_possible", "days_before", "working_days_after", "days_after", "none")
DAY_COUNTED_DEADLINES = ("days_before", "working_days_after", "days_after")

# People using services are never identified by date of birth, so an age band stands in. Childhood
# is split where services and safeguarding duties change (infants, early years, primary, secondary, 16-17):
# the regulator's death form separates a baby under 1 from a child of 1 to 4.
AGE_BANDS = (
    ("under_1", "Under 1"),
    ("1-4", "1 to 4"),
    ("5-11", "5 to 11"),
    ("12-15", "12 to 15"),
    ("16-17", "16 to 17"),
    ("18-24", "18 to 24"),
    ("25-34", "25 to 34"),
    ("35-44", "35 to 44"),
    ("45-54", "45 to 54"),
    ("55-64", "55 to 64"),
    ("65-74", "65 to 74"),
    ("75-84", "75 to 84"),
    ("85-94", "85 to 94"),
    ("95_and_over", "95 and over"),
    ("unknown", "Not known"),
)

# Bands no longer offered, kept so that answers given under them still read as words (a submitted
# notification is read against the current definition). A draft holding one is asked to choose again.
RETIRED_AGE_BANDS = (("0-4", "0 to 4"),)

YES_NO = (("yes", "Yes"), ("no", "No"))

# The registered people a question can be prefilled with (portal/organisation/registered_people.py).
PREFILL_SOURCES = ("registered_manager", "nominated_individual")

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")

CHOICE_KINDS = ("radios", "checkboxes")
FOLLOW_UP_KINDS = ("radios", "checkboxes", "yes_no")

_NUMBER = (int, float)
_COMMON_RULES: dict[str, Any] = {"required_message": str, "error_name": str}
_DATE_RULES: dict[str, Any] = {"not_in_future": bool, "not_in_past": bool, "not_before_days": int}
RULES: dict[str, dict[str, Any]] = {
    "short_text": {"max_length": int, "format": str},
    "long_text": {"max_length": int},
    "radios": {},
    "checkboxes": {"none_option": str},
    "yes_no": {},
    "date": _DATE_RULES,
    "time": {},
    "datetime": _DATE_RULES,
    "number": {"min": _NUMBER, "max": _NUMBER, "whole": bool},
    "age_band": {},
    "file": {"max_files": int},
    "person_identifier": {"max_length": int},
}
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "short_text": {"max_length": 200},
    "file": {"max_files": 5},
    "person_identifier": {"max_length": 50},
}
TEXT_FORMATS = ("email", "phone")
SHORT_TEXT_LIMIT = 2_000
# Inspectors asked for fuller accounts, not shorter ones: a low cap cuts off the detail that saves a
# call back to the provider, so long text may not be capped below this.
LONG_TEXT_LIMITS = (5_000, 100_000)
MAX_FILES_LIMIT = 20
# A provider's identifier for a person is a record number, not prose: and the search index holds it whole.
PERSON_IDENTIFIER_LIMIT = 100


class DefinitionError(ValueError):
    pass


@dataclass(frozen=True)
class Question:
    key: str
    kind: str
    label: str
    hint: str = ""
    required: bool = True
    rules: dict[str, Any] = field(default_factory=dict, hash=False)
    options: tuple[tuple[str, str], ...] = ()
    follow_up: Question | None = None
    follow_up_when: str | None = None
    # A registered person this question asks about: their name is the question's answer when a notification
    # is started (an ordinary draft answer, which the drafter can change).
    prefill: str | None = None

    def choices(self) -> tuple[tuple[str, str], ...]:
        """The answers a person can pick from, including the fixed ones of yes_no and age_band."""
        if self.kind == "yes_no":
            return YES_NO
        if self.kind == "age_band":
            return AGE_BANDS
        return self.options

    def labels(self) -> dict[str, str]:
        """Words for every answer this question may hold, including ones no longer offered."""
        if self.kind == "age_band":
            return dict(AGE_BANDS + RETIRED_AGE_BANDS)
        return dict(self.choices())

    def shows_follow_up(self, value: Any) -> bool:
        """Whether this question's typed answer reveals its follow-up (checkboxes: if among those ticked)."""
        if self.follow_up is None:
            return False
        when = self.follow_up_when or "yes"
        if isinstance(value, list):
            return when in value
        return value == when


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    description: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class NotificationType:
    key: str
    version: int
    title: str
    legal_basis: str
    who_must_notify: str
    deadline_wording: str
    deadline_kind: str
    deadline_days: int | None
    guidance: str
    follow_up_of: tuple[str, ...]
    sections: tuple[Section, ...]
    deadline_from: str | None = None
    # Which location to choose: asked once, when the notification is started, never inside a section.
    location_hint: str = ""

    def all_questions(self) -> Iterator[Question]:
        """Every question of the type, each follow-up straight after its parent."""
        for section in self.sections:
            for question in section.questions:
                yield question
                if question.follow_up is not None:
                    yield question.follow_up

    def question(self, key: str) -> Question:
        for question in self.all_questions():
            if question.key == key:
                return question
        raise KeyError(key)


class _Where:
    """Where in a definition a problem is, so the message leads straight to the line to fix."""

    def __init__(self, file: str, type_key: str, section: str | None = None, question: str | None = None):
        self.file, self.type_key, self.section, self.question = file, type_key, section, question

    def at(self, *, section: str | None = None, question: str | None = None) -> _Where:
        return _Where(self.file, self.type_key, section or self.section, question)

    def error(self, problem: str) -> DefinitionError:
        place = f"type {self.type_key}"
        if self.question is not None:
            place += f", question {self.question}"
        elif self.section is not None:
            place += f", section {self.section}"
        return DefinitionError(f"{self.file}: {place}: {problem}")


def load_definitions(directory: Path = DEFINITIONS_DIR) -> dict[str, NotificationType]:
    types: dict[str, NotificationType] = {}
    files: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise DefinitionError(f"{path.name}: not valid TOML: {error}") from None
        notification_type = _notification_type(path, data)
        types[notification_type.key] = notification_type
        files[notification_type.key] = path.name
    # Follow-ups can name types in files read later, so they are checked once everything is loaded.
    for key, notification_type in types.items():
        for earlier in notification_type.follow_up_of:
            if earlier not in types:
                raise _Where(files[key], key).error(f"follow_up_of names unknown type {earlier!r}")
    return types


def _notification_type(path: Path, data: dict) -> NotificationType:
    key = data.get("key")
    where = _Where(path.name, key if isinstance(key, str) else path.stem)
    _check_fields(
        where,
        data,
        required={
            "key": str,
            "version": int,
            "title": str,
            "legal_basis": str,
            "who_must_notify": str,
            "deadline_wording": str,
            "deadline_kind": str,
            "guidance": str,
            "sections": list,
        },
        optional={"deadline_days": int, "follow_up_of": list, "deadline_from": str, "location_hint": str},
    )
    _check_key(where, key, "type key")
    if key != path.stem:
        raise where.error(f"type key must match the file name ({key}.toml), not {path.name}")
    if data["version"] < 1:
        raise where.error("version must be a positive integer")
    for name in ("title", "legal_basis", "who_must_notify", "deadline_wording", "guidance"):
        if not data[name].strip():
            raise where.error(f"{name} must not be empty")
    deadline_kind = data["deadline_kind"]
    if deadline_kind not in DEADLINE_KINDS:
        raise where.error(f"unknown deadline_kind {deadline_kind!r} (expected one of {', '.join(DEADLINE_KINDS)})")
    deadline_days = data.get("deadline_days")
    if deadline_kind in DAY_COUNTED_DEADLINES and (deadline_days is None or deadline_days < 1):
        raise where.error(f"deadline_kind {deadline_kind} needs deadline_days, a positive integer")
    if deadline_kind not in DAY_COUNTED_DEADLINES and deadline_days is not None:
        raise where.error(f"deadline_days is only for {', '.join(DAY_COUNTED_DEADLINES)}")
    follow_up_of = data.get("follow_up_of", [])
    for earlier in follow_up_of:
        _check_key(where, earlier, "follow_up_of entry")
        if earlier == key:
            raise where.error("a type cannot follow itself")
    if not data["sections"]:
        raise where.error("needs at least one section")
    deadline_from = data.get("deadline_from")
    # "Without delay" and "as soon as possible" run from an answer too (the event, or when the provider
    # became aware), so they can be flagged when late; only "none" has no clock to start.
    if deadline_from is not None and deadline_kind == "none":
        raise where.error("deadline_from needs a deadline: deadline_kind none has no clock to start")

    question_keys: set[str] = set()
    section_keys: set[str] = set()
    sections = []
    for index, section_data in enumerate(data["sections"], start=1):
        section = _section(where.at(section=f"number {index}"), section_data, question_keys)
        if section.key in section_keys:
            raise where.at(section=section.key).error("section key is used more than once in this type")
        section_keys.add(section.key)
        sections.append(section)

    return NotificationType(
        key=key,
        version=data["version"],
        title=data["title"].strip(),
        legal_basis=data["legal_basis"].strip(),
        who_must_notify=data["who_must_notify"].strip(),
        deadline_wording=data["deadline_wording"].strip(),
        deadline_kind=deadline_kind,
        deadline_days=deadline_days,
        guidance=data["guidance"].strip(),
        follow_up_of=tuple(follow_up_of),
        sections=tuple(sections),
        deadline_from=_deadline_anchor(where, deadline_from, sections),
        location_hint=data.get("location_hint", "").strip(),
    )


def _deadline_anchor(where: _Where, key: str | None, sections: list) -> str | None:
    """The date question a counted deadline runs from, such as the day an absence starts."""
    if key is None:
        return None
    kinds = {q.key: q.kind for s in sections for q in s.questions}
    if kinds.get(key) not in ("date", "datetime"):
        raise where.error(f"deadline_from must name a date question of this type, not {key!r}")
    return key


def _section(where: _Where, data: Any, question_keys: set[str]) -> Section:
    if not isinstance(data, dict):
        raise where.error("must be a table")
    if isinstance(data.get("key"), str):
        where = where.at(section=data["key"])
    _check_fields(where, data, required={"key": str, "title": str, "questions": list}, optional={"description": str})
    _check_key(where, data["key"], "section key")
    if not data["questions"]:
        raise where.error("needs at least one question")
    questions = tuple(
        _question(where, index, question_data, question_keys, nested=False)
        for index, question_data in enumerate(data["questions"], start=1)
    )
    return Section(data["key"], data["title"].strip(), data.get("description", "").strip(), questions)


def _question(where: _Where, index: int, data: Any, question_keys: set[str], *, nested: bool) -> Question:
    position = "follow-up" if nested else f"number {index} in section {where.section}"
    key = data.get("key") if isinstance(data, dict) else None
    where = where.at(question=key if isinstance(key, str) else position)
    if not isinstance(data, dict):
        raise where.error("must be a table")
    _check_fields(
        where,
        data,
        required={"key": str, "kind": str, "label": str},
        optional={
            "hint": str,
            "required": bool,
            "rules": dict,
            "options": list,
            "follow_up": dict,
            "follow_up_when": str,
            "prefill": str,
        },
    )
    key = _check_key(where, key, "question key")
    if key in question_keys:
        raise where.error("question key is used more than once in this type (answers are stored per question key)")
    question_keys.add(key)

    kind = data["kind"]
    if kind not in KINDS:
        raise where.error(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    label = data["label"].strip()
    if not label:
        raise where.error("label must not be empty")
    required = data.get("required", True)
    options = _options(where, kind, data.get("options"))
    rules = _rules(where, kind, label, required, data.get("rules", {}), options)

    follow_up = None
    follow_up_when = data.get("follow_up_when")
    if "follow_up" in data:
        if nested:
            raise where.error("a follow-up question cannot have its own follow-up")
        if kind not in FOLLOW_UP_KINDS:
            raise where.error(f"only {', '.join(FOLLOW_UP_KINDS)} questions can have a follow-up, not {kind}")
        if kind == "yes_no":
            follow_up_when = follow_up_when or "yes"
        allowed = [value for value, _ in (YES_NO if kind == "yes_no" else options)]
        if follow_up_when is None:
            raise where.error(f"{kind} with a follow-up needs follow_up_when, one of its option values")
        if follow_up_when not in allowed:
            raise where.error(f"follow_up_when {follow_up_when!r} is not one of {', '.join(allowed)}")
        follow_up = _question(where, 1, data["follow_up"], question_keys, nested=True)
    elif follow_up_when is not None:
        raise where.error("follow_up_when given without a follow_up question")
    prefill = data.get("prefill")
    if prefill is not None and prefill not in PREFILL_SOURCES:
        raise where.error(f"unknown prefill {prefill!r} (expected one of {', '.join(PREFILL_SOURCES)})")
    if prefill is not None and kind != "short_text":
        raise where.error(f"only short_text questions can be prefilled with a name, not {kind}")

    return Question(
        key=key,
        kind=kind,
        label=label,
        hint=data.get("hint", "").strip(),
        required=required,
        rules=rules,
        options=options,
        follow_up=follow_up,
        follow_up_when=follow_up_when,
        prefill=prefill,
    )


def _options(where: _Where, kind: str, data: list | None) -> tuple[tuple[str, str], ...]:
    if kind not in CHOICE_KINDS:
        if data is not None:
            raise where.error(f"{kind} cannot have options (only {' and '.join(CHOICE_KINDS)} can)")
        return ()
    if not data:
        raise where.error(f"{kind} needs options")
    if kind == "radios" and len(data) < 2:
        raise where.error("radios needs at least 2 options")
    options: list[tuple[str, str]] = []
    for item in data:
        if not isinstance(item, dict) or set(item) != {"value", "label"}:
            raise where.error('each option must be a table like { value = "fracture", label = "Fracture" }')
        value, label = item["value"], item["label"]
        if not isinstance(value, str) or not KEY_PATTERN.fullmatch(value):
            raise where.error(f"option value {value!r} must match {KEY_PATTERN.pattern}")
        if not isinstance(label, str) or not label.strip():
            raise where.error(f"option {value} needs a label")
        if value in [existing for existing, _ in options]:
            raise where.error(f"option value {value!r} is used more than once")
        options.append((value, label.strip()))
    return tuple(options)


def _rules(where: _Where, kind: str, label: str, required: bool, data: dict, options: tuple) -> dict[str, Any]:
    allowed = {**_COMMON_RULES, **RULES[kind]}
    for name, value in data.items():
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise where.error(f"unknown rule {name!r} for {kind} (known rules: {known})")
        if not _is_type(value, allowed[name]):
            raise where.error(f"rule {name} has the wrong type: {value!r}")
        if isinstance(value, str) and not value.strip():
            raise where.error(f"rule {name} must not be empty")
    rules = {**DEFAULT_RULES.get(kind, {}), **data}

    if kind == "short_text" and not 1 <= rules["max_length"] <= SHORT_TEXT_LIMIT:
        raise where.error(f"short_text max_length must be between 1 and {SHORT_TEXT_LIMIT:,}; use long_text for more")
    if kind == "short_text" and rules.get("format", "email") not in TEXT_FORMATS:
        raise where.error(f"unknown format {rules['format']!r} (expected one of {', '.join(TEXT_FORMATS)})")
    if kind == "person_identifier" and not 1 <= rules["max_length"] <= PERSON_IDENTIFIER_LIMIT:
        raise where.error(f"person_identifier max_length must be between 1 and {PERSON_IDENTIFIER_LIMIT}")
    if kind == "long_text":
        low, high = LONG_TEXT_LIMITS
        if "max_length" not in rules:
            raise where.error("long_text needs a max_length rule")
        if not low <= rules["max_length"] <= high:
            raise where.error(f"long_text max_length must be between {low:,} and {high:,}")
    if kind == "number":
        # Bounds keep stored answers sensible and keep absurdly long digit strings out of the database.
        if "min" not in rules or "max" not in rules:
            raise where.error("number needs min and max rules")
        if rules["min"] > rules["max"]:
            raise where.error("number min is greater than max")
    if kind in ("date", "datetime"):
        if rules.get("not_in_future") and rules.get("not_in_past"):
            raise where.error("a date cannot be both not_in_future and not_in_past")
        if rules.get("not_before_days", 1) < 1:
            raise where.error("not_before_days must be a positive integer")
    if kind == "file" and not 1 <= rules["max_files"] <= MAX_FILES_LIMIT:
        raise where.error(f"max_files must be between 1 and {MAX_FILES_LIMIT}")
    if kind == "checkboxes" and "none_option" in rules and rules["none_option"] not in [v for v, _ in options]:
        raise where.error(f"none_option {rules['none_option']!r} is not one of the options")

    # Messages are built from the label ("Enter the date of death"); a label that is a question
    # ("Was the person known to be at risk?") cannot be, so it must say its own words.
    if label.endswith("?"):
        if required and "required_message" not in rules:
            raise where.error("a label that is a question needs a required_message rule")
        if kind not in ("yes_no", "file") and "error_name" not in rules:
            raise where.error("a label that is a question needs an error_name rule, used in error messages")
    return rules


def _check_fields(where: _Where, data: dict, *, required: dict[str, Any], optional: dict[str, Any]) -> None:
    for name in data:
        if name not in required and name not in optional:
            raise where.error(f"unknown field {name!r}")
    for name in required:
        if name not in data:
            raise where.error(f"missing required field {name!r}")
    for name, value in data.items():
        expected = required.get(name) or optional[name]
        if not _is_type(value, expected):
            raise where.error(f"{name} must be {_type_name(expected)}, not {value!r}")


def _is_type(value: Any, expected: Any) -> bool:
    # TOML booleans are Python bools, which are also ints: `version = true` must not pass as 1.
    if isinstance(value, bool) and expected is not bool:
        return False
    return isinstance(value, expected)


def _type_name(expected: Any) -> str:
    names = {str: "text", int: "an integer", bool: "true or false", list: "a list", dict: "a table"}
    return names.get(expected, "a number")


def _check_key(where: _Where, key: Any, what: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise where.error(f"{what} {key!r} must match {KEY_PATTERN.pattern} (lower case letters, digits, _)")
    return key
