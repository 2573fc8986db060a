"""Valid answers for every question of the shipped notification types: form fields for HTTP saves,
and the typed answers the portal would store (through portal's own validate_answer), for seeding.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from bench import common  # noqa: F401  (puts the repository on sys.path)
from portal.notifications.answers import validate_answer
from portal.notifications.definitions import NotificationType, Question, Section
from portal.notifications.form_input import section_raw
from portal.notifications.registry import definitions

LOCATION_PLACEHOLDER = "XLOCATIONPLACEHOLDERX"


def question_fields(question: Question, location_id: str) -> dict[str, str | list[str]]:
    """Form fields holding a valid answer to one question (and its follow-up where it is revealed)."""
    key, kind, rules = question.key, question.kind, question.rules
    if kind == "file":
        return {}
    if kind == "short_text":
        fields: dict = {key: {"email": "someone@example.com", "phone": "01632 960 001"}.get(rules.get("format"),
                                                                                         "Example answer")}
    elif kind == "long_text":
        fields = {key: "What happened, described without names. Staff are referred to by initials and job "
                       "title. The person was seen by the nurse on duty, who made them comfortable."}
    elif kind == "number":
        fields = {key: str(max(rules.get("min", 1), 1))}
    elif kind == "time":
        fields = {key: "14:30"}
    elif kind in ("date", "datetime"):
        when = date.today() + timedelta(days=40) if rules.get("not_in_past") else date.today() - timedelta(days=3)
        fields = {f"{key}-day": str(when.day), f"{key}-month": str(when.month), f"{key}-year": str(when.year)}
        if kind == "datetime":
            fields[f"{key}-time"] = "09:15"
    elif kind == "age_band":
        fields = {key: question.choices()[5][0]}
    elif kind == "location":
        fields = {key: location_id}
    elif kind == "checkboxes":
        fields = {key: [[v for v, _ in question.choices() if v != rules.get("none_option")][0]]}
    else:  # radios, yes_no
        fields = {key: question.choices()[0][0]}
    chosen = fields.get(key)
    chosen_values = chosen if isinstance(chosen, list) else [chosen]
    if question.follow_up is not None and (question.follow_up_when or "yes") in chosen_values:
        fields.update(question_fields(question.follow_up, location_id))
    return fields


def section_fields(section: Section, location_id: str) -> dict[str, str | list[str]]:
    fields: dict = {}
    for question in section.questions:
        fields.update(question_fields(question, location_id))
    return fields


class _Form(dict):
    """Enough of Starlette's FormData for portal.notifications.form_input."""

    def getlist(self, key):
        value = self.get(key)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def typed_answers(section: Section, location_id: str) -> dict[str, Any]:
    """The answers save_section would store for section_fields (files left out)."""
    raw = section_raw(section, _Form(section_fields(section, location_id)))
    answers: dict[str, Any] = {}

    def check(question: Question):
        if question.kind == "file":
            return None
        value, error = validate_answer(question, raw.get(question.key))
        if error is None and value not in (None, [], ""):
            answers[question.key] = value
        return value if error is None else None

    for question in section.questions:
        value = check(question)
        if question.follow_up is not None and question.shows_follow_up(value):
            check(question.follow_up)
    return answers


def needs_upload(section: Section) -> bool:
    return any(q.kind == "file" and q.required for q in section.questions)


@lru_cache(maxsize=None)
def answers_json(type_key: str, section_key: str) -> str:
    """Complete answers as JSON text, with LOCATION_PLACEHOLDER where the provider's location ID goes."""
    kind = definitions()[type_key]
    section = next(s for s in kind.sections if s.key == section_key)
    return json.dumps(typed_answers(section, LOCATION_PLACEHOLDER))


@lru_cache(maxsize=None)
def partial_answers_json(type_key: str, section_key: str) -> str:
    """A section someone started: the first answer only."""
    answers = json.loads(answers_json(type_key, section_key))
    first = dict(list(answers.items())[:1])
    return json.dumps(first)


def shipped_types() -> list[NotificationType]:
    return sorted(definitions().values(), key=lambda kind: kind.key)
