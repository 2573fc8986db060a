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


def _organisation_not_in_the_register(page, base, new_page):
    """An organisation whose provider ID and location the register does not have: no page makes one, so
    it is written straight to the server's database. (The demo organisation's page shows the register's
    facts with the other kinds of difference: see portal/demo.py.)"""
    import uuid

    from portal.db import make_engine, make_session_factory, transaction
    from portal.models import Location, Organisation

    from .conftest import RUNNING

    number = uuid.uuid4().int % 10**9
    engine = make_engine(RUNNING["database_url"])
    with transaction(make_session_factory(engine)) as db:
        organisation = Organisation(name=f"Unregistered Care {number}", provider_id=f"1-8{number:09d}")
        organisation.locations.append(Location(name="Hill Top", regulator_location_id=f"1-7{number:09d}"))
        db.add(organisation)
        db.flush()
        organisation_id = organisation.id
    engine.dispose()
    page.goto(f"{base}/support/organisations/{organisation_id}#register")


def _signups_matched_to_the_register(page, base, new_page):
    """Two people ask for accounts, one for a provider the demo register has (with its locations), one for a
    provider it does not; support's workspace shows both matches."""
    import uuid

    from .conftest import sign_in_through_pages

    for provider_id, name in (("1-102000002", "Hillcrest Homes"), ("1-199999999", "Nowhere Care")):
        asker = new_page(None)
        sign_in_through_pages(asker, base, f"asker.{uuid.uuid4().hex[:8]}@example.com")
        asker.goto(base + "/organisations/request")
        asker.fill("#organisation_name", name)
        asker.fill("#provider_id", provider_id)
        asker.click("main form button:has-text('Send request')")
        asker.wait_for_load_state()
    page.goto(f"{base}/support")


_ORGANISATION = _found("Riverside%20Care", "/support/organisations/")
_PERSON = _found("drafter@riverside.example", "/support/people/")

STATES_SUPPORT: list = [
    PageState(
        "support workspace, sign-up requests matched to the register",
        "/support",
        "support_agent",
        _signups_matched_to_the_register,
    ),
    PageState("support search, results", "/support/search", "support_agent", visit("/support/search?q=riverside")),
    PageState(
        "support search, nothing found", "/support/search", "support_agent", visit("/support/search?q=no-such-thing")
    ),
    PageState("support search, empty", "/support/search", "support_agent", visit("/support/search?q=")),
    PageState("support organisation", "/support/organisations/{organisation_id}", "support_agent", _ORGANISATION),
    PageState(
        "support organisation, not in the register",
        "/support/organisations/{organisation_id}",
        "support_agent",
        _organisation_not_in_the_register,
    ),
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
