"""Page states for words typed after the session ended: kept, offered back, and the message that says so.

Each state needs a session of its own to end, so it never ends the shared signed-in state the other
states reuse. The session is started in the database (sessions.start_session, as signing in does)
rather than through the sign-in pages, which are rate limited per address and per IP; the journeys in
test_kept_input.py sign in again through the real pages.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, open_section, start_draft

SECTION = "/notifications/{notification_id}/sections/{section_key}"
FIELD = "#completed_by_name"
_numbers = itertools.count(1)


def _factory():
    from portal.db import make_engine, make_session_factory

    from .conftest import RUNNING

    engine = make_engine(RUNNING["database_url"])
    return engine, make_session_factory(engine)


def new_drafter(label: str) -> str:
    """A drafter of the demo organisation of their own: their sessions are theirs to end."""
    from sqlalchemy import select

    from portal.db import transaction
    from portal.models import Membership, Organisation, RoleGrant, User

    email = f"kept.{label}.{next(_numbers)}@riverside.example"
    engine, factory = _factory()
    with transaction(factory) as db:
        organisation = db.scalar(select(Organisation).where(Organisation.name == "Riverside Care Ltd"))
        user = User(email=email, display_name="Kit Kept")
        db.add(user)
        db.flush()
        membership = Membership(user_id=user.id, organisation_id=organisation.id)
        membership.grants.append(RoleGrant(role="drafter", location_id=None))
        db.add(membership)
    engine.dispose()
    return email


def start_session_for(page, base: str, email: str) -> None:
    """Signs this browser in as email, as the last step of signing in does: a new session and its cookie."""
    from sqlalchemy import select

    from portal.accounts.sessions import SESSION_COOKIE, start_session
    from portal.db import transaction
    from portal.models import User

    engine, factory = _factory()
    with transaction(factory) as db:
        user = db.scalar(select(User).where(User.email == email))
        token = start_session(db, user, method="email link", ip="127.0.0.1", user_agent="harness")
    engine.dispose()
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base}])


def end_session(page, how: str = "idle") -> None:
    """Ends this browser's session in the database: idle as 31 quiet minutes leave it, or already found
    idle by a request from another tab (the save then lands on the sign-in page)."""
    from sqlalchemy import update

    from portal.accounts.sessions import SESSION_COOKIE
    from portal.db import transaction
    from portal.models import UserSession, utcnow
    from portal.tokens import token_hash

    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == SESSION_COOKIE)
    values = (
        {"last_seen_at": utcnow() - timedelta(minutes=31)}
        if how == "idle"
        else {"ended_at": utcnow(), "ended_reason": "idle"}
    )
    engine, factory = _factory()
    with transaction(factory) as db:
        db.execute(update(UserSession).where(UserSession.token_hash == token_hash(token)).values(**values))
    engine.dispose()


def wait_for_words(page, selector: str, words: str) -> None:
    page.wait_for_function(
        "([selector, words]) => (document.querySelector(selector)?.textContent || '').includes(words)",
        arg=[selector, words],
    )


def _typed_then_ended(page, base, new_page, *, how: str = "idle") -> str:
    """A drafter types in a section, then their session ends; returns the email they use."""
    email = new_drafter("state")
    start_session_for(page, base, email)
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    page.fill(FIELD, "Words typed after the session ended")
    end_session(page, how)
    return email


def _saved_after_the_end(how: str):
    """The JavaScript-free way: Save is pressed after the session ended, so the words are kept and the
    browser lands on the signed-out page (idle) or the sign-in page (ended in another tab)."""

    def go(page, base, new_page):
        _typed_then_ended(page, base, new_page, how=how)
        with page.expect_navigation():
            page.click("main button:has-text('Save and come back later')")

    return go


def _kept_and_offered(changed_since: bool):
    def go(page, base, new_page):
        email = _typed_then_ended(page, base, new_page)
        section = page.url
        with page.expect_navigation():
            page.click("main button:has-text('Save and come back later')")
        if changed_since:
            # A colleague: the same person in another tab would be offered the kept words themselves.
            colleague = new_page()
            start_session_for(colleague, base, new_drafter("colleague"))
            colleague.goto(section)
            colleague.fill("#completed_by_job_title", "Saved by another tab")
            with colleague.expect_navigation():
                colleague.click("main button:has-text('Save and come back later')")
        start_session_for(page, base, email)
        page.goto(section)

    return go


def _autosave_after_the_end(page, base, new_page):
    _typed_then_ended(page, base, new_page)
    page.type(FIELD, " and more")
    wait_for_words(page, "#autosave-status", "You have been signed out")


def _offered_by_this_tab(page, base, new_page):
    """Signed out in another tab of this browser: the cookie is gone, so only this tab has the words."""
    email = new_drafter("tab")
    start_session_for(page, base, email)
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    section = page.url
    other_tab = page.context.new_page()
    other_tab.goto(base + "/dashboard")
    with other_tab.expect_navigation():
        other_tab.click("footer button:has-text('Sign out')")
    other_tab.close()
    page.fill(FIELD, "Only this tab has these words")
    wait_for_words(page, "#autosave-status", "You have been signed out")
    start_session_for(page, base, email)
    page.goto(section)
    page.wait_for_selector("#browser-kept:not([hidden])")


def _comment_kept(page, base, new_page):
    """A comment sent after the session ended, offered back in its box and in words on the document page."""
    email = new_drafter("comment")
    start_session_for(page, base, email)
    start_draft("dols_outcome")(page, base, new_page)
    document = page.url + "/document"
    page.goto(document)
    page.fill("#comment-about_you", "Is the date of the outcome right?")
    end_session(page)
    with page.expect_navigation():
        page.click("main button:has-text('Add comment')")
    start_session_for(page, base, email)
    page.goto(document)
    page.wait_for_selector("#kept-words")


def _opened_by_someone_else(page, base, new_page):
    """A shared computer: a colleague signs in on this browser while a drafter's section stays open."""
    start_session_for(page, base, new_drafter("first"))
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    page.fill(FIELD, "Typed by the first drafter")
    start_session_for(page, base, new_drafter("second"))
    with page.expect_navigation():
        page.click("main button:has-text('Save and come back later')")
    page.wait_for_selector("h1:has-text('This page was opened by someone else')")


