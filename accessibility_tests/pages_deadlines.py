"""Page states for deadlines: the short-notice warning, overdue notifications, reminder settings, lateness."""

from __future__ import annotations

from datetime import date, timedelta

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, open_section, start_draft, then, visit
from .pages_reports import _with_data


def _absence_starting_in(days: int):
    """A planned absence whose start is typed in and saved: fewer than 28 days away, it is short notice."""

    def go(page, base, new_page):
        start = date.today() + timedelta(days=days)
        open_section("The absence")(page, base, new_page)
        page.fill("[name='absence_start-day']", str(start.day))
        page.fill("[name='absence_start-month']", str(start.month))
        page.fill("[name='absence_start-year']", str(start.year))
        page.click("main button:has-text('Save and come back later')")
        page.wait_for_load_state()

    return go


def _then_visit(path: str):
    return lambda page, base, new_page: page.goto(base + path)


def _turned_off(page, base, new_page):
    page.goto(base + "/account/reminders")
    page.check("input[name='reminders'][value='off']")
    page.click("main button:has-text('Save')")
    page.wait_for_load_state()


SHORT_NOTICE = then(start_draft("manager_absence_planned"), _absence_starting_in(10))

STATES_DEADLINES: list = [
    PageState(
        "task list, planned absence at short notice", "/notifications/{notification_id}", "drafter", SHORT_NOTICE
    ),
    PageState(
        "section, planned absence at short notice",
        "/notifications/{notification_id}/sections/{section_key}",
        "drafter",
        then(SHORT_NOTICE, open_section("The absence")),
    ),
    PageState(
        "dashboard, an overdue notification", "/dashboard", "drafter", then(SHORT_NOTICE, _then_visit("/dashboard"))
    ),
    PageState("reminder emails", "/account/reminders", "drafter", visit("/account/reminders")),
    PageState("your account, reminders turned off", "/account", "drafter", _turned_off),
    PageState(
        "late submissions",
        "/support/reports/late-submissions",
        "support_lead",
        visit("/support/reports/late-submissions"),
    ),
    PageState(
        "late submissions, with data",
        "/support/reports/late-submissions",
        "support_lead",
        _with_data("/support/reports/late-submissions"),
    ),
]
