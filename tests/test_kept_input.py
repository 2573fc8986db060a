"""Nothing typed is lost when the session ends mid-edit, and nobody but its author ever sees it.

A section save, its autosave or a conflict's resolve that arrives after the session ended (idle,
expired, signed out elsewhere) is kept for that session's person and offered back on the section page
once they sign in again, through the version check. An htmx request gets a 401 fragment for its live
region, never the sign-in page.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

from sqlalchemy import select, update

from portal.accounts import kept_input
from portal.app import all_endpoints
from portal.db import transaction
from portal.models import KeptInput, Membership, RoleGrant, SectionDraft, User, UserSession, utcnow
from portal.tokens import token_hash

from .conftest import CSRF_RE, ROOT, csrf_from, latest_email, link_in, post_form
from .drafting import start_notification, version_on
from .journey import act, draft_complete

DRAFTER = "drafter@riverside.example"
SECOND_DRAFTER = "second.drafter@riverside.example"


def section_path(notification: int, key: str = "about_you") -> str:
    return f"/notifications/{notification}/sections/{key}"


def end_session_idle(db_factory, client) -> None:
    """As 31 idle minutes would: only this client's session, whoever else is signed in."""
    with transaction(db_factory) as db:
        db.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash(client.cookies.get("portal_session")))
            .values(last_seen_at=utcnow() - timedelta(minutes=31))
        )


def kept_rows(db_factory) -> list[KeptInput]:
    with db_factory() as db:
        return list(db.scalars(select(KeptInput).order_by(KeptInput.id)))


def user_id(db_factory, email: str) -> int:
    with db_factory() as db:
        return db.scalar(select(User.id).where(User.email == email))


def sign_in_again(client, db_factory, email: str, next_path: str):
    """Signs in as a person does from the signed-out page: the link carries them back to next_path."""
    response = post_form(client, "/sign-in", {"email": email, "next": next_path})
    assert response.status_code == 303, response.text
    link = link_in(latest_email(db_factory, email), "/sign-in/link/")
    response = post_form(client, link, from_page=link)
    assert response.status_code == 303 and response.headers["location"] == next_path
    return response


def typed_after_the_end(client, path: str, version: str, token: str, **fields):
    """The section form posted as the page left it: its CSRF token and version from before the end."""
    return client.post(path, data={"csrf_token": token, "version": version, "action": "continue", **fields})


def open_section(client, notification: int) -> tuple[str, str, str]:
    path = section_path(notification)
    page = client.get(path)
    assert page.status_code == 200
    return path, version_on(page.text), CSRF_RE.search(page.text).group(1)


def add_second_drafter(db_factory, organisation_id: int) -> None:
    with transaction(db_factory) as db:
        user = User(email=SECOND_DRAFTER)
        db.add(user)
        db.flush()
        membership = Membership(user_id=user.id, organisation_id=organisation_id)
        membership.grants.append(RoleGrant(role="drafter", location_id=None))
        db.add(membership)


# Kept on the server, for that person only ------------------------------------------------------


