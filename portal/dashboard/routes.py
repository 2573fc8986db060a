"""The organisation's home page."""

from __future__ import annotations

from ..accounts import organisations as orgs
from ..web.routing import Ctx, Routes

routes = Routes()


@routes.get("/dashboard", permission="organisation:view")
def dashboard(ctx: Ctx):
    if ctx.auth.is_regulator:
        return ctx.redirect("/support")
    return ctx.render("dashboard/dashboard.html", locations=orgs.locations_of(ctx.db, ctx.auth.organisation.id))
