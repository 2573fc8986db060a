"""Routes declare a permission; one wrapper enforces it for all of them.

A handler is a plain function taking a Ctx. The wrapper reads the form, checks CSRF, then runs
the handler in the bounded thread pool inside one database transaction, after the central
permission check. Handlers never open sessions or check permissions themselves. A route with slow
work on its request (an upload's copy and virus scan) declares it as `prepare=`, and the wrapper
does that work between two transactions, holding no database thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote

import anyio
from python_multipart.exceptions import MultipartParseError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from .. import permissions as perms
from ..db import transaction
from ..numbers import parse_id
from ..safe_paths import same_site_path
from . import csrf
from . import flash as flash_messages
from .middleware import CSRF_COOKIE

log = logging.getLogger("portal.routing")

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class NotFound(HTTPException):
    def __init__(self):
        super().__init__(404)


class Forbidden(HTTPException):
    def __init__(self):
        super().__init__(403)


@dataclass(frozen=True)
class Loader:
    """How a route's object is found from its path: the routing layer loads it, checks it, or answers 404.

    fetch(ctx, id) returns the object only when ctx.auth may see it (organisation and location
    included), else None, so every route that names a Loader answers 404 the same way.
    """

    param: str
    fetch: Callable[[Ctx, int], Any]


@dataclass(frozen=True)
class BearerAuth:
    """The API's bearer-token check, registered by the app as app.state.bearer_auth.

    authenticate(db, authorization header) -> the live token or None; unauthorised(header) -> the 401.
    """

    authenticate: Callable[[Any, str | None], Any]
    unauthorised: Callable[[str | None], Response]


@dataclass(frozen=True)
class Prepare:
    """Slow work a route does before its transaction, on a thread of its own pool (app.state.file_limiter).

    The database threads are few (PORTAL_DB_THREADS), so a slow upload held on one stalls every other
    request. In order:
    1. check(ctx[, target]) in a short transaction of its own, after the permission check and the
       Loader, so nothing is done for someone who may not: a Response answers at once, None goes on.
    2. work(form, settings) outside any transaction; it cleans up after itself if it raises.
    3. the handler, as handler(ctx[, target], prepared), in the route's one transaction after the
       same checks again: the world may have changed while the work ran.
    discard(prepared, settings) undoes the work unless the handler called ctx.keep_prepared() and
    returned: so when it refuses, raises, or is never called. Kept work whose commit then fails is
    left behind, since the commit may have happened: the route's own clean-up must find it.
    """

    check: Callable[..., Response | None]
    work: Callable[[FormData | None, Any], Any]
    discard: Callable[[Any, Any], None]


@dataclass
class _Prepared:
    value: Any
    kept: bool = False


@dataclass
class Endpoint:
    path: str
    methods: tuple[str, ...]
    permission: perms.Permission
    handler: Callable
    name: str
    max_files: int = 0
    stream: bool = False
    # False for routes that must answer without the database, such as /healthz during an outage.
    load_auth: bool = True
    # The object the route acts on; its handler is called as handler(ctx, obj).
    loads: Loader | None = None
    prepare: Prepare | None = None


@dataclass
class Ctx:
    request: Request
    db: Any
    app: Any
    auth: Any
    form: FormData | None
    permission: perms.Permission
    after_commit: list = field(default_factory=list)
    # The ApiToken that authenticated the request, on routes declaring an API permission; None elsewhere.
    api_token: Any = None
    # What the route's Prepare.work made, on routes declaring one.
    prepared: _Prepared | None = None

    @property
    def settings(self):
        return self.app.state.settings

    def keep_prepared(self) -> None:
        """The prepared work is now part of this transaction's change: it must not be discarded."""
        if self.prepared is None:
            raise RuntimeError("this route declares no prepare=")
        self.prepared.kept = True

    @property
    def params(self) -> dict:
        return self.request.path_params

    def param_int(self, name: str) -> int:
        value = parse_id(self.request.path_params.get(name))
        if value is None:
            raise NotFound()
        return value

    @property
    def query(self):
        return self.request.query_params

    @property
    def client_ip(self) -> str:
        return self.request.client.host if self.request.client else ""

    @property
    def user_agent(self) -> str:
        return self.request.headers.get("user-agent", "")[:400]

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        return render(self.request, template, status=status, auth=self.auth, **context)

    def render_csrf_token(self) -> str:
        state = self.request.scope.get("state", {})
        return csrf.token_for(self.settings.secret_key, state.get("csrf_cookie", ""))

    def url(self, name: str, **params: Any) -> str:
        """The path of a named route, such as url("notifications.task_list", notification_id=3)."""
        return str(self.request.app.url_path_for(name, **params))

    def redirect(self, url: str, *, flash: str | None = None) -> RedirectResponse:
        """A 303 to url; flash is a success message shown once on the page it lands on."""
        response = RedirectResponse(url, status_code=303)
        if flash:
            settings = self.settings
            flash_messages.attach(
                self.request, response, flash, secret=settings.secret_key, secure=settings.is_production
            )
        return response

    def redirect_to(self, name: str, *, flash: str | None = None, anchor: str = "", **params: Any) -> RedirectResponse:
        """A 303 to a named route."""
        return self.redirect(self.url(name, **params) + (f"#{anchor}" if anchor else ""), flash=flash)


