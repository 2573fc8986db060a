"""Forms and services speaking one language: a service's RuleBroken shown on the form, a service rule as a validator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import Form
from wtforms.validators import StopValidation, ValidationError

from ..rules import RuleBroken


def show_rule_broken(form: Form, error: RuleBroken) -> None:
    """The message goes under the field it names, or above the form when it names none (or one the form
    lacks). Either way the error summary lists it."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [error.message]
    else:
        form.form_errors.append(error.message)


def rule(check: Callable[[Any], object]):
    """A WTForms validator from a service's own check, so a rule a service enforces is written once."""

    def validate(form: Form, field) -> None:
        try:
            check(field.data)
        except RuleBroken as broken:
            raise ValidationError(broken.message) from None

    return validate


def first_errors(form: Form) -> dict[str, str]:
    """Field name -> its first error, for pages whose forms the template lays out by hand."""
    return {form_field.name: form_field.errors[0] for form_field in form if form_field.errors}


class Chosen:
    """The value is one of the field's choices, which a handler sets per request (this person's locations).
    WTForms' own choice check answers "Not a valid choice"; the person reads our message instead."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form: Form, field) -> None:
        if field.data is None or str(field.data) not in {str(value) for value, _ in field.choices or []}:
            raise StopValidation(self.message)
