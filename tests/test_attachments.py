"""Files attached to notifications: through the real app over HTTP, the real storage on disk, and
clamd's real protocol spoken by a small server started here."""

from __future__ import annotations

import hashlib
import io
import os
import socketserver
import tempfile
import threading
import zipfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from starlette.testclient import TestClient

from portal.accounts import sessions
from portal.app import create_app
from portal.attachments import service as attachments
from portal.attachments.scanner import ClamdScanner, NoScanner, ScannerUnavailable, scanner_for
from portal.attachments.sniff import sniff
from portal.db import transaction
from portal.files.storage import LocalStorage, TooLarge
from portal.models import Attachment, Membership, Notification, Organisation, User
from portal.notifications import drafting, reading
from portal.notifications.registry import definition
from portal.settings import Settings

from .conftest import audit_events, csrf_from, make_organisation, sign_in

DRAFTER = "drafter@riverside.example"
TYPE, QUESTION = "serious_injury", "supporting_documents"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


# Helpers ---------------------------------------------------------------------------------------


def auth_for(db, email: str = DRAFTER) -> sessions.Auth:
    user = db.scalar(select(User).where(User.email == email))
    membership = db.scalar(
        select(Membership)
        .options(
            selectinload(Membership.grants), joinedload(Membership.organisation).selectinload(Organisation.locations)
        )
        .where(Membership.user_id == user.id)
    )
    return sessions.Auth(
        user=user,
        session=None,
        organisation=membership.organisation,
        membership=membership,
        grants=sessions.grants_of(membership),
    )


def start_notification(db_factory, email: str = DRAFTER, type_key: str = TYPE) -> int:
    """Through the service, as the person would through the start page."""
    with transaction(db_factory) as db:
        auth = auth_for(db, email)
        location_id = min(location.id for location in auth.organisation.locations)
        return drafting.start(db, auth, type_key=type_key, location_id=location_id).id


def upload(
    client: TestClient,
    notification_id: int,
    content: bytes,
    filename: str = "report.pdf",
    *,
    question: str = QUESTION,
    back: str | None = None,
    content_type: str = "application/pdf",
):
    data = {"csrf_token": csrf_from(client, "/account")}
    if back is not None:
        data["back"] = back
    return client.post(
        f"/notifications/{notification_id}/attachments/{question}",
        data=data,
        files={"file": (filename, content, content_type)},
    )


def post(client: TestClient, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_from(client, "/account"), **data})


def rows(db_factory) -> list[Attachment]:
    with db_factory() as db:
        return list(db.scalars(select(Attachment).order_by(Attachment.id)))


def stored_files(settings: Settings) -> list[Path]:
    root = settings.storage_dir
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def notification_id(drafter, db_factory):
    return start_notification(db_factory)


