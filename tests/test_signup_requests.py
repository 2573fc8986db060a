"""Asking for an organisation account, and support deciding: one provider, one organisation, one decision."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.accounts import organisations
from portal.db import make_engine, make_session_factory, transaction
from portal.models import Organisation, SignupRequest, User
from portal.rules import RuleBroken

from .conftest import post_form, sign_in

TRIES = 20


def ask(client, provider_id: str = "1-106000006", name: str = "New Home Ltd"):
    return post_form(
        client,
        "/organisations/request",
        {"organisation_name": name, "provider_id": provider_id},
        from_page="/organisations/request",
    )


def request_ids(db_factory) -> list[int]:
    with db_factory() as db:
        return list(db.scalars(select(SignupRequest.id).order_by(SignupRequest.id)))


def organisations_with(db_factory, provider_id: str) -> int:
    with db_factory() as db:
        return db.scalar(select(func.count()).where(Organisation.provider_id == provider_id))


def decide(support, request_id: int, decision: str):
    return post_form(support, f"/support/signups/{request_id}/decide", {"decision": decision}, from_page="/support")


def test_asking_twice_for_the_same_provider_is_refused_on_the_field(client, db_factory):
    sign_in(client, db_factory, "founder@newhome.example")
    assert ask(client).status_code == 303

    again = ask(client, name="New Home Limited")

    assert again.status_code == 400
    assert "You have already asked for an account for 1-106000006" in again.text
    assert 'value="New Home Limited"' in again.text
    assert len(request_ids(db_factory)) == 1


def test_a_provider_that_has_an_account_cannot_be_asked_for_again(client, db_factory, demo_org):
    with db_factory() as db:
        provider_id = db.get(Organisation, demo_org["id"]).provider_id
    sign_in(client, db_factory, "stranger@elsewhere.example")

    response = ask(client, provider_id=provider_id, name="Riverside Care")

    assert response.status_code == 400
    assert f"The provider {provider_id} already has an organisation account" in response.text
    assert request_ids(db_factory) == []


def test_a_request_decided_a_moment_ago_is_not_decided_again(client, as_role, db_factory):
    sign_in(client, db_factory, "founder@newhome.example")
    ask(client)
    [request_id] = request_ids(db_factory)
    lead, agent = as_role("support_lead"), as_role("support_agent")

    assert decide(lead, request_id, "approve").status_code == 303
    late = decide(agent, request_id, "reject")

    assert late.status_code == 409 and "That request has already been decided" in late.text
    with db_factory() as db:
        assert db.scalar(select(SignupRequest.status)) == "approved"
    assert organisations_with(db_factory, "1-106000006") == 1


def test_deciding_a_request_that_never_existed_answers_not_found(as_role):
    assert decide(as_role("support_lead"), 2_000_000, "approve").status_code == 404


def test_two_requests_for_one_provider_make_one_organisation(as_person, as_role, db_factory):
    for email in ("first@newhome.example", "second@newhome.example"):
        assert ask(as_person(email)).status_code == 303
    first, second = request_ids(db_factory)
    support = as_role("support_agent")

    assert decide(support, first, "approve").status_code == 303
    refused = decide(support, second, "approve")

    assert refused.status_code == 400 and "already has an organisation account" in refused.text
    assert decide(support, second, "reject").status_code == 303
    assert organisations_with(db_factory, "1-106000006") == 1


def at_the_same_moment(factory, plan: list[tuple[int, bool]]) -> list[str]:
    """Each (request, approve) decided in a thread and transaction of its own, released together."""
    barrier = threading.Barrier(len(plan))
    results: list[str] = []

    def decide_one(request_id: int, approve: bool) -> None:
        barrier.wait()
        try:
            with transaction(factory) as db:
                organisations.decide_signup(db, request_id, approve=approve, actor_id=None)
            results.append("decided")
        except RuleBroken:
            results.append("refused")

    threads = [threading.Thread(target=decide_one, args=step) for step in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_decisions_at_the_same_moment_make_one_decision_and_one_organisation(database_url, db_factory, migrated):
    """Two support staff press Approve and Reject (or Approve twice, on two requests for one provider) at
    the same moment, each in a transaction of its own, many times: one decision and at most one organisation."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    outcomes = []
    try:
        for n in range(TRIES):
            provider_id = f"1-1070{n:05d}"
            with transaction(factory) as db:
                users = [User(email=f"founder{n}.{k}@race.example") for k in range(2)]
                db.add_all(users)
                db.flush()
                requests = [
                    organisations.request_signup(
                        db, user, name=f"Race Home {n}", provider_id=provider_id, ip="", user_agent=""
                    )
                    for user in users
                ]
                db.flush()
                ids = [request.id for request in requests]
            # Even tries: approve and reject one request. Odd tries: approve each of two requests.
            plan = [(ids[0], True), (ids[0], False)] if n % 2 == 0 else [(ids[0], True), (ids[1], True)]
            results = at_the_same_moment(factory, plan)
            outcomes.append(sorted(results))
            assert sorted(results) == ["decided", "refused"], (n, results)
            assert organisations_with(factory, provider_id) <= 1
            with factory() as db:
                statuses = list(db.scalars(select(SignupRequest.status).where(SignupRequest.id.in_(ids))))
            # One decision made: approve-or-reject decided the one request; two approvals approved one.
            assert sorted(statuses) in (["approved", "pending"], ["pending", "rejected"]), (n, statuses)
    finally:
        engine.dispose()
    assert len(outcomes) == TRIES
