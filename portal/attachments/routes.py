"""Uploading, downloading and removing files attached to a notification's questions."""

from __future__ import annotations

import logging
import re

from starlette.responses import FileResponse

from ..notifications.errors import NotAllowed
from ..notifications.reading import visible
from ..permissions import Permission
from ..web.downloads import content_disposition
from ..web.routing import Ctx, Forbidden, NotFound, Routes
from . import service
from .scanner import scanner_for
from .storage import LocalStorage

log = logging.getLogger("portal.attachments")
routes = Routes("attachments")

# Only the notification's own pages, so "back" can never send anyone off-site.
BACK_TAIL = re.compile(r"[A-Za-z0-9_\-/]*(#[A-Za-z0-9_\-]+)?")


@routes.post(
    "/notifications/{notification_id}/attachments/{question_key}", permission=Permission.NOTIFICATION_DRAFT, max_files=1
)
def upload_post(ctx: Ctx):
    notification = _visible(ctx)
    back = _back(ctx, notification.id)
    try:
        service.add_attachment(
            ctx.db,
            ctx.auth,
            notification,
            ctx.params["question_key"],
            ctx.form.get("file") if ctx.form is not None else None,
            storage=LocalStorage(ctx.settings.storage_dir),
            scanner=scanner_for(ctx.settings),
            max_bytes=ctx.settings.max_upload_bytes,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except NotAllowed:
        raise Forbidden() from None
    except service.UnknownQuestion:
        raise NotFound() from None
    except service.RefusedFile as refused:
        question = service.file_question(notification, ctx.params["question_key"])
        return ctx.render(
            "notifications/upload_problem.html",
            status=400,
            error=refused.message,
            question=question,
            notification=notification,
            back=back,
            max_size=service.size_words(ctx.settings.max_upload_bytes),
        )
    return ctx.redirect(back)


@routes.get(
    "/notifications/{notification_id}/attachments/{attachment_id}/download", permission=Permission.NOTIFICATION_VIEW
)
def download(ctx: Ctx):
    attachment = service.downloadable(
        ctx.db, ctx.auth, ctx.param_int("notification_id"), ctx.param_int("attachment_id")
    )
    storage = LocalStorage(ctx.settings.storage_dir)
    if attachment is None or not storage.exists(attachment.storage_key):
        raise NotFound()
    # nosniff comes from the security headers every response carries; setting it here too would repeat it.
    return FileResponse(
        storage.path(attachment.storage_key),
        media_type=attachment.content_type,
        headers={"content-disposition": content_disposition(attachment.filename), "cache-control": "private, no-store"},
    )


@routes.post(
    "/notifications/{notification_id}/attachments/{attachment_id}/remove", permission=Permission.NOTIFICATION_DRAFT
)
def remove_post(ctx: Ctx):
    notification = _visible(ctx)
    back = _back(ctx, notification.id)
    try:
        attachment = service.remove_attachment(
            ctx.db, ctx.auth, notification, ctx.param_int("attachment_id"), ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except NotAllowed:
        raise Forbidden() from None
    except service.UnknownAttachment:
        raise NotFound() from None
    storage, key = LocalStorage(ctx.settings.storage_dir), attachment.storage_key

    def delete_file():
        try:
            storage.delete(key)
        except OSError:
            # The removal is already committed; a file left behind is only disk space, so it is logged.
            log.exception("could not delete removed attachment's file %s", key)

    # Only once the removal is committed: a rolled-back removal must still find its file.
    ctx.after_commit.append(delete_file)
    return ctx.redirect(back)


def _visible(ctx: Ctx):
    notification = visible(ctx.db, ctx.auth, ctx.param_int("notification_id"))
    if notification is None:
        raise NotFound()
    return notification


def _back(ctx: Ctx, notification_id: int) -> str:
    own = f"/notifications/{notification_id}"
    back = ctx.form.get("back") if ctx.form is not None else None
    if isinstance(back, str) and back.startswith(own + "/") and BACK_TAIL.fullmatch(back[len(own) + 1 :]):
        return back
    return own
