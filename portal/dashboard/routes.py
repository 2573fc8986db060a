"""The organisation's home page."""

from __future__ import annotations

from ..accounts import organisations as orgs
from ..notifications.registry import sorted_types
from ..permissions import Permission
from ..queries import service as queries
from ..web.routing import Ctx, Routes

routes = Routes("dashboard")


@routes.get("/dashboard", permission=Permission.ORGANISATION_VIEW)
def dashboard(ctx: Ctx):
    if ctx.auth.is_regulator:
        return ctx.redirect("/support")
    hours = ctx.settings.without_delay_hours
    replies = queries.replies_waiting(ctx.db, ctx.auth) if ctx.auth.has(Permission.QUERY_ASK) else 0
    return ctx.render(
        "dashboard/dashboard.html",
        locations=orgs.locations_of(ctx.db, ctx.auth.organisation.id),
        replies_waiting=replies,
        overdue=overdue_drafts(ctx.db, ctx.auth, hours),
        overdue_hours=hours,
        type_titles={kind.key: kind.title for kind in sorted_types()},
    )


def overdue_drafts(db, auth, hours: int):
    """Unsent notifications that must go "without delay" and have been open longer than the limit."""
    from datetime import timedelta

    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from ..models import Notification, utcnow

    urgent = [kind.key for kind in sorted_types() if kind.deadline_kind == "without_delay"]
    query = (
        select(Notification)
        .options(joinedload(Notification.location))
        .where(
            Notification.organisation_id == auth.organisation.id,
            Notification.type_key.in_(urgent),
            Notification.status.in_(("draft", "in_review", "changes_requested", "approved")),
            Notification.created_at < utcnow() - timedelta(hours=hours),
        )
        .order_by(Notification.created_at)
        .limit(20)
    )
    visible_at = auth.locations_with(Permission.NOTIFICATION_VIEW)
    if visible_at is not None:
        query = query.where(Notification.location_id.in_(visible_at or {-1}))
    return list(db.scalars(query))
