"""Members, roles and invitations, as an organisation admin and the people they invite."""

import re

import pytest
from sqlalchemy import select, update

from portal import audit
from portal.accounts import organisations as orgs
from portal.db import transaction
from portal.models import AuditEvent, Invitation, Membership, RoleGrant, User, utcnow

from .conftest import add_member, latest_email, link_in, make_organisation, membership_id, post_form, sign_in


def roles_of(db_factory, email, organisation_id):
    with db_factory() as db:
        return sorted(
            (g.role, g.location_id)
            for g in db.scalars(
                select(RoleGrant)
                .join(Membership)
                .join(User, User.id == Membership.user_id)
                .where(User.email == email, Membership.organisation_id == organisation_id)
            )
        )


def test_the_members_page_lists_everyone_with_their_roles(as_role):
    page = as_role("organisation_admin").get("/members").text
    for email in ["drafter@riverside.example", "reviewer@riverside.example", "submitter@riverside.example"]:
        assert email in page
    assert "Drafter (all locations)" in page


def test_invite_a_colleague_who_accepts_by_signing_in_with_that_email(as_role, client, db_factory, demo_org):
    admin = as_role("organisation_admin")
    location_id = demo_org["locations"][0][0]
    response = post_form(
        admin,
        "/members/invite",
        [("email", "New.Person@Riverside.example"), ("grants", "drafter:all"), ("grants", f"reviewer:{location_id}")],
        from_page="/members/invite",
    )
    assert response.headers["location"] == "/members"
    page = admin.get("/members").text
    assert "new.person@riverside.example" in page and "Invitation sent." in page
    assert "Invitation sent." not in admin.get("/members").text  # shown once

    path = link_in(latest_email(db_factory, "new.person@riverside.example"), "/invitations/")
    with db_factory() as db:
        assert path.rsplit("/", 1)[1] not in db.scalar(select(Invitation.token_hash))

    assert client.get(path).headers["location"].startswith("/sign-in?next=/invitations/")
    sign_in(client, db_factory, "new.person@riverside.example")
    page = client.get(path)
    assert "Join Riverside Care Ltd?" in page.text and "Drafter (all locations)" in page.text
    invitation_id = page.text.split("/invitations/")[1].split("/accept")[0]
    response = post_form(client, f"/invitations/{invitation_id}/accept", from_page=path)
    assert response.headers["location"] == "/dashboard"
    assert "You have joined Riverside Care Ltd." in client.get("/dashboard").text
    assert "You have joined" not in client.get("/dashboard").text
    assert roles_of(db_factory, "new.person@riverside.example", demo_org["id"]) == [
        ("drafter", None),
        ("reviewer", location_id),
    ]
    again = client.get(path)
    assert again.status_code == 400 and "already been answered" in again.text


def test_an_invitation_cannot_be_accepted_by_someone_else(as_role, client, db_factory, demo_org):
    admin = as_role("organisation_admin")
    post_form(
        admin,
        "/members/invite",
        [("email", "invitee@example.com"), ("grants", "drafter:all")],
        from_page="/members/invite",
    )
    path = link_in(latest_email(db_factory, "invitee@example.com"), "/invitations/")
    sign_in(client, db_factory, "someone.else@example.com")
    page = client.get(path)
    assert page.status_code == 400 and "different email address" in page.text
    with db_factory() as db:
        invitation_id = db.scalar(select(Invitation.id))
    assert post_form(client, f"/invitations/{invitation_id}/accept", from_page="/organisations").status_code == 404


def test_an_expired_invitation_says_what_to_do(as_role, client, db_factory):
    admin = as_role("organisation_admin")
    post_form(
        admin,
        "/members/invite",
        [("email", "late@example.com"), ("grants", "drafter:all")],
        from_page="/members/invite",
    )
    path = link_in(latest_email(db_factory, "late@example.com"), "/invitations/")
    with db_factory() as db, db.begin():
        db.execute(update(Invitation).values(expires_at=utcnow()))
    sign_in(client, db_factory, "late@example.com")
    page = client.get(path)
    assert "expired" in page.text and "send it again" in page.text


