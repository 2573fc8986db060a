"""The input boundary (portal/input_text.py, applied in portal/web/routing.py): text arrives in NFC, tab and
newline are kept, and a NUL, a lone surrogate or another control character is refused with a message naming
the field, whatever else was typed shown back. Paths and query strings holding one answer 404 or 400."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from portal.models import QueryMessage, SectionDraft, SignupRequest

from .conftest import CSRF_RE, ask_question, csrf_from, post_form
from .drafting import start_notification, version_on


def signup_requests(db_factory) -> list[SignupRequest]:
    with db_factory() as db:
        return list(db.scalars(select(SignupRequest)))


def multipart(client, path: str, fields: dict[str, str], *, charset: str, from_page: str):
    """A form as multipart, its parts in a charset the client names: how a lone surrogate can arrive
    (raw_unicode_escape turns the six characters \\ud800 into one)."""
    boundary = uuid.uuid4().hex
    fields = {**fields, "csrf_token": csrf_from(client, from_page)}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode("latin-1")
        for name, value in fields.items()
    )
    body += f"--{boundary}--\r\n".encode()
    content_type = f"multipart/form-data; charset={charset}; boundary={boundary}"
    return client.post(path, content=body, headers={"content-type": content_type})


def test_a_null_in_the_organisation_name_is_refused_naming_the_field_and_the_rest_shown_back(as_person, db_factory):
    newcomer = as_person("newcomer@example.com")
    response = post_form(
        newcomer,
        "/organisations/request",
        {"organisation_name": "Sunny\x00 Homes", "provider_id": "1-101234567"},
        from_page="/organisations/request",
    )
    assert response.status_code == 400
    assert "Organisation name must not contain a null character" in response.text
    assert 'value="1-101234567"' in response.text
    assert 'value="Sunny Homes"' in response.text
    assert signup_requests(db_factory) == []


def test_text_is_stored_in_nfc(as_person, db_factory):
    newcomer = as_person("newcomer@example.com")
    decomposed = "Cafe\u0301 Care"
    response = post_form(
        newcomer,
        "/organisations/request",
        {"organisation_name": decomposed, "provider_id": "1-101234567"},
        from_page="/organisations/request",
    )
    assert response.status_code == 303
    [request] = signup_requests(db_factory)
    assert request.organisation_name == "Caf\u00e9 Care"


def test_tab_and_newline_are_kept(drafter, db_factory):
    query_id = ask_question(drafter, "Rotas", "First line\r\n\tindented second line")
    with db_factory() as db:
        body = db.scalar(select(QueryMessage.body).where(QueryMessage.query_id == query_id))
    assert "\n\tindented second line" in body


def test_a_lone_surrogate_is_refused_naming_the_field(drafter, db_factory):
    response = multipart(
        drafter,
        "/queries",
        {"subject": "Help \\ud800 please", "message": "Kept words"},
        charset="raw_unicode_escape",
        from_page="/queries/new",
    )
    assert response.status_code == 400
    assert "Summary of your question must not contain a character that is not valid Unicode" in response.text
    assert "Kept words" in response.text
    with db_factory() as db:
        assert db.scalar(select(QueryMessage.id)) is None


def test_a_control_character_in_a_form_read_by_hand_is_refused_and_nothing_is_kept(drafter, location_id):
    notification = start_notification(drafter, "dols_outcome", location_id)
    response = post_form(
        drafter,
        f"/notifications/{notification}/comments",
        {"section": "about_you", "body": "Ring\x07 me"},
        from_page=f"/notifications/{notification}/document",
    )
    assert response.status_code == 400
    assert "The &#39;body&#39; field must not contain an invisible control character" in response.text
    assert "Ring" not in drafter.get(f"/notifications/{notification}/document").text


def test_a_json_field_holding_a_null_or_a_control_character_is_refused(drafter, location_id, db_factory):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    for kept in ('{"completed_by_name": "a\\u0000b"}', '{"completed_by_name": "a\\u0007b"}'):
        version = version_on(drafter.get(path).text)
        form = {"version": version, "mine": kept, "choice-completed_by_name": "mine"}
        response = post_form(drafter, f"{path}/resolve", form, from_page=path)
        assert response.status_code == 400, kept
    with db_factory() as db:
        answers = db.scalar(
            select(SectionDraft.answers).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == "about_you"
            )
        )
    assert not (answers or {}).get("completed_by_name")


def test_a_null_in_a_path_or_a_query_string_is_a_404_or_a_400(agent, client):
    assert agent.get("/support/search?q=a%00b").status_code == 400
    assert agent.get("/notifications/1%00").status_code == 404
    assert client.get("/sign-in/link/abc%00def").status_code == 404
    api = client.get("/api/v1/submissions?since=%00")
    assert api.status_code == 400
    assert "error" in api.json()


def test_a_control_character_in_a_section_answer_names_the_question_and_keeps_the_other_answers(
    drafter, location_id, db_factory
):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    version = version_on(drafter.get(path).text)
    form = {
        "action": "continue",
        "version": version,
        "completed_by_name": "Jo\x1b Bloggs",
        "completed_by_job_title": "Registered manager",
    }
    response = post_form(drafter, path, form, from_page=path)
    assert response.status_code == 400
    assert "Your full name must not contain an invisible control character" in response.text
    assert "Registered manager" in response.text
    with db_factory() as db:
        answers = db.scalar(
            select(SectionDraft.answers).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == "about_you"
            )
        )
    assert not (answers or {}).get("completed_by_job_title")


def test_an_autosave_holding_a_control_character_says_so_in_the_live_region_and_saves_nothing(
    drafter, location_id, db_factory
):
    notification = start_notification(drafter, "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/about_you"
    page = drafter.get(path).text
    response = drafter.post(
        f"{path}/autosave",
        data={"version": version_on(page), "completed_by_name": "Jo\x1b Bloggs", "completed_by_job_title": "Manager"},
        headers={"HX-Request": "true", "X-CSRF-Token": CSRF_RE.search(page).group(1)},
    )
    # 200, as htmx swaps no 400 into the live region; the words say nothing was saved.
    assert response.status_code == 200 and response.text.lstrip().startswith("<p")
    assert "Not saved." in response.text and "<html" not in response.text
    with db_factory() as db:
        answers = db.scalar(
            select(SectionDraft.answers).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == "about_you"
            )
        )
    assert not (answers or {}).get("completed_by_job_title")


def test_a_refused_character_in_a_field_the_form_does_not_have_is_a_400_not_a_500(lead, as_person, db_factory):
    """Found by the attack pass: the sign-up decision assumed its one error sat on its one field."""
    founder = as_person("founder@boundary.example")
    asked = {"organisation_name": "Boundary Care", "provider_id": "1-104000004"}
    assert post_form(founder, "/organisations/request", asked, from_page="/organisations/request").status_code == 303
    with db_factory() as db:
        request_id = db.scalar(select(SignupRequest.id).order_by(SignupRequest.id.desc()).limit(1))
    response = post_form(
        lead, f"/support/signups/{request_id}/decide", {"decision": "approve", "foo": "a\x00"}, from_page="/support"
    )
    assert response.status_code == 400
    assert "must not contain" in response.text


def test_a_line_break_in_a_one_line_field_becomes_a_space(drafter, db_factory):
    response = post_form(
        drafter,
        "/queries",
        {"subject": "Need help\r\nBcc: someone@example.com", "message": "Please call."},
        from_page="/queries/new",
    )
    assert response.status_code == 303
    page = drafter.get(response.headers["location"]).text
    assert "Need help Bcc: someone@example.com" in page
