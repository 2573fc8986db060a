"""Routes declare a permission; one wrapper enforces it for all of them.

A handler is a plain function taking a Ctx. The wrapper reads the form, checks CSRF, then runs
the handler in the bounded thread pool inside one database transaction, after the central
permission check. Handlers never open sessions or check permissions themselves. A route with slow
work on its request (an upload's copy and virus scan) declares it as `prepare=`, and the wrapper
does that work between two transactions, holding no database thread.
"""

from __future__ import annotations

import hmac
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
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from .. import permissions as perms
from ..db import transaction
from ..input_text import refusal_message, refused_character
from ..numbers import parse_id
from ..safe_paths import same_site_path
from . import csrf
from . import flash as flash_messages
from .form_text import checked_form, refused_fields
from .middleware import CSRF_COOKIE

log = logging.getLogger("portal.routing")

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SESSION_SECONDS_LEFT_HEADER = "x-session-seconds-left"


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
    2. work(form, settings, path_params) outside any transaction; it cleans up after itself if it raises.
    3. the handler, as handler(ctx[, target], prepared), in the route's one transaction after the
       same checks again: the world may have changed while the work ran.
    discard(prepared, settings) undoes the work unless the handler called ctx.keep_prepared() and
    returned: so when it refuses, raises, or is never called. Kept work whose commit then fails is
    left behind, since the commit may have happened: the route's own clean-up must find it.
    """

    check: Callable[..., Response | None]
    work: Callable[[FormData | None, Any, dict[str, Any]], Any]
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
    # The page that offers back what a person posted here after their session had ended: a route name,
    # filled from this route's path parameters, or a function of the request's Ctx that names the page's
    # path (None: nothing to keep). The wrapper hands the form to app.state.keep_input, which keeps it for
    # that session's person alone; the page's handler finds it and shows it.
    keeps_input: str | Callable[[Ctx], str | None] | None = None
    # Why this route takes a POST without a CSRF token: only for a machine posting from outside (an identity
    # provider's back-channel logout), never a person's browser. Routes.route lets it only on a PUBLIC route
    # that loads no session, so a cookie the request carries can never act for anyone.
    csrf_exempt: str = ""


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
    # True in a Prepare's check: an early look that changes nothing, so a Loader takes no lock for it.
    checking: bool = False

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


def _person_id(auth) -> int | None:
    user = getattr(auth, "user", None)
    return getattr(user, "id", None)


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
        "csrf_token": csrf.token_for(secret, state.get("csrf_cookie", ""), _person_id(auth)),
        "request_id": state.get("request_id", ""),
        "current_path": request.url.path,
        # Set by the app's load_auth for a live session; the layout's timeout warning counts down from it.
        "session_seconds_left": state.get("session_seconds_left"),
    }
    response = app.state.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)
    if base["session_seconds_left"] is not None:
        # htmx swaps no <body>: this header tells the page's timeout warning that the session was just used.
        response.headers[SESSION_SECONDS_LEFT_HEADER] = str(base["session_seconds_left"])
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
        if options.get("csrf_exempt") and (permission != perms.PUBLIC or options.get("load_auth", True)):
            raise TypeError(f"{path}: a route without CSRF must be PUBLIC and declare load_auth=False")

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
        refused = _refused_address(endpoint, request)
        if refused is not None:
            return refused
        form = None
        if request.method in UNSAFE and not endpoint.stream:
            try:
                # A text field may be as long as the whole request allows (Starlette's own limit is 1 MB a
                # part): an over-long answer then gets the field's own error with the words kept, not a
                # page saying the form could not be read.
                form = await request.form(
                    max_files=endpoint.max_files,
                    max_fields=2000,
                    max_part_size=request.app.state.settings.max_request_bytes,
                )
            except (MultiPartException, MultipartParseError, ValueError, HTTPException) as error:
                log.info("malformed form on %s: %s", request.url.path, error)
                return render(request, "errors/400.html", status=400)
        if request.method in UNSAFE and not endpoint.csrf_exempt:
            presented = (form.get(csrf.FIELD) if form is not None else None) or request.headers.get(csrf.HEADER)
            cookie = request.cookies.get(CSRF_COOKIE)
            if not isinstance(presented, str) or not csrf.is_valid(
                request.app.state.settings.secret_key, cookie, presented
            ):
                if form is not None:
                    await form.close()
                return render(request, "errors/csrf.html", status=403, back=_same_site_back(request))
            # Who the page was opened for is checked once the session is loaded (check_permission).
            request.state.csrf_presented = presented
        if form is not None:
            # The input boundary: every handler reads text in NFC, and learns which fields held refused text.
            form = checked_form(form)
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
        await anyio.to_thread.run_sync(
            prepare.work, form, settings, request.path_params, limiter=request.app.state.file_limiter
        )
    )
    try:
        return await _in_db_thread(request, partial(_run, endpoint, request, form, prepared=prepared))
    finally:
        if not prepared.kept:
            prepare.discard(prepared.value, settings)


def _refused_address(endpoint: Endpoint, request: Request) -> Response | None:
    """A path or query string holding a character no text may hold (a NUL, a control character): a path
    with one names nothing, so 404; a query string, 400. The API answers in JSON, as always."""
    api = endpoint.permission in perms.API_PERMISSIONS or endpoint.path.startswith("/api/")
    if refused_character(request.url.path) is not None:
        if api:
            return JSONResponse({"error": "Not found"}, status_code=404, headers={"cache-control": "no-store"})
        raise NotFound()
    for name, value in request.query_params.multi_items():
        what = refused_character(name) or refused_character(value)
        if what is not None:
            message = refusal_message(f"The address's {name!r} part", what)
            if api:
                return JSONResponse({"error": message}, status_code=400, headers={"cache-control": "no-store"})
            return render(request, "errors/400.html", status=400, refused=[message])
    return None


class _RefusedInput(Exception):
    """A form whose text the input boundary refused reached a handler: its transaction is undone."""

    def __init__(self, response: Response):
        super().__init__()
        self.response = response


def _database_down(error: Exception) -> bool:
    text = str(error).lower()
    return any(word in text for word in ("connection", "connect", "server closed", "unable to open"))


def _same_site_back(request: Request) -> str:
    """The page the form came from, when the Referer names one on this site; else the form's own path when
    that is a page, and the start page when it only takes POSTs (a link to it would answer 405)."""
    back = _same_site(request, request.headers.get("referer", ""))
    if back is not None:
        return back
    return request.url.path if _is_page(request, request.url.path) else "/"


def _same_site(request: Request, address: str) -> str | None:
    """The path of an address a browser sent (a Referer, htmx's HX-Current-URL) when it is on this site."""
    base = str(request.base_url)
    if not address.startswith(base):
        return None
    # "http://portal//evil.example" starts with the base too: same_site_path refuses what it leaves.
    return same_site_path("/" + address[len(base) :])


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
    try:
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
                checking=handler is not endpoint.handler,
            )
            denied = check_permission(ctx, endpoint.permission, keeps_input=endpoint.keeps_input)
            if denied is not None:
                return denied
            if endpoint.loads is None:
                response = _call(handler, prepared, ctx, *extra)
            else:
                target = endpoint.loads.fetch(ctx, ctx.param_int(endpoint.loads.param))
                if target is None:
                    raise NotFound()
                response = _call(handler, prepared, ctx, target, *extra)
            if refused_fields(form) and response is not None:
                # Text holding a refused character changes nothing, whatever the handler made of it: a handler
                # may store what it was given and still answer 400 for another field.
                if response.status_code >= 400:
                    raise _RefusedInput(response)
                # Forms built on portal.web.forms.Form name the field to correct on their own page, with a 400.
                # This answers a handler that reads its form by hand and would have taken the text without
                # those characters; the page is rendered while the session is live.
                messages = [
                    f"The {name!r} field must not contain {what}" for name, what in refused_fields(form).items()
                ]
                if request.headers.get("hx-request"):
                    # htmx swaps no 400: the live region that asked (an autosave) says in words what was not saved.
                    raise _RefusedInput(render(request, "errors/_refused_words.html", status=200, auth=auth))
                raise _RefusedInput(render(request, "errors/400.html", status=400, auth=auth, refused=messages))
    except _RefusedInput as refused:
        if prepared is not None:
            prepared.kept = False
        return refused.response
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