class FakeClamd(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Speaks clamd's INSTREAM protocol: a real peer over a real Unix socket."""

    daemon_threads = True
    reply: bytes | None = None


class ClamdHandler(socketserver.StreamRequestHandler):
    def handle(self):
        command = b""
        while not command.endswith(b"\0"):
            command += self.rfile.read(1)
        assert command == b"zINSTREAM\0"
        data = b""
        while length := int.from_bytes(self.rfile.read(4), "big"):
            data += self.rfile.read(length)
        if self.server.reply is not None:
            self.wfile.write(self.server.reply)
        elif EICAR in data:
            self.wfile.write(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            self.wfile.write(b"stream: OK\0")


@pytest.fixture
def clamd():
    # A short directory: Unix socket paths are limited to about 100 characters.
    directory = tempfile.mkdtemp(prefix="clamd-", dir="/tmp")
    path = os.path.join(directory, "clamd.sock")
    server = FakeClamd(path, ClamdHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    os.unlink(path)
    os.rmdir(directory)


@pytest.fixture
def app_with(settings, db_factory, demo_org):
    """app_with(**changes) -> a signed-in drafter's client on an app built with changed settings."""
    clients = []

    def make(**changes) -> tuple[TestClient, Settings]:
        changed = replace(settings, **changes)
        client = TestClient(create_app(changed), base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        sign_in(client, db_factory, DRAFTER)
        return client, changed

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# Uploading and downloading ---------------------------------------------------------------------


def test_a_pdf_uploads_and_downloads_byte_for_byte(drafter, notification_id, db_factory, settings):
    back = f"/notifications/{notification_id}/sections/what_happened#supporting_documents-files"
    response = upload(drafter, notification_id, PDF, "Body map.pdf", back=back)
    assert response.status_code == 303
    assert response.headers["location"] == back

    [attachment] = rows(db_factory)
    assert attachment.filename == "Body map.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored_files(settings) == [settings.storage_dir / attachment.storage_key]
    [event] = audit_events(db_factory, "notification:attachment_added")
    assert event.notification_id == notification_id
    assert event.data == {"filename": "Body map.pdf", "sha256": attachment.sha256}

    download = drafter.get(f"/notifications/{notification_id}/attachments/{attachment.id}/download")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Body map.pdf\"; filename*=UTF-8''Body%20map.pdf"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in download.headers["cache-control"]


def test_a_name_outside_ascii_is_kept_exactly_in_filename_star(drafter, notification_id, db_factory):
    upload(drafter, notification_id, PDF, 'Rapport "été".pdf')
    [attachment] = rows(db_factory)
    download = drafter.get(f"/notifications/{notification_id}/attachments/{attachment.id}/download")
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Rapport __t__.pdf\"; filename*=UTF-8''Rapport%20%22%C3%A9t%C3%A9%22.pdf"
    )


@pytest.mark.parametrize(
    "sent, shown",
    [("../../etc/passwd.pdf", "passwd.pdf"), ("..\\..\\windows\\evil.pdf", "evil.pdf"), ("/", "attachment")],
)
def test_a_path_in_the_filename_chooses_nothing_on_disk(
    drafter, notification_id, db_factory, settings, tmp_path, sent, shown
):
    assert upload(drafter, notification_id, PDF, sent).status_code == 303

    [attachment] = rows(db_factory)
    assert attachment.filename == shown
    assert len(attachment.storage_key) == 32 and int(attachment.storage_key, 16) >= 0
    # settings.data_dir is tmp_path: the only file written under it is the stored one.
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == [settings.storage_dir / attachment.storage_key]
    for escaped in ("../../etc", "../../windows", "../etc"):
        assert not (settings.storage_dir / escaped).resolve().exists()


def test_an_exe_renamed_pdf_is_refused(drafter, notification_id, db_factory, settings):
    exe = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
        + b"\x00" * 200
        + b"This program cannot be run in DOS mode"
    )
    response = upload(
        drafter, notification_id, exe, "invoice.pdf", back=f"/notifications/{notification_id}/sections/what_happened"
    )
    assert response.status_code == 400
    assert "The selected file must be a PDF, image, Office document or plain text" in response.text
    assert 'href="#file"' in response.text and 'id="file"' in response.text
    assert "<title>Error:" in response.text
    assert response.text.count("<h1") == 1
    assert f'name="back" value="/notifications/{notification_id}/sections/what_happened"' in response.text
    assert rows(db_factory) == [] and stored_files(settings) == []


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (b"", "empty.pdf", "The selected file is empty"),
        (b"", "", "Select a file"),
    ],
)
def test_an_empty_or_missing_file_is_refused(
    drafter, notification_id, db_factory, settings, content, filename, message
):
    response = upload(drafter, notification_id, content, filename, content_type="application/octet-stream")
    assert response.status_code == 400
    assert message in response.text
    assert rows(db_factory) == [] and stored_files(settings) == []


def test_a_form_without_the_file_field_is_told_to_select_one(drafter, notification_id, db_factory):
    response = post(drafter, f"/notifications/{notification_id}/attachments/{QUESTION}")
    assert response.status_code == 400
    assert "Select a file" in response.text


