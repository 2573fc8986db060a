"""Practice mode: a copy of the organisation where any member tries every notification type alone, marked on
every page, never seen by the regulator, and reset on demand. On both databases, through the real pages."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.api import service as api
from portal.db import transaction
from portal.models import (
    Attachment,
    AuditEvent,
    Comment,
    Location,
    Membership,
    Notification,
    Organisation,
    OutboxMessage,
    Submission,
    User,
    UserSession,
    utcnow,
)
from portal.notifications.registry import definitions
from portal.organisation import practice
from portal.reports import service as reports

from .conftest import add_member, audit_events, csrf_from, make_organisation, post_form
from .drafting import fill_section, start_notification
from .journey import PDF, act, submitted

TYPE = "serious_injury"
FILE_QUESTION = "supporting_documents"
DRAFTER = "drafter@riverside.example"


@pytest.fixture
def settings(settings):
    # A webhook is configured, so a practice submission that reached the outbox would be seen there.
    return replace(settings, webhook_url="http://127.0.0.1:9/intake", webhook_secret="s" * 40)


def enter(client) -> int:
    """Presses "Try practice mode" on the dashboard; returns the practice copy's id."""
    response = post_form(client, "/practice", from_page="/dashboard")
    assert response.status_code == 303, response.text[-2000:]
    assert response.headers["location"].endswith("/dashboard")
    page = client.get("/dashboard").text
    match = re.search(r'action="/practice/([0-9]+)/leave"', page)
    assert match, page[-3000:]
    return int(match.group(1))


def copies(db_factory, real_id: int) -> list[Organisation]:
    with db_factory() as db:
        return list(db.scalars(select(Organisation).where(Organisation.practice_of_id == real_id)))


def practice_location(db_factory, copy_id: int) -> int:
    with db_factory() as db:
        return db.scalar(select(Location.id).where(Location.organisation_id == copy_id).order_by(Location.id).limit(1))


