"""Between the HTML form and validate_answer: form fields to raw input, and stored answers back to fields."""

from __future__ import annotations

import json
from typing import Any

from ..input_text import normalised, refused_character
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


def saved_raw(question: Question, answers: dict, failed: dict) -> Any:
    """A saved section's answer to one question as the form shows it: what failed to pass, else the answer."""
    return failed.get(question.key, to_raw(question, answers.get(question.key)))


def merge_choices(
    section: Section, mine: dict[str, Any], choices: dict[str, str], answers: dict, failed: dict
) -> dict[str, Any]:
    """For each answer: mine, theirs (the saved one), or (long text) both, mine first.

    mine is what this person had typed; choices holds "mine", "theirs" or "both" by question key, and
    an answer without a choice is mine.
    """
    merged: dict[str, Any] = {}
    for question in section.questions:
        for each in (question, question.follow_up):
            if each is None or each.kind == "file":
                continue
            theirs = saved_raw(each, answers, failed)
            choice = choices.get(each.key, "mine")
            if choice == "theirs":
                merged[each.key] = theirs
            elif choice == "both" and isinstance(mine.get(each.key), str) and isinstance(theirs, str):
                merged[each.key] = f"{mine[each.key]}\n\n{theirs}"
            else:
                merged[each.key] = mine.get(each.key, theirs)
    return merged


def kept_answers(text: str, section: Section) -> dict[str, Any] | None:
    """What the conflict page carried in its hidden field: the person's own answers, as raw form input.

    The field came back from the browser, so it is input like any other: None (a 400) unless it is an
    object whose keys are this section's questions and whose values have the shapes a form gives (text,
    a list of texts, a date's parts), with no lone surrogate or NUL that could not be stored or shown.
    """
    try:
        kept = json.loads(text or "{}")
    except (ValueError, RecursionError):
        return None
    questions = {each.key: each for question in section.questions for each in (question, question.follow_up) if each}
    if not isinstance(kept, dict) or not set(kept) <= set(questions):
        return None
    shaped = all(_shaped_as_the_form_gives(questions[key], value) for key, value in kept.items())
    return _in_nfc(kept) if shaped else None


def _in_nfc(value: Any) -> Any:
    if isinstance(value, str):
        return normalised(value)
    if isinstance(value, list):
        return [_in_nfc(item) for item in value]
    if isinstance(value, dict):
        return {key: _in_nfc(item) for key, item in value.items()}
    return value


def _shaped_as_the_form_gives(question: Question, value: Any) -> bool:
    """The shape raw_from_form gives this kind of question: a list of texts for checkboxes, a date's own
    parts for a date, text for the rest. Anything else was not typed into this form."""
    if value is None:
        return True
    if question.kind == "checkboxes":
        return isinstance(value, list) and all(isinstance(item, str) and _storable(item) for item in value)
    if question.kind in ("date", "datetime"):
        parts = set(DATE_PARTS) | ({"time"} if question.kind == "datetime" else set())
        return (
            isinstance(value, dict)
            and set(value) <= parts
            and all(item is None or isinstance(item, str) and _storable(item) for item in value.values())
        )
    return isinstance(value, str) and _storable(value)


def _storable(text: str) -> bool:
    # The rule every form field meets at the boundary (portal/input_text.py): this JSON's fields are
    # inside one form field, so the boundary saw only their escapes ("\\u0000"), never the characters.
    return refused_character(text) is None
