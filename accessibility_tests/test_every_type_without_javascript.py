"""Every notification type filled in through its pages with JavaScript off, axe on every section it has.

The whole journey (review, changes, submission) is in test_journey.py for one type; here each type's own
sections, questions and follow-ups are shown, scanned and saved as a person without JavaScript sees them,
so a new type is checked by adding its definition.
"""

from __future__ import annotations

import pytest

from portal.notifications.registry import definitions
from tests.journey import PDF as PDF_BYTES

from .conftest import ARTIFACTS
from .filling import fill_section
from .test_journey import checked, click

PDF = {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}


@pytest.mark.parametrize("type_key", sorted(definitions()))
def test_every_type_is_filled_in_and_sent_for_review_without_javascript(type_key, server, new_page):
    base = server["base"]
    kind = definitions()[type_key]
    scanner = new_page()
    drafter = new_page("drafter", javascript=False)
    drafter.goto(base + "/notifications/new")
    drafter.check(f"input[name='type'][value='{type_key}']")
    drafter.locator("input[name='location']").first.check()
    click(drafter, "Start notification")
    task_list = drafter.url
    for section in kind.sections:
        drafter.goto(task_list)
        drafter.click(f"main a:has-text('{section.title}')")
        for question in section.questions:
            if question.kind == "file" and question.required:
                drafter.set_input_files(f"#{question.key}", files=[PDF])
                click(drafter, "Upload file")
        fill_section(drafter, section)
        checked(drafter, f"{type_key} section {section.key}", scanner)
        if section is kind.sections[-1]:
            ARTIFACTS.joinpath("screens").mkdir(parents=True, exist_ok=True)
            drafter.screenshot(path=str(ARTIFACTS / "screens" / f"type-{type_key}-no-js.png"), full_page=True)
        # A section with a file question has a hidden copy of the button first, so Enter saves rather than uploads.
        drafter.locator("main button:visible:has-text('Save and continue')").first.click()
        drafter.wait_for_load_state()
        assert "There is a problem" not in drafter.content(), (type_key, section.key)
    drafter.goto(task_list)
    click(drafter, "Send for review")
    assert "Sent for review" in drafter.content(), type_key
