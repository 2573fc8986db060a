"""The four-eyes workflow: review, changes, approval, submission, receipts."""

import json
import re
import threading

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Comment, Notification, Organisation, OutboxMessage, Submission
from portal.notifications import states
from portal.notifications.registry import definitions
from portal.references import REFERENCE_ALPHABET

from .conftest import csrf_from, post_form
from .drafting import start_notification, version_on
from .journey import act, draft_complete, submitted


@pytest.fixture
def people(as_role):
    return {role: as_role(role) for role in ("drafter", "reviewer", "submitter")}


def emails_to(db_factory, recipient):
    with db_factory() as db:
        return [m.subject for m in db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient))]


def status_of(db_factory, notification_id):
    with db_factory() as db:
        return db.get(Notification, notification_id).status


def test_changes_requested_then_approved_then_submitted(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    notification = draft_complete(drafter, "dols_outcome", location_id)
    assert act(drafter, notification, "request-review").status_code == 303
    assert any(s.startswith("Review requested") for s in emails_to(db_factory, "reviewer@riverside.example"))

    review = reviewer.get(f"/notifications/{notification}/review").text
    assert "Ask for changes" in review and "Approve" in review
    response = act(
        reviewer,
        notification,
        "request-changes",
        {"summary": "Say which hospital the outcome came from", "sections": "about_you"},
    )
    assert response.status_code == 303
    assert status_of(db_factory, notification) == "changes_requested"
    task_list = drafter.get(f"/notifications/{notification}").text
    assert "Needs attention" in task_list and "Say which hospital" in task_list
    assert any(s.startswith("Changes requested") for s in emails_to(db_factory, "drafter@riverside.example"))

    path = f"/notifications/{notification}/sections/about_you"
    page = drafter.get(path).text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    from portal.notifications.registry import definitions

    from .drafting import valid_answer

    section = definitions()["dols_outcome"].sections[0]
    form = {"action": "continue", "version": version}
    for question in section.questions:
        form.update(valid_answer(question))
    form["completed_by_job_title"] = "Deputy manager"
    assert post_form(drafter, path, form, from_page=path).status_code == 303
    assert act(drafter, notification, "request-review").status_code == 303

    review = reviewer.get(f"/notifications/{notification}/review").text
    assert "Changed since your last review" in review
    assert review.count(">Changed</strong>") == 1, "only the answer that changed is highlighted"
    assert act(reviewer, notification, "approve").status_code == 303
    assert any(s.startswith("Ready to submit") for s in emails_to(db_factory, "submitter@riverside.example"))

    check = submitter.get(f"/notifications/{notification}/submit").text
    assert "Declaration" in check and "Deputy manager" in check
    refused = act(submitter, notification, "submit")
    assert refused.status_code == 400 and "Confirm that the information is correct" in refused.text
    done = act(submitter, notification, "submit", {"declaration": "yes"})
    assert done.headers["location"] == f"/notifications/{notification}/receipt"
    receipt = submitter.get(done.headers["location"]).text
    reference = re.search(r'class="portal-reference">([A-Z0-9]{8})<', receipt).group(1)
    assert "govuk-panel" in receipt and "Deputy manager" in receipt
    assert any(reference in s for s in emails_to(db_factory, "submitter@riverside.example"))
    download = submitter.get(f"/notifications/{notification}/receipt.json")
    body = json.loads(download.text)
    assert body["reference"] == reference and body["approved_by"] == "reviewer@riverside.example"
    assert body["answers"]["about_you"]["completed_by_job_title"] == "Deputy manager"
    assert "attachment" in download.headers["content-disposition"]


def test_references_are_readable(people, location_id):
    _, reference = submitted(people["drafter"], people["reviewer"], people["submitter"], "dols_outcome", location_id)
    assert len(reference) == 8 and set(reference) <= set(REFERENCE_ALPHABET)
    assert not set(reference) & set("0O1IL2Z5S8B")


def test_submitting_twice_gives_one_submission_and_one_reference(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    notification = draft_complete(drafter, "dols_outcome", location_id)
    act(drafter, notification, "request-review")
    act(reviewer, notification, "approve")
    token = csrf_from(submitter, f"/notifications/{notification}/submit")
    first = submitter.post(f"/notifications/{notification}/submit", data={"csrf_token": token, "declaration": "yes"})
    again = submitter.post(f"/notifications/{notification}/submit", data={"csrf_token": token, "declaration": "yes"})
    assert first.status_code == again.status_code == 303
    with db_factory() as db:
        assert db.query(Submission).count() == 1


def test_twenty_concurrent_submits_give_exactly_one_submission(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    notification = draft_complete(drafter, "dols_outcome", location_id)
    act(drafter, notification, "request-review")
    act(reviewer, notification, "approve")
    token = csrf_from(submitter, f"/notifications/{notification}/submit")
    statuses, barrier = [], threading.Barrier(20)

    def press():
        barrier.wait()
        response = submitter.post(
            f"/notifications/{notification}/submit", data={"csrf_token": token, "declaration": "yes"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=press) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status in (303, 400) for status in statuses) and 303 in statuses
    with db_factory() as db:
        assert db.query(Submission).count() == 1
        references = {n.reference for n in db.query(Notification)}
        assert len(references) == 1


def test_the_approver_may_not_be_the_only_person_who_edited_it(as_person, db_factory, demo_org):
    from portal.db import transaction
    from portal.models import Membership, RoleGrant, User

    with transaction(db_factory) as db:
        manager = db.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == "drafter@riverside.example")
        )
        manager.grants.append(RoleGrant(role="reviewer", location_id=None))
    one_person = as_person("drafter@riverside.example")
    notification = draft_complete(one_person, "dols_outcome", demo_org["locations"][0][0])
    act(one_person, notification, "request-review")
    refused = act(one_person, notification, "approve")
    assert refused.status_code == 400 and "only you have written" in refused.text
    assert status_of(db_factory, notification) == "in_review"

    admin = as_person("admin@riverside.example")
    assert (
        post_form(
            admin, "/organisation/settings", {"separation_of_duties": "off"}, from_page="/organisation/settings"
        ).status_code
        == 303
    )
    assert act(one_person, notification, "approve").status_code == 303
    with db_factory() as db:
        event = db.scalar(
            select(AuditEvent).where(AuditEvent.event_type == "organisation:separation_of_duties_changed")
        )
        assert event.data == {"enabled": "off"}
        assert db.get(Organisation, demo_org["id"]).separation_of_duties is False


def test_only_submitters_submit(people, location_id):
    drafter, reviewer = people["drafter"], people["reviewer"]
    notification = draft_complete(drafter, "dols_outcome", location_id)
    act(drafter, notification, "request-review")
    act(reviewer, notification, "approve")
    assert act(reviewer, notification, "submit", {"declaration": "yes"}).status_code == 403
    assert act(drafter, notification, "submit", {"declaration": "yes"}).status_code == 403


def test_an_edit_after_approval_withdraws_the_approval(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    notification = draft_complete(drafter, "dols_outcome", location_id)
    act(drafter, notification, "request-review")
    act(reviewer, notification, "approve")
    path = f"/notifications/{notification}/sections/about_you"
    page = drafter.get(path).text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    post_form(
        drafter, path, {"action": "later", "version": version, "completed_by_name": "Changed Name"}, from_page=path
    )
    assert status_of(db_factory, notification) == "draft"
    refused = act(submitter, notification, "submit", {"declaration": "yes"})
    assert refused.status_code == 400 and "while it is a draft" in refused.text
    with db_factory() as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.event_type == "notification:approval_withdrawn"))


