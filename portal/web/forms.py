"""Forms and services speaking one language: a service's RuleBroken shown on the form, a service rule as a validator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wtforms
from wtforms.validators import StopValidation, ValidationError

from ..input_text import refusal_message
from ..rules import RuleBroken
from .form_text import refused_fields


def show_rule_broken(form: wtforms.Form, error: RuleBroken) -> None:
    """The message goes under the field it names, or above the form when it names none (or one the form
    lacks). Either way the error summary lists it."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [error.message]
    else:
        form.form_errors.append(error.message)


def rule(check: Callable[[Any], object]):
    """A WTForms validator from a service's own check, so a rule a service enforces is written once."""

    def validate(form: wtforms.Form, field) -> None:
        try:
            check(field.data)
        except RuleBroken as broken:
            raise ValidationError(broken.message) from None

    return validate


def first_error(form: wtforms.Form) -> str:
    """The first message a failed form has, on a field or on the form itself (a refused character in a
    field the form does not have): for pages that show one message."""
    for form_field in form:
        if form_field.errors:
            return str(form_field.errors[0])
    return str(form.form_errors[0]) if form.form_errors else "Check what you sent and try again"


def first_errors(form: wtforms.Form) -> dict[str, str]:
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


class Form(wtforms.Form):
    """Every portal form's base: a field whose text the input boundary refused (a NUL, a control
    character) fails validation with a message naming it, so the page shows the person's other
    answers back and says which field to correct."""

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self._refused = refused_fields(formdata)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name, what in self._refused.items():
            field = self._fields.get(name)
            if field is not None:
                field.errors = [refusal_message(str(field.label.text), what)]
            else:
                self.form_errors.append(refusal_message("What you sent", what))
        return valid and not self._refused
