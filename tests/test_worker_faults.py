"""A worker killed with SIGKILL in the middle of a submission or an upload: no notification is left
half-submitted, no attachment record or stored file is left without the other, and the receipt
email is still sent exactly once.

The real portal runs with two workers in a subprocess. To make the kill land inside a request,
the test first takes a database lock in a connection of its own, so the request stops at a known
statement inside its transaction; the test finds the worker process holding that request's
connection (through /proc), sees it waiting on the lock, and kills it. uvicorn's supervisor then
starts a replacement worker, which the test waits for and uses.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import psycopg
import pytest
from sqlalchemy import func, select

from portal.attachments.service import sweep
from portal.cli import run_worker
from portal.files.storage import KEY_PATTERN, LocalStorage
from portal.models import Attachment, AuditEvent, Notification, OutboxMessage, Submission

from .conftest import ROOT, csrf_from
from .drafting import start_notification
from .journey import PDF, act, draft_complete
from .live_server import LiveServer, client_for, sign_in, sleeping_in_sqlite_busy_wait, wait_for

TYPE, QUESTION = "serious_injury", "supporting_documents"


@pytest.fixture(scope="module")
def server(database_url, migrated, tmp_path_factory):
    live = LiveServer(database_url, tmp_path_factory.mktemp("faults") / "portal", workers=2).start()
    yield live
    live.stop()


@pytest.fixture
def live(server):
    """The module's server with both workers up (a test before may have killed one) and no files
    left from earlier tests, whose records the database clean-up has already deleted."""
    server.wait_until_ready()
    for directory in (server.storage_dir, server.tmp_dir):
        if directory.is_dir():
            for path in directory.iterdir():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    return server


@pytest.fixture
def person(live, db_factory, demo_org):
    clients = []

    def signed_in(role: str):
        client = client_for(live)
        clients.append(client)
        sign_in(client, db_factory, f"{role}@riverside.example")
        return client

    yield signed_in
    for client in clients:
        client.close()


class HeldLock:
    """A lock held by the test in its own connection, so a request blocks at a known statement.

    PostgreSQL: `statement` takes a table or row lock, and the request is seen waiting on it in
    pg_stat_activity, running `blocked` (the start of its SQL). SQLite has one lock for the whole
    database: BEGIN IMMEDIATE, and the request blocks at its first write, where SQLite's busy
    handler sleeps and retries (seen through /proc).
    """

    def __init__(self, database_url: str, statement: str, params: tuple = (), *, blocked: str):
        self.url, self.statement, self.params, self.blocked = database_url, statement, params, blocked
        self.sqlite = database_url.startswith("sqlite")
        self.backend: int | None = None

    def __enter__(self):
        if self.sqlite:
            self.connection = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None, timeout=30)
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            self.connection = psycopg.connect(self.url)
            self.connection.execute(self.statement, self.params)
        return self

    def __exit__(self, *exc):
        if self.sqlite:
            self.connection.execute("ROLLBACK")
        else:
            self.connection.rollback()
        self.connection.close()

    def wait_until_blocked(self, worker: int) -> None:
        if self.sqlite:
            wait_for(lambda: sleeping_in_sqlite_busy_wait(worker), f"worker {worker} to wait for SQLite's lock")
            return
        self.backend = wait_for(
            lambda: _one(
                self.url,
                (
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    " AND query LIKE %s"
                ),
                (self.blocked + "%",),
            ),
            f"a request to wait at {self.blocked}",
        )

    def locks_of_blocked_request(self) -> set[str]:
        """The tables the blocked request's transaction has written to so far (PostgreSQL only)."""
        with psycopg.connect(self.url, autocommit=True) as connection:
            return {
                row[0]
                for row in connection.execute(
                    "SELECT relation::regclass::text FROM pg_locks WHERE pid = %s AND granted"
                    " AND mode = 'RowExclusiveLock' AND relation IS NOT NULL",
                    (self.backend,),
                )
            }

    def wait_until_request_gone(self) -> None:
        """After the kill: PostgreSQL aborts the dead worker's transaction when its backend finds the
        connection gone (once the lock it waited for is released), and the backend ends."""
        if self.backend is not None:
            wait_for(
                lambda: _one(
                    self.url,
                    "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)",
                    (self.backend,),
                ),
                f"backend {self.backend} of the killed worker to end",
            )


def _one(url: str, sql: str, params: tuple):
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(sql, params).fetchone()
    return row[0] if row else None


def cookie_header(client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def send_raw(live: LiveServer, client, path: str, body: bytes, content_type: str, *, send_first: int | None = None):
    """Sends a POST on a connection of its own (so the test knows its port), with the person's
    cookies; send_first: only that many bytes of the body, the rest held back."""
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=120)
    connection.putrequest("POST", path)
    connection.putheader("Cookie", cookie_header(client))
    connection.putheader("Content-Type", content_type)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    connection.send(body if send_first is None else body[:send_first])
    return connection, connection.sock.getsockname()[1]


