"""The members page: who belongs, inviting, changing roles, removing, leaving; and invitations."""

from __future__ import annotations

from .. import audit
from ..accounts import invitations
from ..accounts import organisations as orgs
from ..accounts.grants import Reach
from ..accounts.organisations import Grant
from ..models import Invitation, Membership
from ..numbers import parse_number
from ..permissions import Permission
from ..roles import PROVIDER_ROLES
from ..rules import RuleBroken
from ..web.form_text import form_text
from ..web.forms import show_rule_broken
from ..web.routing import Ctx, Routes
from .forms import InviteForm, RolesForm, grant_choices
from .lookups import INVITATION, MEMBER, MY_INVITATION, managing, seeing

routes = Routes("members")


def _org_id(ctx: Ctx) -> int:
    return ctx.auth.organisation.id


def _locations(ctx: Ctx):
    return orgs.locations_of(ctx.db, _org_id(ctx))


def _roles_context(ctx: Ctx, locations):
    """The role checkboxes this person is offered: only where they manage members."""
    reach = managing(ctx)
    mine = [location for location in locations if reach.covers(location.id)]
    return {
        "roles": PROVIDER_ROLES,
        "grant_choices": grant_choices(mine, whole_organisation=reach.whole_organisation),
        "locations": locations,
        "reach_names": _reach_names(reach, locations),
    }


@routes.get("/members", permission=Permission.MEMBERS_VIEW)
def members(ctx: Ctx):
    locations = _locations(ctx)
    seen = seeing(ctx)
    return ctx.render(
        "members/list.html",
        members=orgs.members_of(ctx.db, _org_id(ctx), within=seen),
        invitations=invitations.invitations_of(ctx.db, _org_id(ctx), within=managing(ctx)),
        location_names=_names(locations),
        describe=orgs.describe_grants,
        can_manage=ctx.auth.has(Permission.MEMBERS_MANAGE),
        reach_names=_reach_names(seen, locations),
    )


def _reach_names(reach: Reach, locations) -> list[str]:
    """The locations a limited reach covers, to say so on the page; none for the whole organisation."""
    if reach.whole_organisation:
        return []
    return [location.name for location in locations if reach.covers(location.id)]


@routes.get("/members/invite", permission=Permission.MEMBERS_MANAGE)
def invite(ctx: Ctx):
    locations = _locations(ctx)
    return ctx.render("members/invite.html", form=InviteForm(locations=locations), **_roles_context(ctx, locations))


@routes.post("/members/invite", permission=Permission.MEMBERS_MANAGE)
def invite_post(ctx: Ctx):
    locations = _locations(ctx)
    form = InviteForm(ctx.form, locations=locations)
    if form.validate():
        try:
            invitations.invite(
                ctx.db,
                _org_id(ctx),
                email=form.email.data or "",
                grants=form.parsed(),
                actor=ctx.auth.user,
                base_url=ctx.settings.base_url,
                ip=ctx.client_ip,
                user_agent=ctx.user_agent,
            )
            return ctx.redirect_to("members.members", flash="Invitation sent.")
        except RuleBroken as broken:
            show_rule_broken(form, broken)
    return ctx.render("members/invite.html", status=400, form=form, **_roles_context(ctx, locations))


def _member_page(ctx: Ctx, membership: Membership, form: RolesForm, status: int = 200):
    locations = _locations(ctx)
    reach = managing(ctx)
    return ctx.render(
        "members/member.html",
        status=status,
        member=membership,
        form=form,
        can_manage=reach.touches(membership.grants) and ctx.auth.has(Permission.MEMBERS_MANAGE),
        can_remove=orgs.removable_by(ctx.db, _org_id(ctx), membership, actor=ctx.auth.user),
        kept_words=orgs.describe_grants(reach.outside(membership.grants), _names(locations)),
        **_roles_context(ctx, locations),
    )


def _names(locations) -> dict[int, str]:
    return {location.id: location.name for location in locations}


@routes.get("/members/{member_id}", permission=Permission.MEMBERS_VIEW, loads=MEMBER)
def member(ctx: Ctx, membership: Membership):
    form = RolesForm(
        locations=_locations(ctx), data={"grants": [Grant(g.role, g.location_id).value for g in membership.grants]}
    )
    return _member_page(ctx, membership, form)


