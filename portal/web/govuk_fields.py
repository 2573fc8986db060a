"""WTForms fields that render themselves through the GOV.UK Frontend macros.

Each class knows its macro and builds that macro's params from the field: id, name, label or legend,
hint, value and error message. A template says {{ field(form.email) }}; keyword arguments there are
passed to the macro as they are and win over what the field built (so `fieldset=` replaces the whole
fieldset, legend included). Notification questions render through the same primitives (govuk_common
and macro) in portal/notifications/rendering.py.
"""

from __future__ import annotations

from typing import Any, ClassVar

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
    "date-input": ("date-input", "govukDateInput"),
    "fieldset": ("fieldset", "govukFieldset"),
    "error-summary": ("error-summary", "govukErrorSummary"),
}


def macro(env: Environment, component: str):
    return govuk_macro(env, *MACROS[component])


def govuk_common(ident: str, name: str, hint: str | None, error: str | None) -> dict[str, Any]:
    """The params every GOV.UK field macro shares."""
    common: dict[str, Any] = {"id": ident, "name": name}
    # An empty hint still emits aria-describedby, so only pass one that has words.
    if hint:
        common["hint"] = {"text": hint}
    if error:
        common["errorMessage"] = {"text": error}
    return common


def _choices(field: wtf.SelectFieldBase) -> list[tuple[Any, str]]:
    """(value, label) pairs. WTForms also takes option groups (a dict) and per-choice attributes (a third
    item); these macros render neither, so such choices are refused here rather than dropped unseen."""
    choices = getattr(field, "choices", None) or []
    if not isinstance(choices, (list, tuple)) or any(len(choice) != 2 for choice in choices):
        raise TypeError(f"{field.name}: GOV.UK fields take choices as (value, label) pairs")
    return [(choice[0], choice[1]) for choice in choices]


class GovukField:
    """Mixed into a WTForms field class, before it, so the field renders through its GOV.UK macro."""

    component: ClassVar[str]

    # Provided by the WTForms field class this is mixed into.
    id: str
    name: str
    label: wtf.Label
    description: str
    errors: Any
    data: Any

    @property
    def error_anchor(self) -> str:
        """Where the error summary's link lands: the element that takes focus, the first of a group."""
        return self.id

    def common_params(self, params: dict[str, Any]) -> dict[str, Any]:
        hint = params.pop("hint", None) or self.description
        return govuk_common(self.id, self.name, hint, self.errors[0] if self.errors else None)

    def govuk_params(self, params: dict[str, Any], page_heading: bool) -> dict[str, Any]:
        """The macro's params built from the field; takes out of `params` what is an option, not a param."""
        raise NotImplementedError

    def render_govuk(self, env: Environment, **params: Any) -> Markup:
        page_heading = params.pop("page_heading", False)
        built = self.govuk_params(params, page_heading)
        return macro(env, self.component)({**built, **params})


class _Labelled(GovukField):
    def label_params(self, page_heading: bool) -> dict[str, Any]:
        label: dict[str, Any] = {"text": self.label.text}
        if page_heading:
            label.update(isPageHeading=True, classes="govuk-label--l")
        return label


class GovukTextInput(_Labelled, wtf.StringField):
    component = "input"
    input_type: ClassVar[str] = "text"

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            # A text input holds one line; a line break (pasted, or sent by a script) becomes a space, so a
            # name or a subject never breaks the heading, title or table it is shown in.
            self.data = " ".join(self.data.splitlines())

    def govuk_params(self, params, page_heading):
        return {
            **self.common_params(params),
            "label": self.label_params(page_heading),
            "value": "" if self.data is None else str(self.data),
            "type": self.input_type,
        }


class GovukEmail(_Labelled, wtf.EmailField):
    component = "input"

    def govuk_params(self, params, page_heading):
        return {
            **self.common_params(params),
            "label": self.label_params(page_heading),
            "value": "" if self.data is None else str(self.data),
            "type": "email",
            "autocomplete": "email",
            "spellcheck": False,
        }


class GovukTextarea(_Labelled, wtf.TextAreaField):
    """A textarea; with max_length, GOV.UK's character count, which tells the person how many are left."""

    component = "textarea"

    def __init__(self, label=None, validators=None, *, max_length: int | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_length = max_length

    def render_govuk(self, env, **params):
        max_length = params.pop("max_length", None) or self.max_length
        page_heading = params.pop("page_heading", False)
        built = {**self.common_params(params), "label": self.label_params(page_heading), "value": self.data or ""}
        if max_length:
            return macro(env, "character-count")({**built, "maxlength": max_length, **params})
        return macro(env, "textarea")({**built, **params})


class GovukSelect(_Labelled, wtf.SelectField):
    component = "select"

    def govuk_params(self, params, page_heading):
        items = [
            {"value": value, "text": label, "selected": str(self.data) == str(value)} for value, label in _choices(self)
        ]
        return {**self.common_params(params), "label": self.label_params(False), "items": items}


class GovukRadios(GovukField, wtf.RadioField):
    component = "radios"

    def govuk_params(self, params, page_heading):
        legend: dict[str, Any] = {"text": self.label.text}
        if page_heading:
            legend.update(isPageHeading=True, classes="govuk-fieldset__legend--l")
        else:
            legend["classes"] = "govuk-fieldset__legend--s"
        items = [
            {"value": value, "text": label, "checked": str(self.data) == str(value)} for value, label in _choices(self)
        ]
        # The first radio takes the field's id, so the error summary's link and the label land on it.
        for item in items[:1]:
            item["id"] = self.id
        return {**self.common_params(params), "fieldset": {"legend": legend}, "items": items}


class GovukCheckboxes(GovukField, wtf.SelectMultipleField):
    component = "checkboxes"

    def govuk_params(self, params, page_heading):
        selected = {str(value) for value in (self.data or [])}
        items = [{"value": value, "text": label, "checked": str(value) in selected} for value, label in _choices(self)]
        if items:
            items[0]["id"] = self.id
        legend = {"text": self.label.text, "classes": "govuk-fieldset__legend--s"}
        return {**self.common_params(params), "fieldset": {"legend": legend}, "items": items}


class GovukBoolean(GovukField, wtf.BooleanField):
    """One checkbox, its label the question."""

    component = "checkboxes"

    def govuk_params(self, params, page_heading):
        items = [{"value": "y", "text": self.label.text, "checked": bool(self.data), "id": self.id}]
        return {**self.common_params(params), "items": items}


class GovukFileUpload(_Labelled, wtf.FileField):
    component = "file-upload"

    def govuk_params(self, params, page_heading):
        return {**self.common_params(params), "label": self.label_params(False)}


# Fields a person never sees: no macro, WTForms renders them as they are.
PLAIN_FIELDS = (wtf.HiddenField,)
