"""The outbox delivering to real peers on 127.0.0.1: an SMTP server (aiosmtpd), a server that answers
like GOV.UK Notify's API for its official client, and a webhook receiver that checks signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal import outbox
from portal.db import transaction
from portal.models import OutboxMessage, Submission, utcnow
from portal.notify_sender import NotifySender
from portal.regulator_view import enqueue_submission_webhook
from portal.settings import ConfigurationError, Settings
from portal.webhook_sender import WebhookSender

from .ports import free_port


def queue_email(db_factory, count: int = 1, recipient: str = "someone@example.com") -> list[int]:
    with transaction(db_factory) as db:
        messages = [
            outbox.enqueue(
                db,
                template="test",
                recipient=recipient,
                subject=f"Message {n}",
                body=f"Hello number {n}.\n\nA second paragraph.",
            )
            for n in range(count)
        ]
        db.flush()
        return [message.id for message in messages]


def row(db_factory, message_id: int) -> OutboxMessage:
    with db_factory() as db:
        return db.get(OutboxMessage, message_id)


def make_due_now(db_factory, message_id: int) -> None:
    """As if the backoff had passed."""
    with transaction(db_factory) as db:
        db.get(OutboxMessage, message_id).next_attempt_at = utcnow() - timedelta(seconds=1)


# SMTP ----------------------------------------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [message_from_bytes(envelope.content)["Message-ID"] for envelope in self.messages]


def start_smtp(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp(settings):
    port = free_port()
    controller, inbox = start_smtp(port)
    yield replace(settings, email_sender="smtp", smtp_host="127.0.0.1", smtp_port=port), inbox
    controller.stop()


def test_an_outbox_email_reaches_a_real_smtp_server(db_factory, smtp):
    smtp_settings, inbox = smtp
    [message_id] = queue_email(db_factory, recipient="reviewer@riverside.example")
    assert outbox.deliver_due(db_factory, outbox.sender_for(smtp_settings)) == 1
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["reviewer@riverside.example"]
    email = message_from_bytes(envelope.content)
    assert email["From"] == smtp_settings.mail_from and email["Subject"] == "Message 0"
    assert email["Message-ID"] == f"<outbox-{message_id}@portal>"
    assert "A second paragraph." in email.get_payload(decode=True).decode()
    sent = row(db_factory, message_id)
    assert sent.sent_at is not None and sent.attempts == 1 and sent.claimed_until is None


def test_a_failed_send_waits_out_its_backoff_then_goes_exactly_once(db_factory, settings):
    port = free_port()  # nothing listens here yet: the connection is refused
    down = replace(settings, email_sender="smtp", smtp_host="127.0.0.1", smtp_port=port)
    [message_id] = queue_email(db_factory)
    before = utcnow()
    assert outbox.deliver_due(db_factory, outbox.SmtpSender(down)) == 0
    failed = row(db_factory, message_id)
    assert failed.sent_at is None and failed.attempts == 1 and failed.claimed_until is None
    assert failed.next_attempt_at >= before + outbox.backoff(1) - timedelta(seconds=1)
    assert "Connection" in failed.last_error or "refused" in failed.last_error.lower()

    controller, inbox = start_smtp(port)  # the server comes back
    try:
        assert outbox.deliver_due(db_factory, outbox.SmtpSender(down)) == 0, "not before its backoff"
        assert inbox.messages == []
        make_due_now(db_factory, message_id)
        assert outbox.deliver_due(db_factory, outbox.SmtpSender(down)) == 1
        assert outbox.deliver_due(db_factory, outbox.SmtpSender(down)) == 0
        assert inbox.message_ids() == [f"<outbox-{message_id}@portal>"]
        assert row(db_factory, message_id).attempts == 2
    finally:
        controller.stop()


def test_a_message_written_in_a_transaction_that_rolls_back_is_never_sent(db_factory, smtp):
    smtp_settings, inbox = smtp
    with pytest.raises(RuntimeError), transaction(db_factory) as db:
        outbox.enqueue(db, template="test", recipient="ghost@example.com", subject="Never", body="Never")
        db.flush()
        raise RuntimeError("the change that caused it failed")
    assert outbox.deliver_due(db_factory, outbox.SmtpSender(smtp_settings)) == 0
    assert inbox.messages == []
    with db_factory() as db:
        assert db.scalar(select(OutboxMessage.id)) is None


def test_two_workers_racing_send_each_message_once(db_factory, smtp):
    smtp_settings, inbox = smtp
    ids = queue_email(db_factory, count=12)
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        start.wait()
        try:
            results.append(outbox.deliver_due(db_factory, outbox.SmtpSender(smtp_settings)))
        except Exception as error:  # surfaced below with the test's own message
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 12
    assert sorted(inbox.message_ids()) == sorted(f"<outbox-{i}@portal>" for i in ids)
    with db_factory() as db:
        assert all(m.sent_at is not None and m.attempts == 1 for m in db.scalars(select(OutboxMessage)))


# GOV.UK Notify -------------------------------------------------------------------------------------

SERVICE_ID, SECRET, TEMPLATE_ID = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
# Notify's key format: a name, then the service id, then the secret.
API_KEY = f"portal_test-{SERVICE_ID}-{SECRET}"


class FakeNotify(BaseHTTPRequestHandler):
    """Answers POST /v2/notifications/email as Notify does, after checking the client's JWT."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        token = self.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]})
        except jwt.InvalidTokenError as error:
            claims = {"invalid": str(error)}
        self.server.requests.append({"path": self.path, "body": body, "claims": claims})
        status = self.server.answers.pop(0) if self.server.answers else 201
        if "invalid" in claims:
            status = 403
        if status == 201:
            answer = {
                "id": str(uuid.uuid4()),
                "reference": body.get("reference"),
                "content": {
                    "subject": body["personalisation"]["subject"],
                    "body": body["personalisation"]["body"],
                    "from_email": "notify@example.gov.uk",
                },
                "uri": "http://127.0.0.1/v2/notifications/1",
                "template": {"id": body["template_id"], "version": 1, "uri": "http://127.0.0.1/t"},
            }
        else:
            answer = {"status_code": status, "errors": [{"error": "Error", "message": "Internal server error"}]}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(handler) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests, server.answers = [], []
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def notify(settings):
    server = serve(FakeNotify)
    yield (
        replace(
            settings,
            email_sender="notify",
            notify_api_key=API_KEY,
            notify_template_id=TEMPLATE_ID,
            notify_base_url=f"http://127.0.0.1:{server.server_port}",
        ),
        server,
    )
    server.shutdown()
    server.server_close()