def kill_worker(live: LiveServer, worker: int, connection: http.client.HTTPConnection) -> None:
    os.kill(worker, signal.SIGKILL)
    # The request never gets an answer: its worker is gone.
    with pytest.raises((http.client.HTTPException, OSError)):
        connection.getresponse()
    connection.close()


def replaced(live: LiveServer, worker: int) -> None:
    """uvicorn's supervisor notices the dead worker and starts another; the test waits for it."""
    live.wait_until_ready()
    assert worker not in live.worker_pids()
    assert f"Child process [{worker}] died" in live.log()


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def storage_problems(live: LiveServer, db_factory) -> dict[str, list[str]]:
    with db_factory() as db:
        recorded = set(db.scalars(select(Attachment.storage_key)))
    on_disk = {path.name for path in live.storage_dir.iterdir()} if live.storage_dir.is_dir() else set()
    return {"files without a record": sorted(on_disk - recorded), "records without a file": sorted(recorded - on_disk)}


def sweep_command(live: LiveServer, *args: str) -> str:
    """`portal attachments sweep`, run as an operator would, against the server's database and files."""
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "attachments", "sweep", *args],
        cwd=ROOT,
        env=live.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# Submission ------------------------------------------------------------------------------------


def test_a_worker_killed_in_the_middle_of_a_submission_leaves_it_approved_and_one_receipt_is_sent(
    live, person, demo_org, db_factory, database_url, settings
):
    drafter, reviewer, submitter = person("drafter"), person("reviewer"), person("submitter")
    notification = draft_complete(drafter, "dols_outcome", demo_org["locations"][0][0], with_files=False)
    assert act(drafter, notification, "request-review").status_code == 303
    assert act(reviewer, notification, "approve").status_code == 303
    path = f"/notifications/{notification}/submit"
    body = urlencode({"csrf_token": csrf_from(submitter, path), "declaration": "yes"}).encode()

    # PostgreSQL: the lock stops the submission at its last step, the receipt email, after it has moved
    # the notification to submitted and written the submission and its audit event.
    with HeldLock(
        database_url, "LOCK TABLE outbox_messages IN SHARE MODE", blocked="INSERT INTO outbox_messages"
    ) as lock:
        connection, port = send_raw(live, submitter, path, body, "application/x-www-form-urlencoded")
        worker = wait_for(lambda: live.serving_pid(port), "a worker to take the submission")
        lock.wait_until_blocked(worker)
        if not lock.sqlite:
            assert {"notifications", "submissions", "audit_events"} <= lock.locks_of_blocked_request()
        kill_worker(live, worker, connection)
    lock.wait_until_request_gone()

    with db_factory() as db:
        assert db.get(Notification, notification).status == "approved"
        assert db.get(Notification, notification).reference is None
        assert db.scalar(select(func.count()).select_from(Submission)) == 0
        assert (
            db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == "submitted")) == 0
        )
        assert (
            db.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.event_type == "notification:submitted")
            )
            == 0
        )

    replaced(live, worker)
    # The person presses the button again, and this time it goes through.
    assert act(submitter, notification, "submit", {"declaration": "yes"}).status_code == 303
    with db_factory() as db:
        assert db.get(Notification, notification).status == "submitted"
        assert db.scalar(select(func.count()).select_from(Submission)) == 1
        receipts = list(db.scalars(select(OutboxMessage).where(OutboxMessage.template == "submitted")))
    assert [message.recipient for message in receipts] == ["submitter@riverside.example"]

    # The outbox worker sends it (with the other queued email), once: a second pass has nothing to send.
    assert run_worker(settings, once=True) >= 1
    assert run_worker(settings, once=True) == 0
    with db_factory() as db:
        receipts = list(db.scalars(select(OutboxMessage).where(OutboxMessage.template == "submitted")))
    assert len(receipts) == 1 and receipts[0].sent_at is not None and receipts[0].attempts == 1


# Uploads ---------------------------------------------------------------------------------------


def test_a_worker_killed_while_an_upload_streams_in_leaves_no_file_and_no_record(live, person, demo_org, db_factory):
    drafter = person("drafter")
    notification = start_notification(drafter, TYPE, demo_org["locations"][0][0])
    path = f"/notifications/{notification}/attachments/{QUESTION}"
    # 3 MB, of which 2 MB are sent: past the 1 MB at which the form parser spools the file to disk.
    content = PDF + b"%" + b"x" * (3 * 1024 * 1024)
    body, content_type = multipart(
        {"csrf_token": csrf_from(drafter, f"/notifications/{notification}")}, "scan.pdf", content
    )
    connection, port = send_raw(live, drafter, path, body, content_type, send_first=2 * 1024 * 1024)
    worker = wait_for(lambda: live.serving_pid(port), "a worker to take the upload")
    # Mid-stream, certainly: the worker has read all that was sent, has the part-received file open
    # in its temporary directory, and cannot finish without the megabyte still held back.
    wait_for(lambda: live.has_read_everything_from(port), "the worker to read what was sent")
    wait_for(lambda: _open_files_under(worker, live.tmp_dir), "the worker to spool the upload to disk")
    kill_worker(live, worker, connection)

    assert storage_problems(live, db_factory) == {"files without a record": [], "records without a file": []}
    assert not live.storage_dir.exists() or list(live.storage_dir.iterdir()) == []
    # The spooled part had no name on disk (an unlinked temporary file), so dying left nothing there either.
    assert list(live.tmp_dir.iterdir()) == []
    replaced(live, worker)


