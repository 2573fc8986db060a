"""Links that leave the portal in emails, each path written once.

Pages and handlers build links from route names; a service has no request to build them from, so the
links it emails are written out here, after settings.base_url. tests/test_email_templates.py checks
each against the route it is meant to reach.
"""

from __future__ import annotations


def sign_in(base_url: str, token: str) -> str:
    return f"{base_url}/sign-in/link/{token}"


def invitation(base_url: str, token: str) -> str:
    return f"{base_url}/invitations/{token}"


def notification(base_url: str, notification_id: int) -> str:
    return f"{base_url}/notifications/{notification_id}"


def notification_review(base_url: str, notification_id: int) -> str:
    return f"{notification(base_url, notification_id)}/review"


def notification_submit(base_url: str, notification_id: int) -> str:
    return f"{notification(base_url, notification_id)}/submit"


def notification_receipt(base_url: str, notification_id: int) -> str:
    return f"{notification(base_url, notification_id)}/receipt"


def question(base_url: str, query_id: int) -> str:
    """The provider's view of their question."""
    return f"{base_url}/queries/{query_id}"


def support_question(base_url: str, query_id: int) -> str:
    """The support team's view of a question."""
    return f"{base_url}/support/queries/{query_id}"


def locations(base_url: str) -> str:
    """The organisation's locations page, where its admins see what an import of the register changed."""
    return f"{base_url}/locations"


def reminder_settings(base_url: str) -> str:
    return f"{base_url}/account/reminders"
