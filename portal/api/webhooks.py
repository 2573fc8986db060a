"""Each submission pushed to the regulator's receiver as signed JSON, through the outbox with its retries.

The message is written in the submit transaction, so a submission that rolls back is never announced
and one that commits always is. The signature is made when sending, so the secret never sits in the
database.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from sqlalchemy.orm import Session

from ..models import OutboxMessage, Submission
from ..settings import Settings
from .service import detail

KIND = "webhook"
EVENT = "submission.created"
TIMEOUT_SECONDS = 10


class WebhookFailed(Exception):
    pass


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


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, settings: Settings):
        self.secret = settings.webhook_secret

    def send(self, message: OutboxMessage) -> None:
        if not self.secret:
            # Sending unsigned would teach the receiver to accept anything; wait for the secret instead.
            raise WebhookFailed("PORTAL_WEBHOOK_SECRET is not set")
        body = message.body.encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "portal-webhook/1",
            "x-portal-signature": signature(self.secret, body),
            # The same on every retry of this message, so the receiver can drop one it has already taken.
            "x-portal-delivery": str(message.id),
            "x-portal-event": EVENT,
        }
        # Redirects are not followed: they could carry signed personal data to somewhere not configured.
        response = httpx.post(
            message.recipient, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False
        )
        if not 200 <= response.status_code < 300:
            raise WebhookFailed(f"the receiver answered {response.status_code}")
