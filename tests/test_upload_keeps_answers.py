"""Uploading or removing a file from a section page keeps what was typed in its other questions.

The section page's "Upload file" and "Remove" buttons submit the section's own form, so the typed
answers travel with the file and are saved with it, in the same transaction. These tests send exactly
what the page's form holds (parsed from the page), as a browser without JavaScript would.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from portal.app import create_app
from portal.attachments import service
from portal.db import transaction
from portal.files.storage import LocalStorage
from portal.models import Notification, SectionDraft
from portal.notifications import drafting

from .conftest import audit_events, csrf_from, make_organisation, sign_in
from .test_attachments import (
    DRAFTER,
    EICAR,
    PDF,
    ClamdHandler,
    FakeClamd,
    Forms,
    auth_for,
    rows,
    start_notification,
    stored_files,
)

SECTION, QUESTION = "risk", "supporting_documents"
TYPED = {
    "known_risk": "yes",
    "risk_mitigation": "Bed rails checked hourly – typed just before choosing the file.",
    "actions_staff": "The night nurse was retrained.",
}
# Not a PDF, whatever it is called: the type sniffing refuses it.
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200) + b"This program cannot be run in DOS mode"
SAVED_TOO = "Your answers to the other questions in this section were saved."


@dataclass
class SectionForm:
    """The section page's one form, as the page holds it."""

    hidden: dict[str, str]
    upload_action: str
    file_field: str
    remove_actions: list[str]


def section_form(client: TestClient, notification_id: int) -> SectionForm:
    page = client.get(section_path(notification_id))
    assert page.status_code == 200, page.text[-2000:]
    forms = Forms()
    forms.feed(page.text)
    own = [control for control in forms.controls if control["owner"] == "section-form"]
    [file_input] = [control for control in own if control.get("type") == "file"]
    [upload] = [control for control in own if control.get("formenctype") == "multipart/form-data"]
    return SectionForm(
        hidden=forms.forms["section-form"]["hidden"],
        upload_action=upload["formaction"],
        file_field=file_input["name"],
        remove_actions=[c["formaction"] for c in own if c.get("formaction", "").endswith("/remove")],
    )


def section_path(notification_id: int) -> str:
    return f"/notifications/{notification_id}/sections/{SECTION}"


def upload_with_typing(client, notification_id, content=PDF, filename="plan.pdf", *, form=None, typed=TYPED):
    form = form or section_form(client, notification_id)
    return client.post(
        form.upload_action,
        data={**form.hidden, **typed},
        files={form.file_field: (filename, content, "application/pdf")},
    )


def saved_answers(db_factory, notification_id: int) -> dict:
    return saved_draft(db_factory, notification_id).answers


def saved_draft(db_factory, notification_id: int) -> SectionDraft:
    with db_factory() as db:
        return db.scalars(
            select(SectionDraft).where(
                SectionDraft.notification_id == notification_id, SectionDraft.section_key == SECTION
            )
        ).one()


def someone_else_saves(db_factory, notification_id: int, words: str) -> None:
    """A colleague's save of the same section, after this page was shown."""
    with transaction(db_factory) as db:
        auth = auth_for(db)
        notification = db.get(Notification, notification_id)
        draft = next(d for d in notification.sections if d.section_key == SECTION)
        result = drafting.save_section(
            db, auth, notification, SECTION, {"risk_mitigation": words}, expected_version=draft.version
        )
        assert result.saved


@pytest.fixture
def notification_id(drafter, db_factory):
    return start_notification(db_factory)


# Uploading ---------------------------------------------------------------------------------------


def test_an_upload_saves_the_answers_typed_beside_it(drafter, notification_id, db_factory, settings):
    response = upload_with_typing(drafter, notification_id)
    assert response.status_code == 303 and response.headers["location"] == section_path(notification_id)

    [attachment] = rows(db_factory)
    assert attachment.filename == "plan.pdf" and stored_files(settings) == [
        settings.storage_dir / attachment.storage_key
    ]
    answers = saved_answers(db_factory, notification_id)
    assert answers["risk_mitigation"] == TYPED["risk_mitigation"] and answers["known_risk"] == "yes"
    assert [e.data["section"] for e in audit_events(db_factory, "notification:section_saved")] == ["Risk and actions"]

    page = drafter.get(section_path(notification_id)).text
    assert "Bed rails checked hourly – typed just before choosing the file." in page
    assert "The night nurse was retrained." in page and "plan.pdf" in page


