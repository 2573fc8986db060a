"""The service's own pages: start, cookies, privacy, accessibility, help, and the health check."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from .. import metrics
from ..db import database_is_up
from ..permissions import Permission
from ..web.routing import Ctx, Routes
from .statement import ACCESSIBILITY_CHECKS

routes = Routes("pages")


@routes.get("/", permission=Permission.PUBLIC, name="start")
def start(ctx: Ctx):
    if ctx.auth is not None:
        # Each person's own home: the regulator's support team works from the support workspace.
        return ctx.redirect_to("support.workspace" if ctx.auth.is_regulator else "dashboard.dashboard")
    return ctx.render("pages/start.html")


@routes.get("/cookies", permission=Permission.PUBLIC)
def cookies(ctx: Ctx):
    return ctx.render("pages/cookies.html")


@routes.get("/privacy", permission=Permission.PUBLIC)
def privacy(ctx: Ctx):
    return ctx.render("pages/privacy.html")


@routes.get("/accessibility", permission=Permission.PUBLIC)
def accessibility(ctx: Ctx):
    return ctx.render("pages/accessibility.html", accessibility_checks=ACCESSIBILITY_CHECKS)


@routes.get("/help", permission=Permission.PUBLIC, name="help")
def help_page(ctx: Ctx):
    return ctx.render("pages/help.html")


@routes.get("/healthz", permission=Permission.PUBLIC, load_auth=False)
def healthz(ctx: Ctx):
    up = database_is_up(ctx.app.state.engine)
    return JSONResponse(
        {"status": "ok" if up else "unavailable", "database": "ok" if up else "down"},
        status_code=200 if up else 503,
        headers={"cache-control": "no-store"},
    )


@routes.get("/metrics", permission=Permission.METRICS_READ, load_auth=False)
def metrics_text(ctx: Ctx):
    """Prometheus's scrape: the token is checked before this runs (routing's one check)."""
    return Response(
        metrics.exposition(ctx.app.state.engine),
        media_type=metrics.CONTENT_TYPE,
        headers={"cache-control": "no-store"},
    )


@routes.get("/favicon.ico", permission=Permission.PUBLIC, load_auth=False)
def favicon(ctx: Ctx):
    return Response(status_code=204)