def test_a_save_after_idle_is_kept_and_shown_after_signing_in_again(drafter, db_factory, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    end_session_idle(db_factory, drafter)

    response = typed_after_the_end(drafter, path, version, token, completed_by_name="Words I typed")
    assert response.status_code == 303
    assert response.headers["location"] == f"/signed-out?reason=idle&next={path}"
    [row] = kept_rows(db_factory)
    assert row.user_id == user_id(db_factory, DRAFTER) and row.page == path
    assert ["completed_by_name", "Words I typed"] in row.fields and ["version", version] in row.fields
    assert all(name != "csrf_token" for name, _ in row.fields)
    signed_out = drafter.get(response.headers["location"])
    assert "We kept what you typed" in signed_out.text
    assert f'href="/sign-in?next={path}"' in signed_out.text

    sign_in_again(drafter, db_factory, DRAFTER, path)
    page = drafter.get(path)
    assert "We kept what you typed before you were signed out at" in page.text
    assert 'value="Words I typed"' in page.text and version_on(page.text) == version
    assert "after you started" not in page.text

    saved = post_form(
        drafter,
        path,
        {"version": version_on(page.text), "action": "later", "completed_by_name": "Words I typed"},
        from_page=path,
    )
    assert saved.status_code == 303
    assert kept_rows(db_factory) == []
    with db_factory() as db:
        draft = db.scalar(select(SectionDraft).where(SectionDraft.section_key == "about_you"))
        assert draft.answers["completed_by_name"] == "Words I typed"
    assert "We kept what you typed" not in drafter.get(path).text


def test_a_file_uploaded_from_the_section_after_idle_keeps_the_words_typed_beside_it(drafter, db_factory, location_id):
    notification = start_notification(drafter, "serious_injury", location_id)
    path = section_path(notification, "risk")
    page = drafter.get(path)
    version, token = version_on(page.text), CSRF_RE.search(page.text).group(1)
    end_session_idle(db_factory, drafter)

    response = drafter.post(
        f"/notifications/{notification}/attachments/supporting_documents",
        data={"csrf_token": token, "version": version, "section": "risk", "risk_mitigation": "Rails checked"},
        files={"supporting_documents": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/signed-out?reason=idle&next={path}"
    [row] = kept_rows(db_factory)
    assert row.page == path and ["risk_mitigation", "Rails checked"] in row.fields
    sign_in_again(drafter, db_factory, DRAFTER, path)
    assert "Rails checked" in drafter.get(path).text


def test_words_kept_for_a_notification_withdrawn_meanwhile_are_shown_after_signing_in(
    as_person, db_factory, demo_org, location_id
):
    drafter = as_person(DRAFTER)
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    end_session_idle(db_factory, drafter)
    typed_after_the_end(drafter, path, version, token, completed_by_name="Words typed before the withdrawal")
    elsewhere = as_person(DRAFTER)
    withdrawn = post_form(
        elsewhere, f"/notifications/{notification}/withdraw", {}, from_page=f"/notifications/{notification}"
    )
    assert withdrawn.status_code == 303

    sign_in_again(drafter, db_factory, DRAFTER, path)
    page = drafter.get(path)

    assert page.status_code == 200
    assert "Your answers were not saved" in page.text
    assert "Words typed before the withdrawal" in page.text
    # For nobody else: a colleague, who has no words kept, is refused as before.
    add_second_drafter(db_factory, demo_org["id"])
    assert as_person(SECOND_DRAFTER).get(path).status_code == 403


def test_a_comment_posted_after_idle_is_put_back_in_its_box(drafter, db_factory, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    document = f"/notifications/{notification}/document"
    token = csrf_from(drafter, document)
    end_session_idle(db_factory, drafter)

    response = drafter.post(
        f"/notifications/{notification}/comments",
        data={"csrf_token": token, "section": "about_you", "body": "Check the date <b>again</b>", "back": document},
    )
    assert response.headers["location"] == f"/signed-out?reason=idle&next={document}"

    sign_in_again(drafter, db_factory, DRAFTER, document)
    page = drafter.get(document)
    assert "We kept the comment you were writing" in page.text
    assert 'href="#comment-about_you"' in page.text
    assert 'name="body" rows="2">Check the date &lt;b&gt;again&lt;/b&gt;</textarea>' in page.text
    # Sent: the comment is stored and no longer offered.
    post_form(
        drafter,
        f"/notifications/{notification}/comments",
        {"section": "about_you", "body": "Check the date"},
        from_page=document,
    )
    assert "We kept the comment" not in drafter.get(document).text


def test_changes_asked_for_after_idle_are_kept_even_once_the_notification_moved_on(as_role, db_factory, location_id):
    drafter, reviewer = as_role("drafter"), as_role("reviewer")
    notification = draft_complete(drafter, "dols_outcome", location_id, with_files=False)
    assert act(drafter, notification, "request-review").status_code == 303
    review = f"/notifications/{notification}/review"
    token = csrf_from(reviewer, review)
    end_session_idle(db_factory, reviewer)

    response = reviewer.post(
        f"/notifications/{notification}/request-changes",
        data={"csrf_token": token, "summary": "The outcome date is missing", "sections": "about_you"},
    )
    assert response.headers["location"] == f"/signed-out?reason=idle&next={review}"
    sign_in_again(reviewer, db_factory, "reviewer@riverside.example", review)
    page = reviewer.get(review)
    assert "We kept what you wrote about the changes needed" in page.text
    assert ">The outcome date is missing</textarea>" in page.text
    assert 'value="about_you" checked' in page.text

    # Withdrawn by the drafter meanwhile: no form to send it with, but the words are still there.
    assert act(drafter, notification, "withdraw").status_code == 303
    page = reviewer.get(review)
    assert "It can no longer be sent" in page.text and "The outcome date is missing" in page.text


def test_a_save_with_a_cookie_signed_out_everywhere_keeps_nothing(as_person, db_factory, location_id):
    """Signing out everywhere is what a person does when a cookie may be in someone else's hands: what that
    cookie posts afterwards must never come back to them as their own words."""
    drafter = as_person(DRAFTER)
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    elsewhere = as_person(DRAFTER)
    assert post_form(elsewhere, "/sign-out", {"everywhere": "yes"}, from_page="/dashboard").status_code == 303

    response = typed_after_the_end(drafter, path, version, token, completed_by_name="Planted words")
    assert response.headers["location"] == f"/sign-in?next={path}"
    assert kept_rows(db_factory) == []
    assert "We kept what you typed" not in drafter.get(response.headers["location"]).text


def test_another_person_never_sees_what_was_kept(as_person, db_factory, demo_org, location_id):
    add_second_drafter(db_factory, demo_org["id"])
    drafter = as_person(DRAFTER)
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    end_session_idle(db_factory, drafter)
    typed_after_the_end(drafter, path, version, token, completed_by_name="Only for the drafter")

    colleague = as_person(SECOND_DRAFTER)
    page = colleague.get(path)
    assert page.status_code == 200
    assert "Only for the drafter" not in page.text and "We kept what you typed" not in page.text
    # Nor does the colleague's save take it away: it is the drafter's until they save or discard it.
    post_form(colleague, path, {"version": version_on(page.text), "action": "later"}, from_page=path)
    assert len(kept_rows(db_factory)) == 1


def test_words_posted_with_someone_elses_ended_cookie_are_kept_for_them_not_for_whoever_signs_in(
    as_person, db_factory, demo_org, location_id
):
    """The browser presents the colleague's ended session: the words are the colleague's, and signing in as
    the drafter in that browser shows the drafter nothing."""
    add_second_drafter(db_factory, demo_org["id"])
    drafter = as_person(DRAFTER)
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, _ = open_section(drafter, notification)
    colleague = as_person(SECOND_DRAFTER)
    token = csrf_from(colleague, path)
    end_session_idle(db_factory, colleague)

    typed_after_the_end(colleague, path, version, token, completed_by_name="The colleague's words")
    [row] = kept_rows(db_factory)
    assert row.user_id == user_id(db_factory, SECOND_DRAFTER)

    sign_in_again(colleague, db_factory, DRAFTER, path)
    page = colleague.get(path)
    assert "The colleague's words" not in page.text and "We kept what you typed" not in page.text


def test_a_save_after_someone_elses_save_meets_the_conflict_page(as_person, db_factory, demo_org, location_id):
    add_second_drafter(db_factory, demo_org["id"])
    drafter = as_person(DRAFTER)
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    end_session_idle(db_factory, drafter)
    typed_after_the_end(drafter, path, version, token, completed_by_name="My kept words")
    colleague = as_person(SECOND_DRAFTER)
    post_form(colleague, path, {"version": version, "action": "later", "completed_by_name": "Theirs"}, from_page=path)

    sign_in_again(drafter, db_factory, DRAFTER, path)
    page = drafter.get(path)
    assert 'value="My kept words"' in page.text
    assert version_on(page.text) == version, "the form carries the version the kept words started from"
    assert f"{SECOND_DRAFTER} saved this section at" in page.text and "after you started" in page.text

    conflict = post_form(
        drafter, path, {"version": version_on(page.text), "completed_by_name": "My kept words"}, from_page=path
    )
    assert conflict.status_code == 409 and "Someone else changed this section" in conflict.text
    assert "My kept words" in conflict.text and "Theirs" in conflict.text
    assert len(kept_rows(db_factory)) == 1, "kept until the conflict is settled"
    mine = html.unescape(re.search(r'name="mine" value="([^"]+)"', conflict.text).group(1))
    theirs_version = re.search(r'name="version" value="(\d+)"', conflict.text).group(1)
    settled = post_form(
        drafter,
        f"{path}/resolve",
        {"mine": mine, "version": theirs_version, "choice-completed_by_name": "mine"},
        from_page=path,
    )
    assert settled.status_code == 303
    assert kept_rows(db_factory) == []


def test_a_conflict_settled_after_the_session_ended_is_kept_with_its_choices(as_person, db_factory, location_id):
    drafter = as_person(DRAFTER)
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    other_tab = as_person(DRAFTER)
    post_form(other_tab, path, {"version": version, "action": "later", "completed_by_name": "Theirs"}, from_page=path)
    conflict = post_form(drafter, path, {"version": version, "completed_by_name": "Mine"}, from_page=path)
    assert conflict.status_code == 409
    end_session_idle(db_factory, drafter)

    response = drafter.post(
        f"{path}/resolve",
        data={
            "csrf_token": token,
            "version": str(int(version) + 1),
            "mine": json.dumps({"completed_by_name": "Mine"}),
            "choice-completed_by_name": "theirs",
        },
    )
    assert response.headers["location"] == f"/signed-out?reason=idle&next={path}"
    sign_in_again(drafter, db_factory, DRAFTER, path)
    page = drafter.get(path)
    assert "We kept what you typed" in page.text
    assert 'value="Theirs"' in page.text, "the answer they chose to keep"
    assert version_on(page.text) == str(int(version) + 1) and "after you started" not in page.text


def test_discarding_what_was_kept_shows_the_saved_answers(drafter, db_factory, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    end_session_idle(db_factory, drafter)
    typed_after_the_end(drafter, path, version, token, completed_by_name="Not wanted")
    sign_in_again(drafter, db_factory, DRAFTER, path)
    assert 'value="Not wanted"' in drafter.get(path).text

    response = post_form(drafter, f"{path}/kept/discard", from_page=path)
    assert response.status_code == 303 and response.headers["location"] == path
    assert kept_rows(db_factory) == []
    page = drafter.get(path)
    assert "We discarded what you typed" in page.text and "Not wanted" not in page.text


def test_kept_words_expire(drafter, db_factory, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    end_session_idle(db_factory, drafter)
    typed_after_the_end(drafter, path, version, token, completed_by_name="Too old")
    with transaction(db_factory) as db:
        db.execute(update(KeptInput).values(expires_at=utcnow() - timedelta(seconds=1)))
    sign_in_again(drafter, db_factory, DRAFTER, path)
    page = drafter.get(path)
    assert "Too old" not in page.text and "We kept what you typed" not in page.text
    with transaction(db_factory) as db:
        assert kept_input.sweep(db) == 1
    assert kept_rows(db_factory) == []


def test_nothing_is_kept_when_support_ended_the_sessions_or_nobody_was_signed_in(
    as_person, client, db_factory, location_id
):
    drafter = as_person(DRAFTER)
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    with transaction(db_factory) as db:
        db.execute(update(UserSession).values(ended_at=utcnow(), ended_reason="support"))
    response = typed_after_the_end(drafter, path, version, token, completed_by_name="Maybe not theirs")
    assert response.headers["location"] == f"/sign-in?next={path}"
    anonymous = typed_after_the_end(client, path, version, csrf_from(client), completed_by_name="Nobody's")
    assert anonymous.headers["location"] == f"/sign-in?next={path}"
    assert kept_rows(db_factory) == []
    assert "We kept what you typed" not in drafter.get(response.headers["location"]).text


# htmx: a fragment for the live region, never a page -------------------------------------------


def test_an_autosave_after_the_session_ended_gets_a_401_fragment_and_is_kept(drafter, db_factory, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path, version, token = open_section(drafter, notification)
    end_session_idle(db_factory, drafter)

    response = drafter.post(
        f"{path}/autosave",
        data={"version": version, "completed_by_name": "Typed while away"},
        headers={"HX-Request": "true", "X-CSRF-Token": token, "HX-Current-URL": f"http://testserver{path}"},
    )
    assert response.status_code == 401
    assert "location" not in response.headers
    text = response.text
    for part in ("<html", "<header", "<footer", "<main", "<h1"):
        assert part not in text, f"{part} in the fragment"
    assert "You have been signed out because you had not done anything for 30 minutes" in text
    assert "We kept what you typed" in text
    assert f'href="/sign-in?next={path}"' in text
    [row] = kept_rows(db_factory)
    assert ["completed_by_name", "Typed while away"] in row.fields


def test_an_htmx_request_with_no_session_at_all_gets_the_fragment_too(client, drafter, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = section_path(notification)
    token = csrf_from(client)
    response = client.post(
        f"{path}/autosave",
        data={"version": "0", "completed_by_name": "x"},
        headers={"HX-Request": "true", "X-CSRF-Token": token, "HX-Current-URL": "http://evil.example/phish"},
    )
    assert response.status_code == 401 and "<header" not in response.text
    assert "You have been signed out, so this was not saved." in response.text
    # The page to return to is the section's, never an address the request names on another site.
    assert f'href="/sign-in?next={path}"' in response.text


def test_htmx_swaps_the_401_fragment_and_no_other_error():
    """The config htmx reads from the layout: a 401 lands in the live region, other errors never do."""
    layout = (ROOT / "templates" / "layouts" / "base.html").read_text()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", layout).group(1))
    handling = config["responseHandling"]

    def first_match(status: int) -> dict:
        return next(rule for rule in handling if re.search(rule["code"], str(status)))

    assert first_match(401)["swap"] is True and first_match(401)["error"] is True
    for status in (400, 403, 404, 409, 500, 503):
        assert first_match(status)["swap"] is False, status
    assert first_match(200)["swap"] is True and first_match(204)["swap"] is False


# The service and the declarations ---------------------------------------------------------------


def test_each_person_keeps_a_bounded_number_of_pages_and_only_storable_text(db_factory, demo_org):
    owner = user_id(db_factory, DRAFTER)
    with transaction(db_factory) as db:
        for number in range(kept_input.MAX_PER_PERSON + 5):
            assert kept_input.keep(
                db, user_id=owner, page=f"/page/{number}", fields=[("a", "b")], signed_out_at=utcnow()
            )
        assert kept_input.keep(
            db, user_id=owner, page="/page/0", fields=[("text", "nul\x00 and \ud800")], signed_out_at=utcnow()
        )
        assert not kept_input.keep(db, user_id=owner, page="//evil.example", fields=[], signed_out_at=utcnow())
        assert not kept_input.keep(db, user_id=owner, page="/" + "x" * 600, fields=[], signed_out_at=utcnow())
    rows = kept_rows(db_factory)
    assert len(rows) == kept_input.MAX_PER_PERSON
    assert "/page/0" in {row.page for row in rows}, "the newest is kept, the oldest go"
    with db_factory() as db:
        assert kept_input.find(db, owner, "/page/0").fields == (("text", "nul and ?"),)
        assert kept_input.find(db, owner + 1, "/page/0") is None


def test_every_keeps_input_route_names_a_page_its_path_can_fill():
    endpoints = all_endpoints()
    pages = {endpoint.name: endpoint for endpoint in endpoints if "GET" in endpoint.methods}
    keeping = [endpoint for endpoint in endpoints if endpoint.keeps_input is not None]
    # The section save, its autosave and a conflict's resolve; a comment; a request for changes; a file
    # uploaded or removed from the section's form (these two name their page by a function of the form);
    # adding a location, its details and registered manager, the nominated individual, a notification's location.
    assert len(keeping) == 12
    for endpoint in keeping:
        if callable(endpoint.keeps_input):
            assert endpoint.name.startswith("attachments."), endpoint.name
            continue
        assert endpoint.methods == ("POST",), endpoint.name
        page = pages.get(endpoint.keeps_input)
        assert page is not None, f"{endpoint.name}: keeps_input names no page"
        parameters = set(re.findall(r"{(\w+)}", page.path))
        assert parameters <= set(re.findall(r"{(\w+)}", endpoint.path)), endpoint.name


def test_a_page_opened_for_one_person_saves_nothing_once_another_signs_in_on_that_browser(
    as_person, db_factory, demo_org, location_id
):
    """A shared computer: the drafter's tab stays open, a colleague signs in on the same browser, and the
    drafter's Save arrives. It must not be saved as the colleague's, nor kept for anyone."""
    add_second_drafter(db_factory, demo_org["id"])
    browser = as_person(DRAFTER)
    notification = start_notification(browser, "dols_outcome", location_id)
    path, version, token = open_section(browser, notification)
    sign_in_again(browser, db_factory, SECOND_DRAFTER, path)

    response = typed_after_the_end(browser, path, version, token, completed_by_name="Typed by the drafter")
    autosave = browser.post(
        path + "/autosave",
        data={"csrf_token": token, "version": version, "completed_by_name": "Typed by the drafter"},
        headers={"hx-request": "true"},
    )

    assert response.status_code == 409 and "This page was opened by someone else" in response.text
    assert SECOND_DRAFTER in response.text
    assert autosave.status_code == 200 and autosave.text.strip().startswith("<div") and "Not saved" in autosave.text
    with db_factory() as db:
        draft = db.scalar(select(SectionDraft).where(SectionDraft.section_key == "about_you"))
        assert "Typed by the drafter" not in str(draft.answers) and "Typed by the drafter" not in str(draft.raw)
    assert kept_rows(db_factory) == []
    # The colleague's own page works as ever.
    path, version, token = open_section(browser, notification)
    saved = browser.post(
        path, data={"csrf_token": token, "version": version, "action": "later", "completed_by_name": "The colleague"}
    )
    assert saved.status_code == 303


# Location forms: add, change details, registered manager -----------------------------------------

ADMIN = "admin@riverside.example"


def _admin_page(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return CSRF_RE.search(page.text).group(1)


def test_a_new_location_typed_after_idle_is_kept_and_offered_back(as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    token = _admin_page(admin, "/locations/new")
    end_session_idle(db_factory, admin)
    typed = {"name": "Kept Court", "regulator_location_id": "1-301000009", "address_line_1": "9 Kept Lane"}
    response = admin.post("/locations/new", data={"csrf_token": token, **typed, "town": "Riverside", "postcode": ""})
    assert response.headers["location"] == "/signed-out?reason=idle&next=/locations/new"

    sign_in_again(admin, db_factory, ADMIN, "/locations/new")
    page = admin.get("/locations/new").text
    assert "We kept what you typed before you were signed out on" in page
    assert 'value="Kept Court"' in page and 'value="1-301000009"' in page and 'value="9 Kept Lane"' in page
    response = post_form(admin, "/locations/new", {**typed, "town": "Riverside", "postcode": "RV1 2AB"})
    assert response.status_code == 303, response.text
    assert kept_rows(db_factory) == [], "saved: the kept words have done their job"
    assert "We kept what you typed" not in admin.get("/locations/new").text


def test_each_form_on_the_location_change_page_gets_back_its_own_words(as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    location = demo_org["locations"][0][0]
    path = f"/locations/{location}/change"
    token = _admin_page(admin, path)
    member = re.search(r'name="registered_manager" type="radio" value="(\d+)"', admin.get(path).text).group(1)
    end_session_idle(db_factory, admin)
    response = admin.post(
        f"/locations/{location}/registered-manager", data={"csrf_token": token, "registered_manager": member}
    )
    assert response.headers["location"] == f"/signed-out?reason=idle&next={path}", "back to the page, not /sign-in"
    sign_in_again(admin, db_factory, ADMIN, path)
    page = admin.get(path).text
    assert "We kept what you typed before you were signed out on" in page
    assert re.search(rf'value="{member}"\s+checked', page), "the manager form shows the choice kept"

    token = _admin_page(admin, path)
    end_session_idle(db_factory, admin)
    admin.post(path, data={"csrf_token": token, "name": "Renamed While Out", "address_line_1": "1 Out Road"})
    sign_in_again(admin, db_factory, ADMIN, path)
    page = admin.get(path).text
    assert 'value="Renamed While Out"' in page and 'value="1 Out Road"' in page
    assert not re.search(rf'value="{member}"\s+checked', page), "the details' words never reach the manager form"


def test_the_nominated_individual_choice_is_kept_after_idle(as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    token = _admin_page(admin, "/organisation/settings")
    member = re.search(
        r'name="nominated_individual" type="radio" value="(\d+)"', admin.get("/organisation/settings").text
    ).group(1)
    end_session_idle(db_factory, admin)
    response = admin.post(
        "/organisation/nominated-individual", data={"csrf_token": token, "nominated_individual": member}
    )
    assert response.headers["location"] == "/signed-out?reason=idle&next=/organisation/settings"
    sign_in_again(admin, db_factory, ADMIN, "/organisation/settings")
    page = admin.get("/organisation/settings").text
    assert "We kept what you typed before you were signed out on" in page
    assert re.search(rf'value="{member}"\s+checked', page)
    assert post_form(admin, "/organisation/nominated-individual", {"nominated_individual": member}).status_code == 303
    assert kept_rows(db_factory) == []


def test_a_notifications_new_location_is_kept_after_idle(drafter, db_factory, location_id, demo_org):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/location"
    page = drafter.get(path).text
    token = CSRF_RE.search(page).group(1)
    other = next(str(lid) for lid, _ in demo_org["locations"] if lid != location_id)
    end_session_idle(db_factory, drafter)
    response = drafter.post(path, data={"csrf_token": token, "location": other})
    assert response.headers["location"] == f"/signed-out?reason=idle&next={path}"
    sign_in_again(drafter, db_factory, DRAFTER, path)
    page = drafter.get(path).text
    assert "We kept what you typed before you were signed out on" in page
    assert re.search(rf'value="{other}"\s+checked', page)
