"""The one test for "may we send a person to this path": every back link, next page and Referer uses it.

A path that came from a person (a form field, a query string, a Referer header) is only ever used as
a path on this site. Anything that a browser could read as another site is refused rather than
repaired: "//evil.example"; a backslash, which browsers read as a slash; a tab or newline, which
browsers drop, so that "/", tab, "/evil.example" becomes "//evil.example".
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit


def same_site_path(value: str | None) -> str | None:
    """value when it is a path on this site, else None; each caller chooses where to go instead."""
    if not isinstance(value, str) or not value.startswith("/"):
        return None
    # Refused anywhere, not only at the start: a path that carries "//" is one step away from
    # becoming a protocol-relative address when something later strips its first segment.
    if "//" in value or "\\" in value:
        return None
    # Controls (tab, newline, NUL), invisible format characters and direction overrides: browsers drop
    # some of them, which can turn "/\t/host" into "//host", and a link shown to people must read as it goes.
    if any(unicodedata.category(character).startswith("C") for character in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def page_within(value: str | None, own: str) -> str | None:
    """value when it is `own` or a page below it (a notification's own pages, say), else None."""
    path = same_site_path(value)
    if path is None or not (path == own or path.startswith(own + "/") or path.startswith(own + "?")):
        return None
    # "/notifications/1/../../dashboard" starts like one of them but is not (nor is it with %2e for the dots).
    if any(segment in (".", "..") for segment in unquote(urlsplit(path).path).split("/")):
        return None
    return path
