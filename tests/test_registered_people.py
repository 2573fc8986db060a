"""Registered people: an organisation admin records which member is each location's registered manager and which
is the nominated individual; each change is audited; notifications about the manager start with the name.

The demo's register names Morgan Manager for Riverside House, nobody for Meadow View, and Nia Nominated as the
demo provider's nominated individual (portal/demo.py).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.db import transaction
from portal.models import Location, Membership, Notification, SectionDraft

from .conftest import audit_events, make_organisation, membership_id, post_form
from .drafting import start_notification

ADMIN = "admin@riverside.example"


def _location(db_factory, name: str) -> Location:
    with db_factory() as db:
        return db.scalar(select(Location).where(Location.name == name))


def _record_manager(client, location_id: int, choice: str):
    page = f"/locations/{location_id}/change"
    return post_form(
        client, f"/locations/{location_id}/registered-manager", {"registered_manager": choice}, from_page=page
    )


def _record_nominated(client, choice: str):
    return post_form(
        client,
        "/organisation/nominated-individual",
        {"nominated_individual": choice},
        from_page="/organisation/settings",
    )


def test_an_admin_links_a_locations_registered_manager_to_a_member(demo_org, as_person, db_factory):
    admin = as_person(ADMIN)
    house = _location(db_factory, "Riverside House")
    page = admin.get(f"/locations/{house.id}/change").text
    assert "names Morgan Manager as this location’s registered manager" in page
    assert "Rui Reviewer (reviewer@riverside.example)" in page
    # Nobody is linked until an admin says so: "not a member" is what the page starts with.
    assert re.search(r'value="none" checked', page)
    reviewer = membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])

    response = _record_manager(admin, house.id, str(reviewer))

    assert response.status_code == 303 and response.headers["location"] == f"/locations/{house.id}/change"
    assert _location(db_factory, "Riverside House").registered_manager_id == reviewer
    page = admin.get(f"/locations/{house.id}/change").text
    assert "Registered manager saved." in page and re.search(rf'value="{reviewer}" checked', page)
    (event,) = audit_events(db_factory, "location:registered_manager_recorded")
    assert event.data == {
        "location": "Riverside House",
        "location_id": "1-201000001",
        "before": "not a member of this portal",
        "after": "Rui Reviewer (reviewer@riverside.example)",
    }
    assert event.actor_id is not None

    # The same again changes nothing and records nothing; "not a member" unlinks, and is recorded.
    assert _record_manager(admin, house.id, str(reviewer)).status_code == 303
    assert len(audit_events(db_factory, "location:registered_manager_recorded")) == 1
    assert _record_manager(admin, house.id, "none").status_code == 303
    assert _location(db_factory, "Riverside House").registered_manager_id is None
    assert audit_events(db_factory, "location:registered_manager_recorded")[-1].data["after"] == (
        "not a member of this portal"
    )


def test_another_organisations_member_or_no_choice_is_refused_in_words(demo_org, as_person, db_factory):
    other = make_organisation(db_factory, "Hilltop", "1-555", [("stranger@hilltop.example", "drafter")])
    admin = as_person(ADMIN)
    house = _location(db_factory, "Riverside House")
    for choice in (str(other["members"]["stranger@hilltop.example"]), "", "999999", "x"):
        response = _record_manager(admin, house.id, choice)
        assert response.status_code == 400
        assert "Select who the registered manager is, or that they are not a member of this portal" in response.text
        assert 'class="govuk-error-summary"' in response.text
    response = _record_nominated(admin, str(other["members"]["stranger@hilltop.example"]))
    assert response.status_code == 400 and "Select who the nominated individual is" in response.text
    assert _location(db_factory, "Riverside House").registered_manager_id is None
    assert audit_events(db_factory, "location:registered_manager_recorded") == []


def test_an_admin_records_the_nominated_individual_and_only_one_member_is(demo_org, as_person, db_factory):
    admin = as_person(ADMIN)
    page = admin.get("/organisation/settings").text
    assert "names Nia Nominated as your nominated individual" in page
    submitter = membership_id(db_factory, "submitter@riverside.example", demo_org["id"])
    reviewer = membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])

    assert _record_nominated(admin, str(submitter)).status_code == 303
    assert _record_nominated(admin, str(reviewer)).status_code == 303

    with db_factory() as db:
        flagged = list(db.scalars(select(Membership.id).where(Membership.nominated_individual.is_(True))))
    assert flagged == [reviewer]
    first, second = audit_events(db_factory, "organisation:nominated_individual_recorded")
    assert (first.data["before"], first.data["after"]) == (
        "not a member of this portal",
        "Sam Submitter (submitter@riverside.example)",
    )
    assert second.data["before"] == first.data["after"]
    assert "Recorded who the nominated individual is in the portal" in admin.get("/history").text
    assert re.search(rf'value="{reviewer}" checked', admin.get("/organisation/settings").text)


def test_removing_the_member_clears_the_link(demo_org, as_person, db_factory):
    admin = as_person(ADMIN)
    house = _location(db_factory, "Riverside House")
    reviewer = membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])
    assert _record_manager(admin, house.id, str(reviewer)).status_code == 303
    with transaction(db_factory) as db:
        db.delete(db.get(Membership, reviewer))
    assert _location(db_factory, "Riverside House").registered_manager_id is None


def _answers(db_factory, notification_id: int) -> dict[str, dict]:
    with db_factory() as db:
        return {
            row.section_key: (row.answers, row.status)
            for row in db.scalars(select(SectionDraft).where(SectionDraft.notification_id == notification_id))
        }


def test_notifications_about_the_manager_start_with_their_name(demo_org, as_person, as_role, db_factory):
    drafter = as_role("drafter")
    house = _location(db_factory, "Riverside House")
    meadow = _location(db_factory, "Meadow View")

    # Nobody linked: the register's name.
    planned = start_notification(drafter, "manager_absence_planned", house.id)
    answers, status = _answers(db_factory, planned)["absence"]
    assert answers == {"manager_name": "Morgan Manager"} and status == "not_started"
    # The register names nobody for Meadow View: nothing is filled in.
    assert _answers(db_factory, start_notification(drafter, "manager_return", meadow.id))["return"][0] == {}
    # Other types are not touched.
    assert all(
        not answers
        for answers, _ in _answers(db_factory, start_notification(drafter, "serious_injury", house.id)).values()
    )

    # Linked to a member: their name in the portal.
    reviewer = membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])
    assert _record_manager(as_person(ADMIN), house.id, str(reviewer)).status_code == 303
    emergency = start_notification(drafter, "manager_absence_emergency", house.id)
    assert _answers(db_factory, emergency)["absence"][0] == {"manager_name": "Rui Reviewer"}

    # An ordinary draft answer: the section page shows it, and the drafter can change it.
    page = drafter.get(f"/notifications/{emergency}/sections/absence").text
    assert 'value="Rui Reviewer"' in page
    with db_factory() as db:
        assert db.get(Notification, emergency).status == "draft"


def test_the_locations_page_says_who_each_registered_manager_is(demo_org, as_person, db_factory):
    admin = as_person(ADMIN)
    house = _location(db_factory, "Riverside House")
    assert "Not linked to a member" in admin.get("/locations").text
    reviewer = membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])
    assert _record_manager(admin, house.id, str(reviewer)).status_code == 303
    card = admin.get("/locations").text.split('data-location="1-201000001"', 1)[1].split("</dl>", 1)[0]
    assert "Rui Reviewer (a member here)" in card


def test_choosing_a_member_in_the_moment_they_are_removed_never_breaks(demo_org, db_factory):
    """Found by the attack pass (a 500 on SQLite): the choice and the removal are serialised, so either the
    member is linked and the removal then clears the link, or the choice is refused in words."""
    import threading

    from portal.accounts import organisations as orgs
    from portal.models import User
    from portal.organisation import registered_people
    from portal.rules import RuleBroken

    house = _location(db_factory, "Riverside House")
    reviewer = membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])
    start, outcomes = threading.Barrier(2), []

    def choose():
        start.wait()
        try:
            with transaction(db_factory) as db:
                place = db.get(Location, house.id)
                registered_people.record_registered_manager(db, place, str(reviewer), actor_id=1)
            outcomes.append("linked")
        except RuleBroken:
            outcomes.append("refused")
        except Exception as error:
            outcomes.append(repr(error))

    def remove():
        start.wait()
        with transaction(db_factory) as db:
            admin = db.scalar(select(User).where(User.email == ADMIN))
            orgs.remove_member(db, demo_org["id"], db.get(Membership, reviewer), actor=admin)
        outcomes.append("removed")

    threads = [threading.Thread(target=choose), threading.Thread(target=remove)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) in (["linked", "removed"], ["refused", "removed"]), outcomes
    assert _location(db_factory, "Riverside House").registered_manager_id is None
