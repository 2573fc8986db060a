"""Tampered form fields that the attack pass of this milestone found giving 500s: each answers 400 or its
own page now, stores nothing invalid, and leaves every page readable."""

import pytest
from sqlalchemy import select

from portal.models import SectionDraft

from .conftest import post_form
from .drafting import start_notification, version_on

HUGE = ["2147483648", "9223372036854775808", "1" + "0" * 30, "٣"]


def saved_answers(db_factory, notification, section_key):
    with db_factory() as db:
        return db.scalar(
            select(SectionDraft.answers).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == section_key
            )
        )


@pytest.mark.parametrize(
    "kept",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"completed_by_name": "\\ud800"}',
        '{"completed_by_name": "a\\u0000b"}',
        '{"not_a_question": "x"}',
        '{"completed_by_name": [{"deep": 1}]}',
        '["a list"]',
        '{"completed_by_name": {"day": "1", "evil": "<b>x</b>"}}',
        '{"completed_by_name": ["a", "list"]}',
    ],
    ids=[
        "deeply nested",
        "lone surrogate",
        "NUL",
        "unknown key",
        "wrong shape",
        "not an object",
        "date parts for text",
        "a list for text",
    ],
)
def test_a_tampered_conflict_resolution_is_refused_and_the_section_stays_readable(
    drafter, location_id, db_factory, kept
):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    version = version_on(drafter.get(path).text)
    form = {"version": version, "mine": kept, "choice-completed_by_name": "mine"}
    response = post_form(drafter, f"{path}/resolve", form, from_page=path)
    assert response.status_code == 400
    assert not (saved_answers(db_factory, notification, "about_you") or {}).get("completed_by_name")
    assert drafter.get(path).status_code == 200
    assert drafter.get(f"/notifications/{notification}/document").status_code == 200


@pytest.mark.parametrize("version", HUGE)
def test_a_section_version_no_column_holds_is_a_stale_version_not_an_error(drafter, location_id, version):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    form = {"action": "later", "version": version, "completed_by_name": "Kept"}
    response = post_form(drafter, path, form, from_page=path)
    assert response.status_code in (303, 409)
    autosave = post_form(drafter, f"{path}/autosave", form, from_page=path)
    assert autosave.status_code < 500


@pytest.mark.parametrize("notification_id", HUGE)
def test_a_question_about_a_notification_id_no_column_holds_is_a_form_error(drafter, notification_id):
    response = post_form(
        drafter,
        "/queries",
        {"subject": "Help", "message": "Please", "notification": notification_id},
        from_page="/queries/new",
    )
    assert response.status_code == 400
    assert "Select a notification from the list" in response.text


@pytest.mark.parametrize("value", HUGE + ["2e17", "-1"])
def test_page_and_assignee_numbers_no_column_holds_are_ignored_or_refused(as_role, location_id, value):
    admin = as_role("organisation_admin")
    assert admin.get(f"/history?page={value}").status_code == 200
    drafter = as_role("drafter")
    notification = start_notification(drafter, "dols_outcome", location_id)
    response = post_form(
        drafter,
        f"/notifications/{notification}/assign",
        {"assignee": value},
        from_page=f"/notifications/{notification}",
    )
    assert response.status_code < 500