def test_notify_receives_the_recipient_template_and_personalisation(db_factory, notify):
    notify_settings, server = notify
    [message_id] = queue_email(db_factory, recipient="submitter@riverside.example")
    senders = outbox.sender_for(notify_settings)
    assert isinstance(senders.email, NotifySender)
    assert outbox.deliver_due(db_factory, senders) == 1
    [request] = server.requests
    assert request["path"] == "/v2/notifications/email"
    assert request["claims"]["iss"] == SERVICE_ID
    assert request["body"] == {
        "email_address": "submitter@riverside.example",
        "template_id": TEMPLATE_ID,
        "personalisation": {"subject": "Message 0", "body": "Hello number 0.\n\nA second paragraph."},
        "reference": f"outbox-{message_id}",
    }
    assert row(db_factory, message_id).sent_at is not None


def test_a_notify_error_leaves_the_message_to_be_tried_again(db_factory, notify):
    notify_settings, server = notify
    server.answers = [500]
    [message_id] = queue_email(db_factory)
    assert outbox.deliver_due(db_factory, outbox.sender_for(notify_settings)) == 0
    failed = row(db_factory, message_id)
    assert failed.sent_at is None and failed.attempts == 1 and "500" in failed.last_error
    make_due_now(db_factory, message_id)
    assert outbox.deliver_due(db_factory, outbox.sender_for(notify_settings)) == 1
    assert len(server.requests) == 2


