"""Valid answers for every question of the shipped notification types: form fields for HTTP saves,
and the typed answers the portal would store (through portal's own validate_answer), for seeding.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from bench import common  # noqa: F401  (puts the repository on sys.path)
from portal.notifications.answers import validate_answer
from portal.notifications.definitions import NotificationType, Question, Section
from portal.notifications.examples import example_fields, example_section
from portal.notifications.form_input import section_raw
from portal.notifications.registry import definitions

# One definition of a valid answer, shared with the tests and the accessibility harness.
question_fields = example_fields
section_fields = example_section


class _Form(dict):
    """Enough of Starlette's FormData for portal.notifications.form_input."""

    def getlist(self, key):
        value = self.get(key)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def typed_answers(section: Section) -> dict[str, Any]:
    """The answers save_section would store for section_fields (files left out)."""
    raw = section_raw(section, _Form(section_fields(section)))
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


@cache
def answers_json(type_key: str, section_key: str) -> str:
    """Complete answers as JSON text."""
    kind = definitions()[type_key]
    section = next(s for s in kind.sections if s.key == section_key)
    return json.dumps(typed_answers(section))


@cache
def partial_answers_json(type_key: str, section_key: str) -> str:
    """A section someone started: the first answer only."""
    answers = json.loads(answers_json(type_key, section_key))
    first = dict(list(answers.items())[:1])
    return json.dumps(first)


def shipped_types() -> list[NotificationType]:
    return sorted(definitions().values(), key=lambda kind: kind.key)
