"""The same journeys with JavaScript turned off reach the same outcome.

The whole draft-review-submit journey without JavaScript is in test_journey.py; these cover accounts.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import ARTIFACTS, sign_in_through_pages


def test_sign_in_and_invite_without_javascript(server, browser):
    base = server["base"]
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_through_pages(page, base, "admin@riverside.example")
    assert page.url == base + "/dashboard"
    page.goto(base + "/members/invite")
    page.fill("#email", "nojs.colleague@example.com")
    page.check("input[name='grants'][value='drafter:all']")
    page.click("main form button:has-text('Send invitation')")
    expect(page.locator("body")).to_contain_text("Invitation sent")

    invitee = browser.new_context(java_script_enabled=False).new_page()
    sign_in_through_pages(invitee, base, "nojs.colleague@example.com")
    invitee.goto(base + "/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/invitations/[^"]+)"', invitee.content()).group(1)
    invitee.goto(base + link)
    invitee.click("main button:has-text('Accept invitation')")
    expect(invitee.locator("body")).to_contain_text("You have joined Riverside Care Ltd")
    context.close()


def test_conditional_questions_show_without_javascript(server, new_page):
    page = new_page("drafter", javascript=False)
    page.goto(server["base"] + "/notifications/new")
    page.check("input[name='type'][value='dols_outcome']")
    page.locator("input[name='location']").first.check()
    page.click("main form button:has-text('Start notification')")
    page.click("main a:has-text('About you')")
    assert page.is_visible("#other_contact"), "a follow-up question is on the page for people without JavaScript"


def test_add_change_and_close_a_location_without_javascript(server, browser):
    base = server["base"]
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_through_pages(page, base, "admin@riverside.example")
    page.goto(base + "/locations/new")
    page.fill("#name", "Brook Lodge")
    page.fill("#regulator_location_id", "1-40400")
    page.click("main form button:has-text('Add location')")
    expect(page.locator("body")).to_contain_text("There is a problem")  # the address is missing; what was typed stays
    assert page.input_value("#regulator_location_id") == "1-40400"
    page.fill("#address_line_1", "5 Brook Street")
    page.fill("#town", "Riverside")
    page.fill("#postcode", "rv4 5ee")
    page.click("main form button:has-text('Add location')")
    expect(page.locator("body")).to_contain_text("Brook Lodge added.")
    page.click("div[data-location='1-40400'] a:has-text('Change')")
    page.fill("#name", "Brook Lodge Care Home")
    page.click("main form button:has-text('Save changes')")
    expect(page.locator("body")).to_contain_text("Brook Lodge Care Home changed.")
    page.click("div[data-location='1-40400'] a:has-text('Close')")
    page.click("main form button:has-text('Close location')")
    expect(page.locator("body")).to_contain_text("Brook Lodge Care Home is closed.")
    assert "RV4 5EE" in page.locator("div[data-location='1-40400']").inner_text()
    context.close()


def test_record_the_registered_people_without_javascript(server, browser):
    """The registered manager's and the nominated individual's radios are plain forms, and the saved choice is
    shown checked, without JavaScript."""
    base = server["base"]
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_through_pages(page, base, "admin@riverside.example")
    page.goto(base + "/locations")
    page.click("div[data-location='1-201000001'] a:has-text('Change')")
    expect(page.locator("main")).to_contain_text("names Morgan Manager as this location’s registered manager")
    page.get_by_label("Ada Admin").check()
    page.click("main form button:has-text('Save registered manager')")
    expect(page.locator("body")).to_contain_text("Registered manager saved.")
    assert page.get_by_label("Ada Admin").is_checked()
    page.goto(base + "/organisation/settings")
    page.get_by_label("Ada Admin").check()
    page.click("main form button:has-text('Save nominated individual')")
    expect(page.locator("body")).to_contain_text("Nominated individual saved.")

    assert page.get_by_label("Ada Admin").is_checked()

    # Back as they were, so the other tests meet the demo's people unlinked.
    page.get_by_label("Not a member of this portal").check()
    page.click("main form button:has-text('Save nominated individual')")
    expect(page.locator("body")).to_contain_text("Nominated individual saved.")
    page.goto(base + "/locations")
    page.click("div[data-location='1-201000001'] a:has-text('Change')")
    page.get_by_label("Not a member of this portal").check()
    page.click("main form button:has-text('Save registered manager')")
    expect(page.locator("body")).to_contain_text("Registered manager saved.")
    context.close()


def test_enter_reset_and_leave_practice_mode_without_javascript(server, browser):
    # pages first: it gathers every page state and imports pages_kept_input itself, which imports pages.
    from . import journeys, pages  # noqa: F401
    from .pages_kept_input import new_drafter, start_session_for

    base = server["base"]
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    start_session_for(page, base, new_drafter("practice-nojs"))
    page.goto(base + "/dashboard")
    page.click("main form button:has-text('Try practice mode')")
    expect(page.locator("body")).to_contain_text("Nothing you do here is sent to")
    assert page.title().startswith("Practice mode: ")
    # A drafter alone, in practice: drafts, approves and submits the notification through the pages' forms.
    notification = journeys.complete(page, base, "dols_outcome")
    page.goto(f"{base}/notifications/{notification}")
    page.click("main form button:has-text('Send for review')")
    page.wait_for_load_state()
    page.goto(f"{base}/notifications/{notification}/review")
    page.click("main form button:has-text('Approve')")
    page.wait_for_load_state()
    page.goto(f"{base}/notifications/{notification}/submit")
    page.check("input[name='declaration']")
    page.click("main form button:has-text('Submit practice notification')")
    expect(page.locator("h1")).to_have_text("Practice notification not sent")
    page.click("a:has-text('Reset practice mode')")
    page.click("main form button:has-text('Reset practice mode')")
    expect(page.locator("body")).to_contain_text("Practice mode reset:")
    assert page.request.get(f"{base}/notifications/{notification}").status == 404
    page.click("button:has-text('Leave practice mode')")
    expect(page.locator("body")).to_contain_text("You have left practice mode.")
    assert not page.title().startswith("Practice mode")
    context.close()


def test_change_a_notifications_location_without_javascript(server, new_page):
    page = new_page("drafter", javascript=False)
    page.goto(server["base"] + "/notifications/new")
    page.check("input[name='type'][value='dols_outcome']")
    page.check("input[name='location'] >> nth=0")
    page.click("main form button:has-text('Start notification')")
    page.wait_for_url(re.compile(r".*/notifications/[0-9]+$"))
    before = page.locator("main .govuk-summary-list").first.inner_text()
    page.click("main a[href$='/location']")
    expect(page.locator("h1")).to_have_text("Change the location")
    page.check("input[name='location']:not(:checked) >> nth=0")
    chosen = page.locator("input[name='location']:checked + label").inner_text().strip()
    page.click("main form button:has-text('Change location')")
    expect(page.locator("body")).to_contain_text("The location was changed.")
    after = page.locator("main .govuk-summary-list").first.inner_text()
    assert chosen in after and after != before


def test_short_notice_warning_overdue_flag_and_reminder_settings_without_javascript(server, new_page):
    """A planned absence starting in 10 days: the warning and the overdue flag come with the page, no script;
    and reminders are turned off and on again with plain form posts."""
    from datetime import date, timedelta

    base = server["base"]
    page = new_page("drafter", javascript=False)
    page.goto(base + "/notifications/new")
    page.check("input[name='type'][value='manager_absence_planned']")
    page.locator("input[name='location']").first.check()
    page.click("main form button:has-text('Start notification')")
    task_list = page.url
    page.click("main a:has-text('The absence')")
    start = date.today() + timedelta(days=10)
    page.fill("[name='absence_start-day']", str(start.day))
    page.fill("[name='absence_start-month']", str(start.month))
    page.fill("[name='absence_start-year']", str(start.year))
    page.click("main button:has-text('Save and come back later')")
    page.goto(task_list)
    expect(page.locator(".govuk-warning-text")).to_contain_text("This starts in less than 28 days")
    expect(page.locator("main")).to_contain_text("This notification is overdue")
    page.goto(base + "/dashboard")
    expect(page.locator(".govuk-warning-text")).to_contain_text("past")
    assert page.locator(f"main a[href='{task_list.removeprefix(base)}']").count() == 1

    page.goto(base + "/account/reminders")
    page.check("input[name='reminders'][value='off']")
    page.click("main button:has-text('Save')")
    expect(page.locator("body")).to_contain_text("We will not email you reminders")
    page.goto(base + "/account/reminders")
    assert page.is_checked("input[name='reminders'][value='off']")
    page.check("input[name='reminders'][value='on']")
    page.click("main button:has-text('Save')")
    expect(page.locator("body")).to_contain_text("We will email you before notifications are due")


def test_which_notification_do_i_need_without_javascript(server, new_page):
    page = new_page("drafter", javascript=False)
    page.goto(server["base"] + "/dashboard")
    page.click("main a:has-text('Which notification do I need?')")
    page.click("main button:has-text('Continue')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select an answer")
    for choice in ("Someone using the service was seriously injured", "Yes", "Yes"):
        page.get_by_label(choice, exact=True).check()
        page.click("main button:has-text('Continue')")
    expect(page.locator("h1")).to_have_text("You need to send 2 notifications")
    page.screenshot(path=str(ARTIFACTS / "which-notification-two.png"), full_page=True)
    page.locator("main a.govuk-button").nth(1).click()
    expect(page.locator("input[name='type'][value='abuse_or_allegation']")).to_be_checked()
    page.locator("input[name='location']").first.check()
    page.click("main button:has-text('Start notification')")
    expect(page.locator("h1")).to_contain_text("Abuse or allegation of abuse")