def practise_submission(client, db_factory, copy_id: int, *, with_file: bool = True) -> tuple[int, str]:
    """One person alone: drafts, sends for review, approves, submits, in the practice copy."""
    with db_factory() as db:
        places = list(db.scalars(select(Location).where(Location.organisation_id == copy_id).order_by(Location.id)))
    notification = start_notification(client, TYPE, places[0].id)
    if with_file:
        token = csrf_from(client, f"/notifications/{notification}")
        response = client.post(
            f"/notifications/{notification}/attachments/{FILE_QUESTION}",
            data={"csrf_token": token},
            files={"file": ("practice.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 303, response.text[-2000:]
    for section in definitions()[TYPE].sections:
        response = fill_section(client, notification, section)
        assert response.status_code == 303, response.text[-2000:]
    first_section = definitions()[TYPE].sections[0].key
    assert (
        act(client, notification, "comments", {"section": first_section, "body": "Practice comment"}).status_code == 303
    )
    assert act(client, notification, "request-review").status_code == 303
    assert act(client, notification, "approve").status_code == 303
    response = act(client, notification, "submit", {"declaration": "yes"})
    assert response.status_code == 303, response.text[-2000:]
    receipt = client.get(f"/notifications/{notification}/receipt").text
    reference = re.search(r'class="portal-reference">([A-Z0-9]{8})<', receipt).group(1)
    return notification, reference


# Entering, once --------------------------------------------------------------------------------


def test_entering_makes_one_copy_with_the_open_locations_and_pressing_again_finds_it(drafter, db_factory, demo_org):
    with transaction(db_factory) as db:
        # A closed location takes no notifications, in practice too.
        closed = db.get(Location, demo_org["locations"][-1][0])
        closed.closed_at = utcnow()
        closed_name = closed.name
    copy_id = enter(drafter)
    # Leave, the real organisation closes another location, and press again: the same copy, not a second one,
    # with that location closed in it too.
    assert post_form(drafter, f"/practice/{copy_id}/leave", from_page="/dashboard").status_code == 303
    with transaction(db_factory) as db:
        later = db.get(Location, demo_org["locations"][0][0])
        later.closed_at = utcnow()
        later_copy_id = practice.practice_location_id(later)
    assert enter(drafter) == copy_id
    with db_factory() as db:
        later_copy = db.scalar(select(Location).where(Location.regulator_location_id == later_copy_id))
        assert later_copy.organisation_id == copy_id and later_copy.is_closed
    made = copies(db_factory, demo_org["id"])
    assert [copy.id for copy in made] == [copy_id]
    copy = made[0]
    assert copy.name.endswith(" (practice)") and copy.provider_id == "" and copy.separation_of_duties is False
    with db_factory() as db:
        names = sorted(db.scalars(select(Location.name).where(Location.organisation_id == copy_id)))
        real_names = sorted(
            db.scalars(
                select(Location.name).where(Location.organisation_id == demo_org["id"], Location.name != closed_name)
            )
        )
        membership = db.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == DRAFTER, Membership.organisation_id == copy_id)
        )
        roles = sorted((grant.role, grant.location_id) for grant in membership.grants)
    # Closed before the copy was made, so never copied; the one closed later is copied, and closed.
    assert names == real_names and closed_name not in names
    assert roles == [("drafter", None), ("reviewer", None), ("submitter", None)]
    assert [event.data["practice"] for event in audit_events(db_factory, "practice:entered")] == [copy.name] * 2
    assert len(audit_events(db_factory, "practice:left")) == 1
    # The events are the real organisation's history, where its admins look.
    assert {event.organisation_id for event in audit_events(db_factory, "practice:entered")} == {demo_org["id"]}


def test_two_presses_at_once_make_one_copy(db_factory, demo_org, as_role):
    clients = [as_role("drafter"), as_role("reviewer")]
    # Both pages are open before either presses, as with a double click or two colleagues at once.
    tokens = [csrf_from(client, "/dashboard") for client in clients]
    answers: list[int] = []

    def press(client, token):
        answers.append(client.post("/practice", data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=press, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [303, 303]
    assert len(copies(db_factory, demo_org["id"])) == 1
    with db_factory() as db:
        copy_id = copies(db_factory, demo_org["id"])[0].id
        assert db.scalar(select(func.count(Membership.id)).where(Membership.organisation_id == copy_id)) == 2


def test_someone_working_at_one_location_practises_at_its_copy_only(as_person, drafter, db_factory, demo_org):
    (a, a_name), (b, _) = demo_org["locations"][0], demo_org["locations"][1]
    add_member(db_factory, demo_org["id"], "drafter.a@riverside.example", [("drafter", a)])
    copy_id = enter(drafter)
    with db_factory() as db:
        copy_a, copy_b = (
            db.scalar(select(Location.id).where(Location.organisation_id == copy_id, Location.name == name))
            for name in (a_name, db.get(Location, b).name)
        )
    elsewhere = start_notification(drafter, TYPE, copy_b)
    at_a = start_notification(drafter, TYPE, copy_a)
    one_place = as_person("drafter.a@riverside.example")
    assert enter(one_place) == copy_id
    with db_factory() as db:
        grants = sorted(
            (grant.role, grant.location_id)
            for grant in db.scalar(
                select(Membership)
                .join(User, User.id == Membership.user_id)
                .where(User.email == "drafter.a@riverside.example", Membership.organisation_id == copy_id)
            ).grants
        )
    assert grants == [("drafter", copy_a), ("reviewer", copy_a), ("submitter", copy_a)]
    # A colleague's practice at another home is not theirs to read, as in the real organisation.
    assert one_place.get(f"/notifications/{elsewhere}").status_code == 404
    assert one_place.get(f"/notifications/{at_a}").status_code == 200


# Marked on every page ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dashboard", "/notifications", "/notifications/new", "/account", "/organisations"])
def test_every_page_says_practice_mode_in_words_and_in_its_title(drafter, demo_org, path):
    copy_id = enter(drafter)
    page = drafter.get(path)
    assert page.status_code == 200
    title = re.search(r"<title>(.*?)</title>", page.text, re.S).group(1).strip()
    assert title.startswith("Practice mode: "), title
    assert "Nothing you do here is sent to" in page.text
    assert f'action="/practice/{copy_id}/leave"' in page.text and "Leave practice mode" in page.text


def test_outside_practice_nothing_says_practice_and_the_dashboard_offers_it(drafter, demo_org):
    page = drafter.get("/dashboard").text
    assert "Try practice mode" in page and "Practice mode: " not in page and "Leave practice mode" not in page


def test_leaving_returns_to_the_real_organisation_and_sign_in_never_lands_in_practice(
    drafter, db_factory, demo_org, as_role
):
    copy_id = enter(drafter)
    response = post_form(drafter, f"/practice/{copy_id}/leave", from_page="/dashboard")
    assert response.status_code == 303 and response.headers["location"].endswith("/dashboard")
    page = drafter.get("/dashboard").text
    assert "Leave practice mode" not in page and "Try practice mode" in page
    # The chooser lists real organisations only, and switching to the copy by its id is refused.
    assert "(practice)" not in drafter.get("/organisations").text
    response = post_form(
        drafter, "/organisations/switch", {"organisation_id": str(copy_id)}, from_page="/organisations"
    )
    assert response.status_code == 404
    # Signing in again starts in the one real organisation, not at the chooser.
    again = as_role("drafter")
    assert again.get("/dashboard").status_code == 200
    assert "Try practice mode" in again.get("/dashboard").text


# Alone, from draft to practice receipt ------------------------------------------------------------


def test_one_drafter_drafts_reviews_and_submits_alone_and_gets_a_practice_receipt(drafter, db_factory, demo_org):
    copy_id = enter(drafter)
    check = drafter.get("/dashboard").text
    assert "Start a new notification" in check
    notification, reference = practise_submission(drafter, db_factory, copy_id)
    receipt = drafter.get(f"/notifications/{notification}/receipt").text
    assert "Practice notification not sent" in receipt and "Nothing was sent to" in receipt
    assert "Notification submitted" not in receipt
    task_list = drafter.get(f"/notifications/{notification}").text
    assert "Submitted in practice mode, not sent to the regulator" in task_list
    assert "Submitted to the regulator" not in task_list
    title = re.search(r"<title>(.*?)</title>", receipt, re.S).group(1)
    assert title.strip().startswith("Practice mode: Practice notification not sent")
    with db_factory() as db:
        row = db.get(Notification, notification)
        assert row.status == "submitted" and row.organisation_id == copy_id
        # No email at all, not even the submitter's confirmation: in an inbox, "submitted" reads as real.
        sent = list(db.scalars(select(OutboxMessage.template).where(OutboxMessage.template != "sign_in_link")))
        assert sent == []


def test_in_practice_nobody_asks_support_invites_or_manages(as_role, db_factory, demo_org):
    admin = as_role("organisation_admin")
    assert admin.get("/members").status_code == 200
    enter(admin)
    for path in ["/queries/new", "/queries", "/members", "/locations", "/organisation/settings"]:
        assert admin.get(path).status_code == 403, path
    page = admin.get("/dashboard").text
    assert "Ask the support team a question" not in page and 'href="/members"' not in page
    response = post_form(admin, "/queries", {"subject": "Help", "message": "In practice"}, from_page="/dashboard")
    assert response.status_code == 403


# Never leaks ----------------------------------------------------------------------------------


@pytest.fixture
def practised_and_real(as_role, db_factory, demo_org):
    """One practice submission (with a file) by the drafter alone, and one real one by the demo's three people."""
    people = {role: as_role(role) for role in ("drafter", "reviewer", "submitter")}
    copy_id = enter(people["drafter"])
    practice_notification, practice_reference = practise_submission(people["drafter"], db_factory, copy_id)
    # A new sign-in starts in the real organisation; the drafter's first browser is still practising.
    real_notification, real_reference = submitted(
        as_role("drafter"),
        people["reviewer"],
        people["submitter"],
        "dols_outcome",
        demo_org["locations"][0][0],
    )
    # Both past the API's settle window, so only the practice rule can keep one out of the feed.
    with transaction(db_factory) as db:
        for row in db.scalars(select(Submission)):
            row.submitted_at -= api.SETTLE + timedelta(seconds=1)
    return {
        "copy_id": copy_id,
        "notification": practice_notification,
        "practice": practice_reference,
        "real": real_reference,
        "real_notification": real_notification,
    }


@pytest.fixture
def bearer(lead, db_factory):
    page = lead.get("/support/api-tokens")
    response = post_form(lead, "/support/api-tokens", {"name": "Intake"}, from_page="/support/api-tokens")
    assert response.status_code in (200, 303), response.text[-1000:]
    token = re.search(r"(prt_[A-Za-z0-9_\-]+)", response.text).group(1)
    assert page.status_code == 200
    return {"authorization": f"Bearer {token}"}


def test_practice_never_reaches_the_api(client, bearer, practised_and_real, db_factory):
    feed = client.get("/api/v1/submissions", headers=bearer).json()
    assert [item["reference"] for item in feed["submissions"]] == [practised_and_real["real"]]
    assert client.get(f"/api/v1/submissions/{practised_and_real['real']}", headers=bearer).status_code == 200
    assert client.get(f"/api/v1/submissions/{practised_and_real['practice']}", headers=bearer).status_code == 404
    with db_factory() as db:
        attachment_id = db.scalar(
            select(Attachment.id).where(Attachment.notification_id == practised_and_real["notification"])
        )
    path = f"/api/v1/submissions/{practised_and_real['practice']}/attachments/{attachment_id}"
    assert client.get(path, headers=bearer).status_code == 404


def test_practice_never_reaches_the_webhook_outbox(practised_and_real, db_factory):
    with db_factory() as db:
        hooks = list(db.scalars(select(OutboxMessage.subject).where(OutboxMessage.kind == "webhook")))
    assert hooks == [practised_and_real["real"]]


def test_practice_never_reaches_the_reports(lead, practised_and_real, db_factory):
    with db_factory() as db:
        span = reports.window()
        assert reports.submissions_per_week(db, span).total == 1
        assert reports.time_to_submit(db, span).overall.submitted == 1
    csv = lead.get("/support/reports/submissions-per-week.csv").text
    assert "Serious injury" not in csv  # the practice type; the real one was a DoLS outcome
    assert lead.get("/support/reports/time-to-submit.csv").status_code == 200


def test_practice_never_reaches_support(agent, practised_and_real, db_factory, demo_org):
    copy_id, practice_reference = practised_and_real["copy_id"], practised_and_real["practice"]
    # The search page repeats what was asked; what it found is linked.
    found = agent.get(f"/support/search?q={practice_reference}").text
    assert f"/support/notifications/{practised_and_real['notification']}" not in found
    found = agent.get(f"/support/search?q={practised_and_real['real']}").text
    assert f"/support/notifications/{practised_and_real['real_notification']}" in found
    for query in ("practice", "Riverside"):
        found = agent.get(f"/support/search?q={query}").text
        assert "(practice)" not in found and f"/support/organisations/{copy_id}" not in found
    assert agent.get(f"/support/organisations/{copy_id}").status_code == 404
    assert agent.get(f"/support/notifications/{practised_and_real['notification']}").status_code == 404
    assert agent.get(f"/support/organisations/{demo_org['id']}").status_code == 200
    with db_factory() as db:
        user_id = db.scalar(select(User.id).where(User.email == DRAFTER))
    person = agent.get(f"/support/people/{user_id}").text
    # Support may see that someone practised (it explains a "submission" the regulator never had), never
    # what they practised: no reference, no practice organisation among theirs.
    assert "Entered practice mode" in person
    assert practice_reference not in person and f"/support/organisations/{copy_id}" not in person
    assert practice_reference not in agent.get("/support/queries").text


# Reset ------------------------------------------------------------------------------------------


def test_reset_asks_first_then_removes_everything_and_the_files(drafter, db_factory, demo_org, settings):
    copy_id = enter(drafter)
    notification, _ = practise_submission(drafter, db_factory, copy_id)
    second = start_notification(drafter, TYPE, practice_location(db_factory, copy_id))
    with db_factory() as db:
        keys = list(db.scalars(select(Attachment.storage_key)))
    assert keys and all((settings.storage_dir / key).exists() for key in keys)
    confirm = drafter.get(f"/practice/{copy_id}/reset")
    assert confirm.status_code == 200 and "removes all 2 practice notifications" in confirm.text
    response = post_form(drafter, f"/practice/{copy_id}/reset", from_page=f"/practice/{copy_id}/reset")
    assert response.status_code == 303
    assert "2 practice notifications removed" in drafter.get("/dashboard").text
    with db_factory() as db:
        for model in (Notification, Submission, Attachment, Comment):
            assert db.scalar(select(func.count()).select_from(model)) == 0, model
        assert (
            db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.notification_id.in_([notification, second])))
            == 0
        )
        # The copy stays, ready to practise again, with its locations and its member.
        assert db.get(Organisation, copy_id) is not None
        assert db.scalar(select(func.count(Location.id)).where(Location.organisation_id == copy_id)) > 0
    assert not any((settings.storage_dir / key).exists() for key in keys)
    (event,) = audit_events(db_factory, "practice:reset")
    assert event.data["notifications"] == 2 and event.organisation_id == demo_org["id"]
    assert drafter.get(f"/notifications/{notification}").status_code == 404
    # Still in practice, and practice works again.
    assert "Leave practice mode" in drafter.get("/dashboard").text
    practise_submission(drafter, db_factory, copy_id, with_file=False)


def test_reset_leaves_the_real_organisation_alone(as_role, db_factory, demo_org):
    people = {role: as_role(role) for role in ("drafter", "reviewer", "submitter")}
    _, real_reference = submitted(
        people["drafter"], people["reviewer"], people["submitter"], "dols_outcome", demo_org["locations"][0][0]
    )
    copy_id = enter(people["drafter"])
    practise_submission(people["drafter"], db_factory, copy_id, with_file=False)
    post_form(people["drafter"], f"/practice/{copy_id}/reset", from_page=f"/practice/{copy_id}/reset")
    with db_factory() as db:
        assert list(db.scalars(select(Submission.reference))) == [real_reference]


# Nobody else reaches it -----------------------------------------------------------------------------


def test_another_organisations_member_cannot_reach_the_practice_copy(as_person, drafter, db_factory, demo_org):
    copy_id = enter(drafter)
    notification = start_notification(drafter, TYPE, practice_location(db_factory, copy_id))
    make_organisation(db_factory, "Hillside Care", "1-555000001", [("boss@hillside.example", "organisation_admin")])
    other = as_person("boss@hillside.example")
    assert other.get(f"/practice/{copy_id}/reset").status_code == 404
    assert post_form(other, f"/practice/{copy_id}/reset", from_page="/dashboard").status_code == 404
    assert post_form(other, f"/practice/{copy_id}/leave", from_page="/dashboard").status_code == 404
    assert other.get(f"/notifications/{notification}").status_code == 404
    switched = post_form(other, "/organisations/switch", {"organisation_id": str(copy_id)}, from_page="/organisations")
    assert switched.status_code == 404
    with db_factory() as db:
        assert db.scalar(select(func.count(Notification.id))) == 1


def test_a_colleague_outside_practice_cannot_reset_it(as_role, drafter, db_factory, demo_org):
    copy_id = enter(drafter)
    reviewer = as_role("reviewer")
    assert reviewer.get(f"/practice/{copy_id}/reset").status_code == 404
    assert post_form(reviewer, f"/practice/{copy_id}/reset", from_page="/dashboard").status_code == 404


def test_removing_a_member_takes_them_out_of_practice_too(as_role, db_factory, demo_org):
    drafter = as_role("drafter")
    copy_id = enter(drafter)
    with transaction(db_factory) as db:
        from portal.accounts import organisations as orgs

        admin = db.scalar(select(User).where(User.email == "admin@riverside.example"))
        membership = db.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == DRAFTER, Membership.organisation_id == demo_org["id"])
        )
        orgs.remove_member(db, demo_org["id"], membership, actor=admin)
    with db_factory() as db:
        assert (
            db.scalar(
                select(Membership.id)
                .join(User, User.id == Membership.user_id)
                .where(User.email == DRAFTER, Membership.organisation_id == copy_id)
            )
            is None
        )
        in_copy = db.scalar(select(func.count(UserSession.id)).where(UserSession.organisation_id == copy_id))
        assert in_copy == 0
    assert drafter.get("/dashboard").status_code in (302, 303)


