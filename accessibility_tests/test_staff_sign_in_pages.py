"""Regulator staff sign-in's pages in the browser, on a server of their own that has a staff provider:
the staff sign-in page, the refusal of someone whose groups give no role, a sign-in that cannot be
finished, the sign-in page's link to staff sign-in, and a member of staff's email link refused.

The provider is a second tests/oidc_provider.mjs (tests/openid_provider.py). Its port is chosen first, so
the portal can be started knowing the issuer, and the provider then knowing the portal's callback.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.openid_provider import running_provider
from tests.ports import free_port

from .conftest import ARTIFACTS, PEOPLE, running_portal
from .test_axe_scan import describe, scan

CLIENT_ID = "portal-staff-a11y"
SECRET = "a11y-staff-client-secret-which-is-long-enough"
AGENTS = "group-support-agents"


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("a11y-staff")
    claims_file = data_dir / "directory.json"
    claims_file.write_text(
        json.dumps(
            {
                "unmapped.person": {"groups": ["finance"], "email": "unmapped.person@regulator.example"},
                "agent.person": {"groups": [AGENTS], "email": "agent.person@regulator.example"},
            }
        )
    )
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with running_portal(
        data_dir,
        PORTAL_STAFF_OIDC_ISSUER=issuer,
        PORTAL_STAFF_OIDC_CLIENT_ID=CLIENT_ID,
        PORTAL_STAFF_OIDC_CLIENT_SECRET=SECRET,
        PORTAL_STAFF_OIDC_SCOPES="openid email profile groups",
        PORTAL_STAFF_OIDC_ROLE_MAP=json.dumps({AGENTS: "support_agent"}),
        PORTAL_STAFF_EMAIL_LINK="off",
    ) as running:
        config = {
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "redirect_uris": [running["base"] + "/sign-in/staff/callback"],
            "post_logout_redirect_uris": [running["base"] + "/signed-out"],
            "conform_id_token_claims": False,
            "claims_file": str(claims_file),
        }
        with running_provider(config, port=port) as started:
            assert started == issuer
            yield {**running, "issuer": issuer}


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def through_the_provider(page, issuer: str, login: str) -> None:
    """The provider's own sign-in and consent pages, as a person fills them in."""
    for _ in range(4):
        if not page.url.startswith(issuer):
            return
        if page.locator("input[name='login']").count():
            page.fill("input[name='login']", login)
            page.fill("input[name='password']", "anything")
        page.locator("button[type='submit']").first.click()
        page.wait_for_load_state()
    raise AssertionError(f"the provider never sent the person back: {page.url}")


def check(page, name: str, heading: str) -> None:
    assert page.locator("h1").inner_text() == heading
    ARTIFACTS.joinpath("screens").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}.png"), full_page=True)
    violations = scan(page)
    assert violations == [], f"{name} at {page.url}:\n{describe(violations)}"


def test_the_staff_sign_in_page(staff_server, page):
    page.goto(staff_server["base"] + "/sign-in/staff")
    check(page, "staff-sign-in", "Sign in as regulator staff")


def test_the_sign_in_page_offers_staff_sign_in(staff_server, page):
    page.goto(staff_server["base"] + "/sign-in")
    page.click("main a:has-text('sign in as regulator staff')")
    assert page.url == staff_server["base"] + "/sign-in/staff"


def test_someone_with_no_mapped_group_is_refused(staff_server, page):
    page.goto(staff_server["base"] + "/sign-in/staff")
    page.click("main a:has-text('Sign in with your work account')")
    page.wait_for_load_state()
    through_the_provider(page, staff_server["issuer"], "unmapped.person")
    assert page.url.startswith(staff_server["base"] + "/sign-in/staff/callback")
    check(page, "staff-sign-in-no-role", "You cannot use the portal with this account")


def test_a_mapped_member_of_staff_lands_on_support_by_keyboard(staff_server, page):
    page.goto(staff_server["base"] + "/sign-in/staff")
    page.focus("main a:has-text('Sign in with your work account')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    through_the_provider(page, staff_server["issuer"], "agent.person")
    assert page.url == staff_server["base"] + "/support"


def test_a_sign_in_that_cannot_be_finished(staff_server, page):
    page.goto(staff_server["base"] + "/sign-in/staff/callback?state=stale&code=x")
    check(page, "staff-sign-in-problem", "There is a problem signing you in as regulator staff")


def test_a_member_of_staffs_email_link_is_refused(staff_server, page):
    base = staff_server["base"]
    page.goto(f"{base}/sign-in")
    page.fill("#email", PEOPLE["support_agent"])
    page.click("form[action='/sign-in'] button")
    page.goto(f"{base}/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/sign-in/link/[^"]+)"', page.content()).group(1)
    page.goto(base + link)
    page.click("form[action^='/sign-in/link/'] button")
    page.wait_for_load_state()
    check(page, "staff-email-link-refused", "That sign-in link cannot be used")
