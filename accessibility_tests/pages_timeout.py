"""The timeout warning's states: the page's clock is run forward, so the dialog opens at once.

Only the page's clock moves (Playwright's fake timers); the session on the server is untouched, so
"Stay signed in" still works. test_session_timeout.py covers a server whose session really ends.
"""

from __future__ import annotations

from collections.abc import Callable

from .pages import PageState, open_section, start_draft, then


def install_clock(page, base, new_page):
    # Before any page loads, so the page's script counts with the clock the test moves.
    page.clock.install()


def run_clock_until(seconds_before_the_end: int) -> Callable:
    """Runs the page's clock until that long before the idle sign-out (negative: after it)."""

    def go(page, base, new_page):
        left = int(page.get_attribute("body", "data-session-seconds-left"))
        page.clock.run_for((left - seconds_before_the_end) * 1000)

    return go


def on_a_section(*steps: Callable) -> Callable:
    return then(install_clock, start_draft("dols_outcome"), open_section("About you"), *steps)


STATES_TIMEOUT = [
    PageState("timeout warning", "*timeout-warning", "drafter", on_a_section(run_clock_until(100))),
    PageState("timeout warning, signed out", "*timeout-warning", "drafter", on_a_section(run_clock_until(-1))),
]
