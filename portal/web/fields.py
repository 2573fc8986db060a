"""WTForms fields rendered through the GOV.UK Frontend macros, so a template says {{ field(form.email) }}."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from wtforms import fields as wtf

from .govuk_macros import govuk_macro

MACROS = {
    "input": ("input", "govukInput"),
    "textarea": ("textarea", "govukTextarea"),
    "character-count": ("character-count", "govukCharacterCount"),
    "radios": ("radios", "govukRadios"),
    "checkboxes": ("checkboxes", "govukCheckboxes"),
    "select": ("select", "govukSelect"),
    "file-upload": ("file-upload", "govukFileUpload"),
    "error-summary": ("error-summary", "govukErrorSummary"),
}


def macro(env: Environment, component: str):
    return govuk_macro(env, *MACROS[component])


def _label(field, params, *, page_heading: bool = False) -> dict[str, Any]:
    label: dict[str, Any] = {"text": field.label.text}
    if page_heading:
        label.update(isPageHeading=True, classes="govuk-label--l")
    return label


def _common(field, params) -> dict:
    common = {"id": field.id, "name": field.name}
    # An empty hint still emits aria-describedby, so only pass one that has words.
    hint = params.pop("hint", None) or field.description
    if hint:
        common["hint"] = {"text": hint}
    if field.errors:
        common["errorMessage"] = {"text": field.errors[0]}
    return common


def _choices(field: wtf.SelectField) -> list[tuple[Any, str]]:
    """(value, label) pairs. WTForms also takes option groups (a dict) and per-choice attributes (a third
    item); these macros render neither, so such choices are refused here rather than dropped unseen."""
    choices = field.choices
    if not isinstance(choices, (list, tuple)) or any(len(choice) != 2 for choice in choices):
        raise TypeError(f"{field.name}: GOV.UK fields take choices as (value, label) pairs")
    return [(choice[0], choice[1]) for choice in choices]


def render_field(env: Environment, field, **params) -> Markup:
    page_heading = params.pop("page_heading", False)
    common = _common(field, params)
    if isinstance(field, (wtf.RadioField,)):
        legend: dict[str, Any] = {"text": field.label.text}
        if page_heading:
            legend.update(isPageHeading=True, classes="govuk-fieldset__legend--l")
        else:
            legend["classes"] = "govuk-fieldset__legend--s"
        items = [
            {"value": value, "text": label, "checked": str(field.data) == str(value)}
            for value, label in _choices(field)
        ]
        first_id = field.id
        for item in items[:1]:
            item["id"] = first_id
        return macro(env, "radios")({**common, "fieldset": {"legend": legend}, "items": items, **params})
    if isinstance(field, wtf.SelectMultipleField):
        selected = {str(value) for value in (field.data or [])}
        items = [{"value": value, "text": label, "checked": str(value) in selected} for value, label in _choices(field)]
        if items:
            items[0]["id"] = field.id
        legend = {"text": field.label.text, "classes": "govuk-fieldset__legend--s"}
        return macro(env, "checkboxes")({**common, "fieldset": {"legend": legend}, "items": items, **params})
    if isinstance(field, wtf.BooleanField):
        items = [{"value": "y", "text": field.label.text, "checked": bool(field.data), "id": field.id}]
        return macro(env, "checkboxes")({**common, "items": items, **params})
    if isinstance(field, wtf.SelectField):
        items = [
            {"value": value, "text": label, "selected": str(field.data) == str(value)}
            for value, label in _choices(field)
        ]
        return macro(env, "select")({**common, "label": _label(field, params), "items": items, **params})
    if isinstance(field, wtf.FileField):
        return macro(env, "file-upload")({**common, "label": _label(field, params), **params})
    if isinstance(field, wtf.TextAreaField):
        max_length = params.pop("max_length", None)
        value = field.data or ""
        base = {**common, "label": _label(field, params, page_heading=page_heading), "value": value}
        if max_length:
            return macro(env, "character-count")({**base, "maxlength": max_length, **params})
        return macro(env, "textarea")({**base, **params})
    input_type = {"EmailField": "email", "IntegerField": "text", "TelField": "tel"}.get(type(field).__name__, "text")
    value = field._value() if hasattr(field, "_value") else (field.data or "")
    base = {**common, "label": _label(field, params, page_heading=page_heading), "value": value, "type": input_type}
    if input_type == "email":
        base.update(autocomplete="email", spellcheck=False)
    return macro(env, "input")({**base, **params})


def render_error_summary(env: Environment, *forms, **params) -> Markup:
    errors = []
    for form in forms:
        if form is None:
            continue
        for form_field in form:
            if form_field.errors:
                errors.append({"text": form_field.errors[0], "href": f"#{form_field.id}"})
        for message in getattr(form, "form_errors", []):
            errors.append({"text": message})
    extra = params.pop("extra", None) or []
    errors.extend(extra)
    if not errors:
        return Markup("")
    return macro(env, "error-summary")({"titleText": "There is a problem", "errorList": errors, **params})
