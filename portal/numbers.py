"""The one parser for ids and counts that arrive as text: paths, query strings, form fields, cursors.

Python's int() takes "٣", " 3", "+3" and numbers no database column holds; passed on, the last give
a 500 (SQLite's OverflowError, PostgreSQL's out-of-range error). Here anything that is not plain ASCII
digits within range is None, and each caller says what None means: a 404, a form error, page one.
"""

from __future__ import annotations

# The largest id a database integer column holds (PostgreSQL's integer); anything larger cannot exist.
MAX_ID = 2**31 - 1


def parse_number(text: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits, between minimum and maximum, else None."""
    if (
        not isinstance(text, str)
        or not text
        or len(text) > len(str(maximum))
        or not (text.isascii() and text.isdigit())
    ):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_id(text: object) -> int | None:
    """A row id: 1 to MAX_ID."""
    return parse_number(text, minimum=1)
