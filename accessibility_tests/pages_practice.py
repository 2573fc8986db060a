"""Page states of practice mode: its banner on a few pages, the reset confirmation, and the practice receipt.

Each state signs a drafter of its own in: entering practice changes that one session's organisation, and the
harness shares the usual drafter's session with every other state.
"""

from __future__ import annotations

import re

# pages.py imports this module only after it has defined PageState, so the name exists.
from .pages import PageState


def _in_practice(page, base) -> int:
    """A drafter of the demo organisation of their own, signed in, presses "Try practice mode" on the dashboard.

    Returns the practice copy's id. A new person each time: signing one person in for every state would run
    into the sign-in rate limit."""
    from .pages_kept_input import new_drafter, start_session_for

    start_session_for(page, base, new_drafter("practice"))
    page.goto(base + "/dashboard")
    page.click("main form button:has-text('Try practice mode')")
    page.wait_for_load_state()
    action = page.locator("form[action$='/leave']").first.get_attribute("action")
    return int(re.search(r"/practice/(\d+)/leave", action).group(1))


def _dashboard(page, base, new_page):
    _in_practice(page, base)


def _then(path: str):
    def go(page, base, new_page):
        _in_practice(page, base)
        page.goto(base + path)

    return go


def _reset_confirmation(page, base, new_page):
    _in_practice(page, base)
    page.click("a:has-text('Reset practice mode')")
    page.wait_for_load_state()


def _receipt(page, base, new_page):
    from . import journeys

    _in_practice(page, base)
    notification = journeys.complete(page, base, "dols_outcome")
    for move, form in (("request-review", {}), ("approve", {}), ("submit", {"declaration": "yes"})):
        journeys.post(page, base, f"/notifications/{notification}/{move}", form)
    page.goto(f"{base}/notifications/{notification}/receipt")


STATES_PRACTICE: list = [
    PageState("practice mode, dashboard", "/dashboard", None, _dashboard),
    PageState("practice mode, notifications", "/notifications", None, _then("/notifications")),
    PageState("practice mode, start a notification", "/notifications/new", None, _then("/notifications/new")),
    PageState("practice mode, reset confirmation", "/practice/{organisation_id}/reset", None, _reset_confirmation),
    PageState("practice mode, receipt", "/notifications/{notification_id}/receipt", None, _receipt),
]