def test_narrowing_a_members_roles_takes_them_out_of_practice_until_they_enter_again(as_role, db_factory, demo_org):
    """Their practice roles were copied from the old ones: an open practice page must not outlive them."""
    first, _ = demo_org["locations"][0]
    reviewer = as_role("reviewer")
    copy_id = enter(reviewer)
    with transaction(db_factory) as db:
        from portal.accounts import organisations as orgs
        from portal.accounts.grants import Grant

        admin = db.scalar(select(User).where(User.email == "admin@riverside.example"))
        membership = db.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == "reviewer@riverside.example", Membership.organisation_id == demo_org["id"])
        )
        orgs.change_roles(db, demo_org["id"], membership, [Grant("reviewer", first)], actor=admin)
    with db_factory() as db:
        in_copy = db.scalar(
            select(func.count(Membership.id))
            .join(User, User.id == Membership.user_id)
            .where(User.email == "reviewer@riverside.example", Membership.organisation_id == copy_id)
        )
        assert in_copy == 0
        assert db.scalar(select(func.count(UserSession.id)).where(UserSession.organisation_id == copy_id)) == 0
    # Back in the organisation, then in practice, with the copy of their one location only.
    post_form(reviewer, "/organisations/switch", {"organisation_id": demo_org["id"]}, from_page="/organisations")
    assert enter(reviewer) == copy_id
    with db_factory() as db:
        grants = db.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == "reviewer@riverside.example", Membership.organisation_id == copy_id)
        ).grants
        assert len({grant.location_id for grant in grants}) == 1


def test_practice_location_ids_never_collide_with_the_register(db_factory, demo_org):
    with db_factory() as db:
        real = db.scalar(select(Location).where(Location.organisation_id == demo_org["id"]))
        assert practice.practice_location_id(real) == f"practice-{real.regulator_location_id}"
        real.regulator_location_id = "1-" + "9" * 36
        assert practice.practice_location_id(real) == f"practice-{real.id}"
