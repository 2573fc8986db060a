"""Uploading, downloading and removing files attached to a notification's questions."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from ..files.storage import storage_for
from ..models import Notification, SectionDraft
from ..notifications import presenters
from ..notifications.errors import NotAllowed
from ..notifications.form_input import section_raw
from ..notifications.lookups import NOTIFICATION
from ..notifications.reading import type_of
from ..notifications.refusals import moved_on
from ..notifications.registry import definitions
from ..numbers import parse_id, parse_number
from ..permissions import Permission
from ..safe_paths import page_within
from ..web.downloads import content_disposition
from ..web.form_text import form_text
from ..web.routing import Ctx, NotFound, Prepare, Routes
from . import service
from .downloads import stored_file_response
from .scanner import scanner_for

FILE_CHANGE_WITHDREW_APPROVAL = (
    "Your change was saved. The notification had been approved, so it now needs reviewing and approving again."
)

log = logging.getLogger("portal.attachments")
# A section's key as the definitions write them; anything else names no page.
SECTION_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
routes = Routes("attachments")


def _file_inputs_of_a_section_form() -> int:
    """Every file input of a section's form sends a part, chosen or not, and each counts against max_files."""
    return max(
        [
            1,  # the upload page's one
            *(
                sum(question.kind == "file" for question in section.questions)
                for kind in definitions().values()
                for section in kind.sections
            ),
        ]
    )


def _section_form_page(ctx: Ctx) -> str | None:
    """Where words sent with a file change after the session ended are offered back: the section page the
    form came from, which the section's form names (upload and remove take question and file ids, not
    the section). None from the upload page and scripts, which send no words."""
    section_key = form_text(ctx.form, "section")
    notification_id = parse_id(str(ctx.request.path_params.get("notification_id", "")))
    if notification_id is None or not SECTION_KEY.fullmatch(section_key):
        return None
    return ctx.url("notifications.section_page", notification_id=notification_id, section_key=section_key)


def _check_upload(ctx: Ctx, notification: Notification) -> Response | None:
    try:
        service.check_upload(
            ctx.db, ctx.auth, notification, ctx.params["question_key"], _chosen_file(ctx.form, ctx.params)
        )
    except NotAllowed:
        return _not_now(ctx, notification, ctx.params["question_key"])
    except service.UnknownQuestion:
        raise NotFound() from None
    except service.RefusedFile as refused:
        # Refused before the file is copied (none chosen, no room): the typed answers are saved all the same.
        return upload_post(ctx, notification, refused)
    return None


