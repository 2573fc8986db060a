"""The organisation settings page, for organisation admins."""

from __future__ import annotations

from ..permissions import Permission
from ..web.routing import Ctx, Routes
from . import service

routes = Routes("organisation")


@routes.get("/organisation/settings", permission=Permission.ORGANISATION_MANAGE)
def settings(ctx: Ctx):
    return ctx.render("organisation/settings.html")


@routes.post("/organisation/settings", permission=Permission.ORGANISATION_MANAGE)
def settings_post(ctx: Ctx):
    service.set_separation_of_duties(
        ctx.db,
        ctx.auth.organisation,
        (ctx.form.get("separation_of_duties") if ctx.form is not None else None) != "off",
        actor_id=ctx.auth.user.id,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    return ctx.redirect_to("organisation.settings", flash="Settings saved.")
