"""Keyboard alone: every control reachable by Tab in a sensible order, focus always visible, no trap."""

from __future__ import annotations

import re

from .conftest import PEOPLE

FOCUS_STYLE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  return {tag: e.tagName, id: e.id, text: (e.innerText || e.value || '').slice(0, 40),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
          shadow: s.boxShadow !== 'none', background: s.backgroundColor, top: e.getBoundingClientRect().top + window.scrollY};
}"""


def tab_until(page, predicate, limit: int = 80):
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_STYLE)
        if focused and predicate(focused):
            return focused
    raise AssertionError("never reached by Tab")


def walk_with_tab(page, limit: int = 200) -> list[dict]:
    """Tabs from the top until focus leaves the page or comes round again; returns what took focus."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_STYLE)
        if focused is None or (seen and focused == seen[0]):
            break
        seen.append(focused)
    return seen


def test_sign_in_with_keyboard_alone(server, new_page):
    page = new_page()
    base = server["base"]
    page.goto(base + "/")
    tab_until(page, lambda f: f["text"].startswith("Start now"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_until(page, lambda f: f["id"] == "email")
    page.keyboard.type(PEOPLE["reviewer"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + "/sign-in/check-email"
    page.goto(base + "/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/sign-in/link/[^"]+)"', page.content()).group(1)
    page.goto(base + link)
    tab_until(page, lambda f: f["text"].strip().startswith("Sign in as") and f["tag"] == "BUTTON")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + "/dashboard"


def test_every_control_takes_visible_focus_in_reading_order_with_no_trap(server, new_page):
    checked = 0
    for role, path in [
        (None, "/sign-in"),
        ("organisation_admin", "/members/invite"),
        ("drafter", "/notifications/new"),
        ("drafter", "/notifications"),
        ("drafter", "/queries/new"),
        ("support_agent", "/support"),
        ("support_agent", "/support/queries"),
        ("support_lead", "/support/api-tokens"),
    ]:
        page = new_page(role)
        page.goto(server["base"] + path)
        focused = walk_with_tab(page)
        # A group of radios is one Tab stop: arrow keys move within it.
        controls = page.evaluate("""() => { const els = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')]
            .filter(e => !e.disabled && e.offsetParent !== null);
            const radios = new Set(els.filter(e => e.type === 'radio').map(e => e.name));
            return els.filter(e => e.type !== 'radio').length + radios.size; }""")
        assert len(focused) >= controls, f"{path}: {len(focused)} took focus of {controls} controls"
        for item in focused:
            assert item["outline"] or item["shadow"] or item["background"] not in ("rgba(0, 0, 0, 0)", "transparent"), (
                f"{path}: no visible focus on {item}"
            )
        main_tops = [item["top"] for item in focused]
        # Reading order: focus never jumps back up the page by more than a line, except into the footer's start.
        jumps = [b - a for a, b in zip(main_tops, main_tops[1:], strict=False) if b - a < -60]
        assert len(jumps) <= 2, f"{path}: focus jumped back up {jumps}"
        checked += len(focused)
    assert checked > 40


def test_skip_link_moves_focus_to_main_content(server, new_page):
    page = new_page()
    page.goto(server["base"] + "/help")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_error_summary_takes_focus_and_links_to_field(server, new_page):
    page = new_page()
    page.goto(server["base"] + "/sign-in")
    tab_until(page, lambda f: f["id"] == "email")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    tab_until(page, lambda f: f["text"].startswith("Enter your email address") and f["tag"] == "A")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "email"


def test_draft_a_section_with_keyboard_alone(server, new_page):
    page = new_page("drafter")
    base = server["base"]
    page.goto(base + "/notifications/new")
    tab_until(page, lambda f: f["id"] == "type")  # the first radio
    page.keyboard.press("Space")
    tab_until(page, lambda f: f["id"] == "location")
    page.keyboard.press("Space")
    tab_until(page, lambda f: f["text"].startswith("Start notification"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_until(page, lambda f: f["text"].startswith("About you"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_until(page, lambda f: f["id"] == "completed_by_name")
    page.keyboard.type("Kim Keyboard")
    tab_until(page, lambda f: f["text"].startswith("Save and come back later"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/notifications/[0-9]+$", page.url), "back on the task list"
    assert "Your answers were saved." in page.content() and "In progress" in page.content()