def test_eicar_is_refused_when_clamd_is_configured(app_with, db_factory, clamd):
    client, changed = app_with(clamd_socket=clamd.server_address)
    notification_id = start_notification(db_factory)

    response = upload(client, notification_id, EICAR, "eicar.txt", content_type="text/plain")
    assert response.status_code == 400
    assert "The selected file contains a virus" in response.text
    assert rows(db_factory) == [] and stored_files(changed) == []

    assert upload(client, notification_id, PDF).status_code == 303
    assert len(rows(db_factory)) == 1


def test_an_unreachable_scanner_refuses_the_file_rather_than_letting_it_through(app_with, db_factory, tmp_path):
    client, changed = app_with(clamd_socket=str(tmp_path / "no-such.sock"))
    notification_id = start_notification(db_factory)
    response = upload(client, notification_id, PDF)
    assert response.status_code == 400
    assert "could not be checked for viruses" in response.text
    assert rows(db_factory) == [] and stored_files(changed) == []


def test_over_the_limit_answers_413_and_keeps_nothing(app_with, db_factory):
    client, changed = app_with(max_upload_bytes=100 * 1024)
    notification_id = start_notification(db_factory)
    # Past the file limit and the room left for the section's answers besides.
    response = upload(client, notification_id, PDF + b"0" * (changed.max_request_bytes + 1024 * 1024))
    assert response.status_code == 413
    assert rows(db_factory) == [] and stored_files(changed) == []


def test_just_over_the_limit_inside_the_framing_allowance_is_refused_with_the_limit(app_with, db_factory):
    client, changed = app_with(max_upload_bytes=100 * 1024)
    notification_id = start_notification(db_factory)
    response = upload(client, notification_id, PDF + b"0" * (100 * 1024))
    assert response.status_code == 400
    assert "The selected file must be smaller than 100 KB" in response.text
    assert rows(db_factory) == [] and stored_files(changed) == []


def test_a_question_takes_no_more_than_its_max_files(drafter, db_factory):
    notification_id = start_notification(db_factory, type_key="manager_absence_planned")
    for number in range(3):
        assert upload(drafter, notification_id, PDF, f"plan {number}.pdf").status_code == 303
    response = upload(drafter, notification_id, PDF, "one too many.pdf")
    assert response.status_code == 400
    assert "You can add up to 3 files here" in response.text
    assert len(rows(db_factory)) == 3


def test_a_question_that_is_not_a_file_question_is_not_found(drafter, notification_id, db_factory):
    with db_factory() as db:
        kind = reading.type_of(db.get(Notification, notification_id))
    other = next(question.key for question in kind.all_questions() if question.kind != "file")
    assert upload(drafter, notification_id, PDF, question=other).status_code == 404
    assert upload(drafter, notification_id, PDF, question="no_such_question").status_code == 404
    assert upload(drafter, 999999, PDF).status_code == 404
    assert rows(db_factory) == []


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/",
        "//evil.example/notifications/1/x",
        "/notifications/999/sections/a",
        "/dashboard",
        "/notifications/{id}/a?next=//x",
    ],
)
def test_back_only_returns_to_the_notifications_own_pages(drafter, notification_id, back):
    response = upload(drafter, notification_id, PDF, back=back.replace("{id}", str(notification_id)))
    assert response.headers["location"] == f"/notifications/{notification_id}"


# Uploads hold no database thread ---------------------------------------------------------------


class HeldClamd(ClamdHandler):
    """A scan that takes as long as the test says: it answers once the server's `release` is set."""

    def handle(self):
        self.server.scanning.set()
        self.server.release.wait(timeout=60)
        super().handle()


@pytest.fixture
def held_clamd():
    directory = tempfile.mkdtemp(prefix="clamd-", dir="/tmp")
    path = os.path.join(directory, "clamd.sock")
    server = FakeClamd(path, HeldClamd)
    server.scanning, server.release = threading.Event(), threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    os.unlink(path)
    os.rmdir(directory)


def in_thread(request) -> tuple[threading.Thread, dict]:
    answer: dict = {}
    thread = threading.Thread(target=lambda: answer.update(response=request()), daemon=True)
    thread.start()
    return thread, answer


