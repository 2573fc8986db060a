"""Every page in every state the harness scans: who looks, and how they get there.

`route` names the route template a state covers; test_every_route_is_scanned compares these with
the route table, so a new page without a state here fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.journey import PDF


@dataclass(frozen=True)
class PageState:
    name: str
    route: str
    role: str | None
    go: Callable  # go(page, base, new_page)

    def __str__(self) -> str:
        return self.name


def visit(path: str) -> Callable:
    return lambda page, base, new_page: page.goto(base + path)


def submit_empty(path: str, form_selector: str = "main form[method='post']") -> Callable:
    def go(page, base, new_page):
        page.goto(base + path)
        page.locator(form_selector).last.locator("button[type='submit'], button:not([type])").first.click()
        page.wait_for_load_state()

    return go


def fill_and_submit(path: str, values: dict[str, str]) -> Callable:
    def go(page, base, new_page):
        page.goto(base + path)
        for selector, value in values.items():
            page.fill(selector, value)
        page.locator("main form[method='post'] button").first.click()
        page.wait_for_load_state()

    return go


def first_member(suffix: str = "") -> Callable:
    def go(page, base, new_page):
        page.goto(base + "/members")
        href = page.locator("main table a[href^='/members/']").first.get_attribute("href")
        page.goto(base + href + suffix)

    return go


def demote_first_reviewer(page, base, new_page):
    page.goto(base + "/members")
    page.click("main table a:has-text('reviewer@riverside.example')")
    page.check("input[value='reviewer:all']") if False else None
    page.uncheck("input[name='grants'][value='reviewer:all']")
    page.check("input[name='grants'][value='drafter:all']")
    page.click("main form button:has-text('Save roles')")
    page.wait_for_load_state()


def fresh_sign_in_link(page, base, new_page):
    page.goto(base + "/sign-in")
    page.fill("#email", "link.page@example.com")
    page.click("form[action='/sign-in'] button")
    page.goto(base + "/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/sign-in/link/[^"]+)"', page.content()).group(1)
    page.goto(base + link)


def invitation_for_newcomer(page, base, new_page):
    admin = new_page("organisation_admin")
    admin.goto(base + "/members/invite")
    admin.fill("#email", "newcomer@example.com")
    admin.check("input[name='grants'][value='drafter:all']")
    admin.click("main form button:has-text('Send invitation')")
    admin.goto(base + "/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/invitations/[^"]+)"', admin.content()).group(1)
    page.goto(base + link)


def csrf_refusal(page, base, new_page):
    page.goto(base + "/sign-in")
    page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    page.fill("#email", "someone@example.com")
    page.click("form[action='/sign-in'] button")
    page.wait_for_load_state()


def start_draft(type_key: str = "serious_injury") -> Callable:
    def go(page, base, new_page):
        page.goto(base + "/notifications/new")
        page.check(f"input[name='type'][value='{type_key}']")
        page.locator("input[name='location']").first.check()
        page.click("main form button:has-text('Start notification')")
        page.wait_for_url(re.compile(r".*/notifications/[0-9]+$"))

    return go


def then(first: Callable, *steps: Callable) -> Callable:
    def go(page, base, new_page):
        first(page, base, new_page)
        for step in steps:
            step(page, base, new_page)

    return go


def open_section(title: str) -> Callable:
    def go(page, base, new_page):
        page.click(f"main a:has-text('{title}')")
        page.wait_for_load_state()

    return go


def press(text: str) -> Callable:
    def go(page, base, new_page):
        page.click(f"main button:has-text('{text}')")
        page.wait_for_load_state()

    return go


def choose(selector: str) -> Callable:
    return lambda page, base, new_page: page.check(selector)


def conflicting_save(page, base, new_page):
    """Two people on one section: the other saves first, so this page gets the conflict page."""
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    other = new_page("drafter")
    other.goto(page.url)
    other.fill("#completed_by_name", "Someone Else")
    other.click("main button:has-text('Save and come back later')")
    page.fill("#completed_by_name", "Me Myself")
    page.click("main button:has-text('Save and come back later')")
    page.wait_for_load_state()


def save_after_submission(page, base, new_page):
    """A drafter types into an approved notification while the submitter submits it: the save arrives too late."""
    from . import journeys

    notification = journeys.approved(new_page, base)
    page.goto(f"{base}/notifications/{notification}/sections/about_you")
    journeys.post(new_page("submitter"), base, f"/notifications/{notification}/submit", {"declaration": "yes"})
    page.fill("#completed_by_name", "Typed while it was being submitted")
    page.click("main button:has-text('Save and continue')")
    page.wait_for_load_state()


def type_then_upload(page, base, new_page):
    """Words typed, a file chosen and "Upload file" pressed straight away: the words come back saved."""
    page.fill("#risk_mitigation", "Bed rails checked every hour.")
    page.set_input_files(
        "#supporting_documents", files=[{"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    press("Upload file")(page, base, new_page)


def someone_else_saves_first(page, base, new_page):
    other = new_page("drafter")
    other.goto(page.url)
    other.fill("#risk_mitigation", "Someone else's words.")
    other.click("main button:has-text('Save and come back later')")
    other.wait_for_load_state()


def open_change_location(page, base, new_page):
    page.click("main a[href$='/location']")
    page.wait_for_load_state()


def nothing_chosen(page, base, new_page):
    """The current location comes checked; a person can only clear it by hand-editing, or in another browser."""
    page.evaluate("document.querySelectorAll('input[name=location]').forEach(input => input.checked = false)")
    press("Change location")(page, base, new_page)


def whole_document(page, base, new_page):
    page.goto(base + "/notifications")
    href = page.locator("main table a[href^='/notifications/']").first.get_attribute("href")
    page.goto(base + href + "/document")


def at(stage: Callable, suffix: str = "", type_key: str = "dols_outcome") -> Callable:
    """Brings a notification to a stage through HTTP, then opens one of its pages in this browser."""

    def go(page, base, new_page):
        notification = stage(new_page, base, type_key)
        page.goto(f"{base}/notifications/{notification}{suffix}")

    return go


def stage(name: str) -> Callable:
    def run(new_page, base, type_key):
        from . import journeys

        return getattr(journeys, name)(new_page, base, type_key)

    return run


def post_in_page(path_suffix: str) -> Callable:
    """Sends a form the page does not offer (a refused move), to see the page that explains why."""

    def go(page, base, new_page):
        url = page.url
        # Wait for the navigation itself: waiting for "load" alone returns at once, on the old page.
        with page.expect_navigation():
            page.evaluate(
                """([action]) => {
                const form = document.createElement('form');
                form.method = 'post'; form.action = action;
                const token = document.querySelector('input[name=csrf_token]').cloneNode();
                form.appendChild(token); document.body.appendChild(form); form.submit();
            }""",
                [url + path_suffix],
            )

    return go


STATES = [
    PageState("start", "/", None, visit("/")),
    PageState("cookies", "/cookies", None, visit("/cookies")),
    PageState("privacy", "/privacy", None, visit("/privacy")),
    PageState("accessibility statement", "/accessibility", None, visit("/accessibility")),
    PageState("help, signed out", "/help", None, visit("/help")),
    PageState("help, as a drafter", "/help", "drafter", visit("/help")),
    PageState("sign in", "/sign-in", None, visit("/sign-in")),
    PageState("sign in, empty", "/sign-in", None, submit_empty("/sign-in")),
    PageState("sign in, bad email", "/sign-in", None, fill_and_submit("/sign-in", {"#email": "not-an-email"})),
    PageState("check your email", "/sign-in/check-email", None, visit("/sign-in/check-email")),
    PageState("sign-in link", "/sign-in/link/{token}", None, fresh_sign_in_link),
    PageState("sign-in link, unknown", "/sign-in/link/{token}", None, visit("/sign-in/link/not-a-real-link")),
    PageState("signed out", "/signed-out", None, visit("/signed-out")),
    PageState("signed out, idle", "/signed-out", None, visit("/signed-out?reason=idle")),
    PageState("development outbox", "/dev/outbox", None, visit("/dev/outbox")),
    PageState("your account", "/account", "drafter", visit("/account")),
    PageState("organisations, none yet", "/organisations", "newcomer", visit("/organisations")),
    PageState("organisations, a member", "/organisations", "drafter", visit("/organisations")),
    PageState("ask for an organisation", "/organisations/request", "newcomer", visit("/organisations/request")),
    PageState(
        "ask for an organisation, errors",
        "/organisations/request",
        "newcomer",
        fill_and_submit("/organisations/request", {"#provider_id": "nonsense"}),
    ),
    PageState("dashboard, drafter", "/dashboard", "drafter", visit("/dashboard")),
    PageState("dashboard, admin", "/dashboard", "organisation_admin", visit("/dashboard")),
    PageState("members", "/members", "organisation_admin", visit("/members")),
    PageState("invite", "/members/invite", "organisation_admin", visit("/members/invite")),
    PageState("invite, errors", "/members/invite", "organisation_admin", submit_empty("/members/invite")),
    PageState("member", "/members/{member_id}", "organisation_admin", first_member()),
    PageState("member, as a reviewer cannot see it", "/members/{member_id}", "reviewer", visit("/members/1")),
    PageState(
        "change roles, confirm what is lost", "/members/{member_id}", "organisation_admin", demote_first_reviewer
    ),
    PageState("remove member", "/members/{member_id}/remove", "organisation_admin", first_member("/remove")),
    PageState("leave", "/leave", "submitter", visit("/leave")),
    PageState("history", "/history", "organisation_admin", visit("/history")),
    PageState("invitation", "/invitations/{token}", "newcomer", invitation_for_newcomer),
    PageState("invitation, unknown", "/invitations/{token}", "newcomer", visit("/invitations/not-a-token")),
    PageState("support workspace", "/support", "support_agent", visit("/support")),
    PageState("support workspace, lead", "/support", "support_lead", visit("/support")),
    PageState("notifications, none yet", "/notifications", "reviewer", visit("/notifications?status=withdrawn")),
    PageState("start a notification", "/notifications/new", "drafter", visit("/notifications/new")),
    PageState("start a notification, errors", "/notifications/new", "drafter", submit_empty("/notifications/new")),
    PageState("which notification, first question", "/notifications/which", "drafter", visit("/notifications/which")),
    PageState(
        "which notification, no answer chosen",
        "/notifications/which",
        "drafter",
        visit("/notifications/which?asked=what"),
    ),
    PageState(
        "which notification, a later question",
        "/notifications/which",
        "drafter",
        visit("/notifications/which?what=died&death_scope=yes"),
    ),
    PageState(
        "which notification, two to send",
        "/notifications/which",
        "drafter",
        visit("/notifications/which?what=died&death_scope=yes&death_detained=no&death_abuse=yes"),
    ),
    PageState(
        "which notification, one to send",
        "/notifications/which",
        "drafter",
        visit("/notifications/which?what=police&police_whom=no"),
    ),
    PageState(
        "which notification, nothing to send",
        "/notifications/which",
        "drafter",
        visit("/notifications/which?what=manager&away_who=manager&manager_stage=short"),
    ),
    PageState(
        "start a notification, type chosen by the guide",
        "/notifications/new",
        "drafter",
        visit("/notifications/new?type=serious_injury"),
    ),
    PageState("task list", "/notifications/{notification_id}", "drafter", start_draft()),
    PageState(
        "section, empty",
        "/notifications/{notification_id}/sections/{section_key}",
        "drafter",
        then(start_draft(), open_section("The person who was injured")),
    ),
    PageState(
        "section, with errors",
        "/notifications/{notification_id}/sections/{section_key}",
        "drafter",
        then(start_draft(), open_section("About you"), press("Save and continue")),
    ),
    PageState(
        "section, follow-up question revealed",
        "/notifications/{notification_id}/sections/{section_key}",
        "drafter",
        then(start_draft(), open_section("About you"), choose("input[name='contact_is_you'][value='no']")),
    ),
    PageState(
        "section, with a file question",
        "/notifications/{notification_id}/sections/{section_key}",
        "drafter",
        then(start_draft("serious_injury"), open_section("Risk and actions")),
    ),
    PageState(
        "section, conflict", "/notifications/{notification_id}/sections/{section_key}", "drafter", conflicting_save
    ),
    PageState(
        "change location",
        "/notifications/{notification_id}/location",
        "drafter",
        then(start_draft(), open_change_location),
    ),
    PageState(
        "change location, nothing chosen",
        "/notifications/{notification_id}/location",
        "drafter",
        then(start_draft(), open_change_location, nothing_chosen),
    ),
    PageState(
        "change location, approved",
        "/notifications/{notification_id}/location",
        "drafter",
        at(stage("approved"), "/location"),
    ),
    PageState("notifications list", "/notifications", "drafter", visit("/notifications")),
    PageState("whole notification", "/notifications/{notification_id}/document", "reviewer", whole_document),
    PageState("task list, in review", "/notifications/{notification_id}", "drafter", at(stage("sent_for_review"))),
    PageState("review", "/notifications/{notification_id}/review", "reviewer", at(stage("sent_for_review"), "/review")),
    PageState(
        "review, errors",
        "/notifications/{notification_id}/review",
        "reviewer",
        then(at(stage("sent_for_review"), "/review"), press("Ask for changes")),
    ),
    PageState(
        "task list, changes requested", "/notifications/{notification_id}", "drafter", at(stage("changes_requested"))
    ),
    PageState(
        "review, changes since the last review",
        "/notifications/{notification_id}/review",
        "reviewer",
        at(stage("changes_requested"), "/review"),
    ),
    PageState(
        "check and submit", "/notifications/{notification_id}/submit", "submitter", at(stage("approved"), "/submit")
    ),
    PageState(
        "check and submit, errors",
        "/notifications/{notification_id}/submit",
        "submitter",
        then(at(stage("approved"), "/submit"), press("Submit notification")),
    ),
    PageState("receipt", "/notifications/{notification_id}/receipt", "submitter", at(stage("submitted"), "/receipt")),
    PageState(
        "review of a follow-up, with what it changes",
        "/notifications/{notification_id}/review",
        "reviewer",
        at(stage("follow_up_in_review"), "/review"),
    ),
    PageState("task list, submitted", "/notifications/{notification_id}", "drafter", at(stage("submitted"))),
    PageState(
        "follow-up", "/notifications/{notification_id}/follow-up", "drafter", at(stage("submitted"), "/follow-up")
    ),
    PageState(
        "follow-up, errors",
        "/notifications/{notification_id}/follow-up",
        "drafter",
        then(at(stage("submitted"), "/follow-up"), press("Start follow-up")),
    ),
    PageState(
        "a refused move explained",
        "*workflow-problem",
        "drafter",
        then(start_draft("dols_outcome"), post_in_page("/request-review")),
    ),
    PageState("a save that arrived after submission", "*section-not-saved", "drafter", save_after_submission),
    PageState("organisation settings", "/organisation/settings", "organisation_admin", visit("/organisation/settings")),
    PageState(
        "upload refused",
        "*upload-problem",
        "drafter",
        then(
            start_draft("serious_injury"),
            open_section("Risk and actions"),
            lambda page, base, new_page: page.set_input_files(
                "input[type=file]",
                files=[{"name": "tool.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf"}],
            ),
            press("Upload file"),
        ),
    ),
    PageState(
        "section, after uploading a file with words typed",
        "/notifications/{notification_id}/sections/{section_key}",
        "drafter",
        then(start_draft("serious_injury"), open_section("Risk and actions"), type_then_upload),
    ),
    PageState(
        "conflict, after uploading a file",
        "*upload-conflict",
        "drafter",
        then(
            start_draft("serious_injury"), open_section("Risk and actions"), someone_else_saves_first, type_then_upload
        ),
    ),
    PageState("page not found", "*404", None, visit("/no-such-page")),
    PageState("forbidden", "*403", "drafter", visit("/members")),
    PageState("form refused (CSRF)", "*csrf", None, csrf_refusal),
]

from .pages_api import STATES_API  # noqa: E402  (kept in its own module: another journey's pages)

STATES += STATES_API
from .pages_support import STATES_SUPPORT  # noqa: E402

STATES += STATES_SUPPORT
from .pages_queries import STATES_QUERIES  # noqa: E402

STATES += STATES_QUERIES
from .pages_reports import STATES_REPORTS  # noqa: E402

STATES += STATES_REPORTS
from .pages_timeout import STATES_TIMEOUT  # noqa: E402

STATES += STATES_TIMEOUT
from .pages_kept_input import STATES_KEPT_INPUT  # noqa: E402

STATES += STATES_KEPT_INPUT
from .pages_scope import STATES_SCOPE  # noqa: E402

STATES += STATES_SCOPE
from .pages_locations import STATES_LOCATIONS  # noqa: E402

STATES += STATES_LOCATIONS
from .pages_register_changes import STATES_REGISTER_CHANGES  # noqa: E402

STATES += STATES_REGISTER_CHANGES

from .pages_practice import STATES_PRACTICE  # noqa: E402

STATES += STATES_PRACTICE

from .pages_people import STATES_PEOPLE  # noqa: E402

STATES += STATES_PEOPLE
from .pages_deadlines import STATES_DEADLINES  # noqa: E402

STATES += STATES_DEADLINES

# Routes that serve no HTML page, each with the reason.
NOT_PAGES = {
    "/healthz": "JSON for load balancers",
    "/metrics": "Prometheus's text format, behind a bearer token (404 where none is configured)",
    "/favicon.ico": "an empty 204",
    "/sign-in/one-login": "a redirect to the identity provider",
    "/sign-in/one-login/callback": "redirects; its error page is scanned in test_one_login_problem_page",
    "/sign-in/one-login/jwks.json": "JSON: the portal's public client keys, for the identity provider",
    # The main server has no staff provider, where these answer 404: test_staff_sign_in_pages.py starts one that has.
    "/sign-in/staff": "scanned in test_staff_sign_in_pages.py, on a server with a staff provider",
    "/sign-in/staff/start": "a redirect to the regulator's identity provider",
    "/sign-in/staff/callback": "redirects; its refusal and problem pages are scanned in test_staff_sign_in_pages.py",
    "/notifications/{notification_id}/attachments/{attachment_id}/download": "a file download, not a page",
    "/notifications/{notification_id}/receipt.json": "the receipt as a JSON download",
    "/api/v1/submissions": "JSON for the regulator's intake systems (bearer token)",
    "/api/v1/submissions/{reference}": "JSON for the regulator's intake systems (bearer token)",
    "/api/v1/submissions/{reference}/attachments/{attachment_id}": "a file download for intake systems",
    "/api/v1/openapi.json": "the API's OpenAPI document, JSON",
    "/support/reports/submissions-per-week.csv": "a report's table as a CSV download",
    "/support/reports/time-to-submit.csv": "a report's table as a CSV download",
    "/support/reports/open-queries-by-age.csv": "a report's table as a CSV download",
    "/support/reports/late-submissions.csv": "a report's table as a CSV download",
}
