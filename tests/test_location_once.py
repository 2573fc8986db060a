"""A notification's location is chosen once, when it is started, and changed only by the explicit, audited
"Change location" action: within the person's own open locations, never after it has gone for review."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.db import transaction
from portal.models import Location, Notification, SectionDraft, Submission, utcnow
from portal.notifications.drafting import LOCATION_CHANGED_AFTER_APPROVAL
from portal.notifications.registry import definition
from portal.regulator_view import detail

from .conftest import add_member, audit_events, make_organisation, post_form
from .drafting import fill_section, start_notification
from .journey import act, draft_complete

HOUSE, MEADOW = ("Riverside House", "1-201000001"), ("Meadow View", "1-201000002")


def page_of(notification_id: int) -> str:
    return f"/notifications/{notification_id}/location"


def change(client, notification_id: int, location) -> object:
    return post_form(
        client, page_of(notification_id), {"location": str(location)}, from_page=f"/notifications/{notification_id}"
    )


def location_of(db_factory, notification_id: int) -> int:
    with db_factory() as db:
        return db.get(Notification, notification_id).location_id


def test_changing_the_location_is_audited_and_shown_once_as_part_of_the_notification(drafter, demo_org, db_factory):
    (house, _), (meadow, _) = demo_org["locations"]
    notification = start_notification(drafter, "dols_outcome", house)
    page = drafter.get(page_of(notification))
    assert page.status_code == 200
    assert f'value="{house}" checked' in page.text and f'value="{meadow}"' in page.text
    assert "The location that applied for the authorisation." in page.text  # the type's own words on which

    response = change(drafter, notification, meadow)
    assert response.status_code == 303 and response.headers["location"] == f"/notifications/{notification}"
    assert location_of(db_factory, notification) == meadow
    [event] = audit_events(db_factory, "notification:location_changed")
    assert (event.notification_id, event.data) == (
        notification,
        {"before": "Riverside House (1-201000001)", "after": "Meadow View (1-201000002)"},
    )
    task_list = drafter.get(response.headers["location"]).text
    assert "The location was changed." in task_list
    assert "Meadow View (1-201000002)" in task_list and "Changed the notification" in task_list
    assert f'href="/notifications/{notification}/location"' in task_list
    document = drafter.get(f"/notifications/{notification}/document").text
    assert document.count("Meadow View (1-201000002)") == 1 and "Riverside House" not in document

    # Choosing the location it already has changes nothing and records nothing.
    assert change(drafter, notification, meadow).status_code == 303
    assert len(audit_events(db_factory, "notification:location_changed")) == 1


def test_nothing_chosen_is_an_error_on_the_page(drafter, location_id, db_factory):
    notification = start_notification(drafter, "dols_outcome", location_id)
    response = change(drafter, notification, "")
    assert response.status_code == 400
    assert "Select the location the notification is about" in response.text and 'href="#location"' in response.text
    assert location_of(db_factory, notification) == location_id


def test_an_approval_is_withdrawn_and_the_regulator_receives_the_new_location(as_role, demo_org, db_factory):
    drafter, reviewer, submitter = (as_role(role) for role in ("drafter", "reviewer", "submitter"))
    (house, _), (meadow, _) = demo_org["locations"]
    notification = draft_complete(drafter, "dols_outcome", house, with_files=False)
    assert act(drafter, notification, "request-review").status_code == 303
    assert act(reviewer, notification, "approve").status_code == 303
    assert "it now needs reviewing and approving again" not in drafter.get(page_of(notification)).text
    assert "so it will need reviewing and approving again" in drafter.get(page_of(notification)).text

    response = change(drafter, notification, meadow)
    assert response.status_code == 303
    assert "it now needs reviewing and approving again" in drafter.get(response.headers["location"]).text
    with db_factory() as db:
        changed = db.get(Notification, notification)
        assert (changed.status, changed.approved_hash, changed.location_id) == ("draft", None, meadow)
    [withdrawn] = audit_events(db_factory, "notification:approval_withdrawn")
    assert withdrawn.data == {"reason": LOCATION_CHANGED_AFTER_APPROVAL}

    # Reviewed again, then submitted: what the regulator receives names the new location.
    assert act(drafter, notification, "request-review").status_code == 303
    assert f"{MEADOW[0]} ({MEADOW[1]})" in reviewer.get(f"/notifications/{notification}/review").text
    assert act(reviewer, notification, "approve").status_code == 303
    assert f"{MEADOW[0]} ({MEADOW[1]})" in submitter.get(f"/notifications/{notification}/submit").text
    assert act(submitter, notification, "submit", {"declaration": "yes"}).status_code == 303
    with db_factory() as db:
        made = db.scalar(select(Submission).where(Submission.notification_id == notification))
        assert made.snapshot["location"] == {"name": MEADOW[0], "location_id": MEADOW[1]}
        assert detail(made, "https://portal.example")["location"] == {"name": MEADOW[0], "location_id": MEADOW[1]}
    receipt = json.loads(submitter.get(f"/notifications/{notification}/receipt.json").text)
    assert receipt["location"] == {"name": MEADOW[0], "location_id": MEADOW[1]}


def test_a_submitted_or_in_review_notification_keeps_its_location(as_role, demo_org, db_factory):
    drafter, reviewer, submitter = (as_role(role) for role in ("drafter", "reviewer", "submitter"))
    (house, _), (meadow, _) = demo_org["locations"]
    notification = draft_complete(drafter, "dols_outcome", house, with_files=False)
    assert act(drafter, notification, "request-review").status_code == 303
    refused = change(drafter, notification, meadow)
    assert refused.status_code == 400 and "You cannot change its location while it is in review" in refused.text
    assert act(reviewer, notification, "approve").status_code == 303
    assert act(submitter, notification, "submit", {"declaration": "yes"}).status_code == 303

    for response in (drafter.get(page_of(notification)), change(drafter, notification, meadow)):
        assert response.status_code == 400
        assert "You cannot change its location while it is submitted" in response.text
    assert location_of(db_factory, notification) == house
    assert f'href="/notifications/{notification}/location"' not in drafter.get(f"/notifications/{notification}").text
    assert audit_events(db_factory, "notification:location_changed") == []


def test_a_closed_location_cannot_be_chosen(drafter, demo_org, db_factory):
    (house, _), (meadow, _) = demo_org["locations"]
    notification = start_notification(drafter, "dols_outcome", house)
    with transaction(db_factory) as db:
        db.get(Location, meadow).closed_at = utcnow()
    page = drafter.get(page_of(notification)).text
    assert f'value="{meadow}"' not in page and f'value="{house}"' in page
    response = change(drafter, notification, meadow)
    assert response.status_code == 400 and "That location is closed" in response.text
    assert location_of(db_factory, notification) == house


def test_a_person_limited_to_one_location_neither_sees_nor_picks_another(as_person, demo_org, db_factory):
    (house, _), (meadow, _) = demo_org["locations"]
    add_member(db_factory, demo_org["id"], "house-drafter@riverside.example", [("drafter", house)])
    limited = as_person("house-drafter@riverside.example")
    notification = start_notification(limited, "dols_outcome", house)
    page = limited.get(page_of(notification)).text
    assert f'value="{house}"' in page and f'value="{meadow}"' not in page and "Meadow View" not in page

    assert change(limited, notification, meadow).status_code == 404
    elsewhere = make_organisation(db_factory, "Elsewhere Care", "1-109000009", [], locations=[("Far", "1-209000009")])
    with db_factory() as db:
        theirs = db.scalar(select(Location.id).where(Location.organisation_id == elsewhere["id"]))
    assert change(limited, notification, theirs).status_code == 404
    assert change(limited, notification, "not-a-location").status_code == 404
    assert location_of(db_factory, notification) == house
    assert audit_events(db_factory, "notification:location_changed") == []

    # A notification at the other location is not theirs to see, nor to move.
    other = start_notification(as_person("drafter@riverside.example"), "dols_outcome", meadow)
    assert limited.get(page_of(other)).status_code == 404
    assert change(limited, other, house).status_code == 404
    assert location_of(db_factory, other) == meadow


def test_an_old_draft_holding_a_location_answer_ignores_it(drafter, location_id, db_factory):
    """Drafts started before the question went keep its answer in their stored section: nothing shows it, and
    the next save of that section drops it."""
    notification = start_notification(drafter, "dols_outcome", location_id)
    with transaction(db_factory) as db:
        draft = db.scalar(
            select(SectionDraft).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == "application"
            )
        )
        draft.answers = {"location": "1-201000002"}
    for path in ("", "/document", "/sections/application"):
        response = drafter.get(f"/notifications/{notification}{path}")
        assert response.status_code == 200 and "1-201000002" not in response.text, path
    section = next(s for s in definition("dols_outcome").sections if s.key == "application")
    assert fill_section(drafter, notification, section).status_code == 303
    with db_factory() as db:
        saved = db.scalar(
            select(SectionDraft).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == "application"
            )
        )
        assert "location" not in saved.answers and saved.answers
