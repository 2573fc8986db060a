"""One text field of a submitted form, whatever arrived in its place."""

from __future__ import annotations

from starlette.datastructures import FormData


def form_text(form: FormData | None, name: str) -> str:
    """The field's text; "" when the form, or the field, is missing, or a file came instead of text."""
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""
