"""A definition's question rendered through the GOV.UK Frontend macros.

Questions come from the TOML definitions, not from WTForms classes, so they are not GovukField
instances yet; they share the field classes' primitives (the macro lookup and the common params) so the
two cannot drift apart on hints, error messages or ids.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ..web.govuk_fields import govuk_common
from ..web.govuk_fields import macro as _macro
from .definitions import Question


def _common(question: Question, errors: dict[str, str]) -> dict[str, Any]:
    # The key is both the id and the name; radios and checkboxes take their ids from idPrefix instead,
    # and a date input's names from namePrefix, so the extra param changes nothing there.
    return govuk_common(question.key, question.key, question.hint, errors.get(question.key))


def _label_text(question: Question) -> str:
    return question.label if question.required else f"{question.label} (optional)"


def render_question(
    env: Environment,
    question: Question,
    values: dict[str, Any],
    errors: dict[str, str],
    file_html=None,
) -> Markup:
    """values holds raw form values by key; follow-ups render inside their parent's conditional reveal."""
    kind = question.kind
    value = values.get(question.key)
    common = _common(question, errors)
    label = {"text": _label_text(question), "classes": "govuk-label--s"}
    legend = {"legend": {"text": _label_text(question), "classes": "govuk-fieldset__legend--s"}}

    if kind == "file":
        return file_html(question) if file_html else Markup("")
    if kind == "short_text":
        width = "govuk-input--width-10" if question.rules.get("format") == "phone" else ""
        extra = (
            {"autocomplete": "email", "spellcheck": False, "type": "email"}
            if question.rules.get("format") == "email"
            else {}
        )
        return _macro(env, "input")(
            {
                "id": question.key,
                "name": question.key,
                "label": label,
                "value": value if isinstance(value, str) else "",
                "classes": width,
                **extra,
                **common,
            }
        )
    if kind == "person_identifier":
        # A record number: no spelling suggestions, nothing a browser could fill in from another form.
        return _macro(env, "input")(
            {
                "id": question.key,
                "name": question.key,
                "label": label,
                "value": value if isinstance(value, str) else "",
                "classes": "govuk-input--width-20",
                "spellcheck": False,
                "autocomplete": "off",
                **common,
            }
        )
    if kind == "long_text":
        return _macro(env, "character-count")(
            {
                "id": question.key,
                "name": question.key,
                "label": label,
                "rows": 8,
                "value": value if isinstance(value, str) else "",
                "maxlength": question.rules.get("max_length", 10000),
                **common,
            }
        )
    if kind == "number":
        return _macro(env, "input")(
            {
                "id": question.key,
                "name": question.key,
                "label": label,
                "value": value if isinstance(value, str) else "",
                "classes": "govuk-input--width-5",
                "inputmode": "numeric",
                "spellcheck": False,
                **common,
            }
        )
    if kind == "time":
        hint = {"text": question.hint or "Use the 24-hour clock, for example 14:30"}
        return _macro(env, "input")(
            {
                "id": question.key,
                "name": question.key,
                "label": label,
                "value": value if isinstance(value, str) else "",
                "classes": "govuk-input--width-5",
                **common,
                "hint": hint,
            }
        )
    if kind in ("date", "datetime"):
        return _date(env, question, value if isinstance(value, dict) else {}, errors, legend)
    if kind == "age_band":
        items = [{"value": "", "text": "Select an age band"}] + [
            {"value": band, "text": text, "selected": value == band} for band, text in question.choices()
        ]
        return _macro(env, "select")(
            {"id": question.key, "name": question.key, "label": label, "items": items, **common}
        )
    if kind in ("radios", "yes_no", "checkboxes"):
        chosen = value if isinstance(value, list) else [value]
        items = []
        for option, text in question.choices():
            item = {"value": option, "text": text, "checked": option in chosen}
            if question.follow_up is not None and option == (question.follow_up_when or "yes"):
                item["conditional"] = {"html": render_question(env, question.follow_up, values, errors)}
            items.append(item)
        params = {"idPrefix": question.key, "name": question.key, "fieldset": legend, "items": items, **common}
        if kind == "yes_no" and question.follow_up is None:
            params["classes"] = "govuk-radios--inline"
        return _macro(env, "checkboxes" if kind == "checkboxes" else "radios")(params)
    return Markup("")


def _date(env: Environment, question: Question, value: dict, errors: dict[str, str], legend: dict) -> Markup:
    error = question.key in errors
    items = [
        {
            "name": "day",
            "classes": "govuk-input--width-2" + (" govuk-input--error" if error else ""),
            "value": value.get("day") or "",
        },
        {
            "name": "month",
            "classes": "govuk-input--width-2" + (" govuk-input--error" if error else ""),
            "value": value.get("month") or "",
        },
        {
            "name": "year",
            "classes": "govuk-input--width-4" + (" govuk-input--error" if error else ""),
            "value": value.get("year") or "",
        },
    ]
    params = {
        "id": question.key,
        "namePrefix": question.key,
        "fieldset": legend,
        "items": items,
        **_common(question, errors),
    }
    if "hint" not in params:
        params["hint"] = {"text": "For example, 27 3 2026"}
    date_html = _macro(env, "date-input")(params)
    if question.kind == "date":
        return date_html
    time_value = value.get("time") or ""
    time_html = _macro(env, "input")(
        {
            "id": f"{question.key}-time",
            "name": f"{question.key}-time",
            "label": {"text": "Time", "classes": "govuk-label--s"},
            "hint": {"text": "Use the 24-hour clock, for example 14:30"},
            "value": time_value,
            "classes": "govuk-input--width-5" + (" govuk-input--error" if error else ""),
        }
    )
    return date_html + time_html  # both are Markup from the GOV.UK macros, already escaped
