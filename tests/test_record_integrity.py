"""What a person meets when someone else's change landed first, and the rules that hold whatever the order.

The races themselves, with real concurrency across two workers, are in test_record_races.py; these take
each outcome one after the other, so each page the loser sees can be read.
"""

import pytest
from sqlalchemy import select

from portal.accounts.sessions import Auth, grants_of
from portal.db import transaction
from portal.models import (
    Attachment,
    AuditEvent,
    Membership,
    Notification,
    OutboxMessage,
    RoleGrant,
    SectionDraft,
    Submission,
    User,
)
from portal.notifications import review
from portal.notifications.invariants import InvariantBroken, broken
from portal.notifications.locking import lock
from portal.notifications.states import MoveRefused

from .conftest import csrf_from, post_form
from .drafting import version_on
from .journey import act, draft_complete, upload

SECTION = "about_you"


@pytest.fixture
def people(as_role):
    return {role: as_role(role) for role in ("drafter", "reviewer", "submitter")}


@pytest.fixture
def second_reviewer(demo_org, db_factory, as_person):
    """Another reviewer at the demo organisation: two people who may decide the same review."""
    email = "second.reviewer@riverside.example"
    with transaction(db_factory) as db:
        user = User(email=email)
        db.add(user)
        db.flush()
        membership = Membership(user_id=user.id, organisation_id=demo_org["id"])
        membership.grants.append(RoleGrant(role="reviewer", location_id=None))
        db.add(membership)
    return as_person(email)


@pytest.fixture
def approved(people, location_id):
    notification = draft_complete(people["drafter"], "serious_injury", location_id, with_files=False)
    assert act(people["drafter"], notification, "request-review").status_code == 303
    assert act(people["reviewer"], notification, "approve").status_code == 303
    return notification


def opened_section(client, notification: int) -> tuple[str, str]:
    """(version, csrf token) of the section as the person saw it when they opened it."""
    page = client.get(f"/notifications/{notification}/sections/{SECTION}")
    assert page.status_code == 200
    return version_on(page.text), csrf_from(client, f"/notifications/{notification}/sections/{SECTION}")


def save(client, notification: int, version: str, token: str, name: str, *, autosave: bool = False):
    path = f"/notifications/{notification}/sections/{SECTION}" + ("/autosave" if autosave else "")
    headers = {"HX-Request": "true"} if autosave else {}
    return client.post(
        path,
        data={
            "csrf_token": token,
            "version": version,
            "action": "later",
            "completed_by_name": name,
            "completed_by_job_title": "Registered manager",
            "contact_email": "manager@riverside.example",
        },
        headers=headers,
    )


def state(db_factory, notification: int) -> tuple[str, list[str]]:
    with db_factory() as db:
        row = db.get(Notification, notification)
        return row.status, broken(db, row)


def test_a_save_that_arrives_after_submission_shows_the_words_and_who_submitted(people, approved, db_factory):
    version, token = opened_section(people["drafter"], approved)
    assert act(people["submitter"], approved, "submit", {"declaration": "yes"}).status_code == 303

    page = save(people["drafter"], approved, version, token, "Words typed while it was submitted")

    assert page.status_code == 409
    assert "Your answers were not saved" in page.text
    assert "Words typed while it was submitted" in page.text
    assert "Submitted to the regulator" in page.text and "submitter@riverside.example" in page.text
    assert state(db_factory, approved) == ("submitted", [])


def test_an_autosave_after_submission_says_in_words_that_nothing_was_saved(people, approved, db_factory):
    version, token = opened_section(people["drafter"], approved)
    act(people["submitter"], approved, "submit", {"declaration": "yes"})

    fragment = save(people["drafter"], approved, version, token, "Typed", autosave=True)

    assert fragment.status_code == 200
    assert fragment.text.strip().startswith("Not saved")
    assert "<header" not in fragment.text
    assert state(db_factory, approved) == ("submitted", [])


def test_a_save_after_approval_withdraws_it_and_says_so(people, approved, db_factory):
    version, token = opened_section(people["drafter"], approved)

    response = save(people["drafter"], approved, version, token, "A corrected name")

    assert response.status_code == 303
    assert "needs reviewing and approving again" in people["drafter"].get(response.headers["location"]).text
    assert state(db_factory, approved) == ("draft", [])


def test_a_submit_that_loses_to_a_save_is_told_what_changed_and_by_whom(people, approved, db_factory):
    version, token = opened_section(people["drafter"], approved)
    save(people["drafter"], approved, version, token, "A corrected name")

    page = act(people["submitter"], approved, "submit", {"declaration": "yes"})

    assert page.status_code == 400
    assert "You cannot submit it while it is a draft" in page.text
    assert "Approval withdrawn" in page.text and "drafter@riverside.example" in page.text
    with db_factory() as db:
        assert db.scalar(select(Submission).where(Submission.notification_id == approved)) is None


