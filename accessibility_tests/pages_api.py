"""Page states for the regulator API's token pages in the support workspace."""

from __future__ import annotations

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, submit_empty, then, visit


def _create_token(name: str):
    # Aimed at the create form itself: once tokens exist, the first form on the page is a Revoke button.
    def go(page, base, new_page):
        page.goto(base + "/support/api-tokens")
        page.fill("#name", name)
        page.click("main form[action='/support/api-tokens'] button")
        page.wait_for_load_state()

    return go


def _revoke_first(page, base, new_page):
    page.goto(base + "/support/api-tokens")
    page.locator("main form[action$='/revoke'] button").first.click()
    page.wait_for_load_state()


STATES_API: list = [
    PageState("API tokens", "/support/api-tokens", "support_lead", visit("/support/api-tokens")),
    PageState("API tokens, errors", "/support/api-tokens", "support_lead", submit_empty("/support/api-tokens")),
    PageState(
        "API token created, shown once",
        "/support/api-tokens",
        "support_lead",
        _create_token("Case intake (accessibility check)"),
    ),
    PageState(
        "API tokens, one revoked",
        "/support/api-tokens",
        "support_lead",
        then(_create_token("Revoked intake (accessibility check)"), _revoke_first),
    ),
]