def test_an_upload_being_scanned_leaves_the_one_database_thread_to_other_requests(app_with, db_factory, held_clamd):
    client, changed = app_with(db_threads=1, clamd_socket=held_clamd.server_address)
    assert client.app.state.db_limiter.total_tokens == 1
    notification_id = start_notification(db_factory)
    token = csrf_from(client, "/account")
    section = f"/notifications/{notification_id}/sections/what_happened"

    uploading, upload_answer = in_thread(
        lambda: client.post(
            f"/notifications/{notification_id}/attachments/{QUESTION}",
            data={"csrf_token": token, "back": section},
            files={"file": ("report.pdf", PDF, "application/pdf")},
        )
    )
    try:
        assert held_clamd.scanning.wait(timeout=30), "the upload never reached its scan"
        # The file is stored and being scanned; its record waits for the scan.
        assert rows(db_factory) == [] and len(stored_files(changed)) == 1
        reading_page, page_answer = in_thread(lambda: client.get("/dashboard"))
        reading_page.join(timeout=30)
        assert not reading_page.is_alive(), "the dashboard waited for the upload's scan"
        assert page_answer["response"].status_code == 200
        assert uploading.is_alive() and rows(db_factory) == []
    finally:
        held_clamd.release.set()
        uploading.join(timeout=30)

    assert upload_answer["response"].status_code == 303
    assert upload_answer["response"].headers["location"] == section
    [attachment] = rows(db_factory)
    assert stored_files(changed) == [changed.storage_dir / attachment.storage_key]


def test_a_notification_sent_for_review_during_the_scan_takes_no_file_and_keeps_none(app_with, db_factory, held_clamd):
    client, changed = app_with(clamd_socket=held_clamd.server_address)
    notification_id = start_notification(db_factory)
    token = csrf_from(client, "/account")
    uploading, upload_answer = in_thread(
        lambda: client.post(
            f"/notifications/{notification_id}/attachments/{QUESTION}",
            data={"csrf_token": token},
            files={"file": ("report.pdf", PDF, "application/pdf")},
        )
    )
    try:
        assert held_clamd.scanning.wait(timeout=30), "the upload never reached its scan"
        with transaction(db_factory) as db:
            db.get(Notification, notification_id).status = "withdrawn"
    finally:
        held_clamd.release.set()
        uploading.join(timeout=30)

    # The same answer as an upload to a notification that was already withdrawn: why, not a 403 about roles.
    assert upload_answer["response"].status_code == 400
    assert "You cannot change its files while it is withdrawn" in upload_answer["response"].text
    assert rows(db_factory) == [] and stored_files(changed) == []


def test_the_last_place_taken_during_the_scan_is_refused_with_the_usual_page_and_keeps_no_file(
    app_with, db_factory, held_clamd
):
    client, changed = app_with(clamd_socket=held_clamd.server_address)
    notification_id = start_notification(db_factory, type_key="manager_absence_planned")
    storage = LocalStorage(changed.storage_dir)

    def added_directly(name: str):
        """Another upload, without a scan, through the service."""
        with transaction(db_factory) as db:
            attachments.add_attachment(
                db,
                auth_for(db),
                db.get(Notification, notification_id),
                QUESTION,
                SimpleNamespace(filename=name, file=io.BytesIO(PDF)),
                storage=storage,
                scanner=NoScanner(),
                max_bytes=10**6,
            )

    added_directly("plan 1.pdf"), added_directly("plan 2.pdf")
    token = csrf_from(client, "/account")
    uploading, upload_answer = in_thread(
        lambda: client.post(
            f"/notifications/{notification_id}/attachments/{QUESTION}",
            data={"csrf_token": token},
            files={"file": ("too late.pdf", PDF, "application/pdf")},
        )
    )
    try:
        assert held_clamd.scanning.wait(timeout=30), "the upload never reached its scan"
        added_directly("plan 3.pdf")
    finally:
        held_clamd.release.set()
        uploading.join(timeout=30)

    response = upload_answer["response"]
    assert response.status_code == 400
    assert "You can add up to 3 files here" in response.text
    assert [row.filename for row in rows(db_factory)] == ["plan 1.pdf", "plan 2.pdf", "plan 3.pdf"]
    assert stored_files(changed) == sorted(changed.storage_dir / row.storage_key for row in rows(db_factory))