def check_permission(
    ctx: Ctx, permission: perms.Permission, *, keeps_input: str | Callable[[Ctx], str | None] | None = None
) -> Response | None:
    """The one place a route's declared permission is enforced."""
    if permission == perms.PUBLIC:
        return None
    if permission in perms.TOKEN_PERMISSIONS:
        return _configured_token(ctx)
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
        return _not_signed_in(ctx, keeps_input)
    if _opened_by_someone_else(ctx.request, auth.user.id):
        # Nothing from it is saved or kept: the words are not this person's to have. An htmx request gets
        # words for its live region, with 200 so htmx swaps them in.
        if ctx.request.headers.get("hx-request"):
            return render(ctx.request, "errors/_someone_else.html", auth=auth)
        return render(ctx.request, "errors/someone_else.html", status=409, auth=auth)
    if permission == perms.SIGNED_IN:
        return None
    if auth.organisation is None:
        return ctx.redirect_to("accounts.choose_organisation")
    if not auth.has(permission):
        raise Forbidden()
    return None


def _configured_token(ctx: Ctx) -> Response | None:
    """The metrics endpoint's check: the bearer token must equal PORTAL_METRICS_TOKEN. Without one configured the
    route does not exist (404), so a deployment that never set it publishes nothing."""
    token = ctx.settings.metrics_token
    if not token:
        raise NotFound()
    scheme, _, presented = ctx.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
        return None
    return PlainTextResponse(
        "A bearer token is needed",
        status_code=401,
        headers={"www-authenticate": 'Bearer realm="metrics"', "cache-control": "no-store"},
    )