def test_decline_from_the_organisations_page(as_role, client, db_factory):
    post_form(
        as_role("organisation_admin"),
        "/members/invite",
        [("email", "maybe@example.com"), ("grants", "submitter:all")],
        from_page="/members/invite",
    )
    sign_in(client, db_factory, "maybe@example.com")
    page = client.get("/organisations").text
    assert "You have been invited to join Riverside Care Ltd" in page
    with db_factory() as db:
        invitation_id = db.scalar(select(Invitation.id))
    response = post_form(client, f"/invitations/{invitation_id}/decline", from_page="/organisations")
    assert response.headers["location"] == "/organisations"
    assert "You declined the invitation." in client.get("/organisations").text
    assert "You declined the invitation." not in client.get("/organisations").text
    with db_factory() as db:
        assert db.scalar(select(Invitation.status)) == "declined"


def test_resend_replaces_the_link_and_revoke_kills_it(as_role, client, db_factory):
    admin = as_role("organisation_admin")
    post_form(
        admin, "/members/invite", [("email", "r@example.com"), ("grants", "drafter:all")], from_page="/members/invite"
    )
    first = link_in(latest_email(db_factory, "r@example.com"), "/invitations/")
    with db_factory() as db:
        invitation_id = db.scalar(select(Invitation.id))
    post_form(admin, f"/members/invitations/{invitation_id}/resend", from_page="/members")
    assert "Invitation sent again." in admin.get("/members").text
    second = link_in(latest_email(db_factory, "r@example.com"), "/invitations/")
    assert first != second
    post_form(admin, f"/members/invitations/{invitation_id}/revoke", from_page="/members")
    assert "Invitation revoked." in admin.get("/members").text
    sign_in(client, db_factory, "r@example.com")
    assert "already been answered, or it was withdrawn" in client.get(second).text
    assert "There are no invitations waiting" in admin.get("/members").text


def test_inviting_with_no_role_or_a_bad_email_keeps_what_was_typed(as_role):
    admin = as_role("organisation_admin")
    response = post_form(admin, "/members/invite", {"email": "half@"}, from_page="/members/invite")
    assert response.status_code == 400
    assert "Enter an email address in the correct format" in response.text
    assert "Choose at least one role" in response.text
    assert 'value="half@"' in response.text


def test_inviting_an_existing_member_is_refused_with_a_reason(as_role):
    response = post_form(
        as_role("organisation_admin"),
        "/members/invite",
        [("email", "drafter@riverside.example"), ("grants", "reviewer:all")],
        from_page="/members/invite",
    )
    assert response.status_code == 400 and "already a member" in response.text


def test_a_location_from_another_organisation_is_refused(as_role, db_factory):
    other = make_organisation(db_factory, "Elsewhere", "1-103000003", [], locations=[("Far away", "1-9")])
    with db_factory() as db:
        from portal.models import Location

        foreign = db.scalar(select(Location.id).where(Location.organisation_id == other["id"]))
    response = post_form(
        as_role("organisation_admin"),
        "/members/invite",
        [("email", "x@example.com"), ("grants", f"drafter:{foreign}")],
        from_page="/members/invite",
    )
    assert response.status_code == 400


def test_demoting_shows_what_they_lose_then_needs_confirmation(as_role, db_factory, demo_org):
    admin = as_role("organisation_admin")
    member = membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])
    page = post_form(admin, f"/members/{member}/roles", {"grants": "drafter:all"}, from_page=f"/members/{member}")
    assert "will no longer be able to" in page.text
    assert "Comment on notifications, ask for changes and approve them anywhere in the organisation" in page.text
    assert roles_of(db_factory, "reviewer@riverside.example", demo_org["id"]) == [("reviewer", None)]
    done = post_form(
        admin, f"/members/{member}/roles", {"grants": "drafter:all", "confirmed": "yes"}, from_page=f"/members/{member}"
    )
    assert done.status_code == 303
    assert roles_of(db_factory, "reviewer@riverside.example", demo_org["id"]) == [("drafter", None)]


