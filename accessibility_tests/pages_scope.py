"""Page states of scope: an organisation admin for one location, and the forms that refuse what is beyond reach."""

from __future__ import annotations

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, start_draft, then, visit


def _admin_for_one_location(page, base, new_page):
    """The page's person becomes an organisation admin for Riverside House, and a drafter for all locations,
    through an invitation they accept: their own page then shows a role they cannot change."""
    from .conftest import PEOPLE

    page.goto(base + "/members")
    if page.url.endswith("/members"):
        return  # an earlier state made them one already
    admin = new_page("organisation_admin")
    admin.goto(base + "/members/invite")
    admin.fill("#email", PEOPLE["location_admin"])
    admin.get_by_role("group", name="Organisation admin", exact=True).get_by_label("Riverside House").check()
    admin.get_by_role("group", name="Drafter", exact=True).get_by_label("All locations").check()
    admin.click("main form button:has-text('Send invitation')")
    admin.wait_for_load_state()
    admin.goto(base + "/dev/outbox")
    link = admin.locator("[data-outbox-body] a[href*='/invitations/']").first.get_attribute("href")
    page.goto(link)
    page.click("main button:has-text('Accept invitation')")
    page.wait_for_load_state()


def _own_member_page(page, base, new_page):
    page.goto(base + "/members")
    page.click("main table a:has-text('location.admin@')")
    page.wait_for_load_state()


def _ask_for_all_locations(page, base, new_page):
    """A form sent with a grant the page does not offer: for all locations, from an admin for one."""
    page.evaluate(
        """() => {
        const box = document.querySelector('input[name=grants]');
        const wider = box.cloneNode();
        wider.value = 'organisation_admin:all'; wider.checked = true; wider.id = 'tampered'; wider.hidden = true;
        box.form.appendChild(wider);
    }"""
    )
    page.click("main form button:has-text('Save roles')")
    page.wait_for_load_state()


def _assign_to_someone_not_offered(page, base, new_page):
    page.evaluate("() => { const option = document.querySelector('#assignee option'); option.value = '999999'; }")
    page.select_option("#assignee", index=0)
    page.click("main form button:has-text('Assign')")
    page.wait_for_load_state()


STATES_SCOPE: list = [
    PageState(
        "members, as an admin for one location",
        "/members",
        "location_admin",
        then(_admin_for_one_location, visit("/members")),
    ),
    PageState(
        "invite, as an admin for one location",
        "/members/invite",
        "location_admin",
        then(_admin_for_one_location, visit("/members/invite")),
    ),
    PageState(
        "member, roles elsewhere kept",
        "/members/{member_id}",
        "location_admin",
        then(_admin_for_one_location, _own_member_page),
    ),
    PageState(
        "member, a role beyond reach refused",
        "/members/{member_id}",
        "location_admin",
        then(_admin_for_one_location, _own_member_page, _ask_for_all_locations),
    ),
    PageState(
        "task list, an assignee not offered",
        "/notifications/{notification_id}",
        "drafter",
        then(start_draft(), _assign_to_someone_not_offered),
    ),
]
