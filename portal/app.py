"""create_app(settings) -> the Starlette application: routes, middleware and lifespan."""

from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager

import anyio
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from . import metrics
from .accounts import kept_input, sessions
from .api import responses as api_responses
from .api import service as api_service
from .db import make_engine, make_session_factory, transaction
from .files.storage import storage_for
from .settings import Settings
from .web.middleware import BodyLimitMiddleware, RequestContextMiddleware, security_headers
from .web.routing import BearerAuth, render, starlette_route
from .web.templating import STATIC_DIST, make_templates

log = logging.getLogger("portal")


def all_routes():
    """Every module's Routes, in one list. The permission tests walk this."""
    from .accounts.oidc_routes import routes as oidc
    from .accounts.routes import routes as accounts
    from .accounts.staff_routes import routes as staff
    from .api.routes import routes as api
    from .api.token_routes import routes as api_tokens
    from .attachments.routes import routes as attachments
    from .dashboard.routes import routes as dashboard
    from .members.routes import routes as members
    from .notifications.routes_drafting import routes as drafting
    from .notifications.routes_review import routes as review
    from .notifications.routes_submission import routes as submission
    from .notifications.routes_triage import routes as triage
    from .organisation.location_routes import routes as locations
    from .organisation.practice_routes import routes as practice
    from .organisation.routes import routes as organisation
    from .pages.routes import routes as pages
    from .queries.routes import routes as queries
    from .reports.routes import routes as reports
    from .support.routes import routes as support

    return [
        pages,
        accounts,
        oidc,
        staff,
        dashboard,
        members,
        support,
        queries,
        reports,
        # Before drafting's /notifications/{notification_id}, which would otherwise take /notifications/which.
        triage,
        drafting,
        review,
        submission,
        attachments,
        organisation,
        locations,
        practice,
        api,
        api_tokens,
    ]


def all_endpoints():
    endpoints = [endpoint for group in all_routes() for endpoint in group.endpoints]
    names = [endpoint.name for endpoint in endpoints]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        # url("…") must mean one route, or a link silently goes to the first of two.
        raise RuntimeError(f"route names used twice: {repeated}")
    return endpoints


def register_presenters(env) -> None:
    """The features' presenters, as template globals: portal/web may not import the features itself."""
    from .accounts.presenters import TEMPLATE_GLOBALS as accounts
    from .members.presenters import TEMPLATE_GLOBALS as members
    from .queries.presenters import TEMPLATE_GLOBALS as queries
    from .reports.presenters import TEMPLATE_GLOBALS as reports
    from .support.presenters import TEMPLATE_GLOBALS as support
    from .web.navigation import navigation
    from .web.templating import with_url

    groups = [{"navigation": with_url(navigation)}, accounts, members, queries, reports, support]
    names = [name for group in [env.globals, *groups] for name in group]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        # One name, one meaning: a second presenter would silently replace the first in every template.
        raise RuntimeError(f"template globals named twice: {repeated}")
    for group in groups:
        env.globals.update(group)