def test_a_mistake_saved_with_continue_after_approval_shows_the_mistake_and_says_the_approval_went(
    people, location_id, db_factory
):
    drafter, reviewer = people["drafter"], people["reviewer"]
    notification = draft_complete(drafter, "dols_outcome", location_id, with_files=False)
    act(drafter, notification, "request-review")
    act(reviewer, notification, "approve")
    path = f"/notifications/{notification}/sections/about_you"
    version = re.search(r'name="version" value="(\d+)"', drafter.get(path).text).group(1)
    response = post_form(
        drafter, path, {"action": "continue", "version": version, "completed_by_name": ""}, from_page=path
    )
    assert response.status_code == 400 and "There is a problem" in response.text
    assert "it now needs reviewing and approving again" in response.text
    assert status_of(db_factory, notification) == "draft"


def test_saving_without_changes_keeps_the_approval(people, location_id, db_factory):
    drafter, reviewer = people["drafter"], people["reviewer"]
    notification = draft_complete(drafter, "dols_outcome", location_id, with_files=False)
    act(drafter, notification, "request-review")
    act(reviewer, notification, "approve")
    from portal.notifications.registry import definitions

    from .drafting import fill_section

    fill_section(drafter, notification, definitions()["dols_outcome"].sections[1])
    assert status_of(db_factory, notification) == "approved"


def test_the_state_machine_refuses_other_moves_with_a_reason(people, location_id):
    with pytest.raises(states.MoveRefused, match="You cannot approve it while it is a draft"):
        states.check("approve", "draft", True)
    with pytest.raises(states.MoveRefused, match="do not let you submit it"):
        states.check("submit", "approved", False)
    with pytest.raises(states.MoveRefused):
        states.check("teleport", "draft", True)
    drafter, reviewer = people["drafter"], people["reviewer"]
    notification = draft_complete(drafter, "dols_outcome", location_id, with_files=False)
    response = act(reviewer, notification, "approve")
    assert response.status_code == 400 and "You cannot approve it while it is a draft" in response.text


