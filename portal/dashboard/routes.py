"""The organisation's home page."""

from __future__ import annotations

from ..accounts import organisations as orgs
from ..notifications import deadlines, listing
from ..notifications.registry import sorted_types
from ..permissions import Permission
from ..queries import service as queries
from ..web.routing import Ctx, Routes

routes = Routes("dashboard")


@routes.get("/dashboard", permission=Permission.ORGANISATION_VIEW)
def dashboard(ctx: Ctx):
    if ctx.auth.is_regulator:
        return ctx.redirect_to("support.workspace")
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
        overdue=listing.overdue(ctx.db, ctx.auth, deadlines.today()),
        types_by_key={kind.key: kind for kind in sorted_types()},
    )