@routes.post("/members/{member_id}/roles", permission=Permission.MEMBERS_MANAGE, loads=MEMBER)
def change_roles(ctx: Ctx, membership: Membership):
    locations = _locations(ctx)
    form = RolesForm(ctx.form, locations=locations)
    if not form.validate():
        return _member_page(ctx, membership, form, status=400)
    chosen = form.parsed()
    try:
        # Every rule is checked before the confirmation page, so a refusal never follows a "yes".
        change = orgs.plan_role_change(ctx.db, _org_id(ctx), membership, chosen, actor=ctx.auth.user)
        if change.lost and form_text(ctx.form, "confirmed") != "yes":
            return ctx.render(
                "members/confirm_roles.html",
                member=membership,
                lost=change.lost,
                new=chosen,
                new_words=orgs.describe_grants(change.after, _names(locations)),
            )
        orgs.change_roles(
            ctx.db, _org_id(ctx), membership, chosen, actor=ctx.auth.user, ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except RuleBroken as broken:
        show_rule_broken(form, broken)
        return _member_page(ctx, membership, form, status=400)
    return ctx.redirect_to("members.member", member_id=membership.id, flash="Roles changed.")


@routes.get("/members/{member_id}/remove", permission=Permission.MEMBERS_MANAGE, loads=MEMBER)
def remove(ctx: Ctx, membership: Membership):
    names = {location.id: location.name for location in _locations(ctx)}
    return ctx.render("members/remove.html", member=membership, lost=orgs.lost_abilities(membership.grants, [], names))


@routes.post("/members/{member_id}/remove", permission=Permission.MEMBERS_MANAGE, loads=MEMBER)
def remove_post(ctx: Ctx, membership: Membership):
    names = {location.id: location.name for location in _locations(ctx)}
    try:
        orgs.remove_member(
            ctx.db, _org_id(ctx), membership, actor=ctx.auth.user, ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except RuleBroken as broken:
        return ctx.render(
            "members/remove.html",
            status=400,
            member=membership,
            error=str(broken),
            lost=orgs.lost_abilities(membership.grants, [], names),
        )
    return ctx.redirect_to("members.members", flash="Member removed.")


@routes.get("/leave", permission=Permission.ORGANISATION_VIEW)
def leave(ctx: Ctx):
    names = {location.id: location.name for location in _locations(ctx)}
    return ctx.render("members/leave.html", lost=orgs.lost_abilities(ctx.auth.membership.grants, [], names))


@routes.post("/leave", permission=Permission.ORGANISATION_VIEW)
def leave_post(ctx: Ctx):
    names = {location.id: location.name for location in _locations(ctx)}
    try:
        orgs.remove_member(
            ctx.db, _org_id(ctx), ctx.auth.membership, actor=ctx.auth.user, ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except RuleBroken as broken:
        return ctx.render(
            "members/leave.html",
            status=400,
            error=str(broken),
            lost=orgs.lost_abilities(ctx.auth.membership.grants, [], names),
        )
    ctx.auth.session.organisation_id = None
    return ctx.redirect_to("accounts.choose_organisation", flash="You have left the organisation.")


@routes.post("/members/invitations/{invitation_id}/resend", permission=Permission.MEMBERS_MANAGE, loads=INVITATION)
def resend(ctx: Ctx, invitation: Invitation):
    try:
        invitations.resend_invitation(
            ctx.db,
            invitation,
            actor_id=ctx.auth.user.id,
            base_url=ctx.settings.base_url,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except RuleBroken:
        return ctx.redirect_to("members.members")
    return ctx.redirect_to("members.members", flash="Invitation sent again.")


@routes.post("/members/invitations/{invitation_id}/revoke", permission=Permission.MEMBERS_MANAGE, loads=INVITATION)
def revoke(ctx: Ctx, invitation: Invitation):
    try:
        invitations.revoke_invitation(
            ctx.db, invitation, actor_id=ctx.auth.user.id, ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except RuleBroken:
        return ctx.redirect_to("members.members")
    return ctx.redirect_to("members.members", flash="Invitation revoked.")


@routes.get("/history", permission=Permission.AUDIT_VIEW)
def history(ctx: Ctx):
    # Beyond the last page is an empty page, not an error; beyond any page the history could hold is page one.
    page = parse_number(ctx.query.get("page", "1"), minimum=1, maximum=1_000_000) or 1
    events = audit.organisation_history(ctx.db, _org_id(ctx), limit=51, offset=(page - 1) * 50)
    return ctx.render("members/history.html", events=events[:50], has_next=len(events) > 50, page=page)


# Invitations, from the invitee's side ----------------------------------------------------------


@routes.get("/invitations/{token}", permission=Permission.SIGNED_IN)
def invitation_page(ctx: Ctx):
    invitation = invitations.invitation_by_token(ctx.db, ctx.params["token"])
    problem = invitations.invitation_problem(invitation, ctx.auth.user)
    if problem or invitation is None:
        return ctx.render(
            "members/invitation_problem.html",
            status=400,
            problem=problem,
            email=invitation.email if invitation and problem == "other_email" else "",
        )
    names = {location.id: location.name for location in orgs.locations_of(ctx.db, invitation.organisation_id)}
    grants = [Grant(item["role"], item["location_id"]) for item in invitation.grants]
    return ctx.render("members/invitation.html", invitation=invitation, roles=orgs.describe_grants(grants, names))


@routes.post("/invitations/{invitation_id}/accept", permission=Permission.SIGNED_IN, loads=MY_INVITATION)
def accept(ctx: Ctx, invitation: Invitation):
    # Expired or answered already: said in words, since the invitation is the person's own.
    problem = invitations.invitation_problem(invitation, ctx.auth.user)
    if problem:
        return ctx.render("members/invitation_problem.html", status=400, problem=problem, email="")
    invitations.accept_invitation(ctx.db, invitation, ctx.auth.user, ip=ctx.client_ip, user_agent=ctx.user_agent)
    ctx.auth.session.organisation_id = invitation.organisation_id
    return ctx.redirect_to("dashboard.dashboard", flash=f"You have joined {invitation.organisation.name}.")


@routes.post("/invitations/{invitation_id}/decline", permission=Permission.SIGNED_IN, loads=MY_INVITATION)
def decline(ctx: Ctx, invitation: Invitation):
    problem = invitations.invitation_problem(invitation, ctx.auth.user)
    if problem:
        return ctx.render("members/invitation_problem.html", status=400, problem=problem, email="")
    invitations.decline_invitation(ctx.db, invitation, ctx.auth.user, ip=ctx.client_ip, user_agent=ctx.user_agent)
    return ctx.redirect_to("accounts.choose_organisation", flash="You declined the invitation.")
