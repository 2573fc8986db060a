"""Sending a stored file back, from either backend, checked against its record as it goes."""

from __future__ import annotations

from starlette.responses import Response, StreamingResponse

from ..files.storage import Missing, Storage, verified_chunks
from ..models import Attachment


def stored_file_response(
    storage: Storage, attachment: Attachment, *, media_type: str, headers: dict[str, str]
) -> Response | None:
    """The attachment's bytes streamed from storage, or None when none are stored under its key.

    Content-Length is the recorded size, so a reader's client knows a response cut off by a failed
    hash check (storage.verified_chunks) is incomplete; when the app gzips it, the chunked encoding's
    missing last chunk (and gzip's missing trailer) say the same. The generator is a plain one: Starlette runs
    it on a worker thread, where the storage's blocking reads belong.
    """
    try:
        file = storage.open(attachment.storage_key)
    except Missing:
        return None
    return StreamingResponse(
        verified_chunks(file, key=attachment.storage_key, size=attachment.size, sha256=attachment.sha256),
        media_type=media_type,
        headers={**headers, "content-length": str(attachment.size)},
    )
