"""A valid answer to any question, as form fields: for tests, benchmarks and the accessibility harness,
so all three fill in every shipped type the same way and follow the definitions when they change."""

from __future__ import annotations

from datetime import date, timedelta

from .definitions import Question, Section

PERSON_IDENTIFIER = "CR-00123"
LONG_TEXT = "What happened, described without names. Staff are referred to by initials and job title."


def example_fields(question: Question) -> dict[str, str | list[str]]:
    """Form fields holding a valid answer to one question (and its follow-up where it is revealed)."""
    key, kind, rules = question.key, question.kind, question.rules
    if kind == "file":
        return {}
    if kind == "short_text":
        fields: dict = {
            key: {"email": "someone@example.com", "phone": "01632 960 001"}.get(
                str(rules.get("format", "")), "Example answer"
            )
        }
    elif kind == "person_identifier":
        fields = {key: PERSON_IDENTIFIER}
    elif kind == "long_text":
        fields = {key: LONG_TEXT}
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
    elif kind == "checkboxes":
        fields = {key: [[v for v, _ in question.choices() if v != rules.get("none_option")][0]]}
    else:  # radios, yes_no
        fields = {key: question.choices()[0][0]}
    chosen = fields.get(key)
    chosen_values = chosen if isinstance(chosen, list) else [chosen]
    if question.follow_up is not None and (question.follow_up_when or "yes") in chosen_values:
        fields.update(example_fields(question.follow_up))
    return fields


def example_section(section: Section) -> dict[str, str | list[str]]:
    fields: dict = {}
    for question in section.questions:
        fields.update(example_fields(question))
    return fields
