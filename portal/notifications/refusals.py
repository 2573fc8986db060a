"""The page for a move or change refused because of where the notification is now.

Shared by the notification routes and the attachment routes, so every refusal names the latest change
(often someone else's, a moment before) and shows back anything the person wrote: whoever lost a race
is told why, and nothing they typed is gone.
"""

from __future__ import annotations

from starlette.responses import Response

from .. import audit
from ..models import Notification
from ..permissions import Permission
from ..web.routing import Ctx, Forbidden
from .reading import latest_change, type_of
from .states import STATUS_PHRASES


def refusal_page(
    ctx: Ctx, notification: Notification, message: str, *, kept: str = "", typed_rows: list | None = None
) -> Response:
    """typed_rows: a section's answers, in words, sent with the refused change (an upload from the
    section's own form), shown so that losing a race to a submit loses nothing typed."""
    return ctx.render(
        "notifications/problem.html",
        status=400,
        notification=notification,
        message=message,
        kind=type_of(notification),
        latest=latest_change(ctx.db, notification.id),
        describe=audit.describe,
        kept=kept,
        typed_rows=typed_rows or [],
    )


def moved_on(ctx: Ctx, notification: Notification, doing: str, *, typed_rows: list | None = None) -> Response:
    """A drafter's change refused because the notification moved on (sent for review, submitted, withdrawn)
    while they worked: "You cannot {doing} while it is …" and the latest change, not a 403 about their
    roles. Someone who may not draft here at all still gets the 403."""
    if not ctx.auth.has(Permission.NOTIFICATION_DRAFT, notification.location_id):
        raise Forbidden()
    phrase = STATUS_PHRASES.get(notification.status, notification.status)
    return refusal_page(ctx, notification, f"You cannot {doing} while it is {phrase}", typed_rows=typed_rows)
