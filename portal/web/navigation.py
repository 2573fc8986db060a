"""The header's menu: the sections a person may use, as GOV.UK service navigation items.

Sections are named by route, never by path, and each is shown only to those holding its permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..permissions import Permission


@dataclass(frozen=True)
class Section:
    route: str
    text: str
    permission: Permission | None = None
    # Most sections stay highlighted on the pages below them (a member under Members); some are one page.
    covers_pages_below: bool = True


PROVIDER_SECTIONS = (
    Section("dashboard.dashboard", "Home", covers_pages_below=False),
    Section("notifications.notification_list", "Notifications", Permission.NOTIFICATION_VIEW),
    Section("members.members", "Members", Permission.MEMBERS_VIEW),
    Section("locations.locations_list", "Locations", Permission.LOCATIONS_MANAGE),
    Section("members.history", "History", Permission.AUDIT_VIEW, covers_pages_below=False),
    Section("queries.list_queries", "Questions", Permission.QUERY_ASK),
)
REGULATOR_SECTIONS = (Section("support.workspace", "Support workspace"),)
ACCOUNT_SECTIONS = (
    Section("accounts.choose_organisation", "Organisations"),
    Section("accounts.account", "Your account", covers_pages_below=False),
)
SIGNED_OUT_SECTIONS = (Section("accounts.sign_in", "Sign in"),)


def sections_for(auth: Any) -> list[Section]:
    if auth is None:
        return list(SIGNED_OUT_SECTIONS)
    shown: list[Section] = []
    if auth.organisation is not None and not auth.is_regulator:
        shown += [s for s in PROVIDER_SECTIONS if s.permission is None or auth.has(s.permission)]
    elif auth.is_regulator:
        shown += REGULATOR_SECTIONS
    return shown + list(ACCOUNT_SECTIONS)


def navigation(url: Callable[[str], str], auth: Any, current_path: str) -> list[dict[str, Any]]:
    """Items for govukServiceNavigation, the current section marked active."""
    items = []
    for section in sections_for(auth):
        href = url(section.route)
        active = current_path.startswith(href) if section.covers_pages_below else current_path == href
        items.append({"href": href, "text": section.text, "active": active})
    return items
