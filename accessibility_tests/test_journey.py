"""The whole journey in a real browser, with JavaScript on and again off, axe on every page along the way:
the drafter drafts; the reviewer asks for changes and the drafter makes them; the reviewer approves and the
submitter submits; the receipt email is in the outbox and the regulator's API returns the submission.
"""

from __future__ import annotations

import re

import pytest

from portal.notifications.registry import definitions

from .filling import fill_section
from .test_axe_scan import describe, scan

TYPE = "dols_outcome"


def checked(page, where: str, scanner=None) -> None:
    """axe needs script to run. For a page without JavaScript, its HTML is scanned in a scripted page
    on the same origin; the copied document's inline script carries a stale nonce and is blocked, so
    the scan sees the page as the person without JavaScript does."""
    target = page
    if scanner is not None:
        html = page.content()
        base = re.match(r"https?://[^/]+", page.url).group(0)
        scanner.goto(base + "/help")
        scanner.set_content(html)
        target = scanner
    violations = scan(target)
    assert violations == [], f"{where} ({page.url}):\n{describe(violations)}"


def click(page, text: str) -> None:
    page.locator(f"main button:has-text('{text}'), main a:has-text('{text}')").first.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
def test_draft_review_change_approve_submit_and_deliver(javascript, server, new_page):
    base = server["base"]
    kind = definitions()[TYPE]
    scanner = None if javascript else new_page()
    drafter = new_page("drafter", javascript=javascript)
    reviewer = new_page("reviewer", javascript=javascript)
    submitter = new_page("submitter", javascript=javascript)

    # 1. The drafter drafts.
    drafter.goto(base + "/dashboard")
    checked(drafter, "dashboard", scanner)
    click(drafter, "Start a new notification")
    drafter.check(f"input[name='type'][value='{TYPE}']")
    drafter.locator("input[name='location']").first.check()
    checked(drafter, "start", scanner)
    click(drafter, "Start notification")
    task_list = drafter.url
    checked(drafter, "task list", scanner)
    for section in kind.sections:
        drafter.goto(task_list)
        drafter.click(f"main a:has-text('{section.title}')")
        fill_section(drafter, section)
        checked(drafter, f"section {section.key}", scanner)
        click(drafter, "Save and continue")
        assert "There is a problem" not in drafter.content(), section.key
    drafter.goto(task_list)
    click(drafter, "Send for review")
    assert "Sent for review" in drafter.content()

    # 2. The reviewer asks for changes; the drafter makes them.
    reviewer.goto(base + "/notifications?view=mine")
    checked(reviewer, "reviewer's attention list", scanner)
    reviewer.locator("main table a[href^='/notifications/']").first.click()
    click(reviewer, "Review this notification")
    checked(reviewer, "review", scanner)
    reviewer.fill("#summary", "Give the supervisory body's full name")
    reviewer.check(f"input[name='sections'][value='{kind.sections[2].key}']")
    click(reviewer, "Ask for changes")
    drafter.goto(task_list)
    assert "Needs attention" in drafter.content() and "supervisory body" in drafter.content()
    checked(drafter, "task list with changes requested", scanner)
    drafter.click(f"main a:has-text('{kind.sections[2].title}')")
    body = next(q for q in kind.sections[2].questions if q.kind == "short_text")
    drafter.fill(f"#{body.key}", "Northshire County Council")
    click(drafter, "Save and continue")
    drafter.goto(task_list)
    click(drafter, "Send for review")

    # 3. The reviewer approves and the submitter submits.
    reviewer.goto(task_list + "/review")
    assert "Changed" in reviewer.content() and "Northshire County Council" in reviewer.content()
    checked(reviewer, "review with changes highlighted", scanner)
    click(reviewer, "Approve")
    submitter.goto(base + "/notifications?view=mine")
    submitter.locator("main table a[href^='/notifications/']").first.click()
    click(submitter, "Check and submit")
    checked(submitter, "check and submit", scanner)
    submitter.check("input[name='declaration']")
    click(submitter, "Submit notification")
    assert "Notification submitted" in submitter.content()
    checked(submitter, "receipt", scanner)
    reference = re.search(r'class="portal-reference">([A-Z0-9]{8})<', submitter.content()).group(1)

    # 4. The receipt email is in the outbox, and the regulator's API returns the submission.
    submitter.goto(base + "/dev/outbox")
    assert f"reference {reference}" in submitter.content()
    lead = new_page("support_lead", javascript=javascript)
    lead.goto(base + "/support/api-tokens")
    lead.fill("#name", f"Intake {reference} {javascript}")
    lead.locator("main form[action='/support/api-tokens'] button").click()
    lead.wait_for_load_state()
    token = lead.input_value("#token")
    api = lead.request.get(f"{base}/api/v1/submissions/{reference}", headers={"authorization": f"Bearer {token}"})
    assert api.status == 200, api.text()
    assert api.json()["reference"] == reference