def test_notify_needs_its_key_and_template_before_the_portal_starts(tmp_path):
    base = {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_EMAIL_SENDER": "notify"}
    with pytest.raises(ConfigurationError, match="PORTAL_NOTIFY_TEMPLATE_ID"):
        Settings.from_env({**base, "PORTAL_NOTIFY_API_KEY": API_KEY})
    settings = Settings.from_env(
        {
            **base,
            "PORTAL_NOTIFY_API_KEY": API_KEY,
            "PORTAL_NOTIFY_TEMPLATE_ID": TEMPLATE_ID,
            "PORTAL_NOTIFY_BASE_URL": "http://127.0.0.1:9/",
        }
    )
    assert settings.notify_template_id == TEMPLATE_ID and settings.notify_base_url == "http://127.0.0.1:9"
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).notify_base_url == ""


# Webhooks ------------------------------------------------------------------------------------------

RECEIVER_SECRET = "receiver-and-portal-share-this-" + "k" * 16


class CheckingReceiver(BaseHTTPRequestHandler):
    """Refuses with 401 anything whose signature does not match; otherwise answers as scripted."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        expected = "sha256=" + hmac.new(RECEIVER_SECRET.encode(), body, hashlib.sha256).hexdigest()
        genuine = hmac.compare_digest(self.headers.get("x-portal-signature", ""), expected)
        self.server.requests.append(
            {"path": self.path, "body": body, "genuine": genuine, "delivery": self.headers.get("x-portal-delivery")}
        )
        status = (self.server.answers.pop(0) if self.server.answers else 200) if genuine else 401
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("location", "http://127.0.0.1:9/elsewhere")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    server = serve(CheckingReceiver)
    yield (
        replace(settings, webhook_url=f"http://127.0.0.1:{server.server_port}/intake", webhook_secret=RECEIVER_SECRET),
        server,
    )
    server.shutdown()
    server.server_close()


def queue_webhook(db_factory, hooked: Settings) -> int:
    # A Submission as submit() makes one; only the outbox row is written, as in the submit transaction.
    submission = Submission(
        id=41,
        notification_id=7,
        organisation_id=3,
        reference="ACDEFGHJ",
        parent_reference=None,
        type_key="serious_injury",
        type_version=1,
        content_hash="a" * 64,
        submitted_at=utcnow(),
        snapshot={
            "type": {"key": "serious_injury", "version": 1, "title": "Serious injury"},
            "organisation": {"name": "Riverside Care Ltd", "provider_id": "1-101000001"},
            "location": {"name": "Riverside House", "location_id": "1-201000001"},
            "answers": {"about_you": {"completed_by_name": "Dana Drafter"}},
            "attachments": [],
        },
    )
    with transaction(db_factory) as db:
        message = enqueue_submission_webhook(db, submission, hooked)
        db.flush()
        return message.id


def test_a_webhook_the_receiver_answers_500_is_retried_with_the_same_delivery_id(db_factory, receiver):
    hooked, server = receiver
    server.answers = [500]
    message_id = queue_webhook(db_factory, hooked)
    assert outbox.deliver_due(db_factory, outbox.sender_for(hooked)) == 0
    failed = row(db_factory, message_id)
    assert failed.sent_at is None and failed.attempts == 1 and "500" in failed.last_error
    assert failed.next_attempt_at > utcnow()
    make_due_now(db_factory, message_id)
    assert outbox.deliver_due(db_factory, outbox.sender_for(hooked)) == 1
    assert outbox.deliver_due(db_factory, outbox.sender_for(hooked)) == 0
    first, second = server.requests
    assert first["genuine"] and second["genuine"] and first["body"] == second["body"]
    assert first["delivery"] == second["delivery"] == str(message_id)
    assert first["path"] == "/intake"
    pushed = json.loads(second["body"])
    assert pushed["event"] == "submission.created" and pushed["submission"]["reference"] == "ACDEFGHJ"
    assert pushed["submission"]["snapshot"]["answers"] == {"about_you": {"completed_by_name": "Dana Drafter"}}


def test_a_wrongly_signed_webhook_is_refused_by_the_receiver_and_not_counted_as_sent(db_factory, receiver):
    hooked, server = receiver
    message_id = queue_webhook(db_factory, hooked)
    wrong = replace(hooked, webhook_secret="not-the-receivers-secret-" + "x" * 16)
    assert outbox.deliver_due(db_factory, outbox.sender_for(wrong)) == 0
    assert [r["genuine"] for r in server.requests] == [False]
    assert "401" in row(db_factory, message_id).last_error


def test_a_redirect_is_not_followed_and_counts_as_a_failure(db_factory, receiver):
    hooked, server = receiver
    server.answers = [302]
    message_id = queue_webhook(db_factory, hooked)
    assert outbox.deliver_due(db_factory, outbox.sender_for(hooked)) == 0
    assert len(server.requests) == 1 and "302" in row(db_factory, message_id).last_error


def test_a_worker_without_a_webhook_sender_leaves_webhooks_alone(db_factory, receiver):
    hooked, server = receiver
    message_id = queue_webhook(db_factory, hooked)
    assert outbox.deliver_due(db_factory, outbox.LogSender()) == 0
    untouched = row(db_factory, message_id)
    assert untouched.attempts == 0 and untouched.claimed_until is None and server.requests == []


def test_without_the_secret_a_webhook_is_not_sent_unsigned(db_factory, receiver):
    hooked, server = receiver
    message_id = queue_webhook(db_factory, hooked)
    assert (
        outbox.deliver_due(
            db_factory,
            outbox.Senders(email=outbox.LogSender(), webhook=WebhookSender(replace(hooked, webhook_secret=""))),
        )
        == 0
    )
    assert server.requests == [] and "SECRET" in row(db_factory, message_id).last_error


# Otherwise complete, so that only the webhook settings can be what is refused.
PRODUCTION = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": "s" * 40,
    "PORTAL_DATABASE_URL": "postgresql://x/y",
    "PORTAL_CLAMD_SOCKET": "/run/clamav/clamd.ctl",
}


@pytest.mark.parametrize(
    "env,problem",
    [
        ({"PORTAL_WEBHOOK_URL": "https://intake.example/hook"}, "PORTAL_WEBHOOK_SECRET"),
        (
            {"PORTAL_WEBHOOK_URL": "https://intake.example/hook", "PORTAL_WEBHOOK_SECRET": "short"},
            "PORTAL_WEBHOOK_SECRET",
        ),
        ({"PORTAL_WEBHOOK_URL": "ftp://intake.example/hook", "PORTAL_WEBHOOK_SECRET": "k" * 40}, "PORTAL_WEBHOOK_URL"),
        (
            {"PORTAL_WEBHOOK_URL": "https://x.example/" + "a" * 400, "PORTAL_WEBHOOK_SECRET": "k" * 40},
            "PORTAL_WEBHOOK_URL",
        ),
        (
            {"PORTAL_WEBHOOK_URL": "http://intake.example/hook", "PORTAL_WEBHOOK_SECRET": "k" * 40, **PRODUCTION},
            "https",
        ),
    ],
)
def test_webhook_settings_are_checked_at_start_up(tmp_path, env, problem):
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path), **env})


def test_good_webhook_settings_are_read(tmp_path):
    production = Settings.from_env(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            **PRODUCTION,
            "PORTAL_WEBHOOK_URL": "https://intake.example/h",
            "PORTAL_WEBHOOK_SECRET": "k" * 40,
        }
    )
    assert production.webhook_url == "https://intake.example/h"
    settings = Settings.from_env(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_WEBHOOK_URL": " https://intake.example/h ",
            "PORTAL_WEBHOOK_SECRET": "k" * 40,
        }
    )
    assert settings.webhook_url == "https://intake.example/h" and settings.webhook_secret == "k" * 40
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).webhook_url == ""