def render(request: Request, template: str, status: int = 200, auth=None, **context) -> HTMLResponse:
    app = request.app
    state = request.scope.get("state", {})
    secret = app.state.settings.secret_key
    # htmx fragments leave a waiting message for the full page that shows it.
    flash = None if request.headers.get("hx-request") else flash_messages.take(request, secret)
    base = {
        "flash": flash,
        "settings": app.state.settings,
        "auth": auth,
        "cspNonce": state.get("csp_nonce", ""),
        "csrf_token": csrf.token_for(app.state.settings.secret_key, state.get("csrf_cookie", "")),
        "request_id": state.get("request_id", ""),
        "current_path": request.url.path,
    }
    response = app.state.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)
    if flash is not None:
        flash_messages.clear(response, secure=app.state.settings.is_production)
    return response


class Routes:
    """Collects endpoints with their permissions; every module adds its own.

    Route names are "namespace.handler" (say "members.invite"), so links are written as
    url("members.invite") and never as hand-typed paths.
    """

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.endpoints: list[Endpoint] = []

    def route(self, path: str, *, methods=("GET",), permission: perms.Permission, name: str | None = None, **options):
        if not isinstance(permission, perms.Permission):
            raise TypeError(f"{path}: a route declares a Permission, not {permission!r}")

        def decorate(handler):
            self.endpoints.append(
                Endpoint(
                    path, tuple(methods), permission, handler, f"{self.namespace}.{name or handler.__name__}", **options
                )
            )
            return handler

        return decorate

    def get(self, path: str, **kwargs):
        return self.route(path, methods=("GET",), **kwargs)

    def post(self, path: str, **kwargs):
        return self.route(path, methods=("POST",), **kwargs)


def starlette_route(endpoint: Endpoint) -> Route:
    async def asgi_endpoint(request: Request) -> Response:
        form = None
        if request.method in UNSAFE and not endpoint.stream:
            try:
                form = await request.form(max_files=endpoint.max_files, max_fields=2000)
            except (MultiPartException, MultipartParseError, ValueError, HTTPException) as error:
                log.info("malformed form on %s: %s", request.url.path, error)
                return render(request, "errors/400.html", status=400)
        if request.method in UNSAFE:
            presented = (form.get(csrf.FIELD) if form is not None else None) or request.headers.get(csrf.HEADER)
            cookie = request.cookies.get(CSRF_COOKIE)
            if not isinstance(presented, str) or not csrf.is_valid(
                request.app.state.settings.secret_key, cookie, presented
            ):
                if form is not None:
                    await form.close()
                return render(request, "errors/csrf.html", status=403, back=_same_site_back(request))
        try:
            if endpoint.prepare is None:
                response = await _in_db_thread(request, partial(_run, endpoint, request, form))
            else:
                response = await _run_prepared(endpoint, endpoint.prepare, request, form)
        except (OperationalError, InterfaceError) as error:
            if not _database_down(error):
                raise
            log.error("database unavailable: %s", error)
            return render(request, "errors/503.html", status=503)
        finally:
            if form is not None:
                await form.close()
        if response is None:
            raise TypeError(f"{endpoint.name} returned no response")
        return response

    # The route-permission test finds the declaration through this attribute. Starlette wraps only plain
    # functions as request handlers, so this stays a function, and mypy has no way to declare an
    # attribute on one.
    asgi_endpoint.portal_endpoint = endpoint  # type: ignore[attr-defined]
    return Route(endpoint.path, asgi_endpoint, methods=list(endpoint.methods), name=endpoint.name)


