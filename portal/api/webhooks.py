"""Each submission pushed to the regulator's receiver as signed JSON, through the outbox with its retries.

The message is written in the submit transaction, so a submission that rolls back is never announced
and one that commits always is. The signature is made when sending (portal/webhook_sender.py), so the
secret never sits in the database.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from ..models import OutboxMessage, Submission
from ..settings import Settings
from ..webhook_sender import EVENT
from .service import detail

KIND = "webhook"


def payload(submission: Submission, base_url: str) -> dict:
    # The same document GET /api/v1/submissions/{reference} gives, so a receiver needs one parser.
    return {"event": EVENT, "submission": detail(submission, base_url)}


def enqueue_submission_webhook(db: Session, submission: Submission, settings: Settings) -> OutboxMessage | None:
    if not settings.webhook_url:
        return None
    body = json.dumps(payload(submission, settings.base_url), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    message = OutboxMessage(
        kind=KIND, template="submission", recipient=settings.webhook_url, subject=submission.reference, body=body
    )
    db.add(message)
    return message
