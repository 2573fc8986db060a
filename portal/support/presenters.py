"""What the support workspace's templates show, built in Python: table rows, error summary items."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import audit
from ..models import AuditEvent, Location, Membership, RoleGrant, UserSession
from ..roles import ROLES
from ..web.templating import format_datetime, link, with_url

Url = Callable[..., str]
Rows = list[list[dict[str, Any]]]


def help_error_items(
    errors: Mapping[str, str], ids: Mapping[str, str], failed: str, linked: bool = True
) -> list[dict[str, str]]:
    """Error summary items for a help action's form: each links to its field, the reason box by default."""
    if not linked:
        return [{"text": message} for message in errors.values()]
    return [{"text": message, "href": "#" + ids.get(name, f"reason-{failed}")} for name, message in errors.items()]


def event_rows(events: Iterable[AuditEvent]) -> Rows:
    return [
        [
            {"text": format_datetime(event.occurred_at)},
            {"text": event.actor.email if event.actor else "The system"},
            {"text": audit.describe(event)},
        ]
        for event in events
    ]


def location_rows(locations: Iterable[Location]) -> Rows:
    return [[{"text": location.name}, {"text": location.regulator_location_id}] for location in locations]


def _role_words(grant: RoleGrant, where: str | None) -> str:
    role = ROLES.get(grant.role)
    title = role.title if role else grant.role
    return f"{title} at {where}" if where else title


def member_rows(url: Url, members: Iterable[Membership], locations: Iterable[Location]) -> Rows:
    """An organisation's members, each linked to their own page, with their roles in words."""
    names = {location.id: location.name for location in locations}
    rows: Rows = []
    for member in members:
        roles = [
            _role_words(grant, names.get(grant.location_id, "a location") if grant.location_id else None)
            for grant in member.grants
        ]
        rows.append(
            [
                {"html": link(url("support.person_page", user_id=member.user.id), member.user.email)},
                {"text": ", ".join(roles)},
                {"text": "Active" if member.user.active else "Deactivated"},
            ]
        )
    return rows


def membership_rows(url: Url, memberships: Iterable[Membership]) -> Rows:
    """A person's organisations, each linked to its page, with the roles held there."""
    rows: Rows = []
    for membership in memberships:
        roles = [_role_words(grant, grant.location.name if grant.location else None) for grant in membership.grants]
        organisation = membership.organisation
        rows.append(
            [
                {"html": link(url("support.organisation_page", organisation_id=organisation.id), organisation.name)},
                {"text": ", ".join(roles)},
            ]
        )
    return rows


def session_rows(sessions: Iterable[UserSession]) -> Rows:
    return [
        [
            {"text": format_datetime(session.created_at)},
            {"text": format_datetime(session.last_seen_at)},
            {"text": session.method},
            {"text": session.ip_address},
        ]
        for session in sessions
    ]


TEMPLATE_GLOBALS = {
    "help_error_items": help_error_items,
    "event_rows": event_rows,
    "location_rows": location_rows,
    "member_rows": with_url(member_rows),
    "membership_rows": with_url(membership_rows),
    "session_rows": session_rows,
}