def test_an_unfinished_draft_cannot_go_for_review(people, location_id):
    from .drafting import start_notification

    notification = start_notification(people["drafter"], "dols_outcome", location_id)
    response = act(people["drafter"], notification, "request-review")
    assert response.status_code == 400 and "Complete every section" in response.text


def test_withdrawn_notifications_are_kept_and_marked(people, location_id, db_factory):
    from .drafting import start_notification

    notification = start_notification(people["drafter"], "dols_outcome", location_id)
    response = act(people["drafter"], notification, "withdraw")
    assert response.status_code == 303 and response.headers["location"] == f"/notifications/{notification}"
    assert people["drafter"].get(response.headers["location"]).text.count("It is kept, marked withdrawn.") == 1
    assert status_of(db_factory, notification) == "withdrawn"
    assert "Withdrawn" in people["drafter"].get("/notifications").text


def test_comments_are_threaded_and_resolved(people, location_id, db_factory):
    drafter, reviewer = people["drafter"], people["reviewer"]
    notification = draft_complete(drafter, "dols_outcome", location_id, with_files=False)
    act(drafter, notification, "request-review")
    back = f"/notifications/{notification}/review"
    post_form(
        reviewer,
        f"/notifications/{notification}/comments",
        {"section": "about_you", "body": "Is this the <right> phone number?", "back": back},
        from_page=back,
    )
    with db_factory() as db:
        root = db.scalar(select(Comment))
    post_form(
        drafter,
        f"/notifications/{notification}/comments",
        {"section": "about_you", "parent_id": str(root.id), "body": "Yes, it is."},
        from_page=f"/notifications/{notification}/document",
    )
    page = reviewer.get(back).text
    assert "Is this the &lt;right&gt; phone number?" in page and "Yes, it is." in page
    post_form(reviewer, f"/notifications/{notification}/comments/{root.id}/resolve", {"back": back}, from_page=back)
    assert "Resolved" in reviewer.get(back).text
    empty = post_form(
        reviewer, f"/notifications/{notification}/comments", {"section": "about_you", "body": " "}, from_page=back
    )
    assert empty.status_code == 400 and "Enter a comment" in empty.text
    invisible = post_form(
        reviewer,
        f"/notifications/{notification}/comments",
        {"section": "about_you", "body": "\u200b\u200b\ufeff"},
        from_page=back,
    )
    assert invisible.status_code == 400 and "Enter a comment" in invisible.text


def test_a_reply_to_a_reply_joins_the_thread_and_a_mangled_reply_is_refused(people, location_id, db_factory):
    drafter, reviewer = people["drafter"], people["reviewer"]
    notification = draft_complete(drafter, "dols_outcome", location_id, with_files=False)
    act(drafter, notification, "request-review")
    document = f"/notifications/{notification}/document"
    comment = f"/notifications/{notification}/comments"
    post_form(reviewer, comment, {"section": "about_you", "body": "Which ward?"}, from_page=document)
    with db_factory() as db:
        root = db.scalar(select(Comment))
    post_form(
        drafter, comment, {"section": "about_you", "parent_id": str(root.id), "body": "Ward 3."}, from_page=document
    )
    with db_factory() as db:
        reply = db.scalar(select(Comment).where(Comment.parent_id == root.id))
    post_form(reviewer, comment, {"parent_id": str(reply.id), "body": "Thank you, ward 3 it is."}, from_page=document)
    with db_factory() as db:
        assert db.scalar(select(Comment).where(Comment.body == "Thank you, ward 3 it is.")).parent_id == root.id
    assert "Thank you, ward 3 it is." in reviewer.get(document).text
    mangled = post_form(
        reviewer, comment, {"section": "about_you", "parent_id": "abc", "body": "Kept words."}, from_page=document
    )
    assert mangled.status_code == 400 and "That comment no longer exists" in mangled.text
    assert "Kept words." in mangled.text
    with db_factory() as db:
        assert db.scalar(select(Comment).where(Comment.body == "Kept words.")) is None


