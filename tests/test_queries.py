"""Providers ask the support team questions; threads, statuses, assignment, email alerts and the queue."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.db import transaction
from portal.models import AuditEvent, OutboxMessage, SupportQuery, utcnow

from .conftest import add_member, ask_question, count_queries, make_organisation, post_form
from .drafting import start_notification

SUPPORT_INBOX = "support@regulator.example"
SUBJECT, MESSAGE = "How do I attach a body map?", "The upload button is greyed out."


def ask(client, subject=SUBJECT, message=MESSAGE, **extra):
    """The form's response, for the tests of what a refused question looks like."""
    return post_form(client, "/queries", {"subject": subject, "message": message, **extra}, from_page="/queries/new")


def asked(client, subject=SUBJECT, message=MESSAGE, **extra) -> int:
    return ask_question(client, subject, message, **extra)


def status_of(db_factory, query_id: int) -> str:
    with db_factory() as db:
        return db.get(SupportQuery, query_id).status


def emails_to(db_factory, recipient: str) -> list[OutboxMessage]:
    """Alerts about questions only: the demo's agent signs in through the same address as the inbox."""
    with db_factory() as db:
        return list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == recipient, OutboxMessage.template.like("query%"))
                .order_by(OutboxMessage.id)
            )
        )


# Asking -----------------------------------------------------------------------------------------


def test_every_provider_page_offers_a_question_link_that_remembers_where_it_was_asked(drafter):
    dashboard = drafter.get("/dashboard").text
    assert 'href="/queries/new?from=/dashboard"' in dashboard
    form = drafter.get("/queries/new?from=/dashboard").text
    assert 'name="asked_from" type="hidden" value="/dashboard"' in form


def test_asking_from_a_notification_page_makes_the_question_about_it(drafter, demo_org):
    notification = start_notification(drafter, "serious_injury", demo_org["locations"][0][0])
    form = drafter.get(f"/queries/new?from=/notifications/{notification}").text
    assert f'<option value="{notification}" selected>' in form
    query_id = asked(drafter, notification=str(notification), asked_from=f"/notifications/{notification}")
    page = drafter.get(f"/queries/{query_id}").text
    assert f'href="/notifications/{notification}"' in page


def test_a_question_reaches_the_support_inbox_and_the_queue(drafter, agent, db_factory):
    query_id = asked(drafter)
    assert status_of(db_factory, query_id) == "new"
    [alert] = emails_to(db_factory, SUPPORT_INBOX)
    assert "How do I attach a body map?" in alert.subject
    assert f"/support/queries/{query_id}" in alert.body
    queue = agent.get("/support/queries").text
    assert f'href="/support/queries/{query_id}"' in queue and "Riverside Care" in queue


def test_a_question_with_problems_keeps_what_was_typed(drafter):
    response = ask(drafter, subject="", message="<b>everything</b> I typed\x00")
    assert response.status_code == 400
    assert response.text.startswith("<!DOCTYPE html>") and "<title>Error:" in response.text
    assert 'href="#subject">Enter a short summary of your question' in response.text
    assert "&lt;b&gt;everything&lt;/b&gt; I typed" in response.text


def test_a_question_cannot_be_about_a_notification_the_person_cannot_see(drafter, db_factory):
    other = make_organisation(db_factory, "Hilltop Homes", "1-555", [("boss@hilltop.example", "organisation_admin")])
    with transaction(db_factory) as db:
        from portal.models import Location, Notification

        location = db.scalar(select(Location).where(Location.organisation_id == other["id"]))
        hidden = Notification(
            organisation_id=other["id"], location_id=location.id, type_key="serious_injury", type_version=1
        )
        db.add(hidden)
        db.flush()
        hidden_id = hidden.id
    response = ask(drafter, notification=str(hidden_id))
    assert response.status_code == 400
    assert "Select a notification from the list" in response.text


# The thread -------------------------------------------------------------------------------------


def test_a_support_reply_waits_on_the_provider_and_emails_the_asker(drafter, as_role, db_factory):
    lead = as_role("support_lead")
    query_id = asked(drafter)
    reply = post_form(
        lead,
        f"/support/queries/{query_id}/reply",
        {"message": "Press ‘Choose file’ first, then Upload."},
        from_page=f"/support/queries/{query_id}",
    )
    assert reply.status_code == 303
    assert status_of(db_factory, query_id) == "waiting_on_provider"
    [email] = emails_to(db_factory, "drafter@riverside.example")
    assert "The support team replied" in email.subject and f"/queries/{query_id}" in email.body
    thread = drafter.get(f"/queries/{query_id}").text
    assert "Press ‘Choose file’ first, then Upload." in thread and "Waiting on you" in thread
    assert (
        'The support team has replied to 1 of your organisation’s questions. <a class="govuk-link" '
        'href="/queries">Read the replies</a>'
    ) in drafter.get("/dashboard").text
    # The person who answered now owns it, so the provider's reply goes to them, not the shared inbox.
    post_form(
        drafter, f"/queries/{query_id}/reply", {"message": "That worked, thanks"}, from_page=f"/queries/{query_id}"
    )
    assert status_of(db_factory, query_id) == "waiting_on_support"
    [to_lead] = emails_to(db_factory, "lead@regulator.example")
    assert "Riverside Care Ltd replied" in to_lead.subject and "That worked, thanks" in to_lead.body
    assert len(emails_to(db_factory, SUPPORT_INBOX)) == 1