def test_a_worker_killed_after_storing_a_file_but_before_committing_leaves_a_file_the_sweep_removes(
    live, person, demo_org, db_factory, database_url
):
    drafter = person("drafter")
    notification = start_notification(drafter, TYPE, demo_org["locations"][0][0])
    path = f"/notifications/{notification}/attachments/{QUESTION}"
    token = csrf_from(drafter, f"/notifications/{notification}")
    kept = drafter.post(path, data={"csrf_token": token}, files={"file": ("kept.pdf", PDF, "application/pdf")})
    assert kept.status_code == 303
    with db_factory() as db:
        kept_key = db.scalar(select(Attachment.storage_key))

    body, content_type = multipart({"csrf_token": token}, "lost.pdf", PDF + b"% lost\n")
    # The row lock stops the upload at the notification's lock, which its second half takes first:
    # after the file is stored under its key and before the record is written and committed.
    with HeldLock(
        database_url,
        "SELECT id FROM notifications WHERE id = %s FOR UPDATE",
        (notification,),
        blocked="SELECT notifications.id",
    ) as lock:
        connection, port = send_raw(live, drafter, path, body, content_type)
        worker = wait_for(lambda: live.serving_pid(port), "a worker to take the upload")
        # Under its key, not the temporary name it is copied to first: storing has finished.
        stored = wait_for(
            lambda: [
                p.name for p in live.storage_dir.iterdir() if KEY_PATTERN.fullmatch(p.name) and p.name != kept_key
            ],
            "the upload's file to be stored",
        )
        lock.wait_until_blocked(worker)
        kill_worker(live, worker, connection)
    lock.wait_until_request_gone()

    # The request died between its two halves: the file is stored and its record never committed.
    with db_factory() as db:
        assert db.scalars(select(Attachment.filename)).all() == ["kept.pdf"]
    assert storage_problems(live, db_factory) == {"files without a record": stored, "records without a file": []}

    # The sweep leaves young files alone by default (they may be uploads on their way to their commit) ...
    assert sweep_command(live).startswith("deleted 0 stored files")
    # ... and removes this one when told nothing is in flight, keeping the file that has a record.
    assert sweep_command(live, "--older-than", "0").startswith("deleted 1 stored files")
    assert storage_problems(live, db_factory) == {"files without a record": [], "records without a file": []}
    assert (live.storage_dir / kept_key).read_bytes() == PDF
    replaced(live, worker)


def _open_files_under(pid: int, directory) -> bool:
    try:
        return any(
            os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(directory) + "/") for fd in os.listdir(f"/proc/{pid}/fd")
        )
    except OSError:
        return False


# The sweep on its own --------------------------------------------------------------------------


def test_the_sweep_deletes_only_old_files_without_a_record(as_role, demo_org, db_factory, settings):
    drafter = as_role("drafter")
    notification = start_notification(drafter, TYPE, demo_org["locations"][0][0])
    token = csrf_from(drafter, f"/notifications/{notification}")
    response = drafter.post(
        f"/notifications/{notification}/attachments/{QUESTION}",
        data={"csrf_token": token},
        files={"file": ("kept.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 303
    storage = LocalStorage(settings.storage_dir)
    with db_factory() as db:
        recorded = db.scalar(select(Attachment.storage_key))
    old_orphan, young_orphan, old_copy = "a" * 32, "b" * 32, ".upload-cutoff_1"
    for name in (old_orphan, young_orphan, old_copy):
        (settings.storage_dir / name).write_bytes(b"left behind")
    two_hours_ago = time.time() - 2 * 3600
    for name in (recorded, old_orphan, old_copy):
        os.utime(settings.storage_dir / name, (two_hours_ago, two_hours_ago))

    with db_factory() as db:
        swept = sweep(db, storage)
    assert (swept.keys, swept.temporary) == ([old_orphan], [old_copy])
    assert sorted(path.name for path in settings.storage_dir.iterdir()) == sorted([recorded, young_orphan])

    with db_factory() as db:
        swept = sweep(db, storage, older_than=timedelta(0))
    assert (swept.keys, swept.temporary) == ([young_orphan], [])
    assert [path.name for path in settings.storage_dir.iterdir()] == [recorded]
