"""Sending the regulator's webhook: each message POSTed as it was written, signed when it is sent.

Beside the outbox rather than in portal/api, so the outbox can send webhooks without importing the API
package; portal/regulator_view.py builds them from submissions.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from .models import OutboxMessage
from .settings import Settings

EVENT = "submission.created"
TIMEOUT_SECONDS = 10


class WebhookFailed(Exception):
    pass


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