async def _in_db_thread(request: Request, run: Callable[[], Response | None]) -> Response | None:
    return await anyio.to_thread.run_sync(run, limiter=request.app.state.db_limiter)


async def _run_prepared(
    endpoint: Endpoint, prepare: Prepare, request: Request, form: FormData | None
) -> Response | None:
    answer = await _in_db_thread(request, partial(_run, endpoint, request, form, handler=prepare.check))
    if answer is not None:
        return answer
    settings = request.app.state.settings
    prepared = _Prepared(
        await anyio.to_thread.run_sync(prepare.work, form, settings, limiter=request.app.state.file_limiter)
    )
    try:
        return await _in_db_thread(request, partial(_run, endpoint, request, form, prepared=prepared))
    finally:
        if not prepared.kept:
            prepare.discard(prepared.value, settings)


def _database_down(error: Exception) -> bool:
    text = str(error).lower()
    return any(word in text for word in ("connection", "connect", "server closed", "unable to open"))


def _same_site_back(request: Request) -> str:
    """The page the form came from, when the Referer names one on this site; else the form's own path when
    that is a page, and the start page when it only takes POSTs (a link to it would answer 405)."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    if referer.startswith(base):
        # "http://portal//evil.example" starts with the base too: same_site_path refuses what it leaves.
        back = same_site_path("/" + referer[len(base) :])
        if back is not None:
            return back
    return request.url.path if _is_page(request, request.url.path) else "/"


def _is_page(request: Request, path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.routes)


def _run(
    endpoint: Endpoint,
    request: Request,
    form: FormData | None,
    *,
    handler: Callable[..., Response | None] | None = None,
    prepared: _Prepared | None = None,
) -> Response | None:
    """handler (the route's own unless given) in one transaction, after the permission check and the Loader."""
    app = request.app
    handler = handler or endpoint.handler
    extra = () if prepared is None else (prepared.value,)
    after_commit: list[Callable[[], None]] = []
    with transaction(app.state.session_factory) as db:
        auth = app.state.load_auth(db, request) if endpoint.load_auth else None
        ctx = Ctx(
            request=request,
            db=db,
            app=app,
            auth=auth,
            form=form,
            permission=endpoint.permission,
            after_commit=after_commit,
            prepared=prepared,
        )
        denied = check_permission(ctx, endpoint.permission)
        if denied is not None:
            return denied
        if endpoint.loads is None:
            response = _call(handler, prepared, ctx, *extra)
        else:
            target = endpoint.loads.fetch(ctx, ctx.param_int(endpoint.loads.param))
            if target is None:
                raise NotFound()
            response = _call(handler, prepared, ctx, target, *extra)
    for callback in after_commit:
        callback()
    return response


def _call(handler: Callable[..., Response | None], prepared: _Prepared | None, *args: Any) -> Response | None:
    try:
        return handler(*args)
    except BaseException:
        # A handler that fails after keeping the work has not made it part of anything: the transaction rolls back.
        if prepared is not None:
            prepared.kept = False
        raise


def check_permission(ctx: Ctx, permission: perms.Permission) -> Response | None:
    """The one place a route's declared permission is enforced."""
    if permission == perms.PUBLIC:
        return None
    if permission in perms.API_PERMISSIONS:
        # Machines, not people: only a bearer token counts here, so a session cookie gets 401, not a page.
        # The app registers the API's check (app.state.bearer_auth): the frame every feature builds on
        # cannot import a feature.
        bearer = ctx.app.state.bearer_auth
        authorization = ctx.request.headers.get("authorization")
        ctx.api_token = bearer.authenticate(ctx.db, authorization)
        return None if ctx.api_token is not None else bearer.unauthorised(authorization)
    auth = ctx.auth
    if auth is None:
        ended = getattr(ctx.request.state, "session_end_reason", "")
        if ended in ("idle", "expired"):
            # Say why, rather than dropping the person on the sign-in page without a word.
            return ctx.redirect(ctx.url("accounts.signed_out") + f"?reason={ended}")
        next_path = ctx.request.url.path
        return ctx.redirect(ctx.url("accounts.sign_in") + f"?next={quote(next_path)}")
    if permission == perms.SIGNED_IN:
        return None
    if auth.organisation is None:
        return ctx.redirect_to("accounts.choose_organisation")
    if not auth.has(permission):
        raise Forbidden()
    return None
