"""What templates call: {{ field(form.email) }} asks the field to render itself; error_summary lists every error."""

from __future__ import annotations

from jinja2 import Environment
from markupsafe import Markup

from .govuk_fields import GovukField, macro


def render_field(env: Environment, field, **params) -> Markup:
    if not isinstance(field, GovukField):
        raise TypeError(f"{field.name}: {type(field).__name__} is not a GOV.UK field (portal/web/govuk_fields.py)")
    return field.render_govuk(env, **params)


def render_error_summary(env: Environment, *forms, **params) -> Markup:
    errors = []
    for form in forms:
        if form is None:
            continue
        for form_field in form:
            if form_field.errors:
                anchor = form_field.error_anchor if isinstance(form_field, GovukField) else form_field.id
                errors.append({"text": form_field.errors[0], "href": f"#{anchor}"})
        for message in getattr(form, "form_errors", []):
            errors.append({"text": message})
    extra = params.pop("extra", None) or []
    errors.extend(extra)
    if not errors:
        return Markup("")
    return macro(env, "error-summary")({"titleText": "There is a problem", "errorList": errors, **params})
