"""One-time success messages carried from a POST to the page it redirects to.

The message rides in a short-lived signed cookie rather than the query string: a reloaded or shared
address never repeats "Approved", nobody can put words of their own into the banner, and any app
process can read it without shared state. It is bound to the browser that made the change (through its
CSRF cookie), so a copied cookie shows nothing anywhere else.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "portal_flash"
# Long enough for a slow redirect to land, short enough that an old message never reappears.
MAX_AGE_SECONDS = 120


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="flash")


def _browser(request: Request) -> str:
    csrf_cookie = request.scope.get("state", {}).get("csrf_cookie", "")
    return hashlib.sha256(csrf_cookie.encode()).hexdigest()[:32]


def attach(request: Request, response: Response, message: str, *, secret: str, secure: bool) -> Response:
    response.set_cookie(
        COOKIE,
        _serializer(secret).dumps([message, _browser(request)]),
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
        payload = _serializer(secret).loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    match payload:
        case [str() as message, str() as browser] if browser == _browser(request):
            return message
    return None


def clear(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