def test_unfinished_answers_are_kept_without_errors_until_save_and_continue(drafter, notification_id, db_factory):
    # Half the section is answered: the upload is a save for later, not a check.
    response = upload_with_typing(drafter, notification_id, typed={"risk_mitigation": "Only this so far."})
    assert response.status_code == 303
    page = drafter.get(section_path(notification_id)).text
    assert "Only this so far." in page and "govuk-error-summary" not in page
    assert len(rows(db_factory)) == 1


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (EXE, "invoice.pdf", "The selected file must be a PDF, image, Office document or plain text"),
        (b"", "empty.pdf", "The selected file is empty"),
        # The browser's part for a file input left empty.
        (b"", "", "Select a file"),
    ],
)
def test_a_refused_file_still_saves_the_answers(
    drafter, notification_id, db_factory, settings, content, filename, message
):
    response = upload_with_typing(drafter, notification_id, content, filename)
    assert response.status_code == 400
    assert message in response.text and SAVED_TOO in response.text
    assert f'href="{section_path(notification_id)}"' in response.text
    assert rows(db_factory) == [] and stored_files(settings) == []
    assert saved_answers(db_factory, notification_id)["risk_mitigation"] == TYPED["risk_mitigation"]
    assert TYPED["risk_mitigation"] in drafter.get(section_path(notification_id)).text


def test_a_form_without_any_file_part_is_refused_before_receiving_and_still_saves(drafter, notification_id, db_factory):
    form = section_form(drafter, notification_id)
    response = drafter.post(form.upload_action, data={**form.hidden, **TYPED})
    assert response.status_code == 400
    assert "Select a file" in response.text and SAVED_TOO in response.text
    assert saved_answers(db_factory, notification_id)["actions_staff"] == TYPED["actions_staff"]


