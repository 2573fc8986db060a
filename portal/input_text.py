"""The one rule for text people send: what arrives in a form field, a JSON field, a path or a query string.

Text is stored as Unicode NFC, so "é" typed as one character and as "e" plus an accent is the same
name, found by the same search. Some characters are refused rather than stored: PostgreSQL cannot store
a NUL (a 500 once, for an organisation name), a lone surrogate cannot be encoded to be stored or shown,
and the other control characters are invisible on every page yet change what a person reads, or
what an email header says. Tab, carriage return and newline are what people type, and are kept.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls but tab, LF and CR; DEL and the C1 controls; the surrogate range.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def refused_character(text: str) -> str | None:
    """Words for the first character text may not hold ("a null character"), or None when it holds none."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    character = found.group()
    if character == "\x00":
        return "a null character"
    if "\ud800" <= character <= "\udfff":
        return "a character that is not valid Unicode"
    return "an invisible control character"


def without_refused(text: str) -> str:
    """The text with every refused character taken out: safe to show back to the person who typed it."""
    return _REFUSED.sub("", text)


def normalised(text: str) -> str:
    """NFC: one way of writing each character."""
    return unicodedata.normalize("NFC", text)


def refusal_message(label: str, what: str) -> str:
    """The error a person reads under the field."""
    return f"{label} must not contain {what}. Remove it and try again"
