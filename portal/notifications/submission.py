"""Submission: the approved notification frozen, given its reference, announced. Idempotent.

A double click, a retried POST or twenty people pressing at once give one submission: the status
moves from approved to submitted in one conditional UPDATE, and only the request that moved it
writes anything more.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import links
from ..accounts.sessions import Auth
from ..models import Notification, Submission, User, utcnow
from ..references import new_reference
from ..regulator_scope import is_practice
from ..regulator_view import enqueue_submission_webhook
from ..settings import Settings
from .activity import email, record
from .errors import WorkflowError
from .locking import changing
from .reading import answers_of, attachments_of, current_hash, editors_of, submission_of, type_of, watchers_of
from .states import require_move

# 25^8 references make one collision rare and ten in a row a sign that something else is wrong.
REFERENCE_ATTEMPTS = 10


def submit(
    db: Session,
    auth: Auth,
    notification: Notification,
    *,
    declared: bool,
    settings: Settings,
    ip: str = "",
    user_agent: str = "",
) -> Submission:
    """The notification's one submission: made now, or the one an earlier request made."""
    changing(db, notification)
    existing = submission_of(db, notification.id)
    if existing is not None:
        return existing
    move = require_move(auth, notification, "submit")
    if not declared:
        raise WorkflowError(
            "Confirm that the information is correct to the best of your knowledge", field="declaration"
        )
    digest = current_hash(db, notification)
    if digest != notification.approved_hash:
        raise WorkflowError("The notification changed after it was approved. It needs approving again")
    # The notification's lock (changing(), above) makes this the only submit in flight: a second one
    # waits, then finds the submission made here.
    notification.status = move.target
    notification.submitted_at = utcnow()
    db.flush()
    submission = _freeze(db, auth, notification, digest)
    # The regulator's webhook, when one is configured, rides the same outbox as email.
    enqueue_submission_webhook(db, submission, settings)
    kind = type_of(notification)
    # Its own event in practice, so the notification's history never says it went to the regulator.
    event = "notification:practice_submitted" if is_practice(notification.organisation) else "notification:submitted"
    record(db, event, auth, notification, ip, user_agent, reference=submission.reference)
    email(
        db,
        notification,
        [auth.user, *watchers_of(db, notification.id)],
        template="submitted",
        notification_type=kind.title,
        location_name=notification.location.name,
        location_id=notification.location.regulator_location_id,
        reference=submission.reference,
        submitted_by=auth.user.email,
        link=links.notification_receipt(settings.base_url, notification.id),
    )
    return submission


def _freeze(db: Session, auth: Auth, notification: Notification, digest: str) -> Submission:
    kind = type_of(notification)
    attachments = attachments_of(db, notification.id)
    editors = editors_of(db, notification.id)
    people = {
        u.id: u.email
        for u in db.scalars(select(User).where(User.id.in_(editors | {notification.approved_by_id or 0, auth.user.id})))
    }
    parent = db.get(Notification, notification.parent_id) if notification.parent_id else None
    submitted_at = notification.submitted_at or utcnow()
    snapshot = {
        "type": {"key": kind.key, "version": notification.type_version, "title": kind.title},
        "organisation": {"name": notification.organisation.name, "provider_id": notification.organisation.provider_id},
        "location": {"name": notification.location.name, "location_id": notification.location.regulator_location_id},
        "answers": answers_of(notification),
        "attachments": [
            {
                "id": a.id,
                "question": a.question_key,
                "filename": a.filename,
                "size": a.size,
                "content_type": a.content_type,
                "sha256": a.sha256,
            }
            for a in attachments
        ],
        "drafted_by": sorted(people[i] for i in editors if i in people),
        "approved_by": people.get(notification.approved_by_id) if notification.approved_by_id else None,
        "approved_at": notification.approved_at.isoformat() if notification.approved_at else None,
        "submitted_by": auth.user.email,
        "submitted_at": submitted_at.isoformat(),
        "follow_up_of": parent.reference if parent else None,
    }
    for _ in range(REFERENCE_ATTEMPTS):
        reference = new_reference()
        try:
            # A savepoint, so a reference already taken undoes only this insert, not the submit.
            with db.begin_nested():
                submission = Submission(
                    notification_id=notification.id,
                    organisation_id=notification.organisation_id,
                    reference=reference,
                    parent_reference=parent.reference if parent else None,
                    type_key=kind.key,
                    type_version=notification.type_version,
                    snapshot=snapshot,
                    content_hash=digest,
                    submitted_by_id=auth.user.id,
                    submitted_at=submitted_at,
                )
                db.add(submission)
            notification.reference = reference
            return submission
        except IntegrityError:
            continue
    # Not a message for the person: raising past the handler lets the request's transaction roll
    # the status back, rather than commit a submitted notification without a submission.
    raise RuntimeError(f"no free reference after {REFERENCE_ATTEMPTS} attempts")