def _signed_out_in_another_tab(page, base, new_page):
    """Sign out pressed in another tab: this tab says so in its live region before anything is lost."""
    start_session_for(page, base, new_drafter("other-tab"))
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    other_tab = page.context.new_page()
    other_tab.goto(base + "/dashboard")
    with other_tab.expect_navigation():
        other_tab.click("footer button:has-text('Sign out')")
    other_tab.close()
    wait_for_words(page, "#autosave-status", "You signed out in another tab")


def _autosave_refused_a_character(page, base, new_page):
    """Text pasted with a control character in it: the autosave says in words that nothing was saved."""
    start_session_for(page, base, new_drafter("refused"))
    start_draft("dols_outcome")(page, base, new_page)
    open_section("About you")(page, base, new_page)
    page.evaluate(
        """(selector) => {
            const field = document.querySelector(selector);
            field.value = "Pasted\u001b name";
            field.dispatchEvent(new Event("input", { bubbles: true }));
        }""",
        FIELD,
    )
    wait_for_words(page, "#autosave-status", "Not saved.")


STATES_KEPT_INPUT: list = [
    PageState("signed out, words kept", "/signed-out", None, _saved_after_the_end("idle")),
    PageState("sign in, words kept", "/sign-in", None, _saved_after_the_end("another tab")),
    PageState("section, signed out while autosaving", SECTION, None, _autosave_after_the_end),
    PageState("section, words kept after the session ended", SECTION, None, _kept_and_offered(False)),
    PageState("section, words kept, changed since", SECTION, None, _kept_and_offered(True)),
    PageState("section, words kept by this tab", SECTION, None, _offered_by_this_tab),
    PageState("section, saved from a page opened by someone else", SECTION, None, _opened_by_someone_else),
    PageState("section, signed out in another tab", SECTION, None, _signed_out_in_another_tab),
    PageState("section, autosave refused a control character", SECTION, None, _autosave_refused_a_character),
    PageState(
        "document, comment kept after the session ended",
        "/notifications/{notification_id}/document",
        None,
        _comment_kept,
    ),
]
