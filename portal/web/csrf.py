"""CSRF tokens: an HMAC of the per-browser cookie, so any app process can check one without state.

A page rendered for a signed-in person carries a second part, after a dot: an HMAC of the browser and that
person. A form from a tab left open while someone else signed in on the same browser (a shared computer
in a care home) passes the browser's check, and is then refused by routing's person check rather than
acting as whoever is signed in now.
"""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token_for(secret: str, cookie_value: str, person_id: int | None = None) -> str:
    browser = _mac(secret, f"csrf:{cookie_value}")
    return browser if person_id is None else f"{browser}.{_person_part(secret, cookie_value, person_id)}"


def is_valid(secret: str, cookie_value: str | None, presented: str | None) -> bool:
    """The token was made for this browser; who it was made for is opened_by()'s question."""
    if not cookie_value or not presented:
        return False
    browser = presented.partition(".")[0]
    # As bytes: compare_digest raises TypeError for a str with non-ASCII characters, which anyone can send.
    return hmac.compare_digest(_mac(secret, f"csrf:{cookie_value}").encode(), browser.encode("utf-8", "replace"))


def opened_by_someone_else(secret: str, cookie_value: str, presented: str, person_id: int) -> bool:
    """The page the token came from was rendered for another person. A token without a person part (a page
    rendered with nobody signed in) was opened by nobody in particular, so it is nobody else's."""
    _, dot, person = presented.partition(".")
    if not dot:
        return False
    expected = _person_part(secret, cookie_value, person_id)
    return not hmac.compare_digest(expected.encode(), person.encode("utf-8", "replace"))


def _person_part(secret: str, cookie_value: str, person_id: int) -> str:
    return _mac(secret, f"person:{cookie_value}:{person_id}")[:32]


def _mac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
