"""Attachments on both storage backends: local files and an S3 bucket on moto's S3 server, which the suite
starts (tests/object_storage.py). Every test here runs on each backend and each database: upload and
download through the real app, the hash check on the way out, refused uploads leaving nothing, the orphan
sweep, a submission's files read by the regulator's API, and the deletions practice reset and retention do.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import random
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from portal import retention
from portal.attachments import service
from portal.db import transaction
from portal.files.s3 import PART
from portal.files.storage import Corrupt, TooLarge, storage_for, verified_chunks
from portal.models import Attachment, AuditEvent, Notification, utcnow
from portal.settings import Retention

from .conftest import post_form
from .object_storage import Behind, either_store
from .test_attachments import PDF, rows, start_notification, upload
from .test_practice import enter, practise_submission
from .test_regulator_api import create_token, draft_one, review_and_submit

object_store = either_store


@pytest.fixture
def behind(settings, request):
    server = request.getfixturevalue("s3_server") if settings.object_store.kind == "s3" else None
    return Behind(settings, server)


@pytest.fixture
def notification_id(drafter, db_factory):
    return start_notification(db_factory)


def download_path(notification_id: int, attachment_id: int) -> str:
    return f"/notifications/{notification_id}/attachments/{attachment_id}/download"


def test_an_upload_is_stored_on_the_configured_backend_and_downloads_byte_for_byte(
    drafter, notification_id, db_factory, behind
):
    content = PDF + b"0" * (300 * 1024)  # several chunks on the way out
    assert upload(drafter, notification_id, content, "Body map.pdf").status_code == 303
    [attachment] = rows(db_factory)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest() and attachment.size == len(content)
    assert behind.keys() == [attachment.storage_key]
    assert behind.part_written() == []

    download = drafter.get(download_path(notification_id, attachment.id))
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    # Uncompressed, it declares its length, so a response cut short by the hash check is seen to be short.
    plain = drafter.get(download_path(notification_id, attachment.id), headers={"accept-encoding": "identity"})
    assert plain.content == content and plain.headers["content-length"] == str(len(content))


@pytest.mark.parametrize("size", [2 * PART + 12345, 2 * PART, PART, PART - 1])
def test_a_file_larger_than_a_part_goes_up_in_parts_and_comes_back_whole(settings, behind, size):
    storage = storage_for(settings)
    # Different bytes everywhere, so parts sent out of order or twice would not give the same digest.
    content = random.Random(size).randbytes(size)
    stored = storage.save(io.BytesIO(content), max_bytes=3 * PART)
    assert stored.size == len(content) and stored.sha256 == hashlib.sha256(content).hexdigest()
    assert behind.keys() == [stored.key] and behind.part_written() == []
    back = b"".join(verified_chunks(storage.open(stored.key), key=stored.key, size=stored.size, sha256=stored.sha256))
    assert back == content


def test_a_stored_file_that_differs_from_its_record_is_never_sent_whole(
    drafter, notification_id, db_factory, settings, behind, caplog
):
    content = PDF + b"0" * (300 * 1024)
    upload(drafter, notification_id, content)
    [attachment] = rows(db_factory)
    changed = content[:-1] + b"1"  # the same size, one byte different
    behind.write(attachment.storage_key, changed)

    # Through the app: the response stops before its last chunk, short of its Content-Length.
    mismatches = REGISTRY.get_sample_value("portal_stored_file_mismatches_total") or 0
    with caplog.at_level(logging.ERROR, logger="portal.attachments"), pytest.raises(Corrupt):
        drafter.get(download_path(notification_id, attachment.id))
    assert "does not match its record" in caplog.text
    assert REGISTRY.get_sample_value("portal_stored_file_mismatches_total") == mismatches + 1

    # What a reader receives before the stop is less than the whole.
    storage = storage_for(settings)
    received = bytearray()
    with pytest.raises(Corrupt):
        for chunk in verified_chunks(
            storage.open(attachment.storage_key),
            key=attachment.storage_key,
            size=attachment.size,
            sha256=attachment.sha256,
        ):
            received += chunk
    assert 0 < len(received) < attachment.size

    # A file cut short is caught too, however its bytes begin.
    behind.write(attachment.storage_key, content[: len(content) // 2])
    with pytest.raises(Corrupt):
        drafter.get(download_path(notification_id, attachment.id))


def test_a_file_gone_from_storage_is_not_found(drafter, notification_id, db_factory, settings):
    upload(drafter, notification_id, PDF)
    [attachment] = rows(db_factory)
    storage_for(settings).delete(attachment.storage_key)
    assert drafter.get(download_path(notification_id, attachment.id)).status_code == 404


def test_a_refused_upload_leaves_nothing_stored(drafter, notification_id, db_factory, behind):
    response = upload(drafter, notification_id, b"MZ\x90\x00 not a pdf", "report.pdf")
    assert response.status_code == 400
    assert rows(db_factory) == []
    assert behind.keys() == [] and behind.part_written() == []


def test_a_file_over_the_limit_part_way_through_a_multipart_upload_leaves_nothing(settings, behind):
    storage = storage_for(settings)
    with pytest.raises(TooLarge):
        storage.save(io.BytesIO(b"x" * (2 * PART)), max_bytes=PART + 1)
    assert behind.keys() == [] and behind.part_written() == []


def test_a_copy_that_dies_part_way_leaves_no_object(settings, behind):
    class Dies(io.RawIOBase):
        def __init__(self):
            self.sent = 0

        def read(self, size=-1):
            if self.sent > PART + 1024:
                raise ConnectionResetError("the client went away")
            self.sent += size
            return b"x" * size

    with pytest.raises(ConnectionResetError):
        storage_for(settings).save(Dies(), max_bytes=10 * PART)
    assert behind.keys() == [] and behind.part_written() == []


def test_the_sweep_takes_orphans_and_part_written_copies_and_keeps_recorded_files(
    drafter, notification_id, db_factory, settings, behind
):
    upload(drafter, notification_id, PDF)
    [attachment] = rows(db_factory)
    storage = storage_for(settings)
    orphan = storage.save(io.BytesIO(PDF), max_bytes=len(PDF))

    # Young files may be uploads on their way to their commit: the grace period keeps them.
    with transaction(db_factory) as db:
        swept = service.sweep(db, storage)
    assert swept.keys == [] and swept.temporary == []
    assert behind.keys() == sorted([attachment.storage_key, orphan.key])

    # Made only now: moto dates every multipart upload's start in 2010, so on it none is ever young.
    behind.begin_part_written("0" * 32)
    assert len(behind.part_written()) == 1

    # A grace period already over for every file (a cutoff in the future) takes whatever has no record.
    with transaction(db_factory) as db:
        swept = service.sweep(db, storage, older_than=timedelta(minutes=-5))
    assert swept.keys == [orphan.key] and len(swept.temporary) == 1
    assert behind.keys() == [attachment.storage_key] and behind.part_written() == []
    assert drafter.get(download_path(notification_id, attachment.id)).content == PDF


def test_a_submissions_files_are_read_by_the_regulator_with_their_digests(
    client, lead, drafter, db_factory, location_id, settings, behind
):
    bearer = {"authorization": f"Bearer {create_token(lead)}"}
    first, second = PDF + b"% one\n" + b"1" * (200 * 1024), PDF + b"% two\n"
    reference = review_and_submit(
        db_factory, draft_one(drafter, db_factory, location_id, files=[first, second]), settings=settings
    )
    attachments = client.get(f"/api/v1/submissions/{reference}", headers=bearer).json()["snapshot"]["attachments"]
    assert len(behind.keys()) == 2
    for attachment in attachments:
        response = client.get(attachment["url"].removeprefix("http://testserver"), headers=bearer)
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == attachment["sha256"]
        digest = base64.b64encode(hashlib.sha256(response.content).digest()).decode()
        assert response.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert sorted(a["sha256"] for a in attachments) == sorted(hashlib.sha256(c).hexdigest() for c in (first, second))


def test_retention_deletes_an_abandoned_drafts_files_from_storage(
    drafter, notification_id, db_factory, settings, behind
):
    upload(drafter, notification_id, PDF)
    assert len(behind.keys()) == 1
    long_ago = utcnow() - timedelta(days=400)
    with transaction(db_factory) as db:
        db.execute(update(Notification).values(updated_at=long_ago))
        db.execute(update(AuditEvent).values(occurred_at=long_ago))
    retention.run(db_factory, Retention(), storage_for(settings))
    with db_factory() as db:
        assert db.scalar(select(Notification.id)) is None
    assert behind.keys() == []


def test_practice_reset_deletes_the_practice_files_from_storage(drafter, db_factory, behind):
    copy_id = enter(drafter)
    practise_submission(drafter, db_factory, copy_id)
    with db_factory() as db:
        keys = sorted(db.scalars(select(Attachment.storage_key)))
    assert keys and behind.keys() == keys
    response = post_form(drafter, f"/practice/{copy_id}/reset", from_page=f"/practice/{copy_id}/reset")
    assert response.status_code == 303
    assert behind.keys() == []
