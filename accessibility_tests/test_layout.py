"""Reflow at 320 CSS pixels, text at 200%, text spacing, targets, titles, headings and landmarks."""

from __future__ import annotations

import pytest

from .pages import STATES

PAGES = [
    (None, "/"),
    (None, "/sign-in"),
    (None, "/help"),
    (None, "/accessibility"),
    (None, "/cookies"),
    ("drafter", "/dashboard"),
    ("drafter", "/notifications"),
    ("drafter", "/notifications/new"),
    ("organisation_admin", "/members"),
    ("organisation_admin", "/members/invite"),
    ("organisation_admin", "/history"),
    ("support_agent", "/support"),
    ("drafter", "/account"),
]

TEXT_SPACING = """() => { const s = document.createElement('style');
  s.textContent = '* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }';
  document.head.appendChild(s); }"""

CLIPPED = """() => [...document.querySelectorAll('button, .govuk-button, label, .govuk-tag, h1, h2, th, td, a')]
  .filter(e => e.offsetParent !== null && !e.closest('.govuk-visually-hidden, .govuk-skip-link')
               && getComputedStyle(e).overflow === 'hidden' && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.outerHTML.slice(0, 80))"""

SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def test_titles_headings_and_landmarks(server, new_page):
    titles = {}
    for role, path in PAGES:
        page = new_page(role)
        page.goto(server["base"] + path)
        title = page.title()
        assert title.endswith("Submit a statutory notification") and len(title) > 40, title
        titles.setdefault(title, []).append(path)
        assert page.locator("h1").count() == 1, path
        assert page.locator("main").count() == 1 and page.locator("header").count() >= 1
        assert page.locator("footer").count() == 1, path
    repeated = {title: paths for title, paths in titles.items() if len(paths) > 1}
    assert repeated == {}


def test_titles_start_with_error_when_a_form_has_errors(server, new_page):
    page = new_page()
    page.goto(server["base"] + "/sign-in")
    page.click("form[action='/sign-in'] button")
    assert page.title().startswith("Error: Sign in")


SMALL_TARGETS = """() => [...document.querySelectorAll('button, input:not([type=hidden]), select, .govuk-button')]
    .filter(e => e.offsetParent !== null)
    .map(e => { const r = (e.type === 'radio' || e.type === 'checkbox') ? e.parentElement.getBoundingClientRect() : e.getBoundingClientRect();
                return [e.outerHTML.slice(0, 60), r.width, r.height]; })
    .filter(([, w, h]) => w < 24 || h < 24)"""


def test_autosave_is_announced_politely_and_never_moves_focus(server, new_page):
    import re

    page = new_page("drafter")
    page.goto(server["base"] + "/notifications/new")
    page.check("input[name='type'][value='dols_outcome']")
    page.locator("input[name='location']").first.check()
    page.click("main form button:has-text('Start notification')")
    page.click("main a:has-text('About you')")
    page.focus("#completed_by_name")
    page.keyboard.type("Autosave Person")
    import time

    deadline = time.monotonic() + 15
    while "Saved at" not in (page.text_content("#autosave-status") or "") and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert "Saved at" in page.text_content("#autosave-status")
    assert page.get_attribute("#autosave-status", "aria-live") == "polite"
    assert page.evaluate("document.activeElement.id") == "completed_by_name"
    assert re.search(r'name="version" value="[1-9]', page.content())


# Every state in the harness, not only the pages above ------------------------------------------

NOT_BY_COLOUR_ALONE = """() => {
  const main = document.querySelector('main');
  const plainLinks = [...main.querySelectorAll('a[href]')]
    .filter(a => a.offsetParent !== null && !a.matches('.govuk-button, [role=button], .govuk-skip-link'))
    .filter(a => !getComputedStyle(a).textDecorationLine.includes('underline'))
    .map(a => 'link without underline: ' + a.outerHTML.slice(0, 80));
  const silentTags = [...main.querySelectorAll('.govuk-tag')]
    .filter(t => t.offsetParent !== null && !t.textContent.trim())
    .map(t => 'tag without words: ' + t.outerHTML.slice(0, 80));
  return plainLinks.concat(silentTags);
}"""


@pytest.mark.parametrize("state", STATES, ids=str)
def test_every_state_reflows_zooms_spaces_and_has_its_semantics(state, server, new_page):
    """WCAG 1.4.10, 1.4.4, 1.4.12, 2.4.2, 1.3.1, 1.4.1 and 2.5.8 on every page state the axe scan visits."""
    page = new_page(state.role, viewport={"width": 320, "height": 640})
    state.go(page, server["base"], new_page)
    page.wait_for_load_state()
    where = f"{state.name} ({page.url})"
    assert not page.evaluate(SCROLLS_SIDEWAYS), f"{where} scrolls sideways at 320px"
    assert page.locator("h1").count() == 1, f"{where}: not exactly one h1"
    assert page.locator("main").count() == 1 and page.locator("footer").count() == 1, where
    title = page.title()
    assert title.endswith("Submit a statutory notification"), f"{where}: title {title!r}"
    if page.locator(".govuk-error-summary").count():
        assert title.startswith("Error: "), f"{where}: has errors but the title is {title!r}"
    assert page.evaluate(NOT_BY_COLOUR_ALONE) == [], where
    assert page.evaluate(SMALL_TARGETS) == [], f"{where}: controls smaller than 24 by 24 CSS pixels"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    assert not page.evaluate(SCROLLS_SIDEWAYS), f"{where} at 200% text scrolls sideways"
    page.evaluate(TEXT_SPACING)
    assert page.evaluate(CLIPPED) == [], f"{where}: text clipped with text spacing"
