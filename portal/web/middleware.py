"""Pure ASGI middleware: request ids, security headers, the CSRF cookie and the body limit.

Pure ASGI rather than BaseHTTPMiddleware so streaming bodies pass through untouched.
"""

from __future__ import annotations

import logging
import secrets
import time
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..logs import REQUEST_ID

log = logging.getLogger("portal.request")

CSRF_COOKIE = "portal_csrf"


class RequestTooLarge(Exception):
    pass


def _cookie_value(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            cookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:
                return None
            if name in cookie:
                return cookie[name].value
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, production: bool, form_action_origins: tuple[str, ...] = ()):
        self.app = app
        self.production = production
        self.form_action = " ".join(("'self'",) + form_action_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["request_id"] = secrets.token_hex(8)
        # Every line logged while this request is answered carries its id (portal/logs.py).
        request_id_token = REQUEST_ID.set(state["request_id"])
        state["csp_nonce"] = secrets.token_urlsafe(16)
        csrf_cookie = _cookie_value(scope, CSRF_COOKIE)
        new_csrf = csrf_cookie is None or len(csrf_cookie) < 32
        state["csrf_cookie"] = secrets.token_urlsafe(32) if new_csrf else csrf_cookie
        started = time.perf_counter()
        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.extend(self._security_headers(state["csp_nonce"]))
                headers.append((b"x-request-id", state["request_id"].encode()))
                if new_csrf:
                    secure = "; Secure" if self.production else ""
                    headers.append(
                        (
                            b"set-cookie",
                            f"{CSRF_COOKIE}={state['csrf_cookie']}; Path=/; HttpOnly; SameSite=Lax{secure}".encode(),
                        )
                    )
                message["headers"] = headers
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's outermost middleware answers 500 once the error has passed this one: log what the
            # person will get, not the 0 of a response not yet started.
            if status["code"] == 0:
                status["code"] = 500
            failed = True
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            # The one access line per request (uvicorn's own is off). The route's template is a field of its
            # own in JSON logs, so requests to one page group together whatever the ids in their paths.
            log.info(
                "%s %s %s %.1fms request_id=%s",
                scope["method"],
                scope["path"],
                status["code"],
                duration_ms,
                state["request_id"],
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": getattr(scope.get("route"), "path", ""),
                    "status": status["code"],
                    "duration_ms": duration_ms,
                },
            )
            if not failed:
                # After an error the id stays set: the error handler outside this middleware logs the traceback
                # next, in this request's own task, and its line should carry the id too.
                REQUEST_ID.reset(request_id_token)

    def _security_headers(self, nonce: str) -> list[tuple[bytes, bytes]]:
        return security_headers(nonce, form_action=self.form_action, production=self.production)


def security_headers(nonce: str, *, form_action: str = "'self'", production: bool = False) -> list[tuple[bytes, bytes]]:
    csp = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        f"object-src 'none'; base-uri 'self'; form-action {form_action}; frame-ancestors 'none'"
    )
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if production:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class BodyLimitMiddleware:
    """Answers 413 once a body passes its limit, counting bytes as they arrive.

    Content-Length is checked first so an honest over-size request is refused before any of it
    is read; the running count catches chunked bodies and lying headers.
    """

    def __init__(self, app: ASGIApp, *, default_limit: int, limit_for_path=None):
        self.app = app
        self.default_limit = default_limit
        self.limit_for_path = limit_for_path or (lambda path: None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for_path(scope["path"]) or self.default_limit
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    if int(value) > limit:
                        await _send_413(send)
                        return
                except ValueError:
                    await _send_plain(send, 400, b"Bad request")
                    return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except RequestTooLarge:
            if not response_started:
                await _send_413(send)


async def _send_plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_413(send: Send) -> None:
    # Plain text: the person's browser shows it in place of a page that could not be sent.
    await _send_plain(
        send,
        413,
        b"The file or form you sent is too large. Go back, choose a smaller file and try again.",
    )