def _receive(form: FormData | None, settings, path_params: dict) -> service.ReceivedFile | service.RefusedFile:
    try:
        return service.receive_file(
            _chosen_file(form, path_params),
            storage=storage_for(settings),
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
        storage_for(settings).delete(received.stored.key)
    except OSError:
        # The person's answer matters more than the disk space; the sweep takes the file later.
        log.exception("could not delete refused upload's file %s", received.stored.key)


@routes.post(
    "/notifications/{notification_id}/attachments/{question_key}",
    permission=Permission.NOTIFICATION_DRAFT,
    max_files=_file_inputs_of_a_section_form(),
    loads=NOTIFICATION,
    prepare=Prepare(check=_check_upload, work=_receive, discard=_discard),
    keeps_input=_section_form_page,
)
def upload_post(ctx: Ctx, notification: Notification, received: service.ReceivedFile | service.RefusedFile):
    question_key = ctx.params["question_key"]
    try:
        typed = _typed_answers(ctx, notification, question_key)
        change = service.upload_with_answers(
            ctx.db, ctx.auth, notification, question_key, received, typed, ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except NotAllowed:
        return _not_now(ctx, notification, question_key)
    except service.UnknownQuestion:
        raise NotFound() from None
    if change.attachment is not None:
        ctx.keep_prepared()
    saved = change.saved
    if saved is not None and saved.conflict is not None:
        return _conflict_page(ctx, notification, question_key, saved.conflict, saved.raw, _upload_outcome(change))
    if change.refused is not None:
        return ctx.render(
            "notifications/upload_problem.html",
            status=400,
            error=change.refused.message,
            answers_saved=saved is not None,
            question=service.file_question(notification, question_key),
            notification=notification,
            back=_back(ctx, notification, question_key, typed),
        )
    return ctx.redirect(_back(ctx, notification, question_key, typed), flash=_told(change))


def _told(change: service.FileChange) -> str | None:
    return FILE_CHANGE_WITHDREW_APPROVAL if change.approval_withdrawn else None


def _upload_outcome(change: service.FileChange) -> str:
    if change.attachment is not None:
        return f"Your file “{change.attachment.filename}” was uploaded."
    refusal = change.refused.message if change.refused is not None else ""
    return f"Your file was not uploaded. {refusal}. Once you have chosen which answers to keep, upload it again."


def _chosen_file(form: FormData | None, path_params: dict):
    """The section page names each file input after its question, like every other field; the upload
    page and scripts send theirs as "file"."""
    if form is None:
        return None
    named = form.get(path_params["question_key"])
    return named if isinstance(named, UploadFile) else form.get("file")


def _typed_answers(ctx: Ctx, notification: Notification, question_key: str) -> service.TypedAnswers | None:
    """The section's answers when the request came from the section's own form, which sends its version;
    None from the upload page and scripts, which send only a file and must not blank the answers."""
    if ctx.form is None or "version" not in ctx.form:
        return None
    version = parse_number(ctx.form.get("version"))
    section = service.section_holding(notification, question_key)
    # -1 matches no version: a mangled version is a conflict, never a blind overwrite.
    return service.TypedAnswers(raw=section_raw(section, ctx.form), version=-1 if version is None else version)


def _conflict_page(
    ctx: Ctx,
    notification: Notification,
    question_key: str,
    theirs: SectionDraft,
    mine: dict[str, Any],
    file_outcome: str,
) -> Response:
    """The page the section's own save shows when someone saved it first, saying what became of the file."""
    section = service.section_holding(notification, question_key)
    return ctx.render(
        "notifications/conflict.html",
        status=409,
        notification=notification,
        section=section,
        theirs=theirs,
        rows=presenters.conflict_rows(section, theirs, mine),
        mine_json=json.dumps(mine),
        kind=type_of(notification),
        file_outcome=file_outcome,
    )


@routes.get(
    "/notifications/{notification_id}/attachments/{attachment_id}/download", permission=Permission.NOTIFICATION_VIEW
)
def download(ctx: Ctx):
    attachment = service.downloadable(
        ctx.db, ctx.auth, ctx.param_int("notification_id"), ctx.param_int("attachment_id")
    )
    if attachment is None:
        raise NotFound()
    # nosniff comes from the security headers every response carries; setting it here too would repeat it.
    response = stored_file_response(
        storage_for(ctx.settings),
        attachment,
        media_type=attachment.content_type,
        headers={"content-disposition": content_disposition(attachment.filename), "cache-control": "private, no-store"},
    )
    if response is None:
        raise NotFound()
    return response


@routes.post(
    "/notifications/{notification_id}/attachments/{attachment_id}/remove",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
    keeps_input=_section_form_page,
)
def remove_post(ctx: Ctx, notification: Notification):
    attachment_id = ctx.param_int("attachment_id")
    question_key: str | None = None
    try:
        question_key = service.question_of_attachment(ctx.db, notification, attachment_id)
        typed = _typed_answers(ctx, notification, question_key)
        change = service.remove_with_answers(
            ctx.db, ctx.auth, notification, attachment_id, typed, ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except NotAllowed:
        return _not_now(ctx, notification, question_key)
    except (service.UnknownAttachment, service.UnknownQuestion):
        raise NotFound() from None
    attachment, saved = change.attachment, change.saved
    if attachment is None:
        # The service names every file it removes; without one, nothing was removed here.
        raise NotFound()
    storage, key = storage_for(ctx.settings), attachment.storage_key

    def delete_file():
        try:
            storage.delete(key)
        except OSError:
            # The removal is already committed; a file left behind is only disk space, so it is logged.
            log.exception("could not delete removed attachment's file %s", key)

    # Only once the removal is committed: a rolled-back removal must still find its file.
    ctx.after_commit.append(delete_file)
    if saved is not None and saved.conflict is not None:
        outcome = f"Your file “{attachment.filename}” was removed."
        return _conflict_page(ctx, notification, question_key, saved.conflict, saved.raw, outcome)
    return ctx.redirect(_back(ctx, notification, question_key, typed), flash=_told(change))


def _back(ctx: Ctx, notification: Notification, question_key: str, typed: service.TypedAnswers | None) -> str:
    """Back to the section the answers came from, where they now show; else to the page the form
    names, so long as it is one of this notification's own pages."""
    if typed is not None:
        section = service.section_holding(notification, question_key)
        return ctx.url("notifications.section_page", notification_id=notification.id, section_key=section.key)
    own = ctx.url("notifications.task_list", notification_id=notification.id)
    sent = ctx.form.get("back") if ctx.form is not None else None
    return page_within(sent if isinstance(sent, str) else None, own) or own


def _not_now(ctx: Ctx, notification: Notification, question_key: str | None) -> Response:
    """The notification moved on (submitted, sent for review) before the file change: refused, with the
    words typed beside the file shown back, since they were not saved either."""
    rows = []
    try:
        typed = _typed_answers(ctx, notification, question_key) if question_key is not None else None
        if typed is not None and question_key is not None:
            rows = presenters.typed_rows(service.section_holding(notification, question_key), typed.raw)
    except service.UnknownQuestion:
        pass  # a question this notification does not have: nothing of the person's to show
    return moved_on(ctx, notification, "change its files", typed_rows=rows)
