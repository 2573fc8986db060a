"""The organisation's home page."""

from __future__ import annotations

from ..accounts import organisations as orgs
from ..notifications import listing
from ..notifications.registry import sorted_types
from ..permissions import Permission
from ..queries import service as queries
from ..web.routing import Ctx, Routes

routes = Routes("dashboard")


@routes.get("/dashboard", permission=Permission.ORGANISATION_VIEW)
def dashboard(ctx: Ctx):
    if ctx.auth.is_regulator:
        return ctx.redirect_to("support.workspace")
    hours = ctx.settings.without_delay_hours
    replies = queries.replies_waiting(ctx.db, ctx.auth) if ctx.auth.has(Permission.QUERY_ASK) else 0
    locations = orgs.locations_of(ctx.db, ctx.auth.organisation.id)
    return ctx.render(
        "dashboard/dashboard.html",
        location_rows=[
            [
                {"text": place.name},
                {"text": place.regulator_location_id},
                {"text": "Closed" if place.is_closed else "Open"},
            ]
            for place in locations
        ],
        replies_waiting=replies,
        overdue=listing.overdue_drafts(ctx.db, ctx.auth, hours),
        overdue_hours=hours,
        type_titles={kind.key: kind.title for kind in sorted_types()},
    )