class CachedStatic(StaticFiles):
    """Hashed file names never change content, so browsers may keep them for a year."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


# Below clamd's default MaxThreads (10), so every upload being scanned has a clamd thread of its own.
FILE_THREADS = 8

# Only these paths take file uploads; everywhere else keeps the small body limit.
UPLOAD_PATH = re.compile(r"^/notifications/[0-9]+/attachments/[a-z][a-z0-9_]*$")


def upload_limit_for(settings: Settings):
    # The file limit plus an ordinary form's: an upload carries its section's typed answers too, and
    # refusing them with the file would lose them. A little more for the multipart framing.
    limit = settings.max_upload_bytes + settings.max_request_bytes + 64 * 1024
    return lambda path: limit if UPLOAD_PATH.match(path) else None


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    idle, absolute = sessions.limits(settings.session_idle_minutes, settings.session_absolute_hours)

    def load_auth(db, request: Request):
        auth, ended = sessions.load_auth(db, request.cookies.get(sessions.SESSION_COOKIE), idle=idle, absolute=absolute)
        request.state.session_end_reason = ended.reason
        request.state.ended_session = ended
        if auth is not None:
            # render() puts this on the page and on htmx answers, for the timeout warning's count.
            request.state.session_seconds_left = sessions.seconds_left(auth.session, idle=idle, absolute=absolute)
        return auth

    def keep_input(db, request: Request, page: str, fields: list[tuple[str, str]]) -> bool:
        """routing's hook for keeps_input routes: keeps the words for the person whose session ended."""
        ended = getattr(request.state, "ended_session", sessions.NO_SESSION)
        if ended.user_id is None or ended.signed_out_at is None:
            return False
        return kept_input.keep(db, user_id=ended.user_id, page=page, fields=fields, signed_out_at=ended.signed_out_at)

    metrics.watch_pool(engine)
    # The S3 client made now rather than by the first upload: loading botocore's model of S3 takes tens of
    # megabytes and a noticeable moment, which belong to start-up, not to a person's request.
    storage_for(settings)

    @asynccontextmanager
    async def lifespan(app):
        yield
        metrics.forget_pool(engine)
        engine.dispose()

    routes: list[BaseRoute] = [starlette_route(endpoint) for endpoint in all_endpoints()]
    routes.append(Mount("/static", app=CachedStatic(directory=STATIC_DIST), name="static"))

    async def http_error(request: Request, exc: Exception) -> Response:
        # Starlette calls this for HTTPException only; the signature is the one every handler shares.
        if not isinstance(exc, HTTPException):
            raise exc
        if request.url.path.startswith("/api/"):
            # Machines read the API: its errors are JSON, whatever raised them.
            return api_responses.error(exc.status_code, str(exc.detail or "Error"))
        template = {403: "errors/403.html", 404: "errors/404.html"}.get(exc.status_code)
        if template is None:
            return PlainTextResponse(exc.detail or "Error", status_code=exc.status_code)
        return await anyio.to_thread.run_sync(
            lambda: _error_page(request, template, exc.status_code), limiter=app.state.db_limiter
        )

    def _error_page(request: Request, template: str, status: int) -> Response:
        """A 403 or 404 that keeps the signed-in person's header and navigation, so it does not look
        as if they were signed out. The handler's own transaction has ended, so the person is read again."""
        try:
            with transaction(app.state.session_factory) as db:
                auth = load_auth(db, request)
                return render(request, template, status=status, auth=auth)
        except (OperationalError, InterfaceError):
            return render(request, template, status=status)

    def _server_error_page(request: Request, request_id: str) -> Response:
        """The 500 page keeps the signed-in person's header and navigation, as 403 and 404 do, so a fault
        does not look like a sign-out. Whatever failed may fail this read too: then the page goes without."""
        try:
            with transaction(app.state.session_factory) as db:
                auth = load_auth(db, request)
                return render(request, "errors/500.html", status=500, auth=auth, request_id=request_id)
        except Exception:
            log.warning("the 500 page for request_id=%s is shown without the person's header", request_id)
            return render(request, "errors/500.html", status=500, request_id=request_id)

    async def server_error(request: Request, exc: Exception) -> Response:
        request_id = request.scope.get("state", {}).get("request_id", "")
        log.exception("unhandled error request_id=%s", request_id)
        response: Response
        try:
            response = await anyio.to_thread.run_sync(
                lambda: _server_error_page(request, request_id), limiter=app.state.db_limiter
            )
        except Exception:
            response = PlainTextResponse(f"Sorry, there is a problem with the service. Reference: {request_id}", 500)
        # This response is sent outside the middleware stack, so it carries its own headers.
        nonce = request.scope.get("state", {}).get("csp_nonce", "")
        for name, value in security_headers(nonce, production=settings.is_production):
            response.headers[name.decode()] = value.decode()
        response.headers["x-request-id"] = request_id
        return response

    form_origins = (settings.oidc_issuer,) if settings.oidc_issuer else ()
    app = Starlette(
        routes=routes,
        middleware=[
            # Outermost, so the time counted is the whole answer and a 500 from the error handler is seen.
            Middleware(metrics.MetricsMiddleware),
            Middleware(RequestContextMiddleware, production=settings.is_production, form_action_origins=form_origins),
            Middleware(GZipMiddleware, minimum_size=500),
            Middleware(
                BodyLimitMiddleware, default_limit=settings.max_request_bytes, limit_for_path=upload_limit_for(settings)
            ),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.templates = make_templates()
    register_presenters(app.state.templates.env)
    app.state.load_auth = load_auth
    app.state.keep_input = keep_input
    from .accounts import oidc as oidc_service

    oidc_config = oidc_service.OidcConfig.from_settings(settings)

    def oidc_logout_url(session_row) -> str | None:
        """The provider's end-session URL for a One Login session, or None when OIDC is not configured."""
        return oidc_service.logout_url(oidc_config, session_row.id_token)

    app.state.oidc_logout_url = oidc_logout_url
    # A few threads, not Starlette's default 40: on two cores 40 threads halved throughput. Made here
    # rather than in the lifespan so an app driven without one (a TestClient outside `with`) has it too.
    # Reached through the app, so neither the frame (web) nor workflow, whose submissions the API reads,
    # imports the API package.
    app.state.bearer_auth = BearerAuth(authenticate=api_service.authenticate, unauthorised=api_responses.unauthorised)
    app.state.db_limiter = anyio.CapacityLimiter(settings.db_threads)
    # Uploads' copies and virus scans (routing.Prepare) wait on disk and clamd, not on the CPU, so they
    # get threads of their own: however many are scanning, the database threads stay free for everyone.
    app.state.file_limiter = anyio.CapacityLimiter(FILE_THREADS)
    return app
