"""Putting a service's refusal onto the form that asked, the same way in every handler."""

from __future__ import annotations

from wtforms import Form

from ..rules import RuleBroken


def show_rule_broken(form: Form, error: RuleBroken) -> None:
    """The message goes under the field it names, or above the form when it names none (or one the form
    lacks). Either way the error summary lists it."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [error.message]
    else:
        form.form_errors.append(error.message)
