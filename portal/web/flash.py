"""One-time success messages carried from a POST to the page it redirects to.

The message rides in a short-lived signed cookie rather than the query string: a reloaded or shared
address never repeats "Approved", nobody can put words of their own into the banner, and any app
process can read it without shared state.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "portal_flash"
# Long enough for a slow redirect to land, short enough that an old message never reappears.
MAX_AGE_SECONDS = 120


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="flash")


def attach(response: Response, message: str, *, secret: str, secure: bool) -> Response:
    response.set_cookie(
        COOKIE,
        _serializer(secret).dumps(message),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    return response


def take(request: Request, secret: str) -> str | None:
    """The message waiting for this request, if any; the caller clears it with `clear`."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        message = _serializer(secret).loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    return message if isinstance(message, str) else None


def clear(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
