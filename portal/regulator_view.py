"""What the regulator receives about a submission: the same JSON from the API and from the webhook.

Its own module, beside neither the API nor notifications, because both need it: notifications queue the
webhook when a submission commits, and the API serves the same document on request.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from .models import Organisation, OutboxMessage, Submission
from .regulator_scope import is_practice
from .settings import Settings
from .webhook_sender import EVENT

API_PREFIX = "/api/v1"
WEBHOOK_KIND = "webhook"


def submission_url(base_url: str, reference: str) -> str:
    return f"{base_url}{API_PREFIX}/submissions/{reference}"


def attachment_url(base_url: str, reference: str, attachment_id: int) -> str:
    return f"{submission_url(base_url, reference)}/attachments/{attachment_id}"


def summary(submission: Submission, base_url: str) -> dict:
    snapshot = submission.snapshot
    return {
        "reference": submission.reference,
        "type": snapshot.get("type") or {"key": submission.type_key, "version": submission.type_version},
        "organisation": snapshot.get("organisation"),
        "location": snapshot.get("location"),
        "submitted_at": submission.submitted_at.isoformat(),
        "follow_up_of": submission.parent_reference,
        "url": submission_url(base_url, submission.reference),
    }


def detail(submission: Submission, base_url: str) -> dict:
    snapshot = dict(submission.snapshot)
    snapshot["attachments"] = [
        {**item, "url": attachment_url(base_url, submission.reference, item["id"])}
        for item in snapshot.get("attachments", [])
    ]
    return {**summary(submission, base_url), "content_hash": submission.content_hash, "snapshot": snapshot}


def webhook_payload(submission: Submission, base_url: str) -> dict:
    # The same document GET /api/v1/submissions/{reference} gives, so a receiver needs one parser.
    return {"event": EVENT, "submission": detail(submission, base_url)}


def enqueue_submission_webhook(db: Session, submission: Submission, settings: Settings) -> OutboxMessage | None:
    """Written in the submit transaction, so a submission that rolls back is never announced and one that
    commits always is. The signature is made when sending (webhook_sender.py): the secret never sits in the
    database."""
    if not settings.webhook_url:
        return None
    # A practice submission is announced to nobody: the practice receipt says it was not sent.
    if is_practice(db.get(Organisation, submission.organisation_id)):
        return None
    body = json.dumps(
        webhook_payload(submission, settings.base_url), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    message = OutboxMessage(
        kind=WEBHOOK_KIND,
        template="submission",
        recipient=settings.webhook_url,
        subject=submission.reference,
        body=body,
    )
    db.add(message)
    return message