# Removing --------------------------------------------------------------------------------------


def test_removing_hides_the_file_and_deletes_it_after_commit(drafter, notification_id, db_factory, settings):
    upload(drafter, notification_id, PDF)
    [attachment] = rows(db_factory)
    back = f"/notifications/{notification_id}/sections/what_happened"

    response = post(drafter, f"/notifications/{notification_id}/attachments/{attachment.id}/remove", back=back)
    assert response.status_code == 303 and response.headers["location"] == back

    [removed] = rows(db_factory)
    assert removed.removed_at is not None
    with db_factory() as db:
        assert reading.attachments_of(db, notification_id) == []
    assert stored_files(settings) == []
    assert [e.data for e in audit_events(db_factory, "notification:attachment_removed")] == [{"filename": "report.pdf"}]
    assert drafter.get(f"/notifications/{notification_id}/attachments/{attachment.id}/download").status_code == 404
    again = post(drafter, f"/notifications/{notification_id}/attachments/{attachment.id}/remove")
    assert again.status_code == 404


def test_replacing_is_removing_then_adding(drafter, db_factory):
    notification_id = start_notification(db_factory, type_key="manager_absence_planned")
    for number in range(3):
        upload(drafter, notification_id, PDF, f"plan {number}.pdf")
    first = rows(db_factory)[0]
    post(drafter, f"/notifications/{notification_id}/attachments/{first.id}/remove")
    assert upload(drafter, notification_id, PDF, "new plan.pdf").status_code == 303
    with db_factory() as db:
        names = [a.filename for a in reading.attachments_of(db, notification_id)]
    assert names == ["plan 1.pdf", "plan 2.pdf", "new plan.pdf"]


# Who may do what -------------------------------------------------------------------------------


def test_another_organisations_person_finds_nothing(drafter, notification_id, db_factory, as_person):
    upload(drafter, notification_id, PDF)
    [attachment] = rows(db_factory)
    make_organisation(db_factory, "Elsewhere Care", "1-555000001", [("other@elsewhere.example", "drafter")])
    other = as_person("other@elsewhere.example")

    assert other.get(f"/notifications/{notification_id}/attachments/{attachment.id}/download").status_code == 404
    assert post(other, f"/notifications/{notification_id}/attachments/{attachment.id}/remove").status_code == 404
    assert upload(other, notification_id, PDF).status_code == 404
    assert len(rows(db_factory)) == 1 and rows(db_factory)[0].removed_at is None


def test_a_reviewer_can_download_but_not_upload_or_remove(drafter, notification_id, db_factory, as_role):
    upload(drafter, notification_id, PDF)
    [attachment] = rows(db_factory)
    reviewer = as_role("reviewer")
    assert upload(reviewer, notification_id, PDF).status_code == 403
    assert post(reviewer, f"/notifications/{notification_id}/attachments/{attachment.id}/remove").status_code == 403
    download = reviewer.get(f"/notifications/{notification_id}/attachments/{attachment.id}/download")
    assert download.status_code == 200 and download.content == PDF


def test_a_notification_that_is_no_longer_editable_takes_no_files(drafter, notification_id, db_factory):
    upload(drafter, notification_id, PDF)
    [attachment] = rows(db_factory)
    with transaction(db_factory) as db:
        db.get(Notification, notification_id).status = "withdrawn"
    refused = upload(drafter, notification_id, PDF)
    assert refused.status_code == 400 and "You cannot change its files while it is withdrawn" in refused.text
    removing = post(drafter, f"/notifications/{notification_id}/attachments/{attachment.id}/remove")
    assert removing.status_code == 400 and "You cannot change its files while it is withdrawn" in removing.text
    assert len(rows(db_factory)) == 1 and rows(db_factory)[0].removed_at is None


