"""Helpers for drafting tests: start a notification and fill in sections as a person would."""

from __future__ import annotations

import re
from datetime import date, timedelta

from portal.notifications.definitions import Question, Section

from .conftest import post_form


def start_notification(client, type_key: str, location_id: int) -> int:
    response = post_form(client, "/notifications/new", {"type": type_key, "location": str(location_id)},
                         from_page="/notifications/new")
    assert response.status_code == 303, response.text[-2000:]
    return int(response.headers["location"].rsplit("/", 1)[1])


def version_on(page_text: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page_text).group(1)


def valid_answer(question: Question, location_ids: list[str]) -> dict[str, str | list[str]]:
    """Form fields holding a valid answer to one question (and its follow-up where it is revealed)."""
    key, kind, rules = question.key, question.kind, question.rules
    if kind == "file":
        return {}
    if kind == "short_text":
        value = {"email": "someone@example.com", "phone": "01632 960 001"}.get(rules.get("format"), "Example answer")
        fields = {key: value}
    elif kind == "long_text":
        fields = {key: "What happened, described without names. Staff are referred to by initials."}
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
        fields = {key: location_ids[0]}
    elif kind == "checkboxes":
        first = [value for value, _ in question.choices() if value != rules.get("none_option")][0]
        fields = {key: [first]}
    else:  # radios, yes_no
        fields = {key: question.choices()[0][0]}
    chosen = fields.get(key)
    chosen_values = chosen if isinstance(chosen, list) else [chosen]
    if question.follow_up is not None and (question.follow_up_when or "yes") in chosen_values:
        fields.update(valid_answer(question.follow_up, location_ids))
    return fields


def fill_section(client, notification_id: int, section: Section, location_ids: list[str], action="continue"):
    path = f"/notifications/{notification_id}/sections/{section.key}"
    page = client.get(path)
    assert page.status_code == 200, page.text[-2000:]
    data = {"action": action, "version": version_on(page.text)}
    for question in section.questions:
        data.update(valid_answer(question, location_ids))
    pairs = []
    for name, value in data.items():
        for each in (value if isinstance(value, list) else [value]):
            pairs.append((name, each))
    return post_form(client, path, pairs, from_page=path)