def test_watchers_get_the_receipt(people, as_role, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    notification = draft_complete(drafter, "dols_outcome", location_id, with_files=False)
    post_form(
        drafter, f"/notifications/{notification}/watch", {"watch": "yes"}, from_page=f"/notifications/{notification}"
    )
    act(drafter, notification, "request-review")
    act(reviewer, notification, "approve")
    act(submitter, notification, "submit", {"declaration": "yes"})
    assert any(s.startswith("Submitted:") for s in emails_to(db_factory, "drafter@riverside.example"))


def test_a_follow_up_is_linked_to_the_reference_and_goes_through_review(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    first, reference = submitted(drafter, reviewer, submitter, "manager_absence_emergency", location_id)
    choices = drafter.get(f"/notifications/{first}/follow-up").text
    assert "Return of the registered manager" in choices or "manager_return" in choices
    response = post_form(
        drafter,
        f"/notifications/{first}/follow-up",
        {"type": "manager_return"},
        from_page=f"/notifications/{first}/follow-up",
    )
    follow_up = int(response.headers["location"].rsplit("/", 1)[1])
    from portal.notifications.registry import definitions

    from .drafting import fill_section

    for section in definitions()["manager_return"].sections:
        assert fill_section(drafter, follow_up, section).status_code == 303
    act(drafter, follow_up, "request-review")
    act(reviewer, follow_up, "approve")
    act(submitter, follow_up, "submit", {"declaration": "yes"})
    with db_factory() as db:
        assert (
            db.scalar(select(Submission.parent_reference).where(Submission.notification_id == follow_up)) == reference
        )


def test_pressing_start_follow_up_twice_leaves_one_draft(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    first, _ = submitted(drafter, reviewer, submitter, "manager_absence_emergency", location_id)

    def press() -> str:
        form = {"type": "manager_return"}
        return post_form(
            drafter, f"/notifications/{first}/follow-up", form, from_page=f"/notifications/{first}/follow-up"
        ).headers["location"]

    assert press() == press()
    with db_factory() as db:
        assert db.scalar(select(func.count()).select_from(Notification).where(Notification.parent_id == first)) == 1


@pytest.mark.parametrize("type_key", sorted(definitions()))
def test_every_type_is_refused_empty_then_filled_approved_and_submitted(people, location_id, db_factory, type_key):
    # Parametrised over the shipped definitions, so a new type is submitted through HTTP here without a test
    # of its own, on both databases.
    kind = definitions()[type_key]
    drafter = people["drafter"]
    empty = start_notification(drafter, type_key, location_id)
    for section in kind.sections:
        if not any(q.required and q.kind != "file" for q in section.questions):
            continue
        path = f"/notifications/{empty}/sections/{section.key}"
        page = drafter.get(path).text
        refused = post_form(drafter, path, {"action": "continue", "version": version_on(page)}, from_page=path)
        assert refused.status_code == 400, (section.key, refused.status_code)
        assert "There is a problem" in refused.text, section.key
    notification, reference = submitted(drafter, people["reviewer"], people["submitter"], type_key, location_id)
    assert status_of(db_factory, notification) == "submitted"
    with db_factory() as db:
        submission = db.scalar(select(Submission).where(Submission.reference == reference))
        assert (submission.type_key, submission.type_version) == (type_key, kind.version)
        assert set(submission.snapshot["answers"]) == {section.key for section in kind.sections}
    receipt = people["submitter"].get(f"/notifications/{notification}/document").text
    # Every question asked is in the document the regulator reads (follow-ups only when revealed).
    for question in (q for section in kind.sections for q in section.questions if q.kind != "file"):
        assert question.label.replace("'", "&#39;") in receipt or question.label in receipt, question.key


def test_a_draft_made_under_an_earlier_version_still_reads_and_submits_as_that_version(people, location_id, db_factory):
    # Version 2 of the death notification had no questions about staff presence, preventive action or recent
    # notifications, and offered the 0 to 4 age band that is now split. A draft completed then is read as it was.
    from portal.models import SectionDraft

    drafter = people["drafter"]
    notification = draft_complete(drafter, "death_of_person_using_service", location_id, with_files=False)
    with db_factory() as db, db.begin():
        db.get(Notification, notification).type_version = 2
        for draft in db.scalars(select(SectionDraft).where(SectionDraft.notification_id == notification)):
            answers = dict(draft.answers)
            if draft.section_key == "person":
                answers["person_age_band"] = "0-4"
            for new in ("staff_present", "last_seen_by_staff", "preventive_action", "recent_notifications"):
                answers.pop(new, None)
            draft.answers = answers
    document = drafter.get(f"/notifications/{notification}/document").text
    assert "0 to 4" in document
    assert act(drafter, notification, "request-review").status_code == 303
    assert act(people["reviewer"], notification, "approve").status_code == 303
    assert act(people["submitter"], notification, "submit", {"declaration": "yes"}).status_code == 303
    with db_factory() as db:
        submission = db.scalar(select(Submission).where(Submission.notification_id == notification))
        assert submission.type_version == 2
        assert submission.snapshot["answers"]["person"]["person_age_band"] == "0-4"
    # New answers choose between under 1 and 1 to 4; the retired band is not offered.
    person = definitions()["death_of_person_using_service"].sections[1]
    assert [value for value, _ in person.questions[1].choices()][:2] == ["under_1", "1-4"]
