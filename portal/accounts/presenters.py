"""Table rows for the account pages."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import SignupRequest, UserSession
from ..web.templating import format_datetime


def request_rows(requests: Iterable[SignupRequest]) -> list[list[dict[str, str]]]:
    return [
        [{"text": item.organisation_name}, {"text": item.provider_id}, {"text": item.status.capitalize()}]
        for item in requests
    ]


def device_rows(sessions: Iterable[UserSession], current_session_id: int) -> list[list[dict[str, str]]]:
    """Where the person is signed in, the device they are using now named as such."""
    return [
        [
            {"text": format_datetime(row.created_at)},
            {"text": format_datetime(row.last_seen_at)},
            {"text": row.method},
            {"text": "This device" if row.id == current_session_id else row.user_agent[:60]},
        ]
        for row in sessions
    ]


TEMPLATE_GLOBALS = {"request_rows": request_rows, "device_rows": device_rows}
