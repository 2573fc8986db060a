"""The support workspace: search, read-only pages and audited help actions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts import invitations
from portal.accounts import organisations as orgs
from portal.app import all_endpoints
from portal.db import transaction
from portal.models import AuditEvent, Invitation, Organisation, OutboxMessage, User, UserSession, utcnow
from portal.support import service

from .conftest import ask_question, audit_events, make_organisation, post_form
from .drafting import start_notification
from .journey import submitted
from .ports import free_port

SUPPORT_PATHS = [e for e in all_endpoints() if e.path.startswith("/support")]


def _user_id(db_factory, email: str) -> int:
    with db_factory() as db:
        return db.scalar(select(User.id).where(User.email == email))


def _invite(db_factory, organisation_id: int, email: str = "new@riverside.example") -> int:
    with transaction(db_factory) as db:
        admin = db.scalar(select(User).where(User.email == "admin@riverside.example"))
        return invitations.invite(
            db,
            organisation_id,
            email=email,
            grants=[orgs.Grant("drafter", None)],
            actor=admin,
            base_url="http://testserver",
        ).id


# Search -----------------------------------------------------------------------------------------


def test_the_workspace_has_the_search_box(agent):
    page = agent.get("/support")
    assert page.status_code == 200
    assert 'action="/support/search"' in page.text and 'name="q"' in page.text


def test_search_finds_organisations_locations_people_and_references(agent, as_role, demo_org):
    notification, reference = submitted(
        as_role("drafter"), as_role("reviewer"), as_role("submitter"), "serious_injury", demo_org["locations"][0][0]
    )
    by_name = agent.get("/support/search", params={"q": "riverside care"})
    assert by_name.status_code == 200
    assert f'href="/support/organisations/{demo_org["id"]}"' in by_name.text
    assert '<h2 class="govuk-heading-m">Organisations</h2>' in by_name.text
    assert f"/support/organisations/{demo_org['id']}" in agent.get("/support/search?q=1-101000001").text
    by_location = agent.get("/support/search?q=1-201000002")
    assert "Meadow View" in by_location.text and '<h2 class="govuk-heading-m">Locations</h2>' in by_location.text
    by_email = agent.get("/support/search?q=DRAFTER@riverside")
    assert "drafter@riverside.example" in by_email.text and "/support/people/" in by_email.text
    by_reference = agent.get(f"/support/search?q={reference.lower()}")
    assert f'href="/support/notifications/{notification}"' in by_reference.text


@pytest.mark.parametrize("query", ["", "   ", "%", "_", "\\", "x" * 5000, "'; drop table users; --", "é😀"])
def test_odd_searches_never_fail(agent, demo_org, query):
    response = agent.get("/support/search", params={"q": query})
    assert response.status_code == 200
    if query in ("%", "_", "\\"):
        assert "0 results" in response.text


def test_a_search_holding_a_null_is_refused_in_words(agent):
    # The input boundary refuses a NUL in any query string (it is never typed), with a message, not a 500.
    response = agent.get("/support/search", params={"q": "\x00"})
    assert response.status_code == 400 and "must not contain" in response.text


def test_search_without_a_query(agent):
    assert agent.get("/support/search").status_code == 200


# Read-only pages --------------------------------------------------------------------------------


def test_organisation_page_shows_details_members_invitations_and_history(agent, db_factory, demo_org):
    _invite(db_factory, demo_org["id"], "newcomer@riverside.example")
    page = agent.get(f"/support/organisations/{demo_org['id']}")
    assert page.status_code == 200
    for text in (
        "Riverside Care Ltd",
        "1-101000001",
        "Meadow View",
        "1-201000001",
        "drafter@riverside.example",
        "Organisation admin",
        "newcomer@riverside.example",
        "Invited newcomer@riverside.example",
    ):
        assert text in page.text, text
    assert page.text.count("<h1") == 1


def test_person_page_shows_account_organisations_and_sessions(agent, as_role, db_factory, demo_org):
    as_role("drafter")
    page = agent.get(f"/support/people/{_user_id(db_factory, 'drafter@riverside.example')}")
    assert page.status_code == 200
    for text in ("drafter@riverside.example", "Active", "Riverside Care Ltd", "Drafter"):
        assert text in page.text, text
    assert "No active sessions" not in page.text
    assert "Signed in (" in page.text  # their sign-in, from the audit events


def test_notification_page_is_the_read_only_document_with_its_timeline(agent, as_role, demo_org):
    drafter = as_role("drafter")
    notification, reference = submitted(
        drafter, as_role("reviewer"), as_role("submitter"), "serious_injury", demo_org["locations"][0][0]
    )
    page = agent.get(f"/support/notifications/{notification}")
    assert page.status_code == 200
    assert reference in page.text
    provider_view = drafter.get(f"/notifications/{notification}/document").text
    # The same compiled sections the provider sees.
    assert 'id="section-' in page.text
    for heading in [line for line in provider_view.splitlines() if 'class="govuk-heading-m" id="section-' in line]:
        assert heading.strip() in page.text
    assert f"Submitted to the regulator, reference {reference}" in page.text
    assert "Sent for review" in page.text
    assert 'action="/notifications/' not in page.text  # no comment or workflow forms


def test_a_draft_is_shown_to_support_only_once_the_provider_asks_about_it(agent, as_role, demo_org):
    drafter = as_role("drafter")
    draft = start_notification(drafter, "serious_injury", demo_org["locations"][0][0])
    assert agent.get(f"/support/notifications/{draft}").status_code == 404
    query_id = ask_question(drafter, "Is this the right form?", "See my draft", notification=str(draft))
    assert f'href="/support/notifications/{draft}"' in agent.get(f"/support/queries/{query_id}").text
    page = agent.get(f"/support/notifications/{draft}")
    assert page.status_code == 200 and "None yet: not submitted" in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/support/organisations/999999",
        "/support/organisations/abc",
        "/support/people/999999",
        "/support/people/-1",
        "/support/notifications/999999",
        "/support/notifications/x",
    ],
)
def test_unknown_things_are_not_found(agent, path):
    assert agent.get(path).status_code == 404


@pytest.mark.parametrize("role", ["drafter", "organisation_admin"])
def test_providers_get_403_on_every_support_route(as_role, db_factory, demo_org, role):
    provider = as_role(role)
    user_id = _user_id(db_factory, "drafter@riverside.example")
    invitation_id = _invite(db_factory, demo_org["id"])
    for endpoint in SUPPORT_PATHS:
        path = (
            endpoint.path.replace("{organisation_id}", str(demo_org["id"]))
            .replace("{user_id}", str(user_id))
            .replace("{invitation_id}", str(invitation_id))
            .replace("{notification_id}", "1")
            .replace("{request_id}", "1")
            .replace("{token_id}", "1")
        )
        if "GET" in endpoint.methods:
            assert provider.get(path).status_code == 403, path
        else:
            assert post_form(provider, path, {"reason": "x"}, from_page="/help").status_code == 403, path
    with db_factory() as db:
        assert db.get(User, user_id).active
        assert db.get(Invitation, invitation_id).status == "pending"


# Help actions -----------------------------------------------------------------------------------


def test_resend_needs_a_reason_and_keeps_what_was_typed(agent, db_factory, demo_org):
    invitation_id = _invite(db_factory, demo_org["id"])
    path = f"/support/organisations/{demo_org['id']}/invitations/{invitation_id}/resend"
    page = f"/support/organisations/{demo_org['id']}"
    response = post_form(agent, path, {"reason": "   "}, from_page=page)
    assert response.status_code == 400
    assert "There is a problem" in response.text and "Enter the reason for this action" in response.text
    assert f'href="#reason-invitation-{invitation_id}"' in response.text
    assert "Error:" in response.text
    too_long = "kept text " * 201
    response = post_form(agent, path, {"reason": too_long}, from_page=page)
    assert response.status_code == 400 and "2000 characters or fewer" in response.text
    assert too_long.strip() in response.text
    assert audit_events(db_factory, "support:invitation_resent") == []


def test_resend_invitation_sends_email_and_records_the_reason(agent, db_factory, demo_org):
    invitation_id = _invite(db_factory, demo_org["id"])
    with db_factory() as db:
        before = db.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.recipient == "new@riverside.example")
            .order_by(OutboxMessage.id.desc())
        )
    response = post_form(
        agent,
        f"/support/organisations/{demo_org['id']}/invitations/{invitation_id}/resend",
        {"reason": "Provider says the email never arrived"},
        from_page=f"/support/organisations/{demo_org['id']}",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/support/organisations/{demo_org['id']}"
    assert "Invitation sent again." in agent.get(response.headers["location"]).text
    assert "Invitation sent again." not in agent.get(response.headers["location"]).text  # shown once
    [event] = audit_events(db_factory, "support:invitation_resent")
    assert event.organisation_id == demo_org["id"]
    assert event.data["reason"] == "Provider says the email never arrived"
    assert event.actor_id == _user_id(db_factory, "support@regulator.example")
    with db_factory() as db:
        after = db.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.recipient == "new@riverside.example")
            .order_by(OutboxMessage.id.desc())
        )
    assert after != before


def test_revoke_invitation_and_not_twice(agent, db_factory, demo_org):
    invitation_id = _invite(db_factory, demo_org["id"])
    path = f"/support/organisations/{demo_org['id']}/invitations/{invitation_id}/revoke"
    page = f"/support/organisations/{demo_org['id']}"
    assert post_form(agent, path, {"reason": "Sent to the wrong person"}, from_page=page).status_code == 303
    with db_factory() as db:
        assert db.get(Invitation, invitation_id).status == "revoked"
    [event] = audit_events(db_factory, "support:invitation_revoked")
    assert event.data == {"invitee": "new@riverside.example", "reason": "Sent to the wrong person"}
    assert event.organisation_id == demo_org["id"]
    # Revoked: no longer on the page, so a second try is refused without a 500.
    assert post_form(agent, path, {"reason": "again"}, from_page=page).status_code in (404, 409)


def test_an_invitation_of_another_organisation_is_not_found(agent, db_factory, demo_org):
    other = make_organisation(
        db_factory, "Hilltop Homes", "1-102000002", [("admin@hilltop.example", "organisation_admin")]
    )
    invitation_id = _invite(db_factory, demo_org["id"])
    response = post_form(
        agent,
        f"/support/organisations/{other['id']}/invitations/{invitation_id}/revoke",
        {"reason": "x"},
        from_page="/support",
    )
    assert response.status_code == 404


def test_sign_out_everywhere(agent, as_role, db_factory, demo_org):
    drafter = as_role("drafter")
    user_id = _user_id(db_factory, "drafter@riverside.example")
    path = f"/support/people/{user_id}/sign-out"
    response = post_form(agent, path, {"reason": ""}, from_page=f"/support/people/{user_id}")
    assert response.status_code == 400 and 'href="#reason-sign-out"' in response.text
    response = post_form(agent, path, {"reason": "Lost their phone"}, from_page=f"/support/people/{user_id}")
    assert response.status_code == 303
    assert "Signed out everywhere." in agent.get(response.headers["location"]).text
    assert drafter.get("/dashboard").status_code == 303
    [event] = audit_events(db_factory, "support:signed_out_everywhere")
    assert event.data["reason"] == "Lost their phone" and event.data["sessions"] >= 1
    assert event.organisation_id == demo_org["id"] and event.subject_user_id == user_id


def test_deactivate_ends_sessions_and_reactivate_restores(agent, as_role, db_factory, demo_org):
    drafter = as_role("drafter")
    user_id = _user_id(db_factory, "drafter@riverside.example")
    page = f"/support/people/{user_id}"
    response = post_form(agent, f"{page}/deactivate", {"reason": "Left the provider"}, from_page=page)
    assert response.status_code == 303
    with db_factory() as db:
        assert not db.get(User, user_id).active
        assert (
            db.scalars(
                select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            ).first()
            is None
        )
    assert drafter.get("/dashboard").status_code == 303
    shown = agent.get(response.headers["location"]).text
    assert "Account deactivated" in shown and "Reactivate account" in shown
    assert post_form(agent, f"{page}/deactivate", {"reason": "again"}, from_page=page).status_code == 409
    assert post_form(agent, f"{page}/reactivate", {"reason": "Came back"}, from_page=page).status_code == 303
    with db_factory() as db:
        assert db.get(User, user_id).active
    assert audit_events(db_factory, "support:account_deactivated")[0].data["reason"] == "Left the provider"
    assert audit_events(db_factory, "support:account_reactivated")[0].organisation_id == demo_org["id"]


def test_an_agent_cannot_act_on_themselves_or_regulator_staff(agent, db_factory):
    own = f"/support/people/{_user_id(db_factory, 'support@regulator.example')}"
    response = post_form(agent, f"{own}/deactivate", {"reason": "oops"}, from_page=own)
    assert response.status_code == 409 and "your own account" in response.text
    assert 'href="#reason-active"' not in response.text  # no form to link to
    lead = f"/support/people/{_user_id(db_factory, 'lead@regulator.example')}"
    assert "Deactivate account" not in agent.get(lead).text
    assert (
        "Deactivate account" in agent.get(f"/support/people/{_user_id(db_factory, 'drafter@riverside.example')}").text
    )
    for action in ("deactivate", "sign-out"):
        response = post_form(agent, f"{lead}/{action}", {"reason": "x"}, from_page=lead)
        assert response.status_code == 409 and "not the regulator’s staff" in response.text
    with db_factory() as db:
        assert db.scalar(select(User.active).where(User.email == "lead@regulator.example"))
        regulator = db.scalar(select(Organisation.id).where(Organisation.kind == "regulator"))
    page = f"/support/organisations/{regulator}"
    response = post_form(
        agent, f"{page}/correct", {"name": "Renamed", "provider_id": "X", "reason": "x"}, from_page=page
    )
    assert response.status_code == 409


def test_correct_an_organisation(agent, db_factory, demo_org):
    page = f"/support/organisations/{demo_org['id']}"
    response = post_form(
        agent, f"{page}/correct", {"name": "", "provider_id": "1-101000009", "reason": ""}, from_page=page
    )
    assert response.status_code == 400
    assert 'href="#correct-name"' in response.text and 'href="#reason-correct"' in response.text
    assert 'value="1-101000009"' in response.text
    response = post_form(
        agent,
        f"{page}/correct",
        {
            "name": "Riverside Care Limited",
            "provider_id": "1-101000009",
            "reason": "Companies House shows the full name",
        },
        from_page=page,
    )
    assert response.status_code == 303
    assert "Organisation details corrected." in agent.get(response.headers["location"]).text
    with db_factory() as db:
        organisation = db.get(Organisation, demo_org["id"])
        assert (organisation.name, organisation.provider_id) == ("Riverside Care Limited", "1-101000009")
    [event] = audit_events(db_factory, "support:organisation_corrected")
    assert event.data["before"] == "Riverside Care Ltd (1-101000001)"
    assert event.data["reason"] == "Companies House shows the full name"


def test_a_missing_form_field_is_not_a_500(agent, db_factory, demo_org):
    page = f"/support/organisations/{demo_org['id']}"
    assert post_form(agent, f"{page}/correct", {}, from_page=page).status_code == 400
    user_id = _user_id(db_factory, "drafter@riverside.example")
    assert post_form(agent, f"/support/people/{user_id}/sign-out", {}, from_page=page).status_code == 400


def test_services_hold_the_rules_without_http(db, demo_org):
    agent = db.scalar(select(User).where(User.email == "support@regulator.example"))
    drafter = db.scalar(select(User).where(User.email == "drafter@riverside.example"))
    with pytest.raises(service.ActionError):
        service.deactivate(db, drafter, reason=" ", actor=agent)
    with pytest.raises(orgs.RuleBroken):
        service.reactivate(db, drafter, reason="why", actor=agent)
    service.deactivate(db, drafter, reason="why", actor=agent)
    assert drafter.active is False


NASTY = ["\x00" * 10, "<script>alert(1)</script>", "x" * 200_000, "../../etc/passwd", "٣", "é😀\x00ok"]


@pytest.mark.parametrize("value", NASTY)
def test_nasty_values_to_every_help_action_never_give_a_500(agent, db_factory, demo_org, value):
    user_id = _user_id(db_factory, "drafter@riverside.example")
    invitation_id = _invite(db_factory, demo_org["id"])
    org = f"/support/organisations/{demo_org['id']}"
    for path in [f"{org}/correct", f"{org}/invitations/{invitation_id}/resend", f"/support/people/{user_id}/sign-out"]:
        for data in (
            {"reason": value, "name": value, "provider_id": value},
            {"reason": [value, value], "name": [value, "a"]},
        ):
            response = post_form(agent, path, data, from_page=org)
            assert response.status_code in (303, 400, 409, 413), (path, response.status_code)
            assert "<script>alert(1)</script>" not in response.text
    with db_factory() as db:
        for event in db.scalars(select(AuditEvent).where(AuditEvent.event_type.like("support:%"))):
            assert "\x00" not in event.data["reason"] and len(event.data["reason"]) <= service.REASON_MAX


# Emails the outbox gave up on -------------------------------------------------------------------


def _closed_port() -> int:
    return free_port()  # nothing listens once the probe closes


def _give_up_on_email(settings, db_factory, recipient: str) -> int:
    """Queues an email and lets a real SMTP sender fail on it until the outbox stops trying."""
    from dataclasses import replace

    from portal import outbox

    with transaction(db_factory) as db:
        message = outbox.enqueue(db, template="t", recipient=recipient, subject="Your receipt", body="b")
        db.flush()
        message_id = message.id
    sender = outbox.SmtpSender(replace(settings, smtp_port=_closed_port()))
    for _ in range(outbox.MAX_ATTEMPTS):
        with transaction(db_factory) as db:
            db.get(OutboxMessage, message_id).next_attempt_at = utcnow()
        outbox.deliver_due(db_factory, sender)
    return message_id


def test_support_sees_emails_that_could_not_be_sent_and_sends_them_again(agent, settings, db_factory):
    message_id = _give_up_on_email(settings, db_factory, "someone@riverside.example")
    page = agent.get("/support").text
    assert "1 email was tried 8 times without success" in page and "someone@riverside.example" in page
    assert "ConnectionRefusedError" in page
    missing_reason = post_form(agent, f"/support/emails/{message_id}/send-again", {"reason": ""}, from_page="/support")
    assert missing_reason.status_code == 400 and "Enter the reason for this action" in missing_reason.text
    again = post_form(
        agent, f"/support/emails/{message_id}/send-again", {"reason": "Mail server fixed"}, from_page="/support"
    )
    assert again.status_code == 303
    with db_factory() as db:
        message = db.get(OutboxMessage, message_id)
        assert message.attempts == 0 and message.sent_at is None
    page = agent.get("/support").text
    assert "Every email has been sent or is still being tried" in page
    assert "The email is queued to be sent again." in page
    [event] = audit_events(db_factory, "support:email_retried")
    assert event.data["reason"] == "Mail server fixed"
    # Only a given-up message can be sent again.
    assert (
        post_form(
            agent, f"/support/emails/{message_id}/send-again", {"reason": "again"}, from_page="/support"
        ).status_code
        == 404
    )


def test_section_states_on_the_read_only_page_are_in_words(agent, drafter, location_id):
    draft = start_notification(drafter, "serious_injury", location_id)
    ask_question(drafter, "Where do I start?", "Nothing is filled in yet", notification=str(draft))
    page = agent.get(f"/support/notifications/{draft}").text
    assert "Not yet started" in page and "not_started" not in page
