"""Two portal instances, one service: separate processes on separate ports, each with a data directory of
its own, sharing only PostgreSQL and an S3 bucket (moto's S3 server, tests/object_storage.py), as instances
behind a load balancer do. A person moves between them mid-journey and nothing of theirs is lost; then two
`portal worker` processes drain the outbox that journey filled, and every message is sent exactly once.

tests/test_email_delivery.py already shows two senders racing in one process send each message once; here
they are the real command, in two processes, on the shared database.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from email import message_from_bytes

import pytest
from sqlalchemy import select

from portal.db import transaction
from portal.models import Attachment, Location, Notification, OutboxMessage, Submission
from portal.notifications import review
from portal.notifications.registry import definition

from .conftest import ROOT, csrf_from, post_form
from .drafting import fill_section, start_notification
from .live_server import LiveServer, client_for, sign_in, wait_for
from .object_storage import CREDENTIALS
from .ports import free_port
from .test_email_delivery import start_smtp
from .test_regulator_api import DRAFTER, REVIEWER, SUBMITTER, auth_of

TYPE, FILE_QUESTION = "serious_injury", "supporting_documents"
CONTENT = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * (9 * 1024 * 1024) + b"\n%%EOF\n"


@pytest.fixture
def shared_env(database_url, s3_server):
    if not database_url.startswith("postgresql"):
        pytest.skip("instances on several machines share PostgreSQL; SQLite is for one machine")
    store = s3_server.new_store()
    return {
        **CREDENTIALS,
        "PORTAL_STORAGE": "s3",
        "PORTAL_S3_BUCKET": store.bucket,
        "PORTAL_S3_ENDPOINT_URL": store.endpoint_url,
        "PORTAL_S3_REGION": store.region,
    }


@pytest.fixture
def two_instances(database_url, migrated, demo_org, tmp_path, shared_env):
    first = LiveServer(database_url, tmp_path / "first", workers=2, extra_env=shared_env).start()
    second = LiveServer(database_url, tmp_path / "second", workers=2, extra_env=shared_env).start()
    yield first, second
    first.stop()
    second.stop()


def test_a_journey_across_two_instances_loses_nothing_and_two_workers_send_each_email_once(
    two_instances, db_factory, location_id, shared_env, tmp_path
):
    first, second = two_instances
    on_first = client_for(first)
    sign_in(on_first, db_factory, DRAFTER)
    # The same browser, its next requests answered by the other instance: the session is in the database.
    on_second = client_for(second)
    on_second.cookies = on_first.cookies

    notification_id = start_notification(on_second, TYPE, location_id)
    page = f"/notifications/{notification_id}/sections/{section_holding_file().key}"
    response = on_second.post(
        f"/notifications/{notification_id}/attachments/{FILE_QUESTION}",
        data={"csrf_token": csrf_from(on_second, page)},
        files={"file": ("body map.pdf", CONTENT, "application/pdf")},
    )
    assert response.status_code == 303, response.text[-2000:]
    with db_factory() as db:
        regulator_ids = sorted(db.scalars(select(Location.regulator_location_id)))
    for section in definition(TYPE).sections:
        response = fill_section(on_second, notification_id, section, regulator_ids)
        assert response.status_code == 303, response.text[-3000:]

    # The file stored by the second instance is read back whole by the first, which has no copy of its own.
    [attachment] = _attachments(db_factory, notification_id)
    download = on_first.get(f"/notifications/{notification_id}/attachments/{attachment.id}/download")
    assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == attachment.sha256
    assert not (first.storage_dir.exists() and any(first.storage_dir.iterdir()))
    assert not (second.storage_dir.exists() and any(second.storage_dir.iterdir()))

    with transaction(db_factory) as db:
        review.request_review(db, auth_of(db, DRAFTER), db.get(Notification, notification_id), base_url=first.base)
    with transaction(db_factory) as db:
        review.approve(db, auth_of(db, REVIEWER), db.get(Notification, notification_id), base_url=first.base)

    # Submitted on the first instance.
    submitter = client_for(first)
    sign_in(submitter, db_factory, SUBMITTER)
    path = f"/notifications/{notification_id}/submit"
    response = post_form(submitter, path, {"declaration": "yes"}, from_page=path)
    assert response.status_code == 303, response.text[-2000:]
    with db_factory() as db:
        made = db.scalar(select(Submission).where(Submission.notification_id == notification_id))
    assert made is not None
    assert [a["sha256"] for a in made.snapshot["attachments"]] == [hashlib.sha256(CONTENT).hexdigest()]

    # Two `portal worker` processes drain the outbox the journey filled (sign-in links, review, receipt).
    with db_factory() as db:
        queued = sorted(db.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))))
    assert len(queued) >= 3
    port = free_port()
    controller, inbox = start_smtp(port)
    env = {
        **first.env,
        **shared_env,
        "PORTAL_EMAIL_SENDER": "smtp",
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(port),
    }
    workers = []
    try:
        for name in ("worker-a", "worker-b"):
            log = open(tmp_path / f"{name}.log", "w")
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "portal.cli", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        wait_for(lambda: _unsent(db_factory) == 0, "the two workers to send every message")
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        controller.stop()
    sent_ids = [message_from_bytes(envelope.content)["Message-ID"] for envelope in inbox.messages]
    assert sorted(sent_ids) == sorted(f"<outbox-{i}@portal>" for i in queued)
    with db_factory() as db:
        assert all(m.attempts == 1 for m in db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(queued))))


def section_holding_file():
    return next(s for s in definition(TYPE).sections if any(q.key == FILE_QUESTION for q in s.questions))


def _attachments(db_factory, notification_id: int) -> list[Attachment]:
    with db_factory() as db:
        return list(db.scalars(select(Attachment).where(Attachment.notification_id == notification_id)))


def _unsent(db_factory) -> int:
    with db_factory() as db:
        return len(list(db.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)))))