KEPT_MESSAGE = "We kept what you typed. Sign in again to see it on the page you were on."


def _not_signed_in(ctx: Ctx, keeps_input: str | Callable[[Ctx], str | None] | None) -> Response:
    """Sign in again, and come back to the page. What a keeps_input form posted is kept when the session
    that posted it has ended; an htmx request gets a fragment for its live region, never a whole page."""
    request = ctx.request
    ended = getattr(request.state, "session_end_reason", "")
    if callable(keeps_input):
        page = keeps_input(ctx)
    else:
        page = ctx.url(keeps_input, **request.path_params) if keeps_input else None
    kept = page is not None and _keep_input(ctx, page)
    if request.headers.get("hx-request"):
        back = page or _same_site(request, request.headers.get("hx-current-url", "")) or "/"
        # 401, not a redirect: htmx would follow a redirect and swap the whole sign-in page into the live
        # region. The htmx config in layouts/base.html swaps a 401 and no other error.
        return render(
            request,
            "errors/_signed_out.html",
            status=401,
            reason=ended,
            # The browser keeps a keeps_input form's words too (static/src/autosave.js), when nobody's
            # session is left for the server to keep them for.
            kept=keeps_input is not None,
            sign_in=ctx.url("accounts.sign_in") + f"?next={quote(back)}",
        )
    # Back to the page after signing in again; a path that only takes POSTs is no page to come back to.
    return_to = page or (request.url.path if _is_page(request, request.url.path) else None)
    come_back = f"next={quote(return_to)}" if return_to else ""
    if ended in ("idle", "expired"):
        # Say why, rather than dropping the person on the sign-in page without a word.
        where = ctx.url("accounts.signed_out") + f"?reason={ended}" + (f"&{come_back}" if come_back else "")
    else:
        where = ctx.url("accounts.sign_in") + (f"?{come_back}" if come_back else "")
    return ctx.redirect(where, flash=KEPT_MESSAGE if kept else None)


def _opened_by_someone_else(request: Request, person_id: int | None) -> bool:
    presented = getattr(request.state, "csrf_presented", None)
    if presented is None or person_id is None:
        return False
    secret = request.app.state.settings.secret_key
    return csrf.opened_by_someone_else(secret, request.cookies.get(CSRF_COOKIE, ""), presented, person_id)


def _keep_input(ctx: Ctx, page: str) -> bool:
    form = ctx.form
    if form is None:
        return False
    ended = getattr(ctx.request.state, "ended_session", None)
    # A page opened for someone else, posted with this person's ended session: never kept as their words.
    if _opened_by_someone_else(ctx.request, getattr(ended, "user_id", None)):
        return False
    # Never the CSRF token (it is the browser's, not the person's words) and never a file.
    fields = [(name, value) for name, value in form.multi_items() if name != csrf.FIELD and isinstance(value, str)]
    return bool(ctx.app.state.keep_input(ctx.db, ctx.request, page, fields))
