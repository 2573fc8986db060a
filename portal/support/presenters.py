"""What the support workspace's templates show, built in Python: table rows, error summary items."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from markupsafe import Markup

from .. import audit
from ..models import AuditEvent, Location, Membership, RoleGrant, UserSession
from ..notifications.presenters import STATUS_CLASSES, STATUS_WORDS
from ..notifications.registry import definition
from ..register import facts
from ..register.facts import LocationFacts, OrganisationFacts
from ..register.onboarding import SignupMatch
from ..roles import ROLES
from ..web.templating import format_datetime, link, tag, with_url
from .service import NotificationFound

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
    return [
        [
            {"text": location.name + (" (closed)" if location.is_closed else "")},
            {"text": location.regulator_location_id},
        ]
        for location in locations
    ]


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


def _row(key: str, value: str | Markup) -> dict[str, Any]:
    return {"key": {"text": key}, "value": {"html": value} if isinstance(value, Markup) else {"text": value}}


def _lines(lines: Iterable[str]) -> Markup:
    """Several lines in one summary value, each escaped."""
    return Markup("<br>").join(lines)


def _differences(found: list[str], classes: str = "") -> Markup:
    items = Markup("").join(Markup("<li>{}</li>").format(difference) for difference in found)
    return Markup('<ul class="govuk-list govuk-list--bullet{}">{}</ul>').format(classes, items)


def register_warning(register: OrganisationFacts) -> str:
    """One sentence saying where the portal differs from the register, or "" where it does not."""
    where = []
    if register.differences:
        where.append("about the provider")
    if register.location_differences:
        count = register.location_differences
        where.append(f"at {count} location{'' if count == 1 else 's'}")
    return f"The portal differs from the register {' and '.join(where)}." if where else ""


_SMALL = Markup('<p class="govuk-body-s govuk-!-margin-bottom-1">{}</p>')


def signup_match_html(match: SignupMatch) -> Markup:
    """What the register has for a sign-up request's provider ID: its name, address and open locations,
    which approval creates, then how the request differs."""
    parts = []
    if match.provider is not None:
        parts.append(Markup('<p class="govuk-body-s govuk-!-margin-bottom-1">{}</p>').format(match.provider.name))
        if match.provider.address_lines:
            parts.append(
                Markup('<p class="govuk-body-s govuk-!-margin-bottom-1">{}</p>').format(
                    ", ".join(match.provider.address_lines)
                )
            )
        if match.locations:
            count = len(match.locations)
            parts.append(
                _SMALL.format(
                    f"{count} open registered location{'' if count == 1 else 's'}; "
                    "approving adds each one no other organisation has:"
                )
            )
            items = Markup("").join(
                Markup("<li>{} ({}){}</li>").format(
                    row.name, row.location_id, ", another organisation’s" if row.location_id in match.taken else ""
                )
                for row in match.locations
            )
            parts.append(Markup('<ul class="govuk-list govuk-list--bullet govuk-!-font-size-16">{}</ul>').format(items))
    if match.differences:
        parts.append(Markup('<p class="govuk-body-s govuk-!-margin-bottom-1"><strong>Differences:</strong></p>'))
        parts.append(_differences(match.differences, " govuk-!-font-size-16"))
    elif match.provider is not None:
        parts.append(Markup('<p class="govuk-body-s">Matches the request.</p>'))
    return Markup("").join(parts)


def register_provider_rows(register: OrganisationFacts) -> list[dict[str, Any]]:
    """The register's facts about the organisation's provider ID, then how the portal differs."""
    provider = register.provider
    rows = []
    if provider is not None:
        rows += [
            _row("Registered name", provider.name),
            _row("Registered address", _lines(provider.address_lines) if provider.address_lines else "None"),
            _row("Nominated individual", provider.nominated_individual or "None"),
            _row("Status", facts.status_words(provider)),
        ]
    rows.append(_row("Differences", _differences(register.differences) if register.differences else "None"))
    return rows


def register_location_rows(place: LocationFacts) -> list[dict[str, Any]]:
    """One location as the register has it, then how the portal differs."""
    registered = place.registered
    rows = []
    if registered is not None:
        rows += [
            _row("Registered name", registered.name),
            _row("Registered address", _lines(registered.address_lines) if registered.address_lines else "None"),
            _row("Registered manager", registered.registered_manager or "None"),
            _row("Service types", _lines(registered.service_types) if registered.service_types else "None"),
            _row("Status", facts.status_words(registered)),
        ]
    rows.append(_row("Differences", _differences(place.differences) if place.differences else "None"))
    return rows


def found_notification_rows(url: Url, found: Iterable[NotificationFound]) -> Rows:
    """Notifications a search found, across organisations: each linked to support's page for it."""
    rows: Rows = []
    for each in found:
        notification = each.notification
        kind = definition(notification.type_key)
        status = STATUS_WORDS.get(notification.status, notification.status)
        rows.append(
            [
                {
                    "html": link(
                        url("support.notification_page", notification_id=notification.id),
                        notification.reference or "Not sent yet",
                    )
                },
                {"text": notification.organisation.name},
                {"text": f"{kind.title if kind else notification.type_key}, {notification.location.name}"},
                {"html": tag(status, STATUS_CLASSES.get(notification.status, ""))},
                {"text": each.found_by},
            ]
        )
    return rows


TEMPLATE_GLOBALS = {
    "found_notification_rows": with_url(found_notification_rows),
    "register_warning": register_warning,
    "signup_match_html": signup_match_html,
    "register_provider_rows": register_provider_rows,
    "register_location_rows": register_location_rows,
    "help_error_items": help_error_items,
    "event_rows": event_rows,
    "location_rows": location_rows,
    "member_rows": with_url(member_rows),
    "membership_rows": with_url(membership_rows),
    "session_rows": session_rows,
}
