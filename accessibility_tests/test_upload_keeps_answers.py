"""Typing in a section and uploading a file straight away, in a real browser: the words come back
saved, with JavaScript on and off, and axe passes on every page along the way.

The section's "Upload file" button submits the section's own form, so the words go with the file
whether or not autosave has had time to run.
"""

from __future__ import annotations

import re

import pytest

from tests.journey import PDF

from .conftest import ARTIFACTS
from .pages import open_section, start_draft
from .test_journey import checked

WORDS = "Bed rails checked every hour – typed just before the upload."
FILE = {"name": "care plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
NOT_A_PDF = {"name": "tool.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf"}


def risk_section(page, base, new_page) -> str:
    start_draft("serious_injury")(page, base, new_page)
    open_section("Risk and actions")(page, base, new_page)
    return page.url


def screenshot(page, name: str) -> None:
    ARTIFACTS.joinpath("screens").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
def test_words_typed_just_before_an_upload_come_back_saved(javascript, server, new_page):
    base = server["base"]
    page = new_page("drafter", javascript=javascript)
    scanner = None if javascript else new_page()
    section = risk_section(page, base, new_page)
    checked(page, "section with a file question", scanner)

    # No waiting between typing and uploading: autosave (2 seconds after typing) never gets to run.
    page.fill("#risk_mitigation", WORDS)
    page.set_input_files("#supporting_documents", files=[FILE])
    page.click("main button:has-text('Upload file')")
    page.wait_for_load_state()

    assert page.url == section
    assert page.input_value("#risk_mitigation") == WORDS
    assert page.locator("main .govuk-summary-list a:has-text('care plan.pdf')").count() == 1
    checked(page, "section after the upload", scanner)
    screenshot(page, f"section-after-upload-{'js' if javascript else 'no-js'}")

    # A refused file keeps the words too: saved, and there when the person goes back.
    page.fill("#actions_staff", "The night nurse was retrained.")
    page.set_input_files("#supporting_documents", files=[NOT_A_PDF])
    page.click("main button:has-text('Upload file')")
    page.wait_for_load_state()
    assert "The selected file must be a PDF" in page.content()
    assert "Your answers to the other questions in this section were saved." in page.content()
    checked(page, "upload refused, answers saved", scanner)
    page.click("main a:has-text('Cancel')")
    page.wait_for_load_state()
    assert page.input_value("#actions_staff") == "The night nurse was retrained."
    assert page.input_value("#risk_mitigation") == WORDS

    # Removing the file keeps what was typed since as well.
    page.fill("#actions_others", "Other residents' rails were checked.")
    page.click("main button:has-text('Remove')")
    page.wait_for_load_state()
    assert page.url == section
    assert page.input_value("#actions_others") == "Other residents' rails were checked."
    assert page.locator("main .govuk-summary-list").count() == 0


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
def test_someone_elses_save_in_between_shows_both_versions_and_the_file_is_uploaded(javascript, server, new_page):
    base = server["base"]
    page = new_page("drafter", javascript=javascript)
    scanner = None if javascript else new_page()
    section = risk_section(page, base, new_page)
    other = new_page("drafter")
    other.goto(section)
    other.fill("#risk_mitigation", "Their words, saved first.")
    other.click("main button:has-text('Save and come back later')")
    other.wait_for_load_state()

    page.fill("#risk_mitigation", WORDS)
    page.set_input_files("#supporting_documents", files=[FILE])
    page.click("main button:has-text('Upload file')")
    page.wait_for_load_state()

    content = page.content()
    assert "Someone else changed this section" in content
    assert WORDS in content and "Their words, saved first." in content
    assert "Your file “care plan.pdf” was uploaded." in content
    checked(page, "conflict after an upload", scanner)
    screenshot(page, f"conflict-after-upload-{'js' if javascript else 'no-js'}")

    page.click("main button:has-text('Save these answers')")
    page.wait_for_load_state()
    page.goto(section)
    assert page.input_value("#risk_mitigation") == WORDS
    assert page.locator("main .govuk-summary-list a:has-text('care plan.pdf')").count() == 1


def test_an_upload_waits_for_an_autosave_on_its_way_instead_of_conflicting_with_it(server, new_page):
    """The autosave reached the server, but its reply (with the new version) had not come back when the
    person pressed "Upload file": sent at once, the upload would carry the old version and be taken for
    someone else's change."""
    base = server["base"]
    page = new_page("drafter")
    section = risk_section(page, base, new_page)
    held = []

    def hold_the_reply(route):
        # The autosave is saved on the server; only its reply is kept from the page for now.
        held.append((route, route.fetch()))

    page.route(re.compile(r".*/autosave$"), hold_the_reply)
    page.fill("#risk_mitigation", "First words")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "autosave never ran"

    page.fill("#risk_mitigation", WORDS)
    page.set_input_files("#supporting_documents", files=[FILE])
    page.click("main button:has-text('Upload file')")
    route, response = held.pop()
    # The upload goes once the autosave's reply is in.
    with page.expect_navigation():
        route.fulfill(response=response)

    assert "Someone else changed this section" not in page.content()
    assert page.url == section
    assert page.input_value("#risk_mitigation") == WORDS
    assert page.locator("main .govuk-summary-list a:has-text('care plan.pdf')").count() == 1


def test_autosave_sends_the_words_but_never_the_file(server, new_page):
    page = new_page("drafter")
    risk_section(page, server["base"], new_page)
    page.fill("#risk_mitigation", WORDS)
    with page.expect_request(re.compile(r".*/autosave$")) as autosave:
        page.set_input_files("#supporting_documents", files=[FILE])
    body = autosave.value.post_data or ""
    assert "risk_mitigation=" in body and "supporting_documents" not in body
    assert autosave.value.headers["content-type"].startswith("application/x-www-form-urlencoded")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript on", "javascript off"])
def test_enter_in_a_text_box_saves_and_continues_rather_than_uploading(javascript, server, new_page):
    base = server["base"]
    page = new_page("drafter", javascript=javascript)
    start_draft("event_stopping_service")(page, base, new_page)
    open_section("Effect on people and contingency")(page, base, new_page)
    page.fill("#people_affected", "12")
    page.press("#people_affected", "Enter")
    page.wait_for_load_state()
    content = page.content()
    assert "Select a file" not in content
    # "Save and continue" checks the section: the questions not yet answered are listed.
    assert "govuk-error-summary" in content and re.search(r"/sections/effect$", page.url)
    assert page.input_value("#people_affected") == "12"
