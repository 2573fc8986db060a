"""/metrics: off unless a token is configured, refused without it, and each series moved by real requests."""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from portal import logs
from portal.app import create_app
from portal.db import transaction
from portal.models import OutboxMessage, utcnow
from portal.outbox import MAX_ATTEMPTS

from .conftest import post_form, sign_in
from .journey import submitted

TOKEN = "metrics-token-" + "m" * 32
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metered(settings, db_factory):
    app = create_app(replace(settings, metrics_token=TOKEN))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}."""
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_do_not_exist_unless_a_token_is_configured(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token_and_a_signed_in_person(metered, settings, db_factory, demo_org):
    missing = metered.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "portal_" not in missing.text
    assert metered.get("/metrics", headers={"authorization": f"Bearer {TOKEN}x"}).status_code == 401
    assert metered.get("/metrics", headers={"authorization": f"Basic {TOKEN}"}).status_code == 401
    # A session proves a person, never the scraper: the support lead's cookie gets 401 too.
    sign_in(metered, db_factory, "lead@regulator.example")
    assert metered.get("/support").status_code == 200
    assert metered.get("/metrics").status_code == 401
    assert metered.get("/metrics", headers=AUTH).status_code == 200


def test_request_latency_is_labelled_by_route_template_never_by_path(metered):
    before = scrape(metered)
    for notification_id in (123456, 654321):
        metered.get(f"/notifications/{notification_id}")
    metered.get("/no/such/page/987654")
    response = metered.get("/metrics", headers=AUTH)
    after = scrape(metered)
    route = "/notifications/{notification_id}"
    # Signed out, each is sent to sign in: 3xx.
    count = "portal_request_duration_seconds_count"
    assert (
        value(after, count, route=route, method="GET", status="3xx")
        - value(before, count, route=route, method="GET", status="3xx")
        == 2
    )
    assert value(after, count, route="unmatched", method="GET", status="4xx") > value(
        before, count, route="unmatched", method="GET", status="4xx"
    )
    routes = set(re.findall(r'route="([^"]*)"', response.text))
    assert route in routes
    assert not any(re.search(r"123456|654321|987654", label) for label in routes), routes


def test_outbox_depth_age_and_given_up_are_read_from_the_database(metered, db_factory):
    with transaction(db_factory) as db:
        an_hour_ago = utcnow() - timedelta(hours=1)
        db.add(OutboxMessage(template="t", recipient="a@example.org", subject="s", body="b", created_at=an_hour_ago))
        db.add(OutboxMessage(template="t", recipient="b@example.org", subject="s", body="b"))
        db.add(OutboxMessage(template="t", recipient="c@example.org", subject="s", body="b", sent_at=utcnow()))
        db.add(OutboxMessage(template="t", recipient="d@example.org", subject="s", body="b", attempts=MAX_ATTEMPTS))
        db.add(
            OutboxMessage(
                kind="webhook",
                template="t",
                recipient="https://x.example",
                subject="s",
                body="b",
                attempts=MAX_ATTEMPTS,
            )
        )
    samples = scrape(metered)
    assert value(samples, "portal_database_up") == 1
    assert value(samples, "portal_outbox_depth") == 2
    assert 3600 <= value(samples, "portal_outbox_oldest_unsent_age_seconds") < 7200
    assert value(samples, "portal_outbox_given_up", kind="email") == 1
    assert value(samples, "portal_outbox_given_up", kind="webhook") == 1


def test_a_real_submission_counts_under_its_type(metered, as_role, location_id):
    before = scrape(metered)
    submitted(as_role("drafter"), as_role("reviewer"), as_role("submitter"), "police_incident", location_id)
    after = scrape(metered)
    assert value(after, "portal_submissions_total", type="police_incident") == (
        value(before, "portal_submissions_total", type="police_incident") + 1
    )


def test_sign_in_failures_are_counted_by_reason(metered):
    labels = {"event": "account:sign_in_failed", "method": "email link", "reason": "unknown"}
    before = value(scrape(metered), "portal_sign_in_failures_total", **labels)
    response = post_form(metered, "/sign-in/link/not-a-link-anyone-was-sent", from_page="/sign-in")
    assert response.status_code == 400
    assert value(scrape(metered), "portal_sign_in_failures_total", **labels) == before + 1


def test_database_pool_use_is_exposed(settings, db_factory):
    app = create_app(replace(settings, metrics_token=TOKEN))
    with TestClient(app, base_url="http://testserver") as client:
        before = scrape(client)
        with app.state.engine.connect():
            held = scrape(client)
        after = scrape(client)
    assert value(before, "portal_db_pool_size") >= app.state.engine.pool.size()
    checked_out = "portal_db_pool_checked_out"
    assert value(held, checked_out) == value(before, checked_out) + 1
    assert value(after, checked_out) == value(before, checked_out)


def test_server_errors_are_counted_by_route_and_a_database_away_reads_as_down(settings):
    """A real 5xx without mocking: an app whose database refuses connections (nothing listens on port 1).
    /healthz then answers 503, and the scrape still answers, saying the database is down."""
    away = replace(settings, database_url="postgresql://postgres@127.0.0.1:1/portal", metrics_token=TOKEN)
    with TestClient(create_app(away), base_url="http://testserver") as client:
        labels = {"route": "/healthz", "method": "GET", "status": "503"}
        before = value(scrape(client), "portal_server_errors_total", **labels)
        assert client.get("/healthz").status_code == 503
        samples = scrape(client)
    assert value(samples, "portal_server_errors_total", **labels) == before + 1
    assert value(samples, "portal_database_up") == 0


def test_json_logs_carry_the_request_id_and_the_route_template(metered):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    request_log = logging.getLogger("portal.request")
    request_log.addHandler(handler)
    old_level = request_log.level
    request_log.setLevel(logging.INFO)
    try:
        response = metered.get("/notifications/4242")
    finally:
        request_log.removeHandler(handler)
        request_log.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1, lines  # one access line per request
    line = lines[0]
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["route"] == "/notifications/{notification_id}"
    assert line["path"] == "/notifications/4242"
    assert line["status"] == 303
    assert line["level"] == "INFO"


def test_every_line_logged_while_a_request_is_answered_carries_its_id(metered):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    portal_log = logging.getLogger("portal")
    portal_log.addHandler(handler)
    old_level = portal_log.level
    portal_log.setLevel(logging.INFO)
    try:
        response = metered.post("/sign-in", content=b"broken", headers={"content-type": "multipart/form-data"})
    finally:
        portal_log.removeHandler(handler)
        portal_log.setLevel(old_level)
    assert response.status_code == 400
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {line["logger"] for line in lines} == {"portal.routing", "portal.request"}, lines
    assert {line["request_id"] for line in lines} == {response.headers["x-request-id"]}


def test_the_log_configuration_chooses_the_format_and_keeps_the_request_id_filter():
    json_config = logs.config("json")
    assert json_config["formatters"]["portal"] == {"()": "portal.logs.JsonFormatter"}
    assert json_config["handlers"]["stderr"]["filters"] == ["request_id"]
    assert "format" in logs.config("plain")["formatters"]["portal"]
    record = logging.LogRecord("portal.x", logging.ERROR, __file__, 1, "two\nlines", None, None)
    token = logs.REQUEST_ID.set("abc123")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        logs.REQUEST_ID.reset(token)
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["request_id"] == "abc123"
