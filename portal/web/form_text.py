"""Text fields of a submitted form: the input boundary every form passes, and one field read safely."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile

from ..input_text import normalised, refused_character, without_refused


class CheckedForm(FormData):
    """A form after the input boundary (checked_form): its text in NFC with refused characters taken out,
    and `refused` naming each field that held one (field name -> words for the character).

    The characters are taken out, not the field, so the page that says what was wrong shows back the
    rest of what the person typed, and never a character it cannot encode."""

    refused: dict[str, str]


def checked_form(form: FormData) -> CheckedForm:
    items: list[tuple[str, str | UploadFile]] = []
    refused: dict[str, str] = {}
    for name, value in form.multi_items():
        clean_name = normalised(without_refused(name))
        what = refused_character(name)
        if isinstance(value, str):
            what = what or refused_character(value)
            value = normalised(without_refused(value))
        elif value.filename is not None:
            # A file's name is not typed: the person may not be able to change it, so nobody is refused for
            # it. It is cleaned, as the attachment's display name is again (attachments.display_name).
            value.filename = normalised(without_refused(value.filename))
        if what is not None:
            refused.setdefault(clean_name, what)
        items.append((clean_name, value))
    checked = CheckedForm(items)
    checked.refused = refused
    return checked


def refused_fields(form: FormData | None) -> dict[str, str]:
    """The fields the input boundary refused text in (name -> words for the character); none for other forms."""
    return getattr(form, "refused", None) or {}


def form_text(form: FormData | None, name: str) -> str:
    """The field's text; "" when the form, or the field, is missing, or a file came instead of text."""
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""
