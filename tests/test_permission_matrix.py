"""Signs in as every role of two organisations, and support, and people whose roles are for one
location, and checks every route.

Outcomes come from real HTTP: allow (the handler ran), deny (403), hidden (404: another
organisation's object, or one at a location the person's roles do not reach), sign-in (redirect for
someone not signed in) or unauthorised (401: an API route, which takes a bearer token and never a
session, whoever is signed in).

The world's notification, and the question about it, are at the demo's first location (A); its member
and its invitation hold roles there only. People at the other location (B) find none of them.
"""

import re

import pytest
from sqlalchemy import select

from portal import permissions
from portal.accounts import invitations
from portal.accounts import organisations as orgs
from portal.app import all_endpoints
from portal.db import transaction
from portal.models import Attachment, Invitation, Membership, SupportQuery, User
from portal.roles import ROLES, permissions_at

from .conftest import add_member, ask_question, make_organisation, post_form
from .journey import submitted

A_ROLES = {
    "drafter@riverside.example": "drafter",
    "reviewer@riverside.example": "reviewer",
    "submitter@riverside.example": "submitter",
    "admin@riverside.example": "organisation_admin",
    "support@regulator.example": "support_agent",
    "lead@regulator.example": "support_lead",
    "admin@hilltop.example": "organisation_admin",  # organisation B
}
ORG_B = "admin@hilltop.example"
# Roles for one location of the demo organisation: "A" holds the world's objects, "B" does not.
AT_ONE_LOCATION = {
    "manager.a@riverside.example": ("organisation_admin", "A"),
    "manager.b@riverside.example": ("organisation_admin", "B"),
    "drafter.a@riverside.example": ("drafter", "A"),
    "drafter.b@riverside.example": ("drafter", "B"),
    "reviewer.b@riverside.example": ("reviewer", "B"),
    "submitter.b@riverside.example": ("submitter", "B"),
}
PEOPLE = list(A_ROLES) + list(AT_ONE_LOCATION)
# The path parameters that name the world's objects, each hidden from whom its location does not reach.
OBJECTS = re.compile(r"\{(member_id|invitation_id|notification_id|query_id|location_id)\}")


def permissions_of(email: str) -> frozenset:
    """What a person holds anywhere, as the central check asks: a grant for one location carries no
    organisation-wide permission."""
    if email in AT_ONE_LOCATION:
        return permissions_at(AT_ONE_LOCATION[email][0], 1)
    return ROLES[A_ROLES[email]].permissions


def hidden_from(email: str, path: str) -> bool:
    if path.startswith("/practice/{organisation_id}"):
        # A practice copy's pages find only the copy the person's session is in; the world's is a real one.
        return True
    if email == ORG_B:
        return OBJECTS.search(path) is not None
    if email in AT_ONE_LOCATION and AT_ONE_LOCATION[email][1] == "B":
        return OBJECTS.search(path) is not None
    return False


@pytest.fixture
def world(db_factory, demo_org, as_person):
    b = make_organisation(
        db_factory,
        "Hilltop Homes",
        "1-102000002",
        [(ORG_B, "organisation_admin"), ("carer@hilltop.example", "drafter")],
    )
    places = {"A": demo_org["locations"][0][0], "B": demo_org["locations"][1][0]}
    members = {
        email: add_member(db_factory, demo_org["id"], email, [(role, places[where])])
        for email, (role, where) in AT_ONE_LOCATION.items()
    }
    with transaction(db_factory) as db:
        admin = db.query(User).filter_by(email="admin@riverside.example").one()
        invitation = invitations.invite(
            db,
            demo_org["id"],
            email="new@riverside.example",
            grants=[orgs.Grant("drafter", places["A"])],
            actor=admin,
            base_url="http://testserver",
        )
        invitation_id = invitation.id
    drafter = as_person("drafter@riverside.example")
    notification, _ = submitted(
        drafter,
        as_person("reviewer@riverside.example"),
        as_person("submitter@riverside.example"),
        "serious_injury",
        places["A"],
    )
    query_id = ask_question(drafter, notification=str(notification))
    # About no notification: for its asker and those whose roles are for all locations.
    general_query_id = ask_question(drafter, "A question about nothing in particular")
    with db_factory() as db:
        attachment_id = db.scalar(select(Attachment.id).where(Attachment.notification_id == notification))
        drafter_id = db.scalar(select(User.id).where(User.email == "drafter@riverside.example"))
    return {
        "notification_id": notification,
        "attachment_id": attachment_id,
        "member_id": members["drafter.a@riverside.example"],
        "invitation_id": invitation_id,
        "b_member_id": b["members"]["carer@hilltop.example"],
        "organisation_id": demo_org["id"],
        "user_id": drafter_id,
        "query_id": query_id,
        "general_query_id": general_query_id,
        "location_id": places["A"],
    }


def concrete(path: str, world: dict) -> str:
    return (
        path.replace("{member_id}", str(world["member_id"]))
        .replace("{notification_id}", str(world["notification_id"]))
        .replace("{attachment_id}", str(world["attachment_id"]))
        .replace("{section_key}", "about_you")
        .replace("{comment_id}", "999999")
        .replace("{invitation_id}", str(world["invitation_id"]))
        .replace("{request_id}", "999999")
        .replace("{token}", "not-a-real-token-000000")
        .replace("{organisation_id}", str(world["organisation_id"]))
        .replace("{user_id}", str(world["user_id"]))
        .replace("{query_id}", str(world["query_id"]))
        .replace("{message_id}", "999999")
        .replace("{location_id}", str(world["location_id"]))
    )


