"""Journeys where the session ends mid-edit: nothing typed is lost, with JavaScript and without.

Each person is a drafter of their own (pages_kept_input.new_drafter), so ending their session ends
nobody else's; they sign in, and in again, through the real pages.
"""

from __future__ import annotations

import re

from .conftest import ARTIFACTS
from .pages import open_section, start_draft
from .pages_kept_input import FIELD, end_session, new_drafter, wait_for_words
from .test_axe_scan import describe, scan


def sign_in_from_here(page, base: str, email: str) -> None:
    """On the sign-in page (with its next=): ask for a link, open the email, press the button."""
    page.fill("#email", email)
    with page.expect_navigation():
        page.click("form[action='/sign-in'] button")
    page.goto(f"{base}/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/sign-in/link/[^"]+)"', page.content()).group(1)
    page.goto(base + link)
    with page.expect_navigation():
        page.click("form[action^='/sign-in/link/'] button")


def sign_in_fresh(page, base: str, email: str) -> None:
    page.goto(f"{base}/sign-in")
    sign_in_from_here(page, base, email)


def no_axe_violations(page, name: str, scanner=None) -> None:
    """axe on the page as it is. axe runs in the page, so without JavaScript the same markup is scanned
    in scanner, a page of the same site that runs scripts."""
    ARTIFACTS.joinpath("screens").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screens" / f"journey-{name}.png"), full_page=True)
    if scanner is not None:
        origin = re.match(r"https?://[^/]+", page.url).group(0)
        scanner.goto(origin + "/help")
        scanner.set_content(page.content())
    violations = scan(scanner or page)
    assert violations == [], f"{name} at {page.url}:\n{describe(violations)}"


def saved_and_shown(page, section: str, words: str) -> None:
    with page.expect_navigation():
        page.click("main button:has-text('Save and come back later')")
    assert "Your answers were saved." in page.content()
    page.goto(section)
    assert page.input_value(FIELD) == words
    assert page.locator("#kept-input").count() == 0 and page.locator("#browser-kept").is_hidden()


def section_open_then_signed_out_in_another_tab(page, base: str, new_page, email: str) -> str:
    """A section open in this tab, then Sign out pressed in another tab of the same browser; the section's address."""
    sign_in_fresh(page, base, email)
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    other_tab = page.context.new_page()
    other_tab.goto(base + "/dashboard")
    with other_tab.expect_navigation():
        other_tab.click("footer button:has-text('Sign out')")
    other_tab.close()
    return page.url


def test_javascript_on_autosave_after_the_session_ended_then_sign_in_again(server, new_page):
    base = server["base"]
    email = new_drafter("journey-js")
    page = new_page()
    sign_in_fresh(page, base, email)
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    section = page.url
    end_session(page, "idle")
    autosaves: list[str] = []
    page.on("request", lambda request: autosaves.append(request.url) if request.url.endswith("/autosave") else None)

    page.type(FIELD, "Typed while signed out")
    wait_for_words(page, "#autosave-status", "You have been signed out")
    status = page.locator("#autosave-status")
    assert "We kept what you typed" in status.inner_text()
    assert status.locator("header, footer, main, h1, form").count() == 0, "a page inside the live region"
    assert page.locator("header").count() == 1 and page.locator("footer").count() == 1
    assert page.evaluate("document.activeElement.id") == FIELD.lstrip("#"), "focus stays where they type"
    no_axe_violations(page, "autosave-after-the-session-ended")

    # Autosave stops trying: the next try is stopped before it is sent, and the words stay on the page.
    sent = len(autosaves)
    page.evaluate(
        """() => { window.autosaveTries = [];
        document.addEventListener('htmx:beforeRequest', (event) => window.autosaveTries.push(event.defaultPrevented)); }"""
    )
    page.type(FIELD, ", and more")
    page.wait_for_function("() => window.autosaveTries.length > 0")
    assert page.evaluate("window.autosaveTries").count(False) == 0
    assert len(autosaves) == sent
    typed = page.input_value(FIELD)
    assert typed == "Typed while signed out, and more"

    with page.expect_navigation():
        status.locator("a:has-text('Sign in again')").click()
    assert page.url.endswith("/sign-in?next=" + section.removeprefix(base))
    sign_in_from_here(page, base, email)
    assert page.url == section
    assert page.locator("#kept-input").is_visible(), "the server kept the last autosave's words"
    assert "We kept what you typed before you were signed out" in page.inner_text("#kept-input")
    assert page.input_value(FIELD).startswith("Typed while signed out")
    no_axe_violations(page, "kept-after-sign-in")
    saved_and_shown(page, section, page.input_value(FIELD))


