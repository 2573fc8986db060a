"""The read-only JSON API the regulator's intake systems poll. Bearer tokens only; see check_permission."""

from __future__ import annotations

import base64

from .. import regulator_view
from ..attachments.downloads import stored_file_response
from ..files.storage import storage_for
from ..permissions import Permission
from ..web.downloads import content_disposition
from ..web.routing import Ctx, Routes
from . import openapi, responses, service

routes = Routes("api")


@routes.get("/api/v1/submissions", permission=Permission.SUBMISSIONS_READ)
def submissions(ctx: Ctx):
    try:
        page = service.feed(ctx.db, since=ctx.query.get("since"), limit=ctx.query.get("limit"))
    except service.BadRequest as bad:
        return responses.error(400, str(bad))
    return responses.json_response(service.page_body(page, ctx.settings.base_url))


@routes.get("/api/v1/submissions/{reference}", permission=Permission.SUBMISSIONS_READ)
def submission(ctx: Ctx):
    found = service.by_reference(ctx.db, ctx.params["reference"])
    if found is None:
        return responses.not_found("No submission has that reference")
    return responses.json_response(regulator_view.detail(found, ctx.settings.base_url))


@routes.get("/api/v1/submissions/{reference}/attachments/{attachment_id}", permission=Permission.SUBMISSIONS_READ)
def submission_file(ctx: Ctx):
    found = service.by_reference(ctx.db, ctx.params["reference"])
    if found is None:
        return responses.not_found("No submission has that reference")
    listed = service.submitted_file(ctx.db, found, ctx.params["attachment_id"])
    if listed is None:
        return responses.not_found("That submission has no such attachment")
    item, attachment = listed
    digest = base64.b64encode(bytes.fromhex(attachment.sha256)).decode()
    # Streamed from storage in chunks, so a 50 MB file never sits in memory, and checked against the
    # recorded SHA-256 as it goes (a mismatch cuts the response short; see storage.verified_chunks).
    response = stored_file_response(
        storage_for(ctx.settings),
        attachment,
        media_type=item.get("content_type") or "application/octet-stream",
        headers={
            "content-disposition": content_disposition(item.get("filename") or "attachment"),
            "cache-control": "no-store",
            # RFC 9530: lets the intake system check the bytes against the snapshot's sha256 as they arrive.
            "repr-digest": f"sha-256=:{digest}:",
        },
    )
    if response is None:
        return responses.not_found("That attachment's file is no longer stored")
    return response


@routes.get("/api/v1/openapi.json", permission=Permission.PUBLIC)
def openapi_document(ctx: Ctx):
    # Public: it describes the API and holds no data, and client generators fetch it without a token.
    return responses.json_response(openapi.document(ctx.settings.base_url))
