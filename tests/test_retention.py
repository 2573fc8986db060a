"""Retention: each kind of record expires exactly when past its period, submitted notifications never do,
each run audits what it did, `portal worker` runs it, and the privacy notice states the periods."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal import retention
from portal.cli import run_worker
from portal.db import transaction
from portal.files.storage import LocalStorage
from portal.models import (
    Attachment,
    AuditEvent,
    Comment,
    Notification,
    OutboxMessage,
    RateLimitCounter,
    SignInLink,
    Submission,
    User,
    UserSession,
    utcnow,
)
from portal.outbox import MAX_ATTEMPTS
from portal.settings import ConfigurationError, Retention, Settings

from .conftest import post_form
from .journey import act, draft_complete
from .live_server import wait_for

PERIODS = Retention()


def days_ago(days: float):
    return utcnow() - timedelta(days=days)


def age_notification(db_factory, notification_id: int, days: float) -> None:
    """As if nobody had changed or done anything to it for `days`."""
    with transaction(db_factory) as db:
        db.execute(update(Notification).where(Notification.id == notification_id).values(updated_at=days_ago(days)))
        db.execute(
            update(AuditEvent).where(AuditEvent.notification_id == notification_id).values(occurred_at=days_ago(days))
        )


def stored_keys(db_factory, notification_id: int) -> list[str]:
    with db_factory() as db:
        return list(db.scalars(select(Attachment.storage_key).where(Attachment.notification_id == notification_id)))


def exists(db_factory, model, row_id: int) -> bool:
    with db_factory() as db:
        return db.get(model, row_id) is not None


def retention_events(db_factory) -> dict[str, dict]:
    with db_factory() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.event_type == "retention:applied"))
        return {event.data["kind"]: event.data for event in events}


@pytest.fixture
def submitted_with_everything(as_role, location_id, db_factory):
    """A submitted notification with files and a comment, looking as abandoned as can be."""
    drafter, reviewer, submitter = as_role("drafter"), as_role("reviewer"), as_role("submitter")
    notification = draft_complete(drafter, "serious_injury", location_id)
    assert act(drafter, notification, "request-review").status_code == 303
    back = f"/notifications/{notification}/review"
    post_form(
        reviewer,
        f"/notifications/{notification}/comments",
        {"section": "about_you", "body": "Looks right", "back": back},
        from_page=back,
    )
    assert act(reviewer, notification, "approve").status_code == 303
    assert act(submitter, notification, "submit", {"declaration": "yes"}).status_code == 303
    age_notification(db_factory, notification, PERIODS.drafts_days * 10)
    return notification


def test_abandoned_drafts_go_with_their_files_and_submitted_notifications_never_do(
    as_role, location_id, db_factory, settings, submitted_with_everything
):
    drafter = as_role("drafter")
    storage = LocalStorage(settings.storage_dir)
    abandoned = draft_complete(drafter, "serious_injury", location_id)
    just_kept = draft_complete(drafter, "serious_injury", location_id)
    old_but_busy = draft_complete(drafter, "serious_injury", location_id, with_files=False)
    age_notification(db_factory, abandoned, PERIODS.drafts_days + 1)
    age_notification(db_factory, just_kept, PERIODS.drafts_days - 1)
    age_notification(db_factory, old_but_busy, PERIODS.drafts_days + 1)
    # Somebody commented on it yesterday: not abandoned, whatever updated_at says.
    with transaction(db_factory) as db:
        db.execute(
            update(AuditEvent)
            .where(
                AuditEvent.id
                == select(func.max(AuditEvent.id)).where(AuditEvent.notification_id == old_but_busy).scalar_subquery()
            )
            .values(occurred_at=days_ago(1))
        )
    abandoned_files = stored_keys(db_factory, abandoned)
    submitted_files = stored_keys(db_factory, submitted_with_everything)
    assert abandoned_files and submitted_files
    assert all(storage.exists(key) for key in abandoned_files + submitted_files)

    outcomes = {o.kind: o for o in retention.run(db_factory, PERIODS, storage)}

    assert outcomes["abandoned drafts"].count == 1
    assert not exists(db_factory, Notification, abandoned)
    assert not any(storage.exists(key) for key in abandoned_files)
    assert exists(db_factory, Notification, just_kept) and exists(db_factory, Notification, old_but_busy)
    # The submitted one, with everything it holds, is untouched.
    with db_factory() as db:
        notification = db.get(Notification, submitted_with_everything)
        assert notification.status == "submitted"
        assert db.scalar(select(Submission).where(Submission.notification_id == notification.id)) is not None
        assert db.scalar(select(func.count(Comment.id)).where(Comment.notification_id == notification.id)) == 1
        assert db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.notification_id == notification.id)) > 0
    assert stored_keys(db_factory, submitted_with_everything) == submitted_files
    assert all(storage.exists(key) for key in submitted_files)
    assert retention_events(db_factory)["abandoned drafts"] == {
        "kind": "abandoned drafts",
        "action": "deleted",
        "count": 1,
        "days": PERIODS.drafts_days,
    }


def test_even_a_zero_period_never_deletes_a_submitted_notification(
    db_factory, settings, submitted_with_everything, caplog
):
    # The shortest the settings allow, and then shorter than any setting could make it.
    for days in (7, 0):
        retention.run(db_factory, replace(PERIODS, drafts_days=days), LocalStorage(settings.storage_dir))
    assert exists(db_factory, Notification, submitted_with_everything)
    # Never even tried: the submission's foreign key, the last guard, had nothing to refuse.
    assert "retention of abandoned drafts failed" not in caplog.text


def test_links_sessions_rate_limits_outbox_and_audit_addresses_expire_exactly_past_their_periods(
    db_factory, settings, demo_org
):
    with transaction(db_factory) as db:
        person = db.scalar(select(User).where(User.email == "drafter@riverside.example"))
        rows = {}

        def add(name, row):
            db.add(row)
            db.flush()
            rows[name] = (type(row), row.id)

        for name, days in (("link old", PERIODS.sign_in_links_days + 1), ("link kept", PERIODS.sign_in_links_days - 1)):
            add(name, SignInLink(email=person.email, token_hash=name.ljust(64, "x"), expires_at=days_ago(days)))
        for name, days in (("session old", PERIODS.sessions_days + 1), ("session kept", PERIODS.sessions_days - 1)):
            seen = days_ago(days)
            add(
                name,
                UserSession(
                    token_hash=name.ljust(64, "x"),
                    user_id=person.id,
                    method="email",
                    created_at=seen,
                    last_seen_at=seen,
                ),
            )
        for name, days in (
            ("counter old", PERIODS.rate_limits_days + 1),
            ("counter kept", PERIODS.rate_limits_days - 1),
        ):
            add(name, RateLimitCounter(key=name, window_start=days_ago(days), count=3))
        for name, days in (("sent old", PERIODS.outbox_days + 1), ("sent kept", PERIODS.outbox_days - 1)):
            add(
                name,
                OutboxMessage(template="t", recipient="a@example.org", subject="s", body="b", sent_at=days_ago(days)),
            )
        # Never sent and given up on long ago: the support team still needs it.
        add(
            "given up",
            OutboxMessage(
                template="t",
                recipient="a@example.org",
                subject="s",
                body="b",
                attempts=MAX_ATTEMPTS,
                created_at=days_ago(1000),
            ),
        )
        for name, days in (("audit old", PERIODS.audit_ip_days + 1), ("audit kept", PERIODS.audit_ip_days - 1)):
            add(
                name,
                AuditEvent(
                    event_type="account:signed_in",
                    actor_id=person.id,
                    occurred_at=days_ago(days),
                    ip_address="203.0.113.7",
                    user_agent="Firefox",
                    data={"method": "email link"},
                ),
            )

    outcomes = {o.kind: o.count for o in retention.run(db_factory, PERIODS, LocalStorage(settings.storage_dir))}

    assert outcomes == {
        "abandoned drafts": 0,
        "sign-in links": 1,
        "sessions": 1,
        "rate-limit counters": 1,
        "sent emails and webhooks": 1,
        "audit events' IP addresses and browsers": 1,
    }
    gone = {name for name, (model, row_id) in rows.items() if not exists(db_factory, model, row_id)}
    assert gone == {"link old", "session old", "counter old", "sent old"}
    with db_factory() as db:
        old, kept = db.get(AuditEvent, rows["audit old"][1]), db.get(AuditEvent, rows["audit kept"][1])
        assert (old.ip_address, old.user_agent, old.event_type, old.actor_id) == (
            "",
            "",
            "account:signed_in",
            person.id,
        )
        assert (kept.ip_address, kept.user_agent) == ("203.0.113.7", "Firefox")
    events = retention_events(db_factory)
    assert set(events) == {k for k, count in outcomes.items() if count}
    assert events["audit events' IP addresses and browsers"]["action"] == "anonymised"
    assert events["sessions"] == {"kind": "sessions", "action": "deleted", "count": 1, "days": PERIODS.sessions_days}

    # A second run finds nothing, and says nothing.
    retention.run(db_factory, PERIODS, LocalStorage(settings.storage_dir))
    with db_factory() as db:
        assert db.scalar(select(func.count()).where(AuditEvent.event_type == "retention:applied")) == len(events)


def test_more_than_a_batch_is_deleted_in_batches(db_factory, settings, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 3)
    with transaction(db_factory) as db:
        for number in range(7):
            db.add(RateLimitCounter(key=f"k{number}", window_start=days_ago(10), count=1))
    outcomes = {o.kind: o.count for o in retention.run(db_factory, PERIODS, LocalStorage(settings.storage_dir))}
    assert outcomes["rate-limit counters"] == 7
    assert retention_events(db_factory)["rate-limit counters"]["count"] == 7


def test_portal_worker_applies_retention(settings, db_factory):
    with transaction(db_factory) as db:
        db.add(RateLimitCounter(key="old", window_start=days_ago(PERIODS.rate_limits_days + 1), count=1))
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(settings,), kwargs={"stop": stop, "interval": 0.05})
    worker.start()
    try:
        wait_for(lambda: "rate-limit counters" in retention_events(db_factory), "the worker's retention run")
    finally:
        stop.set()
        worker.join(timeout=30)
    with db_factory() as db:
        assert db.scalar(select(func.count(RateLimitCounter.id))) == 0


def test_the_privacy_notice_states_the_configured_periods(settings, db_factory):
    from starlette.testclient import TestClient

    from portal.app import create_app

    periods = Retention(
        drafts_days=41, sign_in_links_days=3, sessions_days=17, rate_limits_days=5, outbox_days=23, audit_ip_days=97
    )
    with TestClient(create_app(replace(settings, retention=periods))) as client:
        page = client.get("/privacy").text
    for phrase in (
        "never sent: 41 days",
        "sign-in links: 3 days",
        "last used them",
        "17 days",
        "5 days",
        "23 days after they are sent",
        "browser in the audit trail: 97 days",
    ):
        assert phrase in page, phrase


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"PORTAL_RETAIN_DRAFTS_DAYS": "3"}, "PORTAL_RETAIN_DRAFTS_DAYS must be at least 7"),
        ({"PORTAL_RETAIN_OUTBOX_DAYS": "0"}, "PORTAL_RETAIN_OUTBOX_DAYS must be at least 1"),
        ({"PORTAL_RETAIN_AUDIT_IP_DAYS": "soon"}, "PORTAL_RETAIN_AUDIT_IP_DAYS must be a whole number"),
        (
            {"PORTAL_RETAIN_SESSIONS_DAYS": "1", "PORTAL_SESSION_ABSOLUTE_HOURS": "36"},
            "PORTAL_RETAIN_SESSIONS_DAYS must be at least PORTAL_SESSION_ABSOLUTE_HOURS",
        ),
        ({"PORTAL_METRICS_TOKEN": "short"}, "PORTAL_METRICS_TOKEN must be at least 32 characters"),
        ({"PORTAL_LOG_FORMAT": "xml"}, "PORTAL_LOG_FORMAT must be plain or json"),
    ],
)
def test_bad_retention_metrics_and_log_settings_stop_start_up(tmp_path, environ, problem):
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path), **environ})
    assert problem in raised.value.reason


def test_retention_settings_are_read(tmp_path):
    settings = Settings.from_env(
        {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_RETAIN_DRAFTS_DAYS": "30", "PORTAL_RETAIN_SESSIONS_DAYS": "2"}
    )
    assert settings.retention == replace(Retention(), drafts_days=30, sessions_days=2)
