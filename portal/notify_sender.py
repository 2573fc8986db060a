"""Email through GOV.UK Notify, with its official client.

Notify sends only from templates, so one template carries every message: its subject is
((subject)) and its body ((body)), and each outbox message fills both in.
"""

from __future__ import annotations

import threading

from notifications_python_client.notifications import NotificationsAPIClient

from .models import OutboxMessage
from .settings import Settings

TIMEOUT_SECONDS = 30


class NotifySender:
    def __init__(self, settings: Settings):
        if not settings.notify_api_key or not settings.notify_template_id:
            raise ValueError("the notify sender needs PORTAL_NOTIFY_API_KEY and PORTAL_NOTIFY_TEMPLATE_ID")
        self.settings = settings
        # The client keeps a requests.Session and says it is not thread-safe; a worker may run several threads.
        self._local = threading.local()

    def _client(self) -> NotificationsAPIClient:
        client = getattr(self._local, "client", None)
        if client is None:
            options = {"base_url": self.settings.notify_base_url} if self.settings.notify_base_url else {}
            client = NotificationsAPIClient(self.settings.notify_api_key, timeout=TIMEOUT_SECONDS, **options)
            self._local.client = client
        return client

    def send(self, message: OutboxMessage) -> None:
        # Any error the client raises leaves the message in the outbox, to be tried again with backoff.
        self._client().send_email_notification(
            email_address=message.recipient,
            template_id=self.settings.notify_template_id,
            personalisation={"subject": message.subject, "body": message.body},
            # Shows in Notify's dashboard and API, so one delivery can be traced back to its outbox row.
            reference=f"outbox-{message.id}",
        )
