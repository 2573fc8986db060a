"""CSRF tokens: an HMAC of the per-browser cookie, so any app process can check one without state."""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token_for(secret: str, cookie_value: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{cookie_value}".encode(), hashlib.sha256).hexdigest()


def is_valid(secret: str, cookie_value: str | None, presented: str | None) -> bool:
    if not cookie_value or not presented:
        return False
    # As bytes: compare_digest raises TypeError for a str with non-ASCII characters, which anyone can send.
    return hmac.compare_digest(token_for(secret, cookie_value).encode(), presented.encode("utf-8", "replace"))