def test_resolving_and_reopening(drafter, agent, db_factory):
    query_id = asked(drafter)
    post_form(
        agent,
        f"/support/queries/{query_id}/reply",
        {"message": "Done for you", "resolve": "y"},
        from_page=f"/support/queries/{query_id}",
    )
    assert status_of(db_factory, query_id) == "resolved"
    assert "marked your question as resolved" in emails_to(db_factory, "drafter@riverside.example")[-1].body
    post_form(
        drafter, f"/queries/{query_id}/reply", {"message": "Sorry, one more thing"}, from_page=f"/queries/{query_id}"
    )
    assert status_of(db_factory, query_id) == "waiting_on_support"
    post_form(drafter, f"/queries/{query_id}/resolve", from_page=f"/queries/{query_id}")
    assert status_of(db_factory, query_id) == "resolved"


def test_assignment_goes_only_to_support_staff_and_tells_the_assignee(drafter, agent, db_factory):
    query_id = asked(drafter)
    page = agent.get(f"/support/queries/{query_id}").text
    lead_id = re.search(r'<option value="([0-9]+)"[^>]*>lead@regulator.example', page).group(1)
    assert "drafter@riverside.example</option>" not in page
    assert (
        post_form(
            agent,
            f"/support/queries/{query_id}/assign",
            {"assignee": lead_id},
            from_page=f"/support/queries/{query_id}",
        ).status_code
        == 303
    )
    assert "assigned to you" in emails_to(db_factory, "lead@regulator.example")[-1].subject
    mine = agent.get("/support/queries?assigned=unassigned").text
    assert f'/support/queries/{query_id}"' not in mine
    drafter_id = re.search(r"/support/people/([0-9]+)", agent.get(f"/support/queries/{query_id}").text).group(1)
    refused = post_form(
        agent, f"/support/queries/{query_id}/assign", {"assignee": drafter_id}, from_page=f"/support/queries/{query_id}"
    )
    assert refused.status_code == 400 and "Select someone from the list" in refused.text


def test_every_step_is_in_the_organisations_history(drafter, agent, as_role, db_factory):
    query_id = asked(drafter)
    post_form(
        agent,
        f"/support/queries/{query_id}/reply",
        {"message": "Answer", "resolve": "y"},
        from_page=f"/support/queries/{query_id}",
    )
    with db_factory() as db:
        kinds = [
            e.event_type
            for e in db.scalars(select(AuditEvent).where(AuditEvent.event_type.like("query:%")).order_by(AuditEvent.id))
        ]
    assert kinds == ["query:asked", "query:replied", "query:resolved"]
    history = as_role("organisation_admin").get("/history").text
    assert "Asked the support team: How do I attach a body map?" in history


# Who sees what ----------------------------------------------------------------------------------


def test_another_organisations_question_is_not_found(drafter, as_person, db_factory):
    query_id = asked(drafter)
    make_organisation(db_factory, "Hilltop Homes", "1-555", [("boss@hilltop.example", "organisation_admin")])
    stranger = as_person("boss@hilltop.example")
    assert stranger.get(f"/queries/{query_id}").status_code == 404
    assert post_form(stranger, f"/queries/{query_id}/reply", {"message": "hi"}).status_code == 404
    assert f"/queries/{query_id}" not in stranger.get("/queries").text


def test_colleagues_see_the_organisations_questions(drafter, as_role):
    query_id = asked(drafter)
    assert f'href="/queries/{query_id}"' in as_role("reviewer").get("/queries").text


# Questions follow what they are about ------------------------------------------------------------


def _thread_reachable(client, query_id: int) -> dict[str, int]:
    """Every provider route of one question, with the status it answers this person."""
    return {
        "list": int(f'href="/queries/{query_id}"' in client.get("/queries").text),
        "page": client.get(f"/queries/{query_id}").status_code,
        "reply": post_form(client, f"/queries/{query_id}/reply", {"message": "Mine now"}).status_code,
        "resolve": post_form(client, f"/queries/{query_id}/resolve").status_code,
    }


SEEN = {"list": 1, "page": 200, "reply": 303, "resolve": 303}
NOT_SEEN = {"list": 0, "page": 404, "reply": 404, "resolve": 404}