def test_javascript_on_signed_out_in_another_tab_this_tab_offers_the_words_back(server, new_page):
    base = server["base"]
    email = new_drafter("journey-tab")
    page = new_page()
    section = section_open_then_signed_out_in_another_tab(page, base, new_page, email)

    page.type(FIELD, "Only this tab kept me")
    page.check("input[name='contact_is_you'][value='no']")
    page.fill("#other_contact", "A colleague to ask")
    wait_for_words(page, "#autosave-status", "You have been signed out")
    with page.expect_navigation():
        page.click("#autosave-status a:has-text('Sign in again')")
    sign_in_from_here(page, base, email)
    assert page.url == section
    assert page.locator("#kept-input").count() == 0, "no session was left for the server to keep them for"
    offer = page.locator("#browser-kept")
    offer.wait_for(state="visible")
    assert page.input_value(FIELD) == ""
    no_axe_violations(page, "kept-by-this-tab")

    page.click("#browser-kept button:has-text('Put back what I typed')")
    assert offer.is_hidden()
    assert page.input_value(FIELD) == "Only this tab kept me"
    assert page.is_checked("input[name='contact_is_you'][value='no']")
    assert page.is_visible("#other_contact") and page.input_value("#other_contact") == "A colleague to ask"
    assert page.evaluate("document.activeElement.id") == FIELD.lstrip("#")
    assert "We put back what you typed" in page.inner_text("#autosave-status")
    no_axe_violations(page, "put-back-by-this-tab")
    saved_and_shown(page, section, "Only this tab kept me")


def test_javascript_on_signed_out_in_another_tab_then_save_pressed_at_once_keeps_the_words(server, new_page):
    """The hurried path: no autosave has come back to say the session ended before Save is pressed."""
    base = server["base"]
    email = new_drafter("journey-tab-save")
    page = new_page()
    section = section_open_then_signed_out_in_another_tab(page, base, new_page, email)
    wait_for_words(page, "#autosave-status", "You signed out in another tab")

    page.fill(FIELD, "Saved straight away")
    with page.expect_navigation():
        page.click("main button:has-text('Save and continue')")
    sign_in_from_here(page, base, email)
    page.goto(section)
    offer = page.locator("#browser-kept")
    offer.wait_for(state="visible")
    page.click("#browser-kept button:has-text('Put back what I typed')")
    assert page.input_value(FIELD) == "Saved straight away"
    saved_and_shown(page, section, "Saved straight away")


def test_javascript_off_save_after_the_session_ended_then_sign_in_again(server, new_page):
    base = server["base"]
    email = new_drafter("journey-nojs")
    page = new_page(javascript=False)
    sign_in_fresh(page, base, email)
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    section = page.url
    page.fill(FIELD, "Typed without JavaScript")
    end_session(page, "idle")

    with page.expect_navigation():
        page.click("main button:has-text('Save and continue')")
    assert "/signed-out?reason=idle" in page.url
    assert "We kept what you typed" in page.content()
    scanner = new_page()
    no_axe_violations(page, "signed-out-words-kept", scanner)
    with page.expect_navigation():
        page.click("main a:has-text('Sign in again')")
    sign_in_from_here(page, base, email)
    assert page.url == section
    assert page.input_value(FIELD) == "Typed without JavaScript"
    assert "Check it, then save." in page.inner_text("#kept-input")
    no_axe_violations(page, "kept-without-javascript", scanner)
    saved_and_shown(page, section, "Typed without JavaScript")
