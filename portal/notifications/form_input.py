"""Between the HTML form and validate_answer: form fields to raw input, and stored answers back to fields."""

from __future__ import annotations

from typing import Any

from .definitions import Question, Section

DATE_PARTS = ("day", "month", "year")


def field_names(question: Question) -> list[str]:
    if question.kind == "date":
        return [f"{question.key}-{part}" for part in DATE_PARTS]
    if question.kind == "datetime":
        return [f"{question.key}-{part}" for part in DATE_PARTS] + [f"{question.key}-time"]
    return [question.key]


def anchor(question: Question) -> str:
    """Where the error summary's link lands: a date's first box, not its wrapper."""
    return field_names(question)[0]


def raw_from_form(question: Question, form) -> Any:
    key = question.key
    if question.kind == "checkboxes":
        return [value for value in form.getlist(key) if isinstance(value, str)]
    if question.kind in ("date", "datetime"):
        parts = {part: _text(form.get(f"{key}-{part}")) for part in DATE_PARTS}
        if question.kind == "datetime":
            parts["time"] = _text(form.get(f"{key}-time"))
        return parts
    return _text(form.get(key))


def _text(value: Any) -> str | None:
    # A file where text was expected is a tampered form: treat it as no answer.
    return value if isinstance(value, str) else None


def section_raw(section: Section, form) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for question in section.questions:
        if question.kind != "file":
            raw[question.key] = raw_from_form(question, form)
        if question.follow_up is not None and question.follow_up.kind != "file":
            raw[question.follow_up.key] = raw_from_form(question.follow_up, form)
    return raw


def to_raw(question: Question, value: Any) -> Any:
    """A stored typed answer as the form shows it."""
    if value is None:
        return None
    if question.kind == "date" and isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return {"day": str(int(day)), "month": str(int(month)), "year": year}
    if question.kind == "datetime" and isinstance(value, str) and "T" in value:
        date_part, time_part = value.split("T", 1)
        year, month, day = date_part.split("-")
        return {"day": str(int(day)), "month": str(int(month)), "year": year, "time": time_part}
    if question.kind == "number":
        return str(value)
    return value


def shown_values(section: Section, answers: dict, failed: dict) -> dict[str, Any]:
    """What each field shows: the saved answer, or what the person typed that did not pass yet."""
    values: dict[str, Any] = {}
    for question in section.questions:
        for each in (question, question.follow_up):
            if each is None:
                continue
            if each.key in failed:
                values[each.key] = failed[each.key]
            elif each.key in answers:
                values[each.key] = to_raw(each, answers[each.key])
    return values
