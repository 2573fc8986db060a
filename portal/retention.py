"""Records kept no longer than their use: `portal worker` deletes or anonymises what has expired.

Each kind has its period in configuration (Settings.retention, PORTAL_RETAIN_*), and the privacy notice
states the same periods. Work goes in batches, one transaction each, so a first run over years of rows
holds no lock for long. Each kind that changed anything writes one `retention:applied` audit event saying
what and how many.

- **Abandoned drafts**: notifications never submitted, with no change and no audit event about them for
  the period, are deleted with their answers, comments, reviews and files. A submitted notification is the
  regulator's record and is never touched: the query asks for no submission, no reference and no
  submitted_at, and a submission's foreign key refuses the delete even if that check were wrong.
- **Sign-in links** (from expiry), **sessions** (from the last request), **rate-limit counters** (from their
  window), **sent outbox messages** (from sending): deleted. Messages given up on stay, for support.
- **Audit events** are kept: they are the organisations' history and the record of who did what to each
  notification. What is personal and of short use, the IP address and browser, is blanked instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from . import audit
from .db import transaction
from .files.storage import Storage
from .models import (
    Attachment,
    AuditEvent,
    Notification,
    OutboxMessage,
    RateLimitCounter,
    SignInLink,
    Submission,
    UserSession,
    utcnow,
)
from .settings import Retention

log = logging.getLogger("portal.retention")

BATCH = 500


@dataclass(frozen=True)
class Outcome:
    kind: str
    action: str  # "deleted" or "anonymised"
    count: int
    days: int


def run(factory: sessionmaker[Session], retention: Retention, storage: Storage, *, now: datetime | None = None):
    """Applies every period once; returns what each kind did (kinds with nothing to do included)."""
    now = now or utcnow()
    jobs: list[tuple[str, str, int, Callable[[Session, datetime], Batch]]] = [
        ("abandoned drafts", "deleted", retention.drafts_days, _drafts_batch),
        ("sign-in links", "deleted", retention.sign_in_links_days, _sign_in_links_batch),
        ("sessions", "deleted", retention.sessions_days, _sessions_batch),
        ("rate-limit counters", "deleted", retention.rate_limits_days, _rate_limits_batch),
        ("sent emails and webhooks", "deleted", retention.outbox_days, _outbox_batch),
        ("audit events' IP addresses and browsers", "anonymised", retention.audit_ip_days, _audit_batch),
    ]
    outcomes = []
    for kind, action, days, batch in jobs:
        cutoff = now - timedelta(days=days)
        count = 0
        try:
            while True:
                with transaction(factory) as db:
                    done = batch(db, cutoff)
                # Files only once their records are gone for good: a rolled-back delete keeps records and files.
                for key in done.files:
                    try:
                        storage.delete(key)
                    except (KeyError, OSError):
                        log.warning("retention: could not delete stored file %s; the orphan sweep will", key)
                count += done.rows
                if done.rows < BATCH:
                    break
        except Exception:
            # One kind failing (the database away, a row a constraint keeps) leaves the others to run; the
            # batches already committed are still audited below, and the next run goes on from there.
            log.exception("retention of %s failed after %s", kind, count)
        if count:
            with transaction(factory) as db:
                audit.record(db, "retention:applied", actor_id=None, kind=kind, action=action, count=count, days=days)
            log.info("retention: %s %s %s older than %s days", action, count, kind, days)
        outcomes.append(Outcome(kind, action, count, days))
    return outcomes


@dataclass(frozen=True)
class Batch:
    rows: int
    files: tuple[str, ...] = ()


def _ids(db: Session, statement) -> list[int]:
    return list(db.scalars(statement.limit(BATCH)))


def _drafts_batch(db: Session, cutoff: datetime) -> Batch:
    touched = exists().where(AuditEvent.notification_id == Notification.id, AuditEvent.occurred_at >= cutoff)
    submitted = exists().where(Submission.notification_id == Notification.id)
    ids = _ids(
        db,
        select(Notification.id).where(
            Notification.status != "submitted",
            Notification.submitted_at.is_(None),
            Notification.reference.is_(None),
            Notification.updated_at < cutoff,
            ~touched,
            ~submitted,
        ),
    )
    if not ids:
        return Batch(0)
    files = tuple(db.scalars(select(Attachment.storage_key).where(Attachment.notification_id.in_(ids))))
    # Sections, attachments' records, comments, reviews, watchers and the drafts' own audit events go with them
    # (ON DELETE CASCADE); a question asked about one keeps its words and loses the link (SET NULL).
    db.execute(delete(Notification).where(Notification.id.in_(ids)))
    return Batch(len(ids), files)


def _sign_in_links_batch(db: Session, cutoff: datetime) -> Batch:
    ids = _ids(db, select(SignInLink.id).where(SignInLink.expires_at < cutoff))
    if ids:
        db.execute(delete(SignInLink).where(SignInLink.id.in_(ids)))
    return Batch(len(ids))


def _sessions_batch(db: Session, cutoff: datetime) -> Batch:
    # Settings make the period at least the absolute session limit, so a session made before it is over.
    ids = _ids(db, select(UserSession.id).where(UserSession.last_seen_at < cutoff, UserSession.created_at < cutoff))
    if ids:
        db.execute(delete(UserSession).where(UserSession.id.in_(ids)))
    return Batch(len(ids))


def _rate_limits_batch(db: Session, cutoff: datetime) -> Batch:
    ids = _ids(db, select(RateLimitCounter.id).where(RateLimitCounter.window_start < cutoff))
    if ids:
        db.execute(delete(RateLimitCounter).where(RateLimitCounter.id.in_(ids)))
    return Batch(len(ids))


def _outbox_batch(db: Session, cutoff: datetime) -> Batch:
    ids = _ids(db, select(OutboxMessage.id).where(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < cutoff))
    if ids:
        db.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return Batch(len(ids))


def _audit_batch(db: Session, cutoff: datetime) -> Batch:
    ids = _ids(
        db,
        select(AuditEvent.id).where(
            AuditEvent.occurred_at < cutoff, or_(AuditEvent.ip_address != "", AuditEvent.user_agent != "")
        ),
    )
    if ids:
        db.execute(update(AuditEvent).where(AuditEvent.id.in_(ids)).values(ip_address="", user_agent=""))
    return Batch(len(ids))
