"""Review, submission and a question to the support team, each done with the keyboard alone.

Each runs with JavaScript on and again off: a person may have either, and the outcome must be the same.
The question's journey goes from the provider, through a support reply, to resolution, with axe on
every page along the way.
"""

from __future__ import annotations

import re

import pytest

from . import journeys
from .test_journey import checked
from .test_keyboard import tab_until

BOTH = pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
LONG_PAGE = 400  # the review page shows the whole notification: many links before the decision


def press_enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def focus_on(page, *, text: str = "", element_id: str = "", tag: str = "", limit: int = 120) -> None:
    def matches(focused):
        return (
            (not text or focused["text"].strip().startswith(text))
            and (not element_id or focused["id"] == element_id)
            and (not tag or focused["tag"] == tag)
        )

    tab_until(page, matches, limit=limit)


@BOTH
def test_review_and_approve_with_keyboard_alone(javascript, server, new_page):
    base = server["base"]
    notification = journeys.sent_for_review(new_page, base)
    reviewer = new_page("reviewer", javascript=javascript)
    reviewer.goto(f"{base}/notifications/{notification}")
    focus_on(reviewer, text="Review", tag="A")
    press_enter_and_wait(reviewer)
    assert reviewer.url.endswith(f"/notifications/{notification}/review")
    focus_on(reviewer, text="Approve", tag="BUTTON", limit=LONG_PAGE)
    press_enter_and_wait(reviewer)
    assert "Approved" in reviewer.locator("main").inner_text()


@BOTH
def test_submit_with_keyboard_alone(javascript, server, new_page):
    base = server["base"]
    notification = journeys.approved(new_page, base)
    submitter = new_page("submitter", javascript=javascript)
    submitter.goto(f"{base}/notifications/{notification}/submit")
    focus_on(submitter, element_id="declaration")
    submitter.keyboard.press("Space")
    assert submitter.is_checked("#declaration")
    focus_on(submitter, text="Submit notification", tag="BUTTON")
    press_enter_and_wait(submitter)
    assert submitter.url.endswith(f"/notifications/{notification}/receipt")
    assert re.search(r"reference", submitter.locator("main").inner_text(), re.IGNORECASE)


@BOTH
def test_a_question_from_provider_to_support_reply_to_resolution_by_keyboard(javascript, server, new_page):
    base = server["base"]
    scanner = None if javascript else new_page()
    subject = f"Keyboard question, JavaScript {'on' if javascript else 'off'}"

    # The provider asks from the page they are on.
    drafter = new_page("drafter", javascript=javascript)
    drafter.goto(base + "/notifications")
    focus_on(drafter, text="Ask the support team a question", tag="A")
    press_enter_and_wait(drafter)
    checked(drafter, "ask a question", scanner)
    focus_on(drafter, element_id="subject")
    drafter.keyboard.type(subject)
    focus_on(drafter, element_id="message")
    drafter.keyboard.type("Which type do I use for a fall that broke a wrist?")
    focus_on(drafter, text="Send question", tag="BUTTON")
    press_enter_and_wait(drafter)
    question_url = drafter.url.split("?")[0]
    assert re.search(r"/queries/\d+$", question_url)
    assert "Question sent" in drafter.locator("main").inner_text()
    checked(drafter, "question sent", scanner)

    # The support agent finds it in the queue and answers.
    agent = new_page("support_agent", javascript=javascript)
    agent.goto(base + "/support/queries")
    checked(agent, "support queue", scanner)
    focus_on(agent, text=subject, tag="A")
    press_enter_and_wait(agent)
    focus_on(agent, element_id="message")
    agent.keyboard.type("Use ‘Serious injury’: a broken bone counts.")
    focus_on(agent, text="Send reply", tag="BUTTON")
    press_enter_and_wait(agent)
    assert "Reply sent to the provider" in agent.locator("main").inner_text()
    checked(agent, "support question after reply", scanner)

    # The provider reads the answer and marks the question resolved.
    drafter.goto(question_url)
    thread = drafter.locator("main").inner_text()
    assert "Use ‘Serious injury’: a broken bone counts." in thread and "Waiting on you" in thread
    focus_on(drafter, text="Mark as resolved", tag="BUTTON")
    press_enter_and_wait(drafter)
    assert "Resolved" in drafter.locator("main .govuk-summary-list").inner_text()
    checked(drafter, "question resolved", scanner)

    agent.goto(base + "/support/queries?status=resolved")
    assert subject in agent.locator("main").inner_text()
