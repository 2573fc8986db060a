"""Page states of the locations pages: the list, adding (with its errors), changing, closing, and a closed one.

The states that close a location add one of their own first: the harness shares one database, and the demo's
locations are where the other states start their notifications.
"""

from __future__ import annotations

import uuid

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, fill_and_submit, submit_empty, visit

ADDRESS = {"#address_line_1": "3 Orchard Row", "#town": "Riverside", "#postcode": "RV2 3CD"}


def _fresh_location(page, base) -> str:
    """Adds a location through the form; the path of its row's "Change" link."""
    ident = f"1-9{uuid.uuid4().int % 10**9:09d}"
    page.goto(base + "/locations/new")
    page.fill("#name", "Orchard House")
    page.fill("#regulator_location_id", ident)
    for selector, value in ADDRESS.items():
        page.fill(selector, value)
    page.click("main form button:has-text('Add location')")
    page.wait_for_load_state()
    return page.locator(f"div[data-location='{ident}'] a:has-text('Change')").get_attribute("href")


def _change_page(page, base, new_page):
    page.goto(base + _fresh_location(page, base))


def _change_with_errors(page, base, new_page):
    page.goto(base + _fresh_location(page, base))
    page.fill("#name", "")
    page.fill("#postcode", "not a postcode")
    page.click("main form button:has-text('Save changes')")
    page.wait_for_load_state()


def _close_page(page, base, new_page):
    page.goto(base + _fresh_location(page, base).replace("/change", "/close"))


def _closed_location(page, base, new_page):
    change = _fresh_location(page, base)
    page.goto(base + change.replace("/change", "/close"))
    page.click("main form button:has-text('Close location')")
    page.wait_for_load_state()
    page.goto(base + change)


def _drafter_whose_only_location_closed(page, base, new_page):
    """Someone invited as a drafter at a new location, which then closes: the start page has nowhere to offer."""
    from .conftest import sign_in_through_pages

    admin = new_page("organisation_admin")
    change = _fresh_location(admin, base)
    location_id = change.split("/")[2]
    email = f"closed.{uuid.uuid4().hex[:8]}@example.com"
    admin.goto(base + "/members/invite")
    admin.fill("#email", email)
    admin.check(f"input[name='grants'][value='drafter:{location_id}']")
    admin.click("main form button:has-text('Send invitation')")
    admin.wait_for_load_state()
    admin.goto(base + "/dev/outbox")
    link = admin.locator("[data-outbox-body] a[href*='/invitations/']").first.get_attribute("href")
    sign_in_through_pages(page, base, email)
    page.goto(link)
    page.click("main button:has-text('Accept invitation')")
    page.wait_for_load_state()
    admin.goto(base + change.replace("/change", "/close"))
    admin.click("main form button:has-text('Close location')")
    admin.wait_for_load_state()
    page.goto(base + "/notifications/new")


def _list_with_a_closed_location(page, base, new_page):
    _closed_location(page, base, new_page)
    page.goto(base + "/locations")


STATES_LOCATIONS: list = [
    PageState("locations", "/locations", "organisation_admin", visit("/locations")),
    PageState("locations, one closed", "/locations", "organisation_admin", _list_with_a_closed_location),
    PageState("add a location", "/locations/new", "organisation_admin", visit("/locations/new")),
    PageState("add a location, empty", "/locations/new", "organisation_admin", submit_empty("/locations/new")),
    PageState(
        "add a location, malformed ID",
        "/locations/new",
        "organisation_admin",
        fill_and_submit("/locations/new", {"#name": "Orchard House", "#regulator_location_id": "RXX-12", **ADDRESS}),
    ),
    PageState(
        "add a location, ID already used",
        "/locations/new",
        "organisation_admin",
        fill_and_submit(
            "/locations/new", {"#name": "Orchard House", "#regulator_location_id": "1-201000001", **ADDRESS}
        ),
    ),
    PageState("change a location", "/locations/{location_id}/change", "organisation_admin", _change_page),
    PageState(
        "change a location, errors", "/locations/{location_id}/change", "organisation_admin", _change_with_errors
    ),
    PageState("close a location", "/locations/{location_id}/close", "organisation_admin", _close_page),
    PageState("a closed location", "/locations/{location_id}/change", "organisation_admin", _closed_location),
    PageState(
        "start a notification, no open location", "/notifications/new", None, _drafter_whose_only_location_closed
    ),
]
