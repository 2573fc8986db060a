"""People identified by the provider's identifier, with JavaScript off: the question refuses a date of birth and
keeps an identifier, a notification lists the others about the same person, and support finds them by it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from . import journeys


def _person_section(page, base: str, type_key: str, identifier: str) -> int:
    notification = journeys.start(page, base, type_key)
    page.goto(f"{base}/notifications/{notification}")
    page.click("main a:has-text('The person')")
    page.fill("#person_identifier", identifier)
    page.select_option("#person_age_band", "85-94")
    if page.locator("input[name='person_role']").count():
        page.locator("input[name='person_role']").first.check()
    page.click("main button:has-text('Save and continue')")
    page.wait_for_load_state()
    return notification


def test_an_identifier_without_javascript(server, new_page):
    base = server["base"]
    page = new_page("drafter", javascript=False)
    first = _person_section(page, base, "serious_injury", "12/03/1950")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Do not use the person’s date of birth")
    assert page.input_value("#person_identifier") == "12/03/1950", "the words typed are shown back"
    page.fill("#person_identifier", "  nojs-4711 ")
    page.click("main button:has-text('Save and continue')")
    page.wait_for_load_state()

    _person_section(page, base, "abuse_or_allegation", "NOJS-4711")
    page.goto(f"{base}/notifications/{first}")
    section = page.locator("#same-person")
    expect(section).to_contain_text("Other notifications about this person")
    expect(section).to_contain_text("nojs-4711")
    section.locator("a:has-text('Abuse or allegation of abuse')").click()
    page.wait_for_load_state()
    assert re.search(r"/notifications/\d+$", page.url)
    expect(page.locator("h1")).to_contain_text("Abuse or allegation of abuse")


def test_support_finds_a_notification_by_identifier_without_javascript(server, new_page):
    base = server["base"]
    notification = journeys.submitted(new_page, base, "serious_injury")
    agent = new_page("support_agent", javascript=False)
    agent.goto(f"{base}/support")
    agent.fill("#q", "  Cr-00123")
    agent.click("form[role='search'] button")
    agent.wait_for_load_state()
    link = agent.locator(f"main a[href='/support/notifications/{notification}']")
    expect(link).to_have_count(1)
    link.click()
    agent.wait_for_load_state()
    assert agent.url.endswith(f"/support/notifications/{notification}")