def test_a_question_about_a_notification_is_seen_by_exactly_those_who_see_the_notification(
    drafter, as_person, as_role, db_factory, demo_org
):
    (house, _), (meadow, _) = demo_org["locations"]
    add_member(db_factory, demo_org["id"], "carer@meadow.example", [("drafter", meadow)])
    add_member(db_factory, demo_org["id"], "carer@house.example", [("reviewer", house)])
    meadow_carer, house_carer = as_person("carer@meadow.example"), as_person("carer@house.example")
    notification = start_notification(drafter, "serious_injury", house)
    query_id = asked(drafter, notification=str(notification))
    assert meadow_carer.get(f"/notifications/{notification}").status_code == 404
    assert _thread_reachable(meadow_carer, query_id) == NOT_SEEN
    assert _thread_reachable(house_carer, query_id) == SEEN
    assert _thread_reachable(as_role("reviewer"), query_id) == SEEN  # all locations
    with db_factory() as db:
        messages = db.get(SupportQuery, query_id).messages
        assert [message.body for message in messages] == [MESSAGE, "Mine now", "Mine now"]


def test_a_support_reply_to_another_locations_question_is_not_counted_for_them(
    drafter, as_person, as_role, db_factory, demo_org
):
    (house, _), (meadow, _) = demo_org["locations"]
    add_member(db_factory, demo_org["id"], "carer@meadow.example", [("drafter", meadow)])
    notification = start_notification(drafter, "serious_injury", house)
    query_id = asked(drafter, notification=str(notification))
    post_form(as_role("support_agent"), f"/support/queries/{query_id}/reply", {"message": "Answered"})
    assert "has replied to 1 of" in drafter.get("/dashboard").text
    assert "has replied to" not in as_person("carer@meadow.example").get("/dashboard").text


def test_a_question_about_no_notification_is_seen_by_its_asker_and_colleagues_for_all_locations(
    drafter, as_person, as_role, db_factory, demo_org
):
    (house, _), (meadow, _) = demo_org["locations"]
    add_member(db_factory, demo_org["id"], "carer@meadow.example", [("drafter", meadow)])
    add_member(db_factory, demo_org["id"], "carer@house.example", [("drafter", house)])
    meadow_carer, house_carer = as_person("carer@meadow.example"), as_person("carer@house.example")
    theirs = asked(meadow_carer, subject="Where do I find my receipts?")
    assert _thread_reachable(house_carer, theirs) == NOT_SEEN
    assert _thread_reachable(as_role("reviewer"), theirs) == SEEN
    assert _thread_reachable(meadow_carer, theirs) == SEEN
    general = asked(drafter, subject="Our organisation's question")
    assert _thread_reachable(meadow_carer, general) == NOT_SEEN


def test_providers_cannot_reach_the_queue_and_support_cannot_ask(drafter, agent):
    assert drafter.get("/support/queries").status_code == 403
    assert agent.get("/queries").status_code in (303, 403)


# The queue --------------------------------------------------------------------------------------


def test_the_queue_is_oldest_first_and_filters_by_status(drafter, agent, db_factory):
    first = asked(drafter, subject="Older question")
    second = asked(drafter, subject="Newer question")
    with transaction(db_factory) as db:
        db.get(SupportQuery, first).created_at = utcnow() - timedelta(days=3)
    page = agent.get("/support/queries").text
    assert page.index("Older question") < page.index("Newer question")
    assert "3 days" in page
    post_form(agent, f"/support/queries/{second}/resolve", from_page=f"/support/queries/{second}")
    assert "Newer question" not in agent.get("/support/queries").text
    assert "Newer question" in agent.get("/support/queries?status=resolved").text
    assert "Older question" in agent.get("/support/queries?status=nonsense").text


def test_the_queue_costs_the_same_queries_for_three_or_thirty_questions(app, drafter, agent):
    def statements_for_queue() -> int:
        statements, stop = count_queries(app.state.engine)
        try:
            assert agent.get("/support/queries").status_code == 200
        finally:
            stop()
        return len(statements)

    for _ in range(3):
        ask(drafter)
    few = statements_for_queue()
    for _ in range(27):
        ask(drafter)
    assert statements_for_queue() == few


def test_a_long_thread_costs_a_fixed_number_of_queries(app, drafter, agent):
    query_id = asked(drafter)

    def statements_for_thread() -> int:
        statements, stop = count_queries(app.state.engine)
        try:
            assert agent.get(f"/support/queries/{query_id}").status_code == 200
        finally:
            stop()
        return len(statements)

    few = statements_for_thread()
    for number in range(10):
        post_form(
            drafter,
            f"/queries/{query_id}/reply",
            {"message": f"More detail {number}"},
            from_page=f"/queries/{query_id}",
        )
    assert statements_for_thread() == few
