"""SIGTERM, as an orchestrator sends it on a redeploy, while a slow upload and a submission are in flight.

The instance stops taking connections at once. Requests in flight that finish within PORTAL_SHUTDOWN_SECONDS
are answered and committed; any still going then are ended, and each leaves nothing behind: no record, no
stored file, no submission. Either way the process exits by itself.

The requests are written by hand over a socket, so the test decides exactly when their bodies arrive: each
is sent up to part of its body, and the server is seen to have read that much before the signal.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
from urllib.parse import quote

import pytest
from sqlalchemy import select

from portal.db import transaction
from portal.models import Attachment, Location, Notification, Submission
from portal.notifications import review
from portal.notifications.registry import definition

from .conftest import csrf_from
from .drafting import fill_section, start_notification
from .live_server import LiveServer, client_for, sign_in, wait_for
from .test_regulator_api import DRAFTER, REVIEWER, SUBMITTER, auth_of

TYPE, FILE_QUESTION = "serious_injury", "supporting_documents"
CONTENT = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * (512 * 1024) + b"\n%%EOF\n"
BOUNDARY = "----portal-shutdown-test"


class OneProcess(LiveServer):
    """`portal serve` without --workers: one process, which takes the signal itself, as in a container."""

    def wait_until_ready(self) -> None:
        wait_for(self._healthy, f"the portal to answer on {self.base}")


@pytest.fixture
def start_server(database_url, migrated, demo_org, tmp_path):
    servers = []

    def start(shutdown_seconds: int) -> OneProcess:
        server = OneProcess(
            database_url,
            tmp_path / f"portal-{len(servers)}",
            workers=1,
            extra_env={"PORTAL_SHUTDOWN_SECONDS": str(shutdown_seconds)},
        ).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class InFlight:
    """One request written by hand: headers and part of the body now, the rest when the test says."""

    def __init__(self, server: LiveServer, path: str, cookies: dict, content_type: str, body: bytes, first: int):
        self.server = server
        self.rest = body[first:]
        self.socket = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        self.socket.sendall(head.encode() + body[:first])
        port = self.socket.getsockname()[1]
        wait_for(lambda: server.has_read_everything_from(port), "the server to read what was sent so far")

    def finish(self) -> int:
        """Sends the rest of the body and returns the response's status."""
        self.socket.sendall(self.rest)
        return self.status()

    def status(self) -> int:
        """The response's status, or 0 when the server closed the connection without one."""
        received = b""
        try:
            while chunk := self.socket.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        self.socket.close()
        return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else 0


def approved_and_draft(server: LiveServer, db_factory, location_id: int) -> tuple[int, int, object]:
    """One notification approved and ready to submit, one draft to upload to; and a signed-in drafter."""
    drafter = client_for(server)
    sign_in(drafter, db_factory, DRAFTER)
    with db_factory() as db:
        regulator_ids = sorted(db.scalars(select(Location.regulator_location_id)))
    approved = start_notification(drafter, TYPE, location_id)
    for section in definition(TYPE).sections:
        assert fill_section(drafter, approved, section, regulator_ids).status_code == 303
    with transaction(db_factory) as db:
        review.request_review(db, auth_of(db, DRAFTER), db.get(Notification, approved), base_url=server.base)
    with transaction(db_factory) as db:
        review.approve(db, auth_of(db, REVIEWER), db.get(Notification, approved), base_url=server.base)
    draft = start_notification(drafter, TYPE, location_id)
    return approved, draft, drafter


def both_in_flight(server: LiveServer, db_factory, approved: int, draft: int, drafter) -> tuple[InFlight, InFlight]:
    submitter = client_for(server)
    sign_in(submitter, db_factory, SUBMITTER)
    submit_path = f"/notifications/{approved}/submit"
    form = f"csrf_token={quote(csrf_from(submitter, submit_path))}&declaration=yes".encode()
    submitting = InFlight(
        server, submit_path, dict(submitter.cookies), "application/x-www-form-urlencoded", form, len(form) // 2
    )
    token = csrf_from(drafter, "/account")
    multipart = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="body map.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + CONTENT
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    uploading = InFlight(
        server,
        f"/notifications/{draft}/attachments/{FILE_QUESTION}",
        dict(drafter.cookies),
        f"multipart/form-data; boundary={BOUNDARY}",
        multipart,
        len(multipart) // 3,
    )
    return submitting, uploading


def refuses_connections(server: LiveServer) -> bool:
    try:
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def exited_after_shutdown(server: LiveServer) -> None:
    """Exited by itself once shut down. uvicorn raises the signal it caught again once it has finished, so
    the exit status says SIGTERM ended it, as it would any program that did not catch the signal."""
    assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    assert "Finished server process" in server.log()


def stored_files(server: LiveServer) -> list[str]:
    root = server.storage_dir
    return sorted(path.name for path in root.iterdir()) if root.exists() else []


def test_requests_in_flight_at_sigterm_finish_and_the_instance_then_exits(
    start_server, db_factory, location_id, database_url
):
    server = start_server(shutdown_seconds=120)
    approved, draft, drafter = approved_and_draft(server, db_factory, location_id)
    submitting, uploading = both_in_flight(server, db_factory, approved, draft, drafter)

    os.kill(server.process.pid, signal.SIGTERM)
    wait_for(lambda: refuses_connections(server), "the instance to stop taking connections")
    assert server.process.poll() is None  # still finishing what it took

    assert uploading.finish() == 303
    assert submitting.finish() == 303
    exited_after_shutdown(server)

    with db_factory() as db:
        assert db.get(Notification, approved).status == "submitted"
        assert db.scalar(select(Submission).where(Submission.notification_id == approved)) is not None
        [attachment] = db.scalars(select(Attachment).where(Attachment.notification_id == draft))
    assert attachment.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert stored_files(server) == [attachment.storage_key]
    assert hashlib.sha256((server.storage_dir / attachment.storage_key).read_bytes()).hexdigest() == attachment.sha256


def test_requests_still_going_when_the_time_is_up_are_ended_leaving_nothing_half_done(
    start_server, db_factory, location_id
):
    server = start_server(shutdown_seconds=1)
    approved, draft, drafter = approved_and_draft(server, db_factory, location_id)
    submitting, uploading = both_in_flight(server, db_factory, approved, draft, drafter)

    os.kill(server.process.pid, signal.SIGTERM)
    # Neither body is ever finished: the instance must end them and exit by itself.
    exited_after_shutdown(server)
    # Each person is told it failed (a 500, or the connection closed), never that it worked.
    assert submitting.status() in (0, 500) and uploading.status() in (0, 500)
    assert "timeout graceful shutdown exceeded" in server.log()

    with db_factory() as db:
        assert db.get(Notification, approved).status == "approved"
        assert db.scalar(select(Submission).where(Submission.notification_id == approved)) is None
        assert list(db.scalars(select(Attachment).where(Attachment.notification_id == draft))) == []
    assert stored_files(server) == []
