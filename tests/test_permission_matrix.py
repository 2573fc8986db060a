"""Signs in as every role of two organisations, and support, and checks every route.

Outcomes come from real HTTP: allow (the handler ran), deny (403), hidden (404: another
organisation's object), sign-in (redirect for someone not signed in) or unauthorised (401: an API
route, which takes a bearer token and never a session, whoever is signed in).
"""

import re

import pytest
from sqlalchemy import select

from portal import permissions
from portal.accounts import invitations
from portal.accounts import organisations as orgs
from portal.app import all_endpoints
from portal.db import transaction
from portal.models import Attachment, Membership, User
from portal.roles import ROLES

from .conftest import ask_question, make_organisation, membership_id, post_form
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


@pytest.fixture
def world(db_factory, demo_org, as_person):
    b = make_organisation(
        db_factory,
        "Hilltop Homes",
        "1-102000002",
        [(ORG_B, "organisation_admin"), ("carer@hilltop.example", "drafter")],
    )
    with transaction(db_factory) as db:
        admin = db.query(User).filter_by(email="admin@riverside.example").one()
        invitation = invitations.invite(
            db,
            demo_org["id"],
            email="new@riverside.example",
            grants=[orgs.Grant("drafter", None)],
            actor=admin,
            base_url="http://testserver",
        )
        invitation_id = invitation.id
    notification, _ = submitted(
        as_person("drafter@riverside.example"),
        as_person("reviewer@riverside.example"),
        as_person("submitter@riverside.example"),
        "serious_injury",
        demo_org["locations"][0][0],
    )
    query_id = ask_question(as_person("drafter@riverside.example"))
    with db_factory() as db:
        attachment_id = db.scalar(select(Attachment.id).where(Attachment.notification_id == notification))
        drafter_id = db.scalar(select(User.id).where(User.email == "drafter@riverside.example"))
    return {
        "notification_id": notification,
        "attachment_id": attachment_id,
        "member_id": membership_id(db_factory, "drafter@riverside.example", demo_org["id"]),
        "invitation_id": invitation_id,
        "b_member_id": b["members"]["carer@hilltop.example"],
        "organisation_id": demo_org["id"],
        "user_id": drafter_id,
        "query_id": query_id,
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
    if endpoint.permission == permissions.PUBLIC:
        return "allow"
    if email is None:
        return "sign-in"
    if endpoint.permission == permissions.SIGNED_IN:
        return "allow"
    if endpoint.permission not in ROLES[A_ROLES[email]].permissions:
        return "deny"
    if email == ORG_B and re.search(r"\{(member_id|invitation_id|notification_id|query_id)\}", endpoint.path):
        return "hidden"
    if endpoint.path.endswith("/sections/{section_key}"):
        return "deny"  # a submitted notification is not editable by anyone
    if endpoint.path.endswith("/submit"):
        return "to-receipt"
    return "allow"


GET_ENDPOINTS = [e for e in all_endpoints() if "GET" in e.methods]
SKIP_GET = {"/dev/outbox"}  # development only; its own test covers production


@pytest.mark.parametrize("email", [None] + list(A_ROLES))
def test_every_get_route_for_every_role(client, as_person, world, email):
    actor = as_person(email) if email else client
    results = {}
    for endpoint in GET_ENDPOINTS:
        if endpoint.path in SKIP_GET or endpoint.path.startswith("/sign-in/one-login"):
            continue
        response = actor.get(concrete(endpoint.path, world))
        results[endpoint.path] = (outcome(response), expected(email, endpoint), response.status_code)
    wrong = {path: result for path, result in results.items() if result[0] != result[1]}
    assert wrong == {}, f"{email}: (got, expected, status) {wrong}"


POST_ENDPOINTS = [
    e
    for e in all_endpoints()
    if "POST" in e.methods and e.permission not in (permissions.PUBLIC, permissions.SIGNED_IN)
]


@pytest.mark.parametrize("email", list(A_ROLES))
def test_every_guarded_post_route_refuses_roles_without_its_permission(as_person, world, email):
    actor = as_person(email)
    checked = 0
    for endpoint in POST_ENDPOINTS:
        if endpoint.permission in ROLES[A_ROLES[email]].permissions:
            continue
        response = post_form(actor, concrete(endpoint.path, world), {"decision": "approve"}, from_page="/help")
        assert response.status_code == 403, (email, endpoint.path, response.status_code)
        checked += 1
    assert checked > 0


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
