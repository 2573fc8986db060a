"""Filling in a section through the page itself, as a person does, with or without JavaScript."""

from __future__ import annotations

from datetime import date, timedelta

from portal.notifications.definitions import Question, Section


def answer(page, question: Question) -> None:
    key, kind, rules = question.key, question.kind, question.rules
    if kind == "file":
        return
    if kind == "short_text":
        page.fill(
            f"#{key}",
            {"email": "someone@example.com", "phone": "01632 960 001"}.get(rules.get("format"), "Example answer"),
        )
    elif kind == "person_identifier":
        page.fill(f"#{key}", "CR-00123")
    elif kind == "long_text":
        page.fill(f"#{key}", "What happened, described without names.")
    elif kind == "number":
        page.fill(f"#{key}", str(max(rules.get("min", 1), 1)))
    elif kind == "time":
        page.fill(f"#{key}", "14:30")
    elif kind in ("date", "datetime"):
        when = date.today() + timedelta(days=40) if rules.get("not_in_past") else date.today() - timedelta(days=3)
        page.fill(f"#{key}-day", str(when.day))
        page.fill(f"#{key}-month", str(when.month))
        page.fill(f"#{key}-year", str(when.year))
        if kind == "datetime":
            page.fill(f"#{key}-time", "09:15")
    elif kind == "age_band":
        page.select_option(f"#{key}", question.choices()[5][0])
    elif kind == "checkboxes":
        first = [v for v, _ in question.choices() if v != rules.get("none_option")][0]
        page.check(f"input[name='{key}'][value='{first}']")
    else:
        page.check(f"input[name='{key}'][value='{question.choices()[0][0]}']")
    chosen = page.eval_on_selector_all(
        f"[name='{key}']",
        "els => els.filter(e => e.checked || e.tagName == 'SELECT' || e.type == 'text').map(e => e.value)",
    )
    if question.follow_up is not None and (question.follow_up_when or "yes") in chosen:
        answer(page, question.follow_up)


def fill_section(page, section: Section) -> None:
    for question in section.questions:
        answer(page, question)