def test_adding_a_role_needs_no_confirmation(as_role, db_factory, demo_org):
    member = membership_id(db_factory, "drafter@riverside.example", demo_org["id"])
    admin = as_role("organisation_admin")
    response = post_form(
        admin,
        f"/members/{member}/roles",
        [("grants", "drafter:all"), ("grants", "reviewer:all")],
        from_page=f"/members/{member}",
    )
    assert response.status_code == 303 and response.headers["location"] == f"/members/{member}"
    assert "Roles changed." in admin.get(f"/members/{member}").text
    assert roles_of(db_factory, "drafter@riverside.example", demo_org["id"]) == [("drafter", None), ("reviewer", None)]


def test_nobody_removes_their_own_last_admin_role(as_role, db_factory, demo_org):
    admin = as_role("organisation_admin")
    me = membership_id(db_factory, "admin@riverside.example", demo_org["id"])
    response = post_form(
        admin, f"/members/{me}/roles", {"grants": "drafter:all", "confirmed": "yes"}, from_page=f"/members/{me}"
    )
    assert response.status_code == 400 and "cannot remove your own admin role" in response.text


def test_the_organisation_keeps_at_least_one_admin(as_role, db_factory, demo_org):
    admin = as_role("organisation_admin")
    me = membership_id(db_factory, "admin@riverside.example", demo_org["id"])
    remove = post_form(admin, f"/members/{me}/remove", from_page=f"/members/{me}/remove")
    assert remove.status_code == 400 and "only admin" in remove.text
    leave = post_form(admin, "/leave", from_page="/leave")
    assert leave.status_code == 400 and "only admin" in leave.text


def test_the_rule_holds_in_the_service_without_http(db_factory, demo_org):
    with transaction(db_factory) as db:
        admin = db.scalar(select(User).where(User.email == "admin@riverside.example"))
        membership = orgs.member(
            db, demo_org["id"], membership_id(db_factory, "admin@riverside.example", demo_org["id"])
        )
        with pytest.raises(orgs.RuleBroken):
            orgs.remove_member(db, demo_org["id"], membership, actor=admin)


def test_remove_shows_what_they_lose_and_ends_their_access(as_role, db_factory, demo_org):
    admin = as_role("organisation_admin")
    drafter = as_role("drafter")
    member = membership_id(db_factory, "drafter@riverside.example", demo_org["id"])
    page = admin.get(f"/members/{member}/remove").text
    assert "Start and edit notifications anywhere in the organisation" in page
    assert post_form(admin, f"/members/{member}/remove", from_page=f"/members/{member}/remove").status_code == 303
    assert drafter.get("/dashboard").headers["location"] == "/organisations"


def test_a_member_can_leave(as_role, db_factory, demo_org):
    submitter = as_role("submitter")
    assert post_form(submitter, "/leave", from_page="/leave").headers["location"] == "/organisations"
    assert "You have left the organisation." in submitter.get("/organisations").text
    assert "You have left the organisation." not in submitter.get("/organisations").text
    assert roles_of(db_factory, "submitter@riverside.example", demo_org["id"]) == []


def test_a_person_in_two_organisations_chooses_and_switches(as_person, db_factory, demo_org):
    other = make_organisation(db_factory, "Second Home Ltd", "1-104000004", [("drafter@riverside.example", "reviewer")])
    person = as_person("drafter@riverside.example")
    assert person.get("/dashboard").headers["location"] == "/organisations"
    post_form(person, "/organisations/switch", {"organisation_id": other["id"]}, from_page="/organisations")
    assert "Second Home Ltd" in person.get("/dashboard").text
    post_form(person, "/organisations/switch", {"organisation_id": demo_org["id"]}, from_page="/organisations")
    assert "Riverside Care Ltd" in person.get("/dashboard").text
    stranger = make_organisation(db_factory, "Not Mine", "1-105000005", [])
    response = post_form(
        person, "/organisations/switch", {"organisation_id": stranger["id"]}, from_page="/organisations"
    )
    assert response.status_code == 404


# Grants stay within the granter's own scope ------------------------------------------------------

MANAGER = "manager@riverside.example"  # organisation admin at Riverside House only


