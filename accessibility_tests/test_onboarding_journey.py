"""A new provider from nothing to a submitted notification, in a real browser, with JavaScript on and off:
sign-up with the provider ID → support approves, matched to the register → the admin adds a location →
invites a drafter, a reviewer and a submitter, who accept → a notification is drafted, approved and
submitted at the new location. Support's approval is the only help the provider gets.

Each run has a portal of its own, since a provider can sign up only once. The demo register holds
Hillcrest Homes Ltd (1-102000002), registered and with no account. Each step's time is printed in the
run's summary.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from portal.notifications.registry import definitions

from .conftest import running_portal, sign_in_through_pages
from .filling import fill_section

TYPE = "serious_injury"
PROVIDER_ID = "1-102000002"
NEW_LOCATION = ("Hillcrest Lodge", "1-202000009")
TEAM = {"drafter": "dee@hillcrest.example", "reviewer": "rae@hillcrest.example", "submitter": "sol@hillcrest.example"}


def emailed_link(page, base: str, recipient: str, path: str) -> str:
    """The newest link to `path` in an email to `recipient`, read from the development outbox page."""
    page.goto(base + "/dev/outbox")
    emails = page.locator(".govuk-summary-card").filter(has_text=f"To {recipient},").filter(has_text=base + path)
    return re.search(rf"{re.escape(base)}({re.escape(path)}[^\s]+)", emails.first.inner_text()).group(1)


def shows(page, words: str) -> None:
    expect(page.locator("main")).to_contain_text(words)


def press(page, label: str) -> None:
    """Press a button or follow a link in the page's main content, and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(f"main button:visible:has-text('{label}'), main a:visible:has-text('{label}')").first.click()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
def test_a_new_provider_goes_from_sign_up_to_a_submitted_notification(javascript, browser, tmp_path, record_property):
    timings: list[tuple[str, float]] = []
    started = time.monotonic()

    def step(name: str) -> None:
        nonlocal started
        timings.append((name, time.monotonic() - started))
        started = time.monotonic()

    def person(email: str):
        context = browser.new_context(java_script_enabled=javascript)
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in_through_pages(page, base, email)
        return page

    with running_portal(tmp_path) as running:
        base = running["base"]
        step("portal started")

        # 1. The founder signs in for the first time and asks for an organisation with its provider ID.
        founder = person("founder@hillcrest.example")
        founder.goto(base + "/organisations/request")
        founder.fill("#organisation_name", "Hillcrest Homes")
        founder.fill("#provider_id", PROVIDER_ID)
        press(founder, "Send request")
        shows(founder, "Your request was sent")
        step("sign-up requested")

        # 2. Support sees the register's match and approves.
        agent = person("support@regulator.example")
        agent.goto(base + "/support")
        row = agent.locator("tr").filter(has_text=PROVIDER_ID)
        expect(row).to_contain_text("Hillcrest")  # the register's match is beside the request
        with agent.expect_navigation():
            row.locator("button:has-text('Approve')").click()
        shows(agent, "Request approved.")
        step("support approved")

        # 3. The founder, now the organisation's admin, finds the registered locations and adds a new one.
        founder.goto(base + "/organisations")
        switch = founder.locator("main form button:has-text('Hillcrest')")
        if switch.count():
            with founder.expect_navigation():
                switch.first.click()
        founder.goto(base + "/locations")
        shows(founder, "Hillcrest Annexe")  # from the register, at approval
        press(founder, "Add a location")
        founder.fill("#name", NEW_LOCATION[0])
        founder.fill("#regulator_location_id", NEW_LOCATION[1])
        founder.fill("#address_line_1", "9 Hill Road")
        founder.fill("#town", "Hilltown")
        founder.fill("#postcode", "HT1 9ZZ")
        press(founder, "Add location")
        shows(founder, f"{NEW_LOCATION[0]} added.")
        step("location added")

        # 4. The admin invites a drafter, a reviewer and a submitter; each accepts from their email.
        team = {}
        for role, email in TEAM.items():
            founder.goto(base + "/members/invite")
            founder.fill("#email", email)
            founder.check(f"input[name='grants'][value='{role}:all']")
            press(founder, "Send invitation")
            shows(founder, "Invitation sent")
            member = person(email)
            member.goto(base + emailed_link(member, base, email, "/invitations/"))
            press(member, "Accept invitation")
            shows(member, "You have joined Hillcrest Homes")
            team[role] = member
        step("team invited and joined")

        # 5. The drafter drafts at the new location and sends it for review.
        drafter = team["drafter"]
        drafter.goto(base + "/notifications/new")
        drafter.check(f"input[name='type'][value='{TYPE}']")
        drafter.locator("main label").filter(has_text=NEW_LOCATION[0]).click()
        press(drafter, "Start notification")
        task_list = drafter.url
        for section in definitions()[TYPE].sections:
            drafter.goto(task_list)
            drafter.locator("main a").filter(has_text=section.title).first.click()
            drafter.wait_for_load_state()
            fill_section(drafter, section)
            press(drafter, "Save and continue")
            expect(drafter.locator("main")).not_to_contain_text("There is a problem")
        drafter.goto(task_list)
        press(drafter, "Send for review")
        shows(drafter, "Sent for review")
        step("drafted")

        # 6. The reviewer approves; the submitter submits; the receipt names the new location.
        reviewer = team["reviewer"]
        reviewer.goto(task_list)
        press(reviewer, "Review this notification")
        press(reviewer, "Approve")
        shows(reviewer, "Approved")
        submitter = team["submitter"]
        submitter.goto(task_list)
        press(submitter, "Check and submit")
        submitter.check("input[name='declaration']")
        press(submitter, "Submit notification")
        shows(submitter, "Notification submitted")
        shows(submitter, NEW_LOCATION[1])
        step("approved and submitted")

    mode = "on" if javascript else "off"
    figures = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings)
    total = sum(seconds for _, seconds in timings)
    record_property("summary", f"onboarding journey, JavaScript {mode}: {total:.1f} s in all; {figures}")