def test_two_files_in_one_request_are_refused(drafter, notification_id, db_factory):
    response = drafter.post(
        f"/notifications/{notification_id}/attachments/{QUESTION}",
        data={"csrf_token": csrf_from(drafter, "/account")},
        files=[("file", ("a.pdf", PDF, "application/pdf")), ("file", ("b.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 400
    assert rows(db_factory) == []


def test_two_uploads_racing_for_the_last_place_do_not_both_get_it(demo_org, db_factory, settings):
    notification_id = start_notification(db_factory, type_key="manager_absence_planned")
    storage = LocalStorage(settings.storage_dir)
    both_stored = threading.Barrier(2, timeout=10)

    class WaitsForTheOther(NoScanner):
        """Holds each upload after its early count and its copy, so both race for the row lock."""

        def scan(self, file):
            both_stored.wait()
            return super().scan(file)

    def add(scanner=None):
        scanner = scanner or NoScanner()
        with transaction(db_factory) as db:
            auth = auth_for(db)
            notification = db.get(Notification, notification_id)
            upload_file = SimpleNamespace(filename="plan.pdf", file=io.BytesIO(PDF))
            return attachments.add_attachment(
                db,
                auth,
                notification,
                "supporting_documents",
                upload_file,
                storage=storage,
                scanner=scanner,
                max_bytes=10**6,
            )

    add(), add()
    outcomes = []

    def racer():
        try:
            add(WaitsForTheOther())
            outcomes.append("added")
        except attachments.RefusedFile as refused:
            outcomes.append(refused.message)

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["You can add up to 3 files here – remove one before adding another", "added"]
    assert len(rows(db_factory)) == 3 and len(stored_files(settings)) == 3


# The macros the section page uses ---------------------------------------------------------------


class FormNesting(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = self.deepest = 0
        self.form_ids: list[str] = []
        self.form_attributes: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
            self.form_ids.append(attrs.get("id"))
        elif "form" in attrs:
            self.form_attributes.append(attrs["form"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def test_the_file_question_renders_inside_a_section_form_without_nesting_forms(app):
    question = definition(TYPE).question(QUESTION)
    attached = [
        Attachment(id=7, question_key=QUESTION, filename="Body map.pdf", size=1_300_000),
        Attachment(id=8, question_key="another_question", filename="elsewhere.pdf", size=10),
    ]
    # The macro links to routes by name: url() finds them through the page's request.
    template = app.state.templates.env.from_string(
        '{% from "notifications/_attachments.html" import file_question with context %}'
        '<form method="post" action="/section">{{ file_question(q, files, 5) }}</form>'
    )
    html = template.render(q=question, files=attached, request=SimpleNamespace(app=app))
    page = FormNesting()
    page.feed(html)
    # Its buttons submit the section's own form, so the answers typed there go with them.
    assert page.deepest == 1 and page.form_ids == [None] and page.form_attributes == []
    forms = Forms()
    forms.feed(html)
    [file_input] = [c for c in forms.controls if c.get("type") == "file"]
    assert file_input["name"] == QUESTION and file_input["owner"] == "form-0"
    upload, remove = (c for c in forms.controls if c.get("type") == "submit")
    assert upload["formaction"] == "/notifications/5/attachments/supporting_documents"
    assert upload["formenctype"] == "multipart/form-data"
    assert remove["formaction"] == "/notifications/5/attachments/7/remove" and "formenctype" not in remove
    assert 'href="/notifications/5/attachments/7/download"' in html and "1.2 MB" in html
    assert "elsewhere.pdf" not in html


# The parts on their own ------------------------------------------------------------------------


def test_storage_refuses_past_the_limit_and_leaves_no_temporary_file(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    with pytest.raises(TooLarge):
        storage.save(io.BytesIO(b"x" * 200_000), max_bytes=100_000)
    assert list((tmp_path / "files").iterdir()) == []

    stored = storage.save(io.BytesIO(b"x" * 100_000), max_bytes=100_000)
    assert stored.sha256 == hashlib.sha256(b"x" * 100_000).hexdigest() and stored.size == 100_000
    assert [p.name for p in (tmp_path / "files").iterdir()] == [stored.key]
    with storage.open(stored.key) as file:
        assert file.read() == b"x" * 100_000
    storage.delete(stored.key)
    assert list((tmp_path / "files").iterdir()) == []


def test_a_copy_that_dies_halfway_leaves_nothing_under_a_key(tmp_path):
    class Dies(io.RawIOBase):
        sent = 0

        def read(self, size=-1):
            self.sent += 1
            if self.sent > 3:
                raise OSError("connection lost")
            return b"y" * 65536

    with pytest.raises(OSError):
        LocalStorage(tmp_path).save(Dies(), max_bytes=10**9)
    assert list(tmp_path.iterdir()) == []


def test_storage_never_opens_a_key_it_did_not_make(tmp_path):
    with pytest.raises(KeyError):
        LocalStorage(tmp_path / "files").path("../../etc/passwd")


def _zip(names: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in names.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def _ole(stream_name: str) -> io.BytesIO:
    """A minimal compound file (MS-CFB): header, one FAT sector, one directory sector."""
    header = bytearray(b"\xff" * 512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[8:0x4C] = bytes(0x4C - 8)
    header[0x18:0x1A] = (0x3E).to_bytes(2, "little")
    header[0x1A:0x1C] = (3).to_bytes(2, "little")
    header[0x1C:0x1E] = b"\xfe\xff"
    header[0x1E:0x20] = (9).to_bytes(2, "little")
    header[0x20:0x22] = (6).to_bytes(2, "little")
    header[0x2C:0x30] = (1).to_bytes(4, "little")
    header[0x30:0x34] = (1).to_bytes(4, "little")
    header[0x38:0x3C] = (4096).to_bytes(4, "little")
    header[0x3C:0x40] = header[0x44:0x48] = (0xFFFFFFFE).to_bytes(4, "little")
    header[0x4C:0x50] = (0).to_bytes(4, "little")
    fat = bytearray(b"\xff" * 512)
    fat[0:8] = (0xFFFFFFFD).to_bytes(4, "little") + (0xFFFFFFFE).to_bytes(4, "little")

    def entry(name: str, kind: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        data = bytearray(128)
        data[: len(encoded)] = encoded
        data[64:66] = len(encoded).to_bytes(2, "little")
        data[66] = kind
        return bytes(data)

    directory = entry("Root Entry", 5) + entry(stream_name, 2) + bytes(256)
    return io.BytesIO(bytes(header) + bytes(fat) + directory)


@pytest.mark.parametrize(
    "file, filename, expected",
    [
        (io.BytesIO(PDF), "", "application/pdf"),
        (io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(100)), "", "image/png"),
        (io.BytesIO(b"\xff\xd8\xff\xe0" + bytes(100)), "", "image/jpeg"),
        (io.BytesIO(b"GIF89a" + bytes(100)), "", "image/gif"),
        (io.BytesIO(b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(100)), "", "image/webp"),
        (
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
            "",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"}),
            "",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<o/>"}),
            "",
            "application/vnd.oasis.opendocument.text",
        ),
        (_ole("WordDocument"), "", "application/msword"),
        (_ole("Workbook"), "", "application/vnd.ms-excel"),
        (io.BytesIO("Name,Age band\nÉlodie,85-94\n".encode()), "people.csv", "text/csv; charset=utf-8"),
        (
            io.BytesIO("A note with an é cut at the 8 KiB edge".encode().rjust(8191, b" ") + "é".encode()),
            "",
            "text/plain; charset=utf-8",
        ),
    ],
)
def test_allowed_kinds_are_recognised_by_their_bytes(file, filename, expected):
    assert sniff(file, filename)[0] == expected


@pytest.mark.parametrize(
    "file",
    [
        io.BytesIO(b"MZ\x90\x00" + bytes(100)),
        io.BytesIO(b"\x7fELF" + bytes(100)),
        io.BytesIO("caf\xe9 in Latin-1".encode("latin-1")),
        io.BytesIO(b"text with a NUL\x00 byte"),
        _zip({"payload.exe": b"MZ"}),
        _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", "word/vbaProject.bin": b"macro"}),
        _zip({"mimetype": b"application/epub+zip"}),
        _ole("\x05SummaryInformation"),
        io.BytesIO(b"PK\x03\x04" + bytes(30)),
        io.BytesIO(b"PK\x03\x04" + bytes(30) + b"PK\x05\x06" + bytes(6) + (60000).to_bytes(2, "little") + bytes(10)),
        io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600),
    ],
)
def test_other_kinds_are_refused_whatever_they_are_called(file):
    assert sniff(file, "looks-fine.pdf") is None


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\dana\\Desktop\\report.pdf", "report.pdf"),
        ("a\x00b\x1f\x7fc.pdf", "abc.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("  ..  ", "attachment"),
        ("", "attachment"),
        ("x" * 300 + ".docx", "x" * 195 + ".docx"),
        ("y" * 300, "y" * 200),
    ],
)
def test_display_names_are_sanitised(raw, shown):
    assert attachments.display_name(raw) == shown


def test_clamd_scanner_speaks_instream(clamd):
    scanner = ClamdScanner(clamd.server_address)
    assert scanner.scan(io.BytesIO(PDF * 50_000)).clean
    verdict = scanner.scan(io.BytesIO(b"header " + EICAR))
    assert not verdict.clean and verdict.signature == "Eicar-Test-Signature"

    clamd.reply = b"INSTREAM size limit exceeded. ERROR\0"
    with pytest.raises(ScannerUnavailable):
        scanner.scan(io.BytesIO(PDF))


def test_scanner_for_reads_the_setting(tmp_path):
    assert isinstance(scanner_for(Settings()), NoScanner)
    configured = Settings.from_env({"PORTAL_CLAMD_SOCKET": "/run/clamav/clamd.ctl", "PORTAL_DATA_DIR": str(tmp_path)})
    assert configured.clamd_socket == "/run/clamav/clamd.ctl"
    scanner = scanner_for(configured)
    assert isinstance(scanner, ClamdScanner) and scanner.socket_path == "/run/clamav/clamd.ctl"
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(str(tmp_path / "absent.sock")).scan(io.BytesIO(PDF))


class Forms(HTMLParser):
    """Each form's action and hidden fields, and which form every control belongs to."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict] = {}
        self.current: str | None = None
        self.controls: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = attrs.get("id") or f"form-{len(self.forms)}"
            self.forms[self.current] = {"action": attrs.get("action"), "enctype": attrs.get("enctype"), "hidden": {}}
        elif tag == "input" and attrs.get("type") == "hidden" and self.current:
            self.forms[self.current]["hidden"][attrs["name"]] = attrs.get("value", "")
        if tag in ("input", "button"):
            self.controls.append({**attrs, "owner": attrs.get("form") or self.current})

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def test_the_section_page_uploads_and_removes_without_javascript(drafter, notification_id, db_factory):
    page_path = f"/notifications/{notification_id}/sections/risk"
    page = drafter.get(page_path)
    # A 404 here is the section page gone: a regression to fail on, never a reason to skip.
    assert page.status_code == 200, page.text[-2000:]
    forms = Forms()
    forms.feed(page.text)
    section_form = forms.forms["section-form"]
    # Saving sends the form urlencoded, without the file; only "Upload file" switches to multipart.
    assert section_form["enctype"] is None
    [file_input] = [c for c in forms.controls if c.get("type") == "file"]
    [upload] = [c for c in forms.controls if c.get("formenctype") == "multipart/form-data"]
    assert file_input["owner"] == upload["owner"] == "section-form"

    response = drafter.post(
        upload["formaction"],
        data=section_form["hidden"],
        files={file_input["name"]: ("plan.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 303 and response.headers["location"] == page_path

    forms = Forms()
    forms.feed(drafter.get(page_path).text)
    [attachment] = rows(db_factory)
    [remove] = [c for c in forms.controls if c.get("formaction", "").endswith(f"/attachments/{attachment.id}/remove")]
    assert remove["owner"] == "section-form"
    response = drafter.post(remove["formaction"], data=forms.forms["section-form"]["hidden"])
    assert response.status_code == 303 and response.headers["location"] == page_path
    assert rows(db_factory)[0].removed_at is not None