@pytest.fixture
def scoped(db_factory, demo_org, as_person):
    """A location admin at Riverside House, a drafter there, one at Meadow View, and one at both."""
    (house, _), (meadow, _) = demo_org["locations"]
    org = demo_org["id"]
    ids = {
        "manager": add_member(db_factory, org, MANAGER, [("organisation_admin", house)]),
        "house": add_member(db_factory, org, "carer@house.example", [("drafter", house)]),
        "meadow": add_member(db_factory, org, "carer@meadow.example", [("drafter", meadow)]),
        "both": add_member(db_factory, org, "both@riverside.example", [("reviewer", house), ("drafter", meadow)]),
    }
    return {"house": house, "meadow": meadow, "org": org, "ids": ids, "manager": as_person(MANAGER)}


def test_a_location_admin_cannot_make_themselves_admin_for_all_locations(scoped, db_factory):
    me = scoped["ids"]["manager"]
    for data in [{"grants": "organisation_admin:all"}, {"grants": "organisation_admin:all", "confirmed": "yes"}]:
        response = post_form(scoped["manager"], f"/members/{me}/roles", data, from_page=f"/members/{me}")
        assert response.status_code == 400
        assert "You can give roles only at Riverside House, where you manage members" in response.text
        assert 'href="#grants"' in response.text  # the error summary leads to the field
    assert roles_of(db_factory, MANAGER, scoped["org"]) == [("organisation_admin", scoped["house"])]


def test_a_location_admin_gives_roles_only_at_their_locations_and_keeps_the_choices(scoped, db_factory):
    member = scoped["ids"]["house"]
    house, meadow = scoped["house"], scoped["meadow"]
    response = post_form(
        scoped["manager"],
        f"/members/{member}/roles",
        [("grants", f"drafter:{house}"), ("grants", f"reviewer:{house}"), ("grants", f"submitter:{meadow}")],
        from_page=f"/members/{member}",
    )
    assert response.status_code == 400 and "You can give roles only at Riverside House" in response.text
    assert re.search(rf'value="reviewer:{house}"\s+checked', response.text)  # what they chose is kept
    assert f'value="submitter:{meadow}"' not in response.text and 'value="drafter:all"' not in response.text
    assert roles_of(db_factory, "carer@house.example", scoped["org"]) == [("drafter", house)]


def test_a_location_admin_invites_only_at_their_locations(scoped, db_factory):
    page = scoped["manager"].get("/members/invite").text
    assert f'value="organisation_admin:{scoped["house"]}"' in page
    assert 'value="organisation_admin:all"' not in page and f':{scoped["meadow"]}"' not in page
    for grant in ["organisation_admin:all", "drafter:all", f"drafter:{scoped['meadow']}"]:
        response = post_form(
            scoped["manager"],
            "/members/invite",
            [("email", "friend@example.com"), ("grants", grant)],
            from_page="/members/invite",
        )
        assert response.status_code == 400 and "You can give roles only at Riverside House" in response.text, grant
        assert 'value="friend@example.com"' in response.text
    with db_factory() as db:
        assert db.scalar(select(Invitation.id)) is None
    response = post_form(
        scoped["manager"],
        "/members/invite",
        [("email", "friend@example.com"), ("grants", f"drafter:{scoped['house']}")],
        from_page="/members/invite",
    )
    assert response.status_code == 303


