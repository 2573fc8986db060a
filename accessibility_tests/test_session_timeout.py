"""The timeout warning (WCAG 2.2.1) in the browser: it opens before the idle sign-out, takes focus,
keeps it, passes axe, and keeps the person signed in by keyboard; without JavaScript the pages
where people type say the limit in words.

One server here really signs people out after a minute, warning 55 seconds before, so its dialog
opens within seconds of signing in. The other tests run the page's clock forward instead.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import create_engine, select

from portal.models import User, UserSession

from .conftest import ARTIFACTS, PEOPLE, running_portal, sign_in_through_pages
from .pages import open_section, start_draft
from .pages_timeout import install_clock, run_clock_until
from .test_axe_scan import describe, scan

DIALOG = "#session-timeout"
STATEMENT = "We will sign you out if you do not save or open another page for 30 minutes."

IN_DIALOG = """() => { const d = document.getElementById('session-timeout');
  const e = document.activeElement; return d.contains(e) ? (e.textContent || '').trim() : null; }"""


@pytest.fixture(scope="module")
def short_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("a11y-short-session")
    with running_portal(data_dir, PORTAL_SESSION_IDLE_MINUTES="1", PORTAL_SESSION_WARNING_SECONDS="55") as running:
        yield running


def last_seen(database_url: str, email: str) -> datetime:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(UserSession.last_seen_at)
                .join(User, User.id == UserSession.user_id)
                .where(User.email == email, UserSession.ended_at.is_(None))
                .order_by(UserSession.id.desc())
                .limit(1)
            ).scalar_one()
    finally:
        engine.dispose()


def screenshot(page, name: str) -> None:
    ARTIFACTS.joinpath("screens").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}.png"))


def test_the_warning_opens_takes_focus_and_keeps_a_keyboard_user_signed_in(short_server, browser):
    base, email = short_server["base"], PEOPLE["drafter"]
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_through_pages(page, base, email)
    signed_in_at = last_seen(short_server["database_url"], email)

    # 55 seconds before a one-minute limit: open within seconds of signing in, with nothing pressed.
    page.wait_for_selector(f"{DIALOG}[open]")
    dialog = page.get_by_role("dialog", name="You’re about to be signed out")
    assert dialog.is_visible()
    assert "we will sign you out in 1 minute" in dialog.inner_text()
    assert page.evaluate(IN_DIALOG) == "Stay signed in"
    screenshot(page, "timeout-warning-short-session")
    violations = scan(page)
    assert violations == [], describe(violations)

    # Tab and Shift+Tab go round the dialog's two buttons and never out of it.
    seen = []
    for key in ["Tab", "Tab", "Shift+Tab", "Shift+Tab"]:
        page.keyboard.press(key)
        seen.append(page.evaluate(IN_DIALOG))
    assert seen == ["Sign out", "Stay signed in", "Sign out", "Stay signed in"]

    page.keyboard.press("Enter")
    page.wait_for_selector(DIALOG, state="hidden")
    kept_at = last_seen(short_server["database_url"], email)
    # Within a minute of signing in an ordinary request leaves last_seen_at alone: only the keep-alive moves it.
    assert kept_at > signed_in_at

    # A minute again from "Stay signed in", so the warning comes back; Escape also means "stay signed in".
    page.wait_for_selector(f"{DIALOG}[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector(DIALOG, state="hidden")
    assert last_seen(short_server["database_url"], email) > kept_at
    page.goto(base + "/account")
    assert page.url == base + "/account", "still signed in"
    context.close()


def test_the_count_steps_down_then_says_signed_out_and_focus_comes_back(server, new_page):
    page = new_page("drafter")
    for step in [install_clock, start_draft("dols_outcome"), open_section("About you")]:
        step(page, server["base"], new_page)
    # Held still, so nothing here depends on how fast the test runs: only run_for moves the page's time.
    page.clock.pause_at(page.evaluate("Date.now()") / 1000)  # Python takes seconds
    page.focus("#completed_by_name")
    assert not page.is_visible(DIALOG)
    assert not page.locator(".portal-timeout-notice").is_visible(), "with JavaScript the dialog warns instead"

    run_clock_until(130)(page, server["base"], new_page)
    assert not page.is_visible(DIALOG), "not before the warning time"
    page.clock.run_for(15_000)
    assert page.is_visible(DIALOG)
    count = page.locator(f"{DIALOG} [data-timeout-count]")
    announcer = page.locator(f"{DIALOG} [data-timeout-announce]")
    assert count.inner_text() == "2 minutes" and announcer.inner_text() == ""
    page.clock.run_for(60_000)
    assert count.inner_text() == "1 minute"
    assert announcer.inner_text() == "We will sign you out in 1 minute."

    # "Stay signed in" by mouse this time; focus goes back to the field the person was in.
    with page.expect_response("**/session/keep-alive") as kept_alive:
        page.click(f"{DIALOG} button:has-text('Stay signed in')")
    page.wait_for_selector(DIALOG, state="hidden")
    assert page.evaluate("document.activeElement.id") == "completed_by_name"

    # From the keep-alive's own count: the page's load-time count may be up to a minute short of it, as an
    # ordinary request within a minute of the last leaves last_seen_at alone (a slow machine shows it).
    page.clock.run_for((kept_alive.value.json()["seconds_left"] - 30) * 1000)
    assert count.inner_text() == "1 minute"
    page.clock.run_for(20_000)
    assert count.inner_text() == "less than 20 seconds"
    page.clock.run_for(20_000)
    signed_out = page.get_by_role("dialog", name="You have been signed out")
    assert signed_out.is_visible()
    assert "had not done anything for 30 minutes" in signed_out.inner_text()
    assert page.evaluate("document.activeElement.id") == "session-timeout-signed-out-heading"
    assert announcer.inner_text().startswith("You have been signed out. We signed you out because")
    section = re.sub(r"^https?://[^/]+", "", page.url)
    assert signed_out.get_by_role("link", name="Sign in again").get_attribute("href") == "/sign-in?next=" + section
    screenshot(page, "timeout-warning-signed-out")


def test_stay_signed_in_on_a_session_that_ended_says_so(server, browser):
    """Signed out elsewhere while the warning was open: the dialog says so instead of pretending."""
    base = server["base"]
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_through_pages(page, base, "reviewer@riverside.example")
    install_clock(page, base, None)
    page.goto(base + "/dashboard")
    run_clock_until(60)(page, base, None)
    assert page.is_visible(DIALOG)
    token = page.get_attribute(f"{DIALOG} input[name=csrf_token]", "value")
    # Shares the page's cookies and loads no page, so this tab hears nothing of it.
    assert context.request.post(base + "/sign-out", form={"csrf_token": token}, max_redirects=0).status == 303
    page.keyboard.press("Enter")
    signed_out = page.get_by_role("dialog", name="You have been signed out")
    signed_out.wait_for()
    assert "Your session had already ended" in signed_out.inner_text()
    assert "had not done anything" not in signed_out.inner_text()
    violations = scan(page)
    assert violations == [], describe(violations)
    context.close()


def test_without_javascript_the_section_page_states_the_limit(server, new_page):
    page = new_page("drafter", javascript=False)
    for step in [start_draft("dols_outcome"), open_section("About you")]:
        step(page, server["base"], new_page)
    # Playwright's text search skips <noscript>, though the browser shows it with JavaScript off.
    notice = page.locator(".portal-timeout-notice")
    assert notice.is_visible() and STATEMENT in notice.inner_text()
    assert not page.is_visible(DIALOG)
    screenshot(page, "timeout-statement-without-javascript")