def outcome(response) -> str:
    if response.status_code == 401:
        return "unauthorised"
    if response.status_code == 403:
        return "deny"
    if response.status_code == 404:
        return "hidden"
    if response.status_code == 303 and response.headers["location"].startswith("/sign-in"):
        return "sign-in"
    if response.status_code == 303 and response.headers["location"].endswith("/receipt"):
        return "to-receipt"  # the submit page of a submitted notification goes to its receipt
    return "allow"


def expected(email: str | None, endpoint) -> str:
    if endpoint.permission in permissions.API_PERMISSIONS:
        return "unauthorised"
    if endpoint.permission in permissions.TOKEN_PERMISSIONS:
        return "hidden"  # /metrics: no token is configured here, so it is not there for anyone, signed in or not
    if endpoint.permission == permissions.PUBLIC:
        return "allow"
    if email is None:
        return "sign-in"
    if endpoint.permission == permissions.SIGNED_IN:
        return "allow"
    if endpoint.permission not in permissions_of(email):
        return "deny"
    if hidden_from(email, endpoint.path):
        return "hidden"
    if endpoint.path.endswith("/sections/{section_key}"):
        return "deny"  # a submitted notification is not editable by anyone
    if endpoint.path.endswith("/submit"):
        return "to-receipt"
    return "allow"


GET_ENDPOINTS = [e for e in all_endpoints() if "GET" in e.methods]
SKIP_GET = {"/dev/outbox"}  # development only; its own test covers production
# Sign-in through an identity provider: 404 without one configured, and tested against one in their own files.
SKIP_GET_PREFIXES = ("/sign-in/one-login", "/sign-in/staff")


POST_ENDPOINTS = [
    e
    for e in all_endpoints()
    if "POST" in e.methods and e.permission not in (permissions.PUBLIC, permissions.SIGNED_IN)
]


# One test per person, GET and POST together: building the world is most of the matrix's time.
@pytest.mark.parametrize("email", [None] + PEOPLE)
def test_every_route_for_every_person(client, as_person, db_factory, world, email):
    actor = as_person(email) if email else client
    wrong = every_get_route(actor, world, email)
    assert wrong == {}, f"{email} GET: (got, expected, status) {wrong}"
    if email is None:
        return
    if permissions.Permission.QUERY_ASK in permissions_of(email):
        the_questions_listed(actor, world, email)
    wrong = every_guarded_post_route(actor, world, email)
    assert wrong == {}, f"{email} POST: (got, expected) {wrong}"
    with db_factory() as db:
        assert len(db.get(SupportQuery, world["query_id"]).messages) == 1
        assert db.get(Invitation, world["invitation_id"]).status == "pending"


def every_get_route(actor, world: dict, email: str | None) -> dict:
    results = {}
    for endpoint in GET_ENDPOINTS:
        if endpoint.path in SKIP_GET or endpoint.path.startswith(SKIP_GET_PREFIXES):
            continue
        response = actor.get(concrete(endpoint.path, world))
        results[endpoint.path] = (outcome(response), expected(email, endpoint), response.status_code)
    return {path: result for path, result in results.items() if result[0] != result[1]}


def the_questions_listed(actor, world: dict, email: str) -> None:
    """The list of questions shows each question exactly to those whose routes find it."""
    listed = actor.get("/queries").text
    assert (f'href="/queries/{world["query_id"]}"' in listed) == (not hidden_from(email, "/queries/{query_id}"))
    general = world["general_query_id"]
    sees_general = email not in AT_ONE_LOCATION and email != ORG_B
    assert (f'href="/queries/{general}"' in listed) == sees_general, email
    assert actor.get(f"/queries/{general}").status_code == (200 if sees_general else 404), email


def every_guarded_post_route(actor, world: dict, email: str) -> dict:
    """403 without the route's permission; 404 with it, on an object the person's roles do not reach."""
    wrong = {}
    for endpoint in POST_ENDPOINTS:
        if endpoint.permission not in permissions_of(email):
            want = 403
        elif hidden_from(email, endpoint.path):
            want = 404
        else:
            continue  # allowed: sending it would change the world the other checks rely on
        response = post_form(actor, concrete(endpoint.path, world), {"decision": "approve"}, from_page="/help")
        if response.status_code != want:
            wrong[endpoint.path] = (response.status_code, want)
    return wrong


def test_another_organisations_admin_gets_404_and_changes_nothing(as_person, db_factory, world):
    b_admin = as_person(ORG_B)
    member_id, invitation_id = world["member_id"], world["invitation_id"]
    for path, data in [
        (f"/members/{member_id}/remove", {}),
        (f"/members/{member_id}/roles", {"grants": "drafter:all"}),
        (f"/members/invitations/{invitation_id}/revoke", {}),
        (f"/members/invitations/{invitation_id}/resend", {}),
    ]:
        response = post_form(b_admin, path, data, from_page="/members")
        assert response.status_code == 404, path
        assert "Riverside" not in response.text and "drafter@riverside" not in response.text
    with db_factory() as db:
        assert db.get(Membership, member_id) is not None


def test_an_admin_can_reach_their_own_members_and_not_another_organisations(as_person, world):
    admin = as_person("admin@riverside.example")
    assert admin.get(f"/members/{world['member_id']}").status_code == 200
    assert admin.get(f"/members/{world['b_member_id']}").status_code == 404