def test_a_location_admin_sees_and_changes_only_their_locations_members(scoped, as_role, db_factory):
    manager, ids, house = scoped["manager"], scoped["ids"], scoped["house"]
    listed = manager.get("/members").text
    for email in [MANAGER, "carer@house.example", "both@riverside.example"]:
        assert email in listed
    for email in ["carer@meadow.example", "drafter@riverside.example", "admin@riverside.example"]:
        assert email not in listed
    hidden = [ids["meadow"], membership_id(db_factory, "admin@riverside.example", scoped["org"])]
    for member in hidden:
        assert manager.get(f"/members/{member}").status_code == 404
        assert manager.get(f"/members/{member}/remove").status_code == 404
        for path, data in [
            (f"/members/{member}/roles", {"grants": f"drafter:{house}"}),
            (f"/members/{member}/remove", {}),
        ]:
            assert post_form(manager, path, data, from_page="/members").status_code == 404
    # A member with roles elsewhere: the roles at Riverside House change, the ones at Meadow View stay.
    both = ids["both"]
    page = manager.get(f"/members/{both}").text
    assert "Roles elsewhere" in page and "Drafter (Meadow View)" in page and "/remove" not in page
    response = post_form(
        manager, f"/members/{both}/roles", {"grants": f"submitter:{house}", "confirmed": "yes"}, from_page="/members"
    )
    assert response.status_code == 303
    assert roles_of(db_factory, "both@riverside.example", scoped["org"]) == [
        ("drafter", scoped["meadow"]),
        ("submitter", house),
    ]
    refused = post_form(manager, f"/members/{both}/remove", from_page="/members")
    assert refused.status_code == 400 and "only an admin for all locations can remove them" in refused.text
    assert post_form(manager, f"/members/{ids['house']}/remove", from_page="/members").status_code == 303


def test_a_location_admin_sees_only_invitations_within_their_locations(scoped, as_role, db_factory):
    admin = as_role("organisation_admin")
    for email, grant in [("all@example.com", "drafter:all"), ("meadow@example.com", f"drafter:{scoped['meadow']}")]:
        post_form(admin, "/members/invite", [("email", email), ("grants", grant)], from_page="/members/invite")
    listed = scoped["manager"].get("/members").text
    assert "all@example.com" not in listed and "meadow@example.com" not in listed
    with db_factory() as db:
        for invitation_id in db.scalars(select(Invitation.id)):
            for action in ("resend", "revoke"):
                response = post_form(
                    scoped["manager"], f"/members/invitations/{invitation_id}/{action}", from_page="/members"
                )
                assert response.status_code == 404
    with db_factory() as db:
        assert set(db.scalars(select(Invitation.status))) == {"pending"}


def test_a_location_admin_has_no_organisation_settings_or_history(scoped):
    manager = scoped["manager"]
    assert manager.get("/history").status_code == 403
    assert manager.get("/organisation/settings").status_code == 403
    response = post_form(manager, "/organisation/settings", {"separation_of_duties": "off"}, from_page="/members")
    assert response.status_code == 403
    navigation = manager.get("/members").text
    assert 'href="/history"' not in navigation and 'href="/members"' in navigation


def test_a_grant_for_some_locations_carries_no_organisation_wide_permission(scoped, db_factory):
    from portal.accounts.permission_holders import people_with
    from portal.accounts.sessions import grants_of
    from portal.permissions import ORGANISATION_WIDE, Permission

    with db_factory() as db:
        membership = db.get(Membership, scoped["ids"]["manager"])
        held = {permission for permission, _ in grants_of(membership)}
        assert Permission.MEMBERS_MANAGE in held and not held & ORGANISATION_WIDE
        for permission in ORGANISATION_WIDE:
            holders = {user.email for user in people_with(db, permission, organisation_id=scoped["org"])}
            assert holders == {"admin@riverside.example"}


def test_an_admin_cannot_narrow_their_own_admin_role_to_one_location(as_role, db_factory, demo_org):
    admin = as_role("organisation_admin")
    me = membership_id(db_factory, "admin@riverside.example", demo_org["id"])
    house = demo_org["locations"][0][0]
    response = post_form(
        admin,
        f"/members/{me}/roles",
        {"grants": f"organisation_admin:{house}", "confirmed": "yes"},
        from_page="/members",
    )
    assert response.status_code == 400 and "cannot remove your own admin role" in response.text
    assert roles_of(db_factory, "admin@riverside.example", demo_org["id"]) == [("organisation_admin", None)]


