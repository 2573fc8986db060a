"""Uploading, downloading and removing files attached to a notification's questions."""

from __future__ import annotations

import logging

from starlette.datastructures import FormData
from starlette.responses import FileResponse, Response

from ..models import Notification
from ..notifications.errors import NotAllowed
from ..notifications.lookups import NOTIFICATION
from ..permissions import Permission
from ..safe_paths import page_within
from ..web.downloads import content_disposition
from ..web.routing import Ctx, Forbidden, NotFound, Prepare, Routes
from . import service
from .scanner import scanner_for
from .storage import LocalStorage

log = logging.getLogger("portal.attachments")
routes = Routes("attachments")


def _check_upload(ctx: Ctx, notification: Notification) -> Response | None:
    try:
        service.check_upload(ctx.db, ctx.auth, notification, ctx.params["question_key"], _upload_file(ctx))
    except NotAllowed:
        raise Forbidden() from None
    except service.UnknownQuestion:
        raise NotFound() from None
    except service.RefusedFile as refused:
        return _refused(ctx, notification, refused)
    return None


def _receive(form: FormData | None, settings) -> service.ReceivedFile | service.RefusedFile:
    try:
        return service.receive_file(
            form.get("file") if form is not None else None,
            storage=LocalStorage(settings.storage_dir),
            scanner=scanner_for(settings),
            max_bytes=settings.max_upload_bytes,
        )
    except service.RefusedFile as refused:
        # Shown by the handler, in the transaction that loads the page's notification again.
        return refused


def _discard(received: service.ReceivedFile | service.RefusedFile, settings) -> None:
    if not isinstance(received, service.ReceivedFile):
        return
    # Deleted now rather than left for the sweep: nothing can record it once its request has refused it.
    try:
        LocalStorage(settings.storage_dir).delete(received.stored.key)
    except OSError:
        # The person's answer matters more than the disk space; the sweep takes the file later.
        log.exception("could not delete refused upload's file %s", received.stored.key)


@routes.post(
    "/notifications/{notification_id}/attachments/{question_key}",
    permission=Permission.NOTIFICATION_DRAFT,
    max_files=1,
    loads=NOTIFICATION,
    prepare=Prepare(check=_check_upload, work=_receive, discard=_discard),
)
def upload_post(ctx: Ctx, notification: Notification, received: service.ReceivedFile | service.RefusedFile):
    if isinstance(received, service.RefusedFile):
        return _refused(ctx, notification, received)
    try:
        service.record_attachment(
            ctx.db,
            ctx.auth,
            notification,
            ctx.params["question_key"],
            received,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except NotAllowed:
        raise Forbidden() from None
    except service.UnknownQuestion:
        raise NotFound() from None
    except service.RefusedFile as refused:
        return _refused(ctx, notification, refused)
    ctx.keep_prepared()
    return ctx.redirect(_back(ctx, notification.id))


def _refused(ctx: Ctx, notification: Notification, refused: service.RefusedFile) -> Response:
    return ctx.render(
        "notifications/upload_problem.html",
        status=400,
        error=refused.message,
        question=service.file_question(notification, ctx.params["question_key"]),
        notification=notification,
        back=_back(ctx, notification.id),
    )


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
    "/notifications/{notification_id}/attachments/{attachment_id}/remove",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
)
def remove_post(ctx: Ctx, notification: Notification):
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
    return ctx.redirect(_back(ctx, notification.id))


def _upload_file(ctx: Ctx):
    return ctx.form.get("file") if ctx.form is not None else None


def _back(ctx: Ctx, notification_id: int) -> str:
    """Back to the page the form was on, so long as it is one of this notification's own pages."""
    own = ctx.url("notifications.task_list", notification_id=notification_id)
    sent = ctx.form.get("back") if ctx.form is not None else None
    return page_within(sent if isinstance(sent, str) else None, own) or own
