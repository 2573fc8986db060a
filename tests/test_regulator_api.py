"""The regulator API and its tokens: real submissions made through the real drafting pages and workflow
services, read back over HTTP with tokens a support lead created through the real pages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload
from starlette.testclient import TestClient

from portal import outbox
from portal.accounts import sessions
from portal.api import service as api
from portal.app import all_endpoints
from portal.db import transaction
from portal.models import (
    ApiToken,
    Attachment,
    AuditEvent,
    Membership,
    Notification,
    OutboxMessage,
    Submission,
    User,
)
from portal.notifications import review, submission
from portal.notifications.registry import definition
from portal.tokens import token_hash

from .conftest import csrf_from, post_form
from .drafting import fill_section, start_notification

TYPE, FILE_QUESTION = "serious_injury", "supporting_documents"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DRAFTER, REVIEWER, SUBMITTER = "drafter@riverside.example", "reviewer@riverside.example", "submitter@riverside.example"


# Making submissions ------------------------------------------------------------------------------


def auth_of(db, email: str) -> sessions.Auth:
    """An Auth built as sessions.load_auth builds one for a signed-in person."""
    user = db.scalar(select(User).where(User.email == email))
    membership = db.scalar(
        select(Membership)
        .options(selectinload(Membership.grants), joinedload(Membership.organisation))
        .where(Membership.user_id == user.id)
    )
    return sessions.Auth(
        user=user,
        session=None,
        organisation=membership.organisation,
        membership=membership,
        grants=sessions.grants_of(membership),
    )


def draft_one(drafter: TestClient, db_factory, location_id: int, *, files: list[bytes] = (PDF,)) -> int:
    """Started, files attached and every section completed, through the drafting pages."""
    notification_id = start_notification(drafter, TYPE, location_id)
    for number, content in enumerate(files):
        response = drafter.post(
            f"/notifications/{notification_id}/attachments/{FILE_QUESTION}",
            data={"csrf_token": csrf_from(drafter, "/account")},
            files={"file": (f"body map {number}.pdf", content, "application/pdf")},
        )
        assert response.status_code == 303, response.text[-2000:]
    for section in definition(TYPE).sections:
        response = fill_section(drafter, notification_id, section)
        assert response.status_code == 303, response.text[-3000:]
    return notification_id


def review_and_submit(db_factory, notification_id: int, *, settings) -> str:
    """Sent for review by its drafter, approved by a second person, submitted by a third."""
    with transaction(db_factory) as db:
        review.request_review(
            db, auth_of(db, DRAFTER), db.get(Notification, notification_id), base_url="http://testserver"
        )
    with transaction(db_factory) as db:
        review.approve(db, auth_of(db, REVIEWER), db.get(Notification, notification_id), base_url="http://testserver")
    with transaction(db_factory) as db:
        submitted = submission.submit(
            db, auth_of(db, SUBMITTER), db.get(Notification, notification_id), declared=True, settings=settings
        )
        return submitted.reference


def settle(db_factory, *references: str) -> None:
    """Moves submissions' time back past the feed's settle window, as if SETTLE had gone by."""
    with transaction(db_factory) as db:
        for row in db.scalars(select(Submission).where(Submission.reference.in_(references))):
            row.submitted_at -= api.SETTLE + timedelta(seconds=1)


@pytest.fixture
def make_submission(drafter, db_factory, location_id, settings):
    def make(*, files: list[bytes] = (PDF,), settled: bool = True, webhook_settings=None) -> str:
        reference = review_and_submit(
            db_factory, draft_one(drafter, db_factory, location_id, files=files), settings=webhook_settings or settings
        )
        if settled:
            settle(db_factory, reference)
        return reference

    return make


# Tokens ------------------------------------------------------------------------------------------


def create_token(lead: TestClient, name: str = "Case intake") -> str:
    response = post_form(lead, "/support/api-tokens", {"name": name}, from_page="/support/api-tokens")
    assert response.status_code == 200, response.text[-2000:]
    match = re.search(r'value="(prt_[A-Za-z0-9_\-]+)"', response.text)
    assert match, "the new token is not on the page"
    return match.group(1)


def token_id(db_factory, name: str) -> int:
    with db_factory() as db:
        return db.scalar(select(ApiToken.id).where(ApiToken.name == name))


@pytest.fixture
def bearer(lead):
    return {"authorization": f"Bearer {create_token(lead)}"}


def items(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["submissions"]]


def submission_ids(db_factory) -> dict[str, int]:
    with db_factory() as db:
        return {reference: id for id, reference in db.execute(select(Submission.id, Submission.reference))}


# The feed ----------------------------------------------------------------------------------------


def test_the_feed_pages_through_submissions_in_order_and_a_stored_cursor_finds_new_ones(
    client, bearer, make_submission, db_factory
):
    first, second = make_submission(), make_submission()
    page = client.get("/api/v1/submissions?limit=1", headers=bearer)
    assert items(page) == [first]
    body = page.json()
    assert body["has_more"] is True and body["next_cursor"]
    item = body["submissions"][0]
    assert item["type"]["key"] == TYPE and item["type"]["version"] >= 1
    assert item["organisation"] == {"name": "Riverside Care Ltd", "provider_id": "1-101000001"}
    assert item["location"]["location_id"] and item["submitted_at"]
    assert item["url"] == f"http://testserver/api/v1/submissions/{first}"
    # The cursor is opaque to clients: it does not show an id in the clear.
    assert str(submission_ids(db_factory)[first]) not in body["next_cursor"]

    page = client.get(body["next_url"].removeprefix("http://testserver"), headers=bearer)
    assert items(page) == [second] and page.json()["has_more"] is False
    cursor = page.json()["next_cursor"]

    empty = client.get(f"/api/v1/submissions?since={cursor}", headers=bearer)
    assert items(empty) == [] and empty.json()["next_cursor"] == cursor, "an empty page keeps the place"

    third = make_submission()
    assert items(client.get(f"/api/v1/submissions?since={cursor}", headers=bearer)) == [third]
    everything = client.get("/api/v1/submissions", headers=bearer)
    assert items(everything) == [first, second, third]
    assert everything.headers["cache-control"] == "no-store"


def test_a_submission_joins_the_feed_only_once_it_has_settled_and_holds_back_those_after_it(
    client, bearer, make_submission, db_factory
):
    # Ids are taken before commit, so a later one can be visible before an earlier one commits: the
    # feed must never move its cursor past a submission that might still be on its way.
    young = make_submission(settled=False)
    older_but_later = make_submission(settled=False)
    settle(db_factory, older_but_later)
    response = client.get("/api/v1/submissions", headers=bearer)
    assert items(response) == [] and response.json()["next_cursor"] is None
    settle(db_factory, young)
    assert items(client.get("/api/v1/submissions", headers=bearer)) == [young, older_but_later]


def test_the_feed_service_stops_at_the_first_unsettled_submission(db_factory, make_submission):
    first = make_submission(settled=False)
    with db_factory() as db:
        made = db.scalar(select(Submission.submitted_at).where(Submission.reference == first))
        assert api.feed(db, since=None, limit=None, now=made).submissions == []
        later = api.feed(db, since=None, limit=None, now=made + api.SETTLE)
        assert [s.reference for s in later.submissions] == [first]


BAD_QUERIES = [
    "since=!!!",
    "since=abc",
    "since=" + "A" * 65,
    "since=%00",
    "since=%F0%9F%98%80",
    "since=v1:1",
    "since=" + base64.urlsafe_b64encode(b"v1:-1").decode(),
    "since=" + base64.urlsafe_b64encode(b"v1:0").decode(),
    "since=" + base64.urlsafe_b64encode(b"v2:5").decode(),
    "since=" + base64.urlsafe_b64encode(b"v1:1 ").decode(),
    "since=" + base64.urlsafe_b64encode(b"v1:" + b"9" * 30).decode().rstrip("="),
    "since=" + base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "since=A",
    "limit=0",
    "limit=201",
    "limit=-1",
    "limit=abc",
    "limit=1.5",
    "limit=",
    "limit=99999999999999999999",
    "limit=%EF%BC%91",  # a full-width digit one: isdigit() says yes, the API must say no
]


def test_bad_cursors_and_limits_are_a_400_in_json(client, bearer):
    for query in BAD_QUERIES:
        response = client.get(f"/api/v1/submissions?{query}", headers=bearer)
        assert response.status_code == 400, (query, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]


def test_a_cursor_round_trips_and_the_largest_limit_is_allowed(client, bearer):
    assert api.decode_cursor(api.encode_cursor(123456)) == 123456
    response = client.get(f"/api/v1/submissions?limit=200&since={api.encode_cursor(999)}", headers=bearer)
    assert response.status_code == 200 and response.json()["submissions"] == []


# One submission and its files -------------------------------------------------------------------------


def test_one_submission_has_its_whole_snapshot_and_a_hash_a_receiver_can_check(
    client, bearer, make_submission, db_factory
):
    reference = make_submission(files=[PDF, PDF + b"% second\n"])
    response = client.get(f"/api/v1/submissions/{reference}", headers=bearer)
    assert response.status_code == 200, response.text
    body = response.json()
    with db_factory() as db:
        row = db.scalar(select(Submission).where(Submission.reference == reference))
        snapshot, content_hash, version = row.snapshot, row.content_hash, row.type_version
    assert body["reference"] == reference and body["content_hash"] == content_hash
    assert body["snapshot"]["answers"] == snapshot["answers"] and body["snapshot"]["answers"]
    assert body["snapshot"]["type"] == {"key": TYPE, "version": version, "title": definition(TYPE).title}
    assert body["snapshot"]["submitted_by"] == SUBMITTER and body["snapshot"]["approved_by"] == REVIEWER
    attachments = body["snapshot"]["attachments"]
    assert sorted(a["sha256"] for a in attachments) == sorted(
        hashlib.sha256(content).hexdigest() for content in (PDF, PDF + b"% second\n")
    )
    for attachment in attachments:
        assert attachment["url"] == f"http://testserver/api/v1/submissions/{reference}/attachments/{attachment['id']}"
    # The recipe the OpenAPI document gives, followed independently of the portal's own code.
    canonical = json.dumps(
        {"answers": body["snapshot"]["answers"], "attachments": sorted(a["sha256"] for a in attachments)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == body["content_hash"]
    assert client.get(f"/api/v1/submissions/{reference.lower()}", headers=bearer).status_code == 200


def test_an_unknown_reference_is_a_404_in_json(client, bearer):
    for reference in ["AAAAAAAA", "ACDEFGHJ", "nope", "A" * 300, "%2e%2e", "ACDEFGH%00", "😀" * 8]:
        for path in (f"/api/v1/submissions/{reference}", f"/api/v1/submissions/{reference}/attachments/1"):
            response = client.get(path, headers=bearer)
            assert response.status_code == 404, (path, response.status_code)
            assert response.json()["error"]


def test_an_attachment_streams_byte_for_byte_with_its_digest(client, bearer, make_submission):
    content = PDF + b"0" * (300 * 1024)  # several chunks, so it is streamed rather than sent in one piece
    reference = make_submission(files=[content])
    attachment = client.get(f"/api/v1/submissions/{reference}", headers=bearer).json()["snapshot"]["attachments"][0]
    response = client.get(attachment["url"].removeprefix("http://testserver"), headers=bearer)
    assert response.status_code == 200
    assert response.content == content
    assert hashlib.sha256(response.content).hexdigest() == attachment["sha256"]
    assert response.headers["repr-digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(content).digest()).decode()}:"
    assert response.headers["content-type"] == "application/pdf"
    assert "body map 0.pdf" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"


def test_only_files_in_that_submissions_snapshot_can_be_fetched(
    client, bearer, make_submission, db_factory, drafter, location_id
):
    first, second = make_submission(), make_submission()
    with db_factory() as db:
        snapshots = {r: s for r, s in db.execute(select(Submission.reference, Submission.snapshot))}
    second_file = snapshots[second]["attachments"][0]["id"]
    # A file added to a draft that was never submitted is not reachable either.
    unsent = draft_one(drafter, db_factory, location_id)
    with db_factory() as db:
        draft_file = db.scalar(select(Attachment.id).where(Attachment.notification_id == unsent))
    for attachment_id in (second_file, draft_file, "0", "-1", "abc", "1e3", "9" * 40):
        response = client.get(f"/api/v1/submissions/{first}/attachments/{attachment_id}", headers=bearer)
        assert response.status_code == 404, attachment_id
        assert response.json()["error"]
    assert client.get(f"/api/v1/submissions/{second}/attachments/{second_file}", headers=bearer).status_code == 200


# Who may ask ---------------------------------------------------------------------------------------

API_PATHS = ["/api/v1/submissions", "/api/v1/submissions/ACDEFGHJ", "/api/v1/submissions/ACDEFGHJ/attachments/1"]


def test_without_a_good_token_every_api_route_is_401_with_a_bearer_challenge(client):
    for authorization in [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token-we-issued",
        "Bearer a b",
        "Bearer " + "x" * 5000,
        "Token prt_abc",
    ]:
        headers = {} if authorization is None else {"authorization": authorization}
        for path in API_PATHS:
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, authorization, response.status_code)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]
            if authorization:
                assert 'error="invalid_token"' in response.headers["www-authenticate"]
            else:
                assert "error=" not in response.headers["www-authenticate"]


def test_a_revoked_token_stops_working_at_once(client, lead, db_factory):
    secret = create_token(lead, "Old intake")
    headers = {"authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/submissions", headers=headers).status_code == 200
    response = post_form(
        lead, f"/support/api-tokens/{token_id(db_factory, 'Old intake')}/revoke", from_page="/support/api-tokens"
    )
    assert response.status_code == 303
    refused = client.get("/api/v1/submissions", headers=headers)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]


@pytest.mark.parametrize("role", ["submitter", "drafter", "organisation_admin", "support_lead"])
def test_a_signed_in_persons_session_is_not_an_api_token(as_role, role, make_submission):
    reference = make_submission()
    person = as_role(role)
    for path in ["/api/v1/submissions", f"/api/v1/submissions/{reference}"]:
        response = person.get(path)
        assert response.status_code == 401, (role, path, response.status_code)
        assert response.json()["error"] and reference not in response.text


def test_last_used_is_written_at_most_once_a_minute(client, lead, db_factory):
    secret = create_token(lead, "Poller")
    headers = {"authorization": f"Bearer {secret}"}

    def last_used():
        with db_factory() as db:
            return db.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "Poller"))

    assert last_used() is None
    client.get("/api/v1/submissions", headers=headers)
    first = last_used()
    assert first is not None
    client.get("/api/v1/submissions", headers=headers)
    assert last_used() == first
    with transaction(db_factory) as db:
        db.execute(update(ApiToken).where(ApiToken.name == "Poller").values(last_used_at=first - timedelta(seconds=61)))
    client.get("/api/v1/submissions", headers=headers)
    assert last_used() > first - timedelta(seconds=61)


def test_the_openapi_document_is_public_and_describes_every_api_route(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    for endpoint in all_endpoints():
        if endpoint.path.startswith("/api/"):
            assert endpoint.path in document["paths"], endpoint.path
            for method in endpoint.methods:
                assert method.lower() in document["paths"][endpoint.path], (endpoint.path, method)
    # Every reference inside resolves, so client generators can use it as it is.
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([A-Za-z]+)"', text)):
        assert ref in document["components"]["schemas"], ref
    assert document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


# Token pages ---------------------------------------------------------------------------------------


def test_a_support_lead_creates_a_token_that_is_shown_once_and_kept_only_as_a_hash(lead, db_factory):
    page = lead.get("/support/api-tokens")
    assert page.status_code == 200 and "There are no API tokens yet" in page.text
    response = post_form(lead, "/support/api-tokens", {"name": "  Case intake  "}, from_page="/support/api-tokens")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "govuk-panel" in response.text and response.text.count("<h1") == 1
    secret = re.search(r'value="(prt_[A-Za-z0-9_\-]+)"', response.text).group(1)
    with db_factory() as db:
        row = db.scalar(select(ApiToken).options(joinedload(ApiToken.created_by)))
        event = db.scalar(select(AuditEvent).where(AuditEvent.event_type == "api_token:created"))
        assert row.name == "Case intake" and row.token_hash == token_hash(secret)
        assert secret not in json.dumps([row.name, row.token_hash]) and row.created_by.email == "lead@regulator.example"
        assert event.data == {"name": "Case intake"} and event.actor_id == row.created_by_id
    listing = lead.get("/support/api-tokens")
    assert "Case intake" in listing.text and secret not in listing.text and "Never" in listing.text


@pytest.mark.parametrize(
    "name,message",
    [
        ("", "Enter a name for the token"),
        ("   ", "Enter a name for the token"),
        # The input boundary names the NUL (portal/input_text.py) rather than calling the name empty.
        ("\u202e\u0000", "Name must not contain a null character"),
        ("n" * 101, "Name must be 100 characters or fewer"),
    ],
)
def test_a_token_needs_a_name_and_a_bad_one_keeps_what_was_typed(lead, db_factory, name, message):
    response = post_form(lead, "/support/api-tokens", {"name": name}, from_page="/support/api-tokens")
    assert response.status_code == 400
    assert "<title>Error: " in response.text and "govuk-error-summary" in response.text
    assert message in response.text and 'href="#name"' in response.text
    if name.strip() and name.isprintable():
        assert f'value="{name}"' in response.text
    with db_factory() as db:
        assert db.scalar(select(ApiToken.id)) is None


def test_revoking_is_audited_once_and_an_unknown_token_is_404(lead, db_factory):
    create_token(lead, "Old intake")
    path = f"/support/api-tokens/{token_id(db_factory, 'Old intake')}/revoke"
    response = post_form(lead, path, from_page="/support/api-tokens")
    assert response.status_code == 303 and response.headers["location"] == "/support/api-tokens"
    page = lead.get("/support/api-tokens").text
    assert "Revoked" in page and "API token revoked" in page
    assert "API token revoked" not in lead.get("/support/api-tokens").text  # shown once
    assert post_form(lead, path, from_page="/support/api-tokens").status_code == 303
    with db_factory() as db:
        events = list(db.scalars(select(AuditEvent).where(AuditEvent.event_type == "api_token:revoked")))
        assert [event.data for event in events] == [{"name": "Old intake"}]
        assert db.scalar(select(ApiToken.revoked_at)) is not None
    for unknown in ("999999", "0", "99999999999999999999999", "abc"):
        assert (
            post_form(lead, f"/support/api-tokens/{unknown}/revoke", from_page="/support/api-tokens").status_code == 404
        ), unknown


@pytest.mark.parametrize("role", ["support_agent", "drafter", "organisation_admin"])
def test_only_a_support_lead_may_manage_tokens(as_role, lead, db_factory, role):
    create_token(lead, "Existing")
    person = as_role(role)
    existing = token_id(db_factory, "Existing")
    assert person.get("/support/api-tokens").status_code == 403
    assert post_form(person, "/support/api-tokens", {"name": "Mine"}, from_page="/account").status_code == 403
    assert post_form(person, f"/support/api-tokens/{existing}/revoke", from_page="/account").status_code == 403
    with db_factory() as db:
        assert list(db.scalars(select(ApiToken.name))) == ["Existing"]
        assert db.scalar(select(ApiToken.revoked_at)) is None


# The webhook, end to end ---------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(self.server.answers.pop(0) if self.server.answers else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_each_submission_is_pushed_once_signed_and_matches_what_the_api_serves(
    receiver, settings, db_factory, make_submission, client, bearer
):
    hooked = replace(settings, webhook_url=f"http://127.0.0.1:{receiver.server_port}/intake", webhook_secret="s" * 40)
    # The submit service writes the message in the submit transaction.
    reference = make_submission(webhook_settings=hooked)
    with db_factory() as db:
        message = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "webhook"))
        assert message.recipient == hooked.webhook_url and message.subject == reference
    senders = outbox.sender_for(hooked)
    assert outbox.deliver_due(db_factory, senders) >= 1
    assert outbox.deliver_due(db_factory, senders) == 0
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    expected = "sha256=" + hmac.new(b"s" * 40, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-portal-signature"], expected)
    assert headers["x-portal-delivery"] == str(message.id)
    pushed = json.loads(body)
    assert pushed["event"] == "submission.created"
    served = client.get(f"/api/v1/submissions/{reference}", headers=bearer).json()
    # submitted_at aside: settle() moved it back after the push, so the feed would show it at once.
    assert {**pushed["submission"], "submitted_at": None} == {**served, "submitted_at": None}


def test_without_a_webhook_url_nothing_is_queued(settings, make_submission, db_factory):
    make_submission(webhook_settings=settings)
    with db_factory() as db:
        assert db.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "webhook")) is None


def test_a_submit_that_rolls_back_queues_no_webhook(settings, drafter, db_factory, location_id):
    hooked = replace(settings, webhook_url="http://127.0.0.1:9/intake", webhook_secret="s" * 40)
    notification_id = draft_one(drafter, db_factory, location_id)
    with transaction(db_factory) as db:
        review.request_review(db, auth_of(db, DRAFTER), db.get(Notification, notification_id), base_url="x")
    with transaction(db_factory) as db:
        review.approve(db, auth_of(db, REVIEWER), db.get(Notification, notification_id), base_url="x")
    with pytest.raises(RuntimeError), transaction(db_factory) as db:
        submission.submit(
            db, auth_of(db, SUBMITTER), db.get(Notification, notification_id), declared=True, settings=hooked
        )
        raise RuntimeError("the request failed after submit")
    with db_factory() as db:
        assert db.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "webhook")) is None
        assert db.scalar(select(Submission.id)) is None


def test_a_follow_up_names_the_reference_it_follows_in_the_api_and_the_webhook(
    receiver, settings, db_factory, drafter, location_id, client, bearer
):
    hooked = replace(settings, webhook_url=f"http://127.0.0.1:{receiver.server_port}/intake", webhook_secret="s" * 40)
    first = draft_one(drafter, db_factory, location_id)
    original = review_and_submit(db_factory, first, settings=hooked)
    page = f"/notifications/{first}/follow-up"
    response = post_form(drafter, page, {"type": TYPE}, from_page=page)
    assert response.status_code == 303, response.text[-2000:]
    follow_up = int(response.headers["location"].rsplit("/", 1)[1])
    for section in definition(TYPE).sections:
        assert fill_section(drafter, follow_up, section).status_code == 303
    later = review_and_submit(db_factory, follow_up, settings=hooked)
    settle(db_factory, original, later)

    served = client.get(f"/api/v1/submissions/{later}", headers=bearer).json()
    assert served["follow_up_of"] == original
    assert client.get(f"/api/v1/submissions/{original}", headers=bearer).json()["follow_up_of"] is None
    assert outbox.deliver_due(db_factory, outbox.sender_for(hooked)) >= 2
    pushed = {
        json.loads(body)["submission"]["reference"]: json.loads(body)["submission"] for _, body in receiver.received
    }
    assert pushed[later]["follow_up_of"] == original and pushed[original]["follow_up_of"] is None