def test_the_last_admin_for_all_locations_cannot_be_narrowed_by_another(db_factory, demo_org):
    """Only an admin for all locations reaches another one, so the rule is the service's, held without HTTP."""
    house = demo_org["locations"][0][0]
    second = add_member(db_factory, demo_org["id"], "second@riverside.example", [("organisation_admin", None)])
    with transaction(db_factory) as db:
        admin_id = membership_id(db_factory, "admin@riverside.example", demo_org["id"])
        db.get(Membership, admin_id).grants[0].location_id = house  # the first admin is now for one location
    with transaction(db_factory) as db:
        actor = db.scalar(select(User).where(User.email == "admin@riverside.example"))
        target = orgs.member(db, demo_org["id"], second)
        # The admin for one location does not reach them at all: their grant for all locations stays.
        with pytest.raises(orgs.RuleBroken, match="You can give roles only at"):
            orgs.change_roles(db, demo_org["id"], target, [orgs.Grant("drafter", None)], actor=actor)
        with pytest.raises(orgs.RuleBroken, match="only an admin for all locations"):
            orgs.remove_member(db, demo_org["id"], target, actor=actor)
        change = orgs.plan_role_change(db, demo_org["id"], target, [orgs.Grant("drafter", house)], actor=actor)
        assert orgs.Grant("organisation_admin", None) in change.after


def test_history_shows_typed_events_to_admins(as_role, db_factory, demo_org):
    admin = as_role("organisation_admin")
    post_form(
        admin, "/members/invite", [("email", "h@example.com"), ("grants", "drafter:all")], from_page="/members/invite"
    )
    page = admin.get("/history").text
    assert "Invited h@example.com as Drafter (all locations)" in page
    assert "admin@riverside.example" in page


def test_audit_events_refuse_undeclared_fields(db):
    with pytest.raises(audit.AuditFieldError):
        audit.record(db, "member:invited", actor_id=None, invitee="a@example.com")
    with pytest.raises(audit.AuditFieldError):
        audit.record(db, "member:invited", actor_id=None, invitee="a", roles=[], extra="x")
    with pytest.raises(audit.AuditFieldError):
        audit.record(db, "no:such_event", actor_id=None)


def test_organisation_sign_up_approved_by_support(client, as_role, db_factory):
    sign_in(client, db_factory, "founder@newhome.example")
    bad = post_form(
        client,
        "/organisations/request",
        {"organisation_name": "", "provider_id": "abc"},
        from_page="/organisations/request",
    )
    assert (
        bad.status_code == 400 and "Enter a provider ID in the correct format" in bad.text and 'value="abc"' in bad.text
    )
    post_form(
        client,
        "/organisations/request",
        {"organisation_name": "New Home Ltd", "provider_id": "1-106000006"},
        from_page="/organisations/request",
    )
    assert "Your request was sent." in client.get("/organisations").text
    support = as_role("support_agent")
    page = support.get("/support").text
    assert "New Home Ltd" in page and "founder@newhome.example" in page
    request_id = page.split("/support/signups/")[1].split("/decide")[0]
    post_form(support, f"/support/signups/{request_id}/decide", {"decision": "approve"}, from_page="/support")
    assert "Request approved." in support.get("/support").text
    post_form(
        client,
        "/organisations/switch",
        {"organisation_id": _org_id(db_factory, "New Home Ltd")},
        from_page="/organisations",
    )
    assert client.get("/members").status_code == 200  # the founder is the first admin
    with db_factory() as db:
        types = set(db.scalars(select(AuditEvent.event_type)))
    assert {"organisation:signup_requested", "organisation:signup_approved"} <= types


def _org_id(db_factory, name):
    from portal.models import Organisation

    with db_factory() as db:
        return db.scalar(select(Organisation.id).where(Organisation.name == name))


def test_portal_org_approve_command(db_factory, settings, monkeypatch, capsys, client):
    from portal import cli

    sign_in(client, db_factory, "founder@cli.example")
    post_form(
        client,
        "/organisations/request",
        {"organisation_name": "Cli Care", "provider_id": "1-107000007"},
        from_page="/organisations/request",
    )
    monkeypatch.setenv("PORTAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(settings.data_dir))
    assert cli.main(["org", "approve"]) == 0
    request_id = int(capsys.readouterr().out.split("\t")[0])
    assert cli.main(["org", "approve", str(request_id)]) == 0
    assert "approved: Cli Care" in capsys.readouterr().out
    assert _org_id(db_factory, "Cli Care") is not None
