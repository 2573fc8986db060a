"""Submission pages: check and submit, the receipt and its JSON copy, and starting a follow-up."""

from __future__ import annotations

import json

from starlette.responses import Response

from ..models import Notification
from ..permissions import Permission
from ..web.routing import Ctx, Forbidden, NotFound, Routes
from . import drafting, presenters, reading, submission
from .document import compiled_sections
from .errors import NotAllowed, WorkflowError
from .lookups import NOTIFICATION
from .refusals import refusal_page
from .states import allowed_moves

routes = Routes("notifications")


@routes.get("/notifications/{notification_id}/submit", permission=Permission.NOTIFICATION_SUBMIT, loads=NOTIFICATION)
def submit_page(ctx: Ctx, notification: Notification):
    if reading.submission_of(ctx.db, notification.id) is not None:
        return ctx.redirect_to("notifications.receipt", notification_id=notification.id)
    return _submit_page(ctx, notification, error="")


def _submit_page(ctx: Ctx, notification: Notification, *, error: str, status: int = 200):
    return ctx.render(
        "notifications/submit.html",
        status=status,
        notification=notification,
        kind=reading.type_of(notification),
        sections=compiled_sections(ctx.db, notification),
        error=error,
        has_errors=bool(error),
        moves=allowed_moves(ctx.auth, notification),
    )


@routes.post("/notifications/{notification_id}/submit", permission=Permission.NOTIFICATION_SUBMIT, loads=NOTIFICATION)
def submit(ctx: Ctx, notification: Notification):
    try:
        submission.submit(
            ctx.db,
            ctx.auth,
            notification,
            declared=ctx.form is not None and ctx.form.get("declaration") == "yes",
            settings=ctx.settings,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except WorkflowError as error:
        if error.field == "declaration":
            return _submit_page(ctx, notification, error=str(error), status=400)
        return refusal_page(ctx, notification, str(error))
    return ctx.redirect_to("notifications.receipt", notification_id=notification.id)


@routes.get("/notifications/{notification_id}/receipt", permission=Permission.NOTIFICATION_VIEW, loads=NOTIFICATION)
def receipt(ctx: Ctx, notification: Notification):
    made = reading.submission_of(ctx.db, notification.id)
    if made is None:
        raise NotFound()
    return ctx.render(
        "notifications/receipt.html",
        notification=notification,
        submission=made,
        kind=reading.type_of(notification),
        sections=compiled_sections(ctx.db, notification, made.snapshot["answers"]),
        can_follow_up=bool(drafting.follow_up_types(notification))
        and "follow_up" in allowed_moves(ctx.auth, notification),
    )


@routes.get(
    "/notifications/{notification_id}/receipt.json", permission=Permission.NOTIFICATION_VIEW, loads=NOTIFICATION
)
def receipt_json(ctx: Ctx, notification: Notification):
    made = reading.submission_of(ctx.db, notification.id)
    if made is None:
        raise NotFound()
    body = {"reference": made.reference, "content_hash": made.content_hash, **made.snapshot}
    return Response(
        json.dumps(body, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="notification-{made.reference}.json"'},
    )


def _follow_up_page(ctx: Ctx, notification: Notification, *, error: str = "", status: int = 200):
    if "follow_up" not in allowed_moves(ctx.auth, notification):
        raise NotFound()
    return ctx.render(
        "notifications/follow_up.html",
        status=status,
        notification=notification,
        kind=reading.type_of(notification),
        type_items=presenters.follow_up_items(drafting.follow_up_types(notification), notification),
        error=error,
        has_errors=bool(error),
    )


@routes.get("/notifications/{notification_id}/follow-up", permission=Permission.NOTIFICATION_DRAFT, loads=NOTIFICATION)
def follow_up(ctx: Ctx, notification: Notification):
    return _follow_up_page(ctx, notification)


@routes.post("/notifications/{notification_id}/follow-up", permission=Permission.NOTIFICATION_DRAFT, loads=NOTIFICATION)
def follow_up_post(ctx: Ctx, notification: Notification):
    chosen = ctx.form.get("type", "") if ctx.form is not None else ""
    try:
        new = drafting.start_follow_up(
            ctx.db,
            ctx.auth,
            notification,
            chosen if isinstance(chosen, str) else "",
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except NotAllowed:
        raise Forbidden() from None
    except WorkflowError as error:
        if error.field is None:
            raise NotFound() from None
        return _follow_up_page(ctx, notification, error=str(error), status=400)
    return ctx.redirect_to("notifications.task_list", notification_id=new.id)
