"""axe on every page in every state, with the WCAG 2.2 A and AA tags and best practice."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from portal.app import all_endpoints

from .conftest import ARTIFACTS
from .pages import NOT_PAGES, STATES
from .pages_one_login import ONE_LOGIN_PROBLEMS, STAFF_PROBLEMS

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Rules switched off, each with the reason. Empty: none are.
DISABLED_RULES: dict[str, str] = {}


# Nodes excused from one rule, each with the reason. Nothing else is excused.
# GOV.UK Frontend's script puts aria-expanded on radios that reveal a follow-up question. ARIA 1.2
# does not list it for radios, so axe flags it; the Design System keeps it on purpose because screen
# readers announce it and research with users found it helps (alphagov/govuk-frontend issue 979).
# Only that attribute on those radios is excused: any other attribute, or any other element, fails.
def _known_govuk_conditional_radio(violation: dict, node: dict) -> bool:
    if violation["id"] != "aria-allowed-attr" or 'class="govuk-radios__input"' not in node["html"]:
        return False
    return all(
        re.fullmatch(r"ARIA attribute is not allowed: aria-expanded=\"(true|false)\"", item["message"])
        for check in node["any"] + node["all"] + node["none"]
        for item in [check]
    )


axe = Axe()


def scan(page) -> list[dict]:
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    if DISABLED_RULES:
        options["rules"] = {rule: {"enabled": False} for rule in DISABLED_RULES}
    results = axe.run(page, options=options)
    violations = []
    for violation in results.response["violations"]:
        nodes = [node for node in violation["nodes"] if not _known_govuk_conditional_radio(violation, node)]
        if nodes:
            violations.append({**violation, "nodes": nodes})
    return violations


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"]][:3]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("state", STATES, ids=str)
def test_every_page_has_no_axe_violations(state, server, new_page):
    page = new_page(state.role)
    state.go(page, server["base"], new_page)
    ARTIFACTS.joinpath("screens").mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / "screens" / f"{state.name.replace(' ', '-').replace(',', '')}.png"), full_page=True
    )
    violations = scan(page)
    assert violations == [], f"{state.name} at {page.url}:\n{describe(violations)}"


def test_every_route_is_scanned():
    scanned = {state.route for state in STATES}
    routes = {endpoint.path for endpoint in all_endpoints() if "GET" in endpoint.methods}
    missing = routes - scanned - set(NOT_PAGES)
    assert missing == set(), f"pages with no state in accessibility_tests/pages.py: {sorted(missing)}"


def render_in_process(server, template: str, status: int, **context) -> str:
    """A page rendered by the real app in-process, for states the browser cannot easily reach."""
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from portal.app import create_app
    from portal.settings import Settings
    from portal.web.routing import render

    app = create_app(Settings(database_url=server["database_url"], secret_key="s" * 40, data_dir=server["data_dir"]))
    app.router.routes.insert(0, Route("/render-page", lambda request: render(request, template, status, **context)))
    with TestClient(app) as client:
        response = client.get("/render-page")
    assert response.status_code == status
    return response.text


REFUSED = ["The 'body' field must not contain a null character"]


@pytest.mark.parametrize(
    "template,status,context",
    [
        ("errors/400.html", 400, {}),
        # A form read by hand whose text held a refused character (portal/input_text.py): the fields are named.
        ("errors/400.html", 400, {"refused": REFUSED}),
        ("errors/500.html", 500, {}),
        ("errors/503.html", 503, {}),
    ],
)
def test_error_pages_the_browser_cannot_easily_reach(template, status, context, server, new_page):
    """Rendered by the real app in-process, then scanned in the browser on the server's origin."""
    html = render_in_process(server, template, status, request_id="abc123", **context)
    page = new_page()
    page.goto(server["base"] + "/help")
    page.set_content(html)
    violations = scan(page)
    assert violations == [], describe(violations)


def scan_rendered_problem(server, new_page, template: str, status: int, failure: str, name: str) -> None:
    """A sign-in problem page, rendered in the server's own process (the failure cannot be caused from a
    browser), scanned on the site's origin, with its screenshot kept."""
    html = render_in_process(server, template, status, failure=failure)
    page = new_page()
    page.goto(server["base"] + "/help")
    page.set_content(html)
    ARTIFACTS.joinpath("screens").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}-{failure.replace(' ', '-')}.png"), full_page=True)
    violations = scan(page)
    assert violations == [], f"{name} problem, {failure}:\n{describe(violations)}"


@pytest.mark.parametrize("failure,status", ONE_LOGIN_PROBLEMS, ids=[failure for failure, _ in ONE_LOGIN_PROBLEMS])
def test_one_login_problem_page(failure, status, server, new_page):
    scan_rendered_problem(server, new_page, "accounts/one_login_problem.html", status, failure, "one-login")


@pytest.mark.parametrize("failure,status", STAFF_PROBLEMS, ids=[failure for failure, _ in STAFF_PROBLEMS])
def test_staff_sign_in_problem_page(failure, status, server, new_page):
    scan_rendered_problem(server, new_page, "accounts/staff_problem.html", status, failure, "staff")