def test_an_attachment_added_after_approval_withdraws_it_rather_than_leaving_it_stuck(people, approved, db_factory):
    uploaded = upload(people["drafter"], approved, "supporting_documents")

    assert uploaded.status_code == 303
    assert "needs reviewing and approving again" in people["drafter"].get(uploaded.headers["location"]).text
    assert state(db_factory, approved) == ("draft", [])
    assert act(people["drafter"], approved, "request-review").status_code == 303
    assert act(people["reviewer"], approved, "approve").status_code == 303
    assert act(people["submitter"], approved, "submit", {"declaration": "yes"}).status_code == 303
    assert state(db_factory, approved) == ("submitted", [])


def test_a_file_removed_after_approval_withdraws_it_and_says_so(people, approved, db_factory):
    upload(people["drafter"], approved, "supporting_documents")
    assert act(people["drafter"], approved, "request-review").status_code == 303
    assert act(people["reviewer"], approved, "approve").status_code == 303
    with db_factory() as db:
        attachment = db.scalar(select(Attachment.id).where(Attachment.notification_id == approved))

    removed = post_form(
        people["drafter"],
        f"/notifications/{approved}/attachments/{attachment}/remove",
        {},
        from_page=f"/notifications/{approved}",
    )

    assert removed.status_code == 303
    assert "needs reviewing and approving again" in people["drafter"].get(removed.headers["location"]).text
    assert state(db_factory, approved) == ("draft", [])


def test_approve_after_changes_were_asked_for_names_who_asked(people, location_id, db_factory, second_reviewer):
    notification = draft_complete(people["drafter"], "dols_outcome", location_id)
    act(people["drafter"], notification, "request-review")
    asked = act(people["reviewer"], notification, "request-changes", {"summary": "Add the time", "sections": SECTION})
    assert asked.status_code == 303

    page = act(second_reviewer, notification, "approve")

    assert page.status_code == 400
    assert "You cannot approve it while it is waiting for changes" in page.text
    assert "Asked for changes" in page.text and "reviewer@riverside.example" in page.text
    assert state(db_factory, notification) == ("changes_requested", [])


def test_changes_asked_for_after_approval_keep_the_reviewers_words(people, location_id, db_factory, second_reviewer):
    notification = draft_complete(people["drafter"], "dols_outcome", location_id)
    act(people["drafter"], notification, "request-review")
    act(people["reviewer"], notification, "approve")

    page = act(
        second_reviewer, notification, "request-changes", {"summary": "Please add the time", "sections": SECTION}
    )

    assert page.status_code == 400
    assert "Please add the time" in page.text and "Approved" in page.text
    with db_factory() as db:
        subjects = [m.subject for m in db.scalars(select(OutboxMessage))]
        assert not any("changes" in subject.lower() for subject in subjects)
    assert state(db_factory, notification) == ("approved", [])


def test_a_service_called_without_the_lock_takes_it_and_reads_again(people, location_id, db_factory):
    """A script or test calling a service on a notification it loaded earlier decides on what is true now."""
    notification = draft_complete(people["drafter"], "dols_outcome", location_id)
    act(people["drafter"], notification, "request-review")
    with db_factory() as stale_db:
        stale = stale_db.get(Notification, notification)
        assert stale.status == "in_review"
        # Meanwhile, someone else asks for changes.
        act(people["reviewer"], notification, "request-changes", {"summary": "Add the time", "sections": SECTION})
        reviewer_auth = _auth_of(stale_db, "reviewer@riverside.example")
        with pytest.raises(MoveRefused, match="while it is waiting for changes"):
            review.approve(stale_db, reviewer_auth, stale, base_url="http://portal")
    assert state(db_factory, notification) == ("changes_requested", [])


def test_a_change_that_would_break_a_rule_is_never_committed(people, location_id, db_factory):
    notification = draft_complete(people["drafter"], "dols_outcome", location_id)
    with db_factory() as db:
        lock(db, notification)
        db.get(Notification, notification).status = "submitted"
        with pytest.raises(InvariantBroken, match="submitted with 0 submissions"):
            db.commit()
        db.rollback()
    assert state(db_factory, notification) == ("draft", [])
    with db_factory() as db:
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.event_type == "notification:submitted")) is None
        assert {d.status for d in db.scalars(select(SectionDraft).where(SectionDraft.notification_id == notification))}


def _auth_of(db, email: str) -> Auth:
    user = db.scalar(select(User).where(User.email == email))
    membership = db.scalar(select(Membership).where(Membership.user_id == user.id))
    return Auth(
        user=user,
        session=None,
        membership=membership,
        organisation=membership.organisation,
        grants=grants_of(membership),
    )