def test_a_full_question_refuses_the_file_and_still_saves(drafter, notification_id, db_factory):
    # The page was opened with room for a file; meanwhile, in another tab, the question filled up.
    form = section_form(drafter, notification_id)
    for number in range(5):
        response = drafter.post(
            f"/notifications/{notification_id}/attachments/{QUESTION}",
            data={"csrf_token": form.hidden["csrf_token"]},
            files={"file": (f"plan {number}.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 303
    response = upload_with_typing(drafter, notification_id, filename="one too many.pdf", form=form)
    assert response.status_code == 400
    assert "You can add up to 5 files here" in response.text and SAVED_TOO in response.text
    assert len(rows(db_factory)) == 5
    assert saved_answers(db_factory, notification_id)["risk_mitigation"] == TYPED["risk_mitigation"]


@pytest.fixture
def client_with(settings, db_factory, demo_org):
    """client_with(**changes) -> (a signed-in drafter's client on an app with changed settings, the settings)."""
    clients = []

    def make(**changes):
        changed = replace(settings, **changes)
        client = TestClient(create_app(changed), base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        sign_in(client, db_factory, DRAFTER)
        return client, changed

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def clamd():
    # A short directory: Unix socket paths are limited to about 100 characters.
    directory = tempfile.mkdtemp(prefix="clamd-", dir="/tmp")
    path = os.path.join(directory, "clamd.sock")
    server = FakeClamd(path, ClamdHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
    os.unlink(path)
    os.rmdir(directory)


def test_a_file_with_a_virus_still_saves_the_answers(client_with, db_factory, clamd):
    client, changed = client_with(clamd_socket=clamd.server_address)
    notification_id = start_notification(db_factory)
    response = upload_with_typing(client, notification_id, b"header " + EICAR, "eicar.txt")
    assert response.status_code == 400
    assert "The selected file contains a virus" in response.text and SAVED_TOO in response.text
    assert rows(db_factory) == [] and stored_files(changed) == []
    assert saved_answers(db_factory, notification_id)["risk_mitigation"] == TYPED["risk_mitigation"]


def test_a_file_over_the_limit_still_saves_the_answers(client_with, db_factory):
    client, changed = client_with(max_upload_bytes=100 * 1024)
    notification_id = start_notification(db_factory)
    # A long answer as well (too long to pass, so kept as typed): the room for the section's answers
    # comes on top of the file limit, and they are not refused with the file.
    long_words = "Ward rounds were doubled. " * 4000
    response = upload_with_typing(
        client, notification_id, PDF + b"0" * (200 * 1024), typed={**TYPED, "actions_others": long_words}
    )
    assert response.status_code == 400
    assert "The selected file must be smaller than 100 KB" in response.text and SAVED_TOO in response.text
    assert rows(db_factory) == [] and stored_files(changed) == []
    assert saved_draft(db_factory, notification_id).raw["actions_others"] == long_words


def test_the_upload_page_alone_sends_no_answers_and_blanks_none(drafter, notification_id, db_factory):
    """The refusal page's own form, and scripts, send only the file: the saved answers stay as they are."""
    assert upload_with_typing(drafter, notification_id, EXE, "tool.pdf").status_code == 400
    response = drafter.post(
        f"/notifications/{notification_id}/attachments/{QUESTION}",
        data={"csrf_token": section_form(drafter, notification_id).hidden["csrf_token"]},
        files={"file": ("plan.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 303
    assert len(rows(db_factory)) == 1
    assert saved_answers(db_factory, notification_id)["risk_mitigation"] == TYPED["risk_mitigation"]


# Someone else saved the section first ------------------------------------------------------------


def test_a_conflict_shows_both_versions_and_says_the_file_was_uploaded(drafter, notification_id, db_factory):
    form = section_form(drafter, notification_id)
    someone_else_saves(db_factory, notification_id, "Their words, saved first.")

    response = upload_with_typing(drafter, notification_id, form=form)
    assert response.status_code == 409
    assert "Someone else changed this section" in response.text
    assert "Bed rails checked hourly – typed just before choosing the file." in response.text
    assert "Their words, saved first." in response.text
    assert "Your file “plan.pdf” was uploaded." in response.text
    [attachment] = rows(db_factory)
    assert attachment.filename == "plan.pdf"
    # Nothing of this save was written over theirs: the person chooses on the conflict page.
    assert saved_answers(db_factory, notification_id) == {"risk_mitigation": "Their words, saved first."}


def test_a_conflict_with_a_refused_file_says_it_was_not_uploaded(drafter, notification_id, db_factory, settings):
    form = section_form(drafter, notification_id)
    someone_else_saves(db_factory, notification_id, "Their words, saved first.")

    response = upload_with_typing(drafter, notification_id, EXE, "tool.pdf", form=form)
    assert response.status_code == 409
    assert "Bed rails checked hourly – typed just before choosing the file." in response.text
    assert (
        "Your file was not uploaded. The selected file must be a PDF, image, Office document or plain text."
        in response.text
    )
    assert rows(db_factory) == [] and stored_files(settings) == []


def test_a_mangled_version_is_a_conflict_never_an_overwrite(drafter, notification_id, db_factory):
    someone_else_saves(db_factory, notification_id, "Their words.")
    form = section_form(drafter, notification_id)
    form.hidden["version"] = "٣"
    assert upload_with_typing(drafter, notification_id, form=form).status_code == 409
    assert saved_answers(db_factory, notification_id) == {"risk_mitigation": "Their words."}


# Removing ----------------------------------------------------------------------------------------


def test_removing_a_file_saves_the_answers_typed_beside_it(drafter, notification_id, db_factory):
    assert upload_with_typing(drafter, notification_id, typed={}).status_code == 303
    form = section_form(drafter, notification_id)
    [remove] = form.remove_actions
    response = drafter.post(remove, data={**form.hidden, **TYPED})
    assert response.status_code == 303 and response.headers["location"] == section_path(notification_id)
    assert rows(db_factory)[0].removed_at is not None
    assert saved_answers(db_factory, notification_id)["risk_mitigation"] == TYPED["risk_mitigation"]


def test_a_removal_that_arrives_after_the_notification_moved_on_shows_back_the_words(
    drafter, notification_id, db_factory
):
    assert upload_with_typing(drafter, notification_id, typed={}).status_code == 303
    form = section_form(drafter, notification_id)
    with transaction(db_factory) as db:
        db.get(Notification, notification_id).status = "withdrawn"
    refused = drafter.post(form.remove_actions[0], data={**form.hidden, **TYPED})
    assert refused.status_code == 400 and TYPED["risk_mitigation"] in refused.text
    assert rows(db_factory)[0].removed_at is None


def test_removing_in_a_conflict_shows_both_versions_and_says_the_file_was_removed(drafter, notification_id, db_factory):
    assert upload_with_typing(drafter, notification_id, typed={}).status_code == 303
    form = section_form(drafter, notification_id)
    someone_else_saves(db_factory, notification_id, "Their words, saved first.")
    response = drafter.post(form.remove_actions[0], data={**form.hidden, **TYPED})
    assert response.status_code == 409
    assert "Their words, saved first." in response.text and TYPED["risk_mitigation"] in response.text
    assert "Your file “plan.pdf” was removed." in response.text
    assert rows(db_factory)[0].removed_at is not None


# Saving the section, and who may ----------------------------------------------------------------


def test_saving_the_section_still_works_with_the_file_input_in_its_form(drafter, notification_id, db_factory):
    form = section_form(drafter, notification_id)
    # A browser sends a file input in an urlencoded form as the file's name: it is not an answer.
    data = {**form.hidden, **TYPED, form.file_field: "chosen but not uploaded.pdf", "action": "later"}
    response = drafter.post(section_path(notification_id), data=data)
    assert response.status_code == 303 and response.headers["location"] == f"/notifications/{notification_id}"
    assert saved_answers(db_factory, notification_id) == {
        "known_risk": "yes",
        "risk_mitigation": TYPED["risk_mitigation"],
        "actions_staff": TYPED["actions_staff"],
    }
    assert rows(db_factory) == []

    form = section_form(drafter, notification_id)
    response = drafter.post(section_path(notification_id), data={**form.hidden, **TYPED, "action": "continue"})
    assert response.status_code == 400 and "Describe the immediate actions taken to protect" in response.text


def test_the_section_form_sends_no_file_when_saving(drafter, notification_id):
    page = drafter.get(section_path(notification_id)).text
    forms = Forms()
    forms.feed(page)
    assert forms.forms["section-form"]["enctype"] is None
    # Enter in a text box presses the form's first button, which must save, not upload.
    [first] = [c for c in forms.controls if c["owner"] == "section-form" and c.get("type") == "submit"][:1]
    assert first.get("name") == "action" and first.get("value") == "continue" and "formaction" not in first
    # Autosave sends the form's fields without the file input's.
    assert f'hx-sync="this:queue last" hx-params="not {QUESTION}">' in page
    # A section without a file question has neither.
    other = drafter.get(f"/notifications/{notification_id}/sections/about_you").text
    assert (
        'hx-sync="this:queue last">' in other and "hx-params" not in other and 'value="continue" hidden>' not in other
    )


def test_another_organisations_person_gets_404_and_nothing_is_saved(drafter, notification_id, db_factory, as_person):
    form = section_form(drafter, notification_id)
    make_organisation(db_factory, "Elsewhere Care", "1-555000001", [("other@elsewhere.example", "drafter")])
    other = as_person("other@elsewhere.example")
    token = csrf_from(other, "/account")
    response = other.post(
        form.upload_action,
        data={**form.hidden, **TYPED, "csrf_token": token},
        files={form.file_field: ("plan.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 404
    assert rows(db_factory) == [] and saved_answers(db_factory, notification_id) == {}


def test_a_reviewer_cannot_upload_or_save_through_the_upload(drafter, notification_id, db_factory, as_role):
    form = section_form(drafter, notification_id)
    reviewer = as_role("reviewer")
    response = reviewer.post(
        form.upload_action,
        data={**form.hidden, **TYPED, "csrf_token": csrf_from(reviewer, "/account")},
        files={form.file_field: ("plan.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 403
    assert rows(db_factory) == [] and saved_answers(db_factory, notification_id) == {}


def test_the_service_saves_and_records_in_one_transaction(drafter, notification_id, db_factory, settings):
    """Callable without HTTP: a failure after the save rolls the answers back with the file's record."""
    storage = LocalStorage(settings.storage_dir)
    received = service.ReceivedFile("plan.pdf", "application/pdf", storage.save(io.BytesIO(PDF), max_bytes=10**6))
    with pytest.raises(RuntimeError), transaction(db_factory) as db:
        notification = db.get(Notification, notification_id)
        version = next(d.version for d in notification.sections if d.section_key == SECTION)
        change = service.upload_with_answers(
            db,
            auth_for(db),
            notification,
            QUESTION,
            received,
            service.TypedAnswers(raw={"risk_mitigation": "Lost with the file."}, version=version),
        )
        assert change.attachment is not None and change.saved is not None and change.saved.saved
        raise RuntimeError("the commit never happens")
    assert rows(db_factory) == [] and saved_answers(db_factory, notification_id) == {}


def test_an_upload_that_arrives_after_the_notification_moved_on_shows_back_the_words(
    drafter, notification_id, db_factory, settings
):
    form = section_form(drafter, notification_id)
    with transaction(db_factory) as db:
        db.get(Notification, notification_id).status = "withdrawn"
    refused = upload_with_typing(drafter, notification_id, form=form)
    assert refused.status_code == 400 and "You cannot change its files while it is withdrawn" in refused.text
    assert "Your answers were not saved" in refused.text
    assert TYPED["risk_mitigation"] in refused.text and TYPED["actions_staff"] in refused.text
    assert rows(db_factory) == [] and stored_files(settings) == []


def test_an_answer_longer_than_a_megabyte_sent_with_a_file_is_read_and_kept(drafter, notification_id, db_factory):
    """Starlette reads at most 1 MB of a form part unless told otherwise: a longer answer must reach the
    rules (and be kept as typed), not turn the whole form into 'could not read what you sent'."""
    long_words = "Bed rails were checked again. " * 50_000  # 1.5 MB, under the request's 2 MB
    response = upload_with_typing(drafter, notification_id, typed={**TYPED, "actions_others": long_words})
    assert response.status_code == 303, response.text[-1500:]
    assert saved_draft(db_factory, notification_id).raw["actions_others"] == long_words
