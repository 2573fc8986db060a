"""The same journeys with JavaScript turned off reach the same outcome.

The whole draft-review-submit journey without JavaScript is in test_journey.py; these cover accounts.
"""

from __future__ import annotations

import re

from .conftest import sign_in_through_pages


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
    assert "Invitation sent" in page.content()

    invitee = browser.new_context(java_script_enabled=False).new_page()
    sign_in_through_pages(invitee, base, "nojs.colleague@example.com")
    invitee.goto(base + "/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/invitations/[^"]+)"', invitee.content()).group(1)
    invitee.goto(base + link)
    invitee.click("main button:has-text('Accept invitation')")
    assert "You have joined Riverside Care Ltd" in invitee.content()
    context.close()


def test_conditional_questions_show_without_javascript(server, new_page):
    page = new_page("drafter", javascript=False)
    page.goto(server["base"] + "/notifications/new")
    page.check("input[name='type'][value='dols_outcome']")
    page.locator("input[name='location']").first.check()
    page.click("main form button:has-text('Start notification')")
    page.click("main a:has-text('About you')")
    assert page.is_visible("#other_contact"), "a follow-up question is on the page for people without JavaScript"
