"""Drafting notifications together: start, fill in, save, come back, view the whole, never lose an edit."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from portal.db import transaction
from portal.models import Notification, RoleGrant, SectionDraft
from portal.notifications.registry import definitions

from .conftest import count_queries, make_organisation, membership_id, post_form
from .drafting import attach_example_file, fill_section, start_notification, version_on


def test_start_offers_every_type_and_only_locations_where_you_may_draft(as_person, db_factory, demo_org):
    other_location = demo_org["locations"][1]
    member = membership_id(db_factory, "drafter@riverside.example", demo_org["id"])
    with transaction(db_factory) as db:
        grant = db.scalar(select(RoleGrant).where(RoleGrant.membership_id == member))
        grant.location_id = demo_org["locations"][0][0]
    drafter = as_person("drafter@riverside.example")
    page = drafter.get("/notifications/new").text
    for kind in definitions().values():
        assert str(escape(kind.title)) in page, kind.key
    assert demo_org["locations"][0][1] in page and other_location[1] not in page
    refused = post_form(
        drafter,
        "/notifications/new",
        {"type": "dols_outcome", "location": str(other_location[0])},
        from_page="/notifications/new",
    )
    assert refused.status_code == 400 and "Select the location where it happened" in refused.text


def test_start_without_choosing_shows_both_errors(drafter):
    response = post_form(drafter, "/notifications/new", {}, from_page="/notifications/new")
    assert response.status_code == 400
    assert "Select what you are telling us about" in response.text and "Select the location" in response.text
    assert "<title>Error: " in response.text


def test_the_task_list_shows_each_section_and_the_deadline(drafter, location_id):
    notification = start_notification(drafter, "serious_injury", location_id)
    page = drafter.get(f"/notifications/{notification}").text
    kind = definitions()["serious_injury"]
    for section in kind.sections:
        assert section.title in page
    assert "Tell us without delay after" in page and "Not yet started" in page


def test_save_and_continue_validates_and_keeps_what_was_typed(drafter, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    response = post_form(
        drafter,
        path,
        {
            "action": "continue",
            "version": "0",
            "completed_by_name": "Ann <b>Smith</b>",
            "contact_email": "not an email",
        },
        from_page=path,
    )
    assert response.status_code == 400
    assert "Enter your job title" in response.text and 'href="#completed_by_job_title"' in response.text
    assert "Ann &lt;b&gt;Smith&lt;/b&gt;" in response.text and 'value="not an email"' in response.text
    assert "<b>Smith</b>" not in response.text
    again = drafter.get(path).text
    assert 'value="not an email"' in again, "what people typed survives even when it does not pass yet"


def test_save_and_come_back_later_marks_the_section_in_progress(drafter, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    response = post_form(drafter, path, {"action": "later", "version": "0", "completed_by_name": "A B"}, from_page=path)
    assert response.headers["location"] == f"/notifications/{notification}"
    page = drafter.get(f"/notifications/{notification}").text
    assert "In progress" in page and "Last changed by drafter@riverside.example" in page
    assert page.count("Your answers were saved.") == 1
    assert "Your answers were saved." not in drafter.get(f"/notifications/{notification}").text  # shown once


def test_dates_are_validated_as_real_dates(drafter, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    kind = definitions()["dols_outcome"]
    section = next(s for s in kind.sections if any(q.kind == "date" for q in s.questions))
    question = next(q for q in section.questions if q.kind == "date")
    path = f"/notifications/{notification}/sections/{section.key}"
    response = post_form(
        drafter,
        path,
        {
            "action": "continue",
            "version": "0",
            f"{question.key}-day": "31",
            f"{question.key}-month": "2",
            f"{question.key}-year": "2026",
        },
        from_page=path,
    )
    assert "must be a real date" in response.text
    assert f'href="#{question.key}-day"' in response.text


@pytest.mark.parametrize("type_key", sorted(definitions()))
def test_every_shipped_type_can_be_filled_in_and_viewed_whole(drafter, location_id, type_key, db_factory):
    notification = start_notification(drafter, type_key, location_id)
    kind = definitions()[type_key]
    for section in kind.sections:
        # Every file question gets a file, so a type that gains a required upload is filled in like the rest
        # rather than left out of this test.
        for question in section.questions:
            if question.kind == "file":
                attach_example_file(drafter, notification, section, question)
        response = fill_section(drafter, notification, section)
        assert response.status_code == 303, (
            section.key,
            re.findall(r'govuk-error-message">\s*<span[^>]*>[^<]*</span>([^<]*)', response.text),
        )
    page = drafter.get(f"/notifications/{notification}").text
    assert page.count("Completed") >= len(kind.sections)
    document = drafter.get(f"/notifications/{notification}/document").text
    positions = [document.index(section.title) for section in kind.sections]
    assert positions == sorted(positions), "sections appear in order"
    assert "Not answered" not in document or any(not q.required for q in kind.all_questions())
    with db_factory() as db:
        stored = db.scalars(select(SectionDraft).where(SectionDraft.notification_id == notification)).all()
        assert all(s.status == "completed" for s in stored)
        notification_row = db.get(Notification, notification)
        assert notification_row.type_version == kind.version


def test_answers_are_stored_as_typed_data(drafter, location_id, db_factory):
    notification = start_notification(drafter, "dols_outcome", location_id)
    kind = definitions()["dols_outcome"]
    section = next(s for s in kind.sections if any(q.kind == "date" for q in s.questions))
    fill_section(drafter, notification, section)
    with db_factory() as db:
        answers = db.scalar(
            select(SectionDraft.answers).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == section.key
            )
        )
    date_question = next(q for q in section.questions if q.kind == "date")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", answers[date_question.key])


def test_long_text_has_a_generous_limit_enforced_on_the_server(drafter, location_id):
    kind = definitions()["serious_injury"]
    section, question = next((s, q) for s in kind.sections for q in s.questions if q.kind == "long_text")
    limit = question.rules["max_length"]
    assert limit > 2000
    notification = start_notification(drafter, "serious_injury", location_id)
    path = f"/notifications/{notification}/sections/{section.key}"
    assert f'data-maxlength="{limit}"' in drafter.get(path).text
    response = post_form(
        drafter, path, {"action": "continue", "version": "0", question.key: "x" * (limit + 1)}, from_page=path
    )
    assert f"{limit:,} characters or fewer" in response.text


def test_two_people_editing_one_section_never_lose_an_edit(as_role, location_id, db_factory):
    first, second = as_role("drafter"), as_role("organisation_admin")
    with transaction(db_factory) as db:  # the admin drafts too, in this test
        from portal.models import Membership, User

        admin = db.scalar(
            select(Membership).join(User, User.id == Membership.user_id).where(User.email == "admin@riverside.example")
        )
        admin.grants.append(RoleGrant(role="drafter", location_id=None))
    second = as_role("organisation_admin")
    notification = start_notification(first, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    version = version_on(first.get(path).text)
    assert version_on(second.get(path).text) == version
    mine = post_form(
        first, path, {"action": "later", "version": version, "completed_by_name": "First Person"}, from_page=path
    )
    assert mine.status_code == 303
    theirs = post_form(
        second, path, {"action": "later", "version": version, "completed_by_name": "Second Person"}, from_page=path
    )
    assert theirs.status_code == 409
    assert "Someone else changed this section" in theirs.text
    assert "First Person" in theirs.text and "Second Person" in theirs.text
    with db_factory() as db:
        saved = db.scalar(
            select(SectionDraft.answers).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == "about_you"
            )
        )
    assert saved["completed_by_name"] == "First Person", "the second save did not silently overwrite the first"
    form = {
        "version": re.search(r'name="version" value="(\d+)"', theirs.text).group(1),
        "mine": re.search(r'name="mine" value="([^"]*)"', theirs.text).group(1).replace("&#34;", '"'),
        "choice-completed_by_name": "mine",
    }
    resolved = post_form(second, f"{path}/resolve", form, from_page=path)
    assert resolved.status_code == 303
    with db_factory() as db:
        saved = db.scalar(
            select(SectionDraft.answers).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == "about_you"
            )
        )
    assert saved["completed_by_name"] == "Second Person"


def test_autosave_keeps_words_and_updates_the_version(drafter, location_id, db_factory):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    token = re.search(r'name="csrf_token" value="([^"]+)"', drafter.get(path).text).group(1)
    response = drafter.post(
        f"{path}/autosave",
        data={"version": "0", "completed_by_name": "Typing now"},
        headers={"x-csrf-token": token, "hx-request": "true"},
    )
    assert response.status_code == 200 and "Saved at" in response.text
    assert 'id="section-version"' in response.text and 'value="1"' in response.text and "hx-swap-oob" in response.text
    stale = drafter.post(
        f"{path}/autosave",
        data={"version": "0", "completed_by_name": "Old tab"},
        headers={"x-csrf-token": token, "hx-request": "true"},
    )
    assert "Someone else changed this section" in stale.text


def test_a_reviewer_can_read_but_not_edit(as_role, drafter, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    reviewer = as_role("reviewer")
    assert reviewer.get(f"/notifications/{notification}").status_code == 200
    assert reviewer.get(f"/notifications/{notification}/document").status_code == 200
    assert reviewer.get(f"/notifications/{notification}/sections/about_you").status_code == 403


def test_another_organisation_gets_404_for_every_notification_page(as_person, drafter, location_id, db_factory):
    notification = start_notification(drafter, "dols_outcome", location_id)
    make_organisation(db_factory, "Hilltop Homes", "1-102000002", [("carer@hilltop.example", "drafter")])
    stranger = as_person("carer@hilltop.example")
    for path in [
        f"/notifications/{notification}",
        f"/notifications/{notification}/document",
        f"/notifications/{notification}/sections/about_you",
    ]:
        response = stranger.get(path)
        assert response.status_code == 404 and "Riverside" not in response.text
    saved = post_form(
        stranger,
        f"/notifications/{notification}/sections/about_you",
        {"action": "later", "version": "0", "completed_by_name": "intruder"},
        from_page="/help",
    )
    assert saved.status_code == 404


def test_assign_to_a_colleague_and_see_it_in_their_attention_view(as_role, drafter, location_id, db_factory):
    notification = start_notification(drafter, "dols_outcome", location_id)
    admin_id = None
    with transaction(db_factory) as db:
        from portal.models import Membership, User

        admin = db.scalar(
            select(Membership).join(User, User.id == Membership.user_id).where(User.email == "admin@riverside.example")
        )
        admin.grants.append(RoleGrant(role="drafter", location_id=None))
        admin_id = admin.user_id
    post_form(
        drafter,
        f"/notifications/{notification}/assign",
        {"assignee": str(admin_id)},
        from_page=f"/notifications/{notification}",
    )
    colleague = as_role("organisation_admin")
    assert f"/notifications/{notification}" in colleague.get("/notifications?view=mine").text
    assert f"/notifications/{notification}" not in drafter.get("/notifications?view=mine").text
    timeline = drafter.get(f"/notifications/{notification}").text
    assert "Assigned the notification to admin@riverside.example" in timeline


@pytest.mark.parametrize("who", ["reviewer", "nobody-we-know", "99999999999999999999", "٣"])
def test_a_tampered_assignee_is_a_form_error_and_changes_nothing(drafter, location_id, db_factory, who):
    from portal.models import User

    from .conftest import audit_events

    notification = start_notification(drafter, "dols_outcome", location_id)
    with db_factory() as db:
        assigned = db.get(Notification, notification).assigned_to_id
    value = who
    if who == "reviewer":  # a colleague, but one who cannot draft, so never offered
        with db_factory() as db:
            value = str(db.scalar(select(User.id).where(User.email == "reviewer@riverside.example")))
    response = post_form(
        drafter,
        f"/notifications/{notification}/assign",
        {"assignee": value},
        from_page=f"/notifications/{notification}",
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text and 'href="#assignee"' in response.text
    assert 'id="assignee-error"' in response.text
    assert "Select a colleague who can draft at this location" in response.text
    assert "<title>Error: " in response.text
    with db_factory() as db:
        assert db.get(Notification, notification).assigned_to_id == assigned
    assert not audit_events(db_factory, "notification:assigned")


def test_only_active_colleagues_who_can_draft_here_are_offered_for_assignment(drafter, location_id, db_factory):
    notification = start_notification(drafter, "dols_outcome", location_id)
    with transaction(db_factory) as db:
        from portal.models import Membership, User

        admin = db.scalar(
            select(Membership).join(User, User.id == Membership.user_id).where(User.email == "admin@riverside.example")
        )
        admin.grants.append(RoleGrant(role="drafter", location_id=None))
    offered = re.compile(r"<option[^>]*>\s*admin@riverside.example")
    assert offered.search(drafter.get(f"/notifications/{notification}").text)
    with transaction(db_factory) as db:
        db.scalar(select(User).where(User.email == "admin@riverside.example")).active = False
    assert not offered.search(drafter.get(f"/notifications/{notification}").text)


def test_list_filters_by_status_type_location(drafter, demo_org):
    first, second = demo_org["locations"]
    start_notification(drafter, "dols_outcome", first[0])
    start_notification(drafter, "serious_injury", second[0])
    page = drafter.get(f"/notifications?location={second[0]}").text
    assert "Serious injury" in page and "Deprivation of Liberty" not in page.split("<table")[1]
    page = drafter.get("/notifications?type=dols_outcome&status=draft").text
    assert "2 notifications" not in page and "1 notification," in page
    assert "There are no notifications that match" in drafter.get("/notifications?status=submitted").text


def test_the_list_and_the_whole_document_use_a_fixed_number_of_queries(drafter, location_id, app):
    ids = [start_notification(drafter, "serious_injury", location_id) for _ in range(3)]
    statements, stop = count_queries(app.state.engine)
    drafter.get("/notifications")
    few = len(statements)
    statements.clear()
    drafter.get(f"/notifications/{ids[0]}/document")
    document_few = len(statements)
    stop()
    ids += [start_notification(drafter, "serious_injury", location_id) for _ in range(12)]
    statements, stop = count_queries(app.state.engine)
    drafter.get("/notifications")
    many = len(statements)
    statements.clear()
    drafter.get(f"/notifications/{ids[-1]}/document")
    document_many = len(statements)
    stop()
    assert few == many, f"list: {few} queries for 3 notifications, {many} for 15"
    assert document_few == document_many
    assert many <= 8 and document_many <= 12


def test_pagination_splits_long_lists(drafter, location_id, db_factory):
    for _ in range(26):
        start_notification(drafter, "dols_outcome", location_id)
    page_one = drafter.get("/notifications").text
    assert "Page 1 of 2" in page_one and "page=2" in page_one
    page_two = drafter.get("/notifications?page=2").text
    assert page_two.count('href="/notifications/') - page_two.count('href="/notifications/new') == 1
