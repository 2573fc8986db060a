"""Page states for the support workspace's search, read-only pages and help-action forms."""

from __future__ import annotations

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, press, then, visit


def _found(query: str, link_prefix: str):
    """Searches, then opens the first result of one kind, as an agent does."""

    def go(page, base, new_page):
        page.goto(f"{base}/support/search?q={query}")
        href = page.locator(f"main a[href^='{link_prefix}']").first.get_attribute("href")
        page.goto(base + href)

    return go


def _submitted_notification(page, base, new_page):
    from . import journeys

    notification = journeys.submitted(new_page, base, "dols_outcome")
    page.goto(f"{base}/support/notifications/{notification}")


_ORGANISATION = _found("Riverside%20Care", "/support/organisations/")
_PERSON = _found("drafter@riverside.example", "/support/people/")

STATES_SUPPORT: list = [
    PageState("support search, results", "/support/search", "support_agent", visit("/support/search?q=riverside")),
    PageState(
        "support search, nothing found", "/support/search", "support_agent", visit("/support/search?q=no-such-thing")
    ),
    PageState("support search, empty", "/support/search", "support_agent", visit("/support/search?q=")),
    PageState("support organisation", "/support/organisations/{organisation_id}", "support_agent", _ORGANISATION),
    PageState(
        "support organisation, correction errors",
        "/support/organisations/{organisation_id}",
        "support_agent",
        then(_ORGANISATION, press("Save correction")),
    ),
    PageState("support person", "/support/people/{user_id}", "support_agent", _PERSON),
    PageState(
        "support person, reason missing",
        "/support/people/{user_id}",
        "support_agent",
        then(_PERSON, press("Sign out everywhere")),
    ),
    PageState(
        "support notification", "/support/notifications/{notification_id}", "support_agent", _submitted_notification
    ),
]
