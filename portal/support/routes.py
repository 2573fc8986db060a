"""The regulator's support workspace. Providers can never reach it: its permissions are regulator-only."""

from __future__ import annotations

from .. import audit, outbox
from ..accounts import organisations as orgs
from ..accounts.organisations import RuleBroken
from ..models import User
from ..notifications import presenters, reading
from ..notifications.document import compiled_sections
from ..permissions import Permission
from ..web.routing import Ctx, NotFound, Routes
from . import service
from .service import ActionError

routes = Routes("support")


def _workspace(ctx: Ctx, *, status=200, failed="", errors=None, values=None, **context):
    undelivered, undelivered_total = outbox.undeliverable(ctx.db)
    return ctx.render(
        "support/workspace.html",
        status=status,
        signups=orgs.pending_signups(ctx.db),
        undelivered=undelivered,
        undelivered_total=undelivered_total,
        failed=failed,
        errors=errors or {},
        values=values or {},
        **context,
    )


@routes.get("/support", permission=Permission.SUPPORT_VIEW)
def workspace(ctx: Ctx):
    return _workspace(ctx)


@routes.post("/support/emails/{message_id}/send-again", permission=Permission.SUPPORT_ACT)
def send_email_again(ctx: Ctx):
    reason = _form_text(ctx, "reason")
    try:
        message = service.send_email_again(ctx.db, ctx.param_int("message_id"), reason=reason, **_who(ctx))
    except ActionError as error:
        return _workspace(
            ctx,
            status=400,
            failed=f"email-{ctx.param_int('message_id')}",
            errors=error.errors,
            values={"reason": reason},
        )
    if message is None:
        raise NotFound()
    return ctx.redirect("/support?done=email_queued")


@routes.post("/support/signups/{request_id}/decide", permission=Permission.SIGNUP_DECIDE)
def decide_signup(ctx: Ctx):
    decision = ctx.form.get("decision")
    if decision not in ("approve", "reject"):
        return _workspace(ctx, status=400, error="Choose whether to approve or reject the request")
    try:
        orgs.decide_signup(
            ctx.db,
            ctx.param_int("request_id"),
            approve=decision == "approve",
            actor_id=ctx.auth.user.id,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except RuleBroken:
        raise NotFound() from None
    return ctx.redirect(f"/support?decided={decision}")


# Search and read-only pages ---------------------------------------------------------------------


@routes.get("/support/search", permission=Permission.SUPPORT_VIEW)
def search(ctx: Ctx):
    query = ctx.query.get("q", "")
    results = service.search(ctx.db, query)
    return ctx.render("support/search.html", results=results, searched="q" in ctx.query)


def _form_text(ctx: Ctx, name: str) -> str:
    value = ctx.form.get(name) if ctx.form is not None else None
    return value if isinstance(value, str) else ""


def _organisation(ctx: Ctx):
    organisation = service.organisation(ctx.db, ctx.param_int("organisation_id"))
    if organisation is None:
        raise NotFound()
    return organisation


def _organisation_page(ctx: Ctx, organisation, *, status=200, failed="", errors=None, values=None):
    return ctx.render(
        "support/organisation.html",
        status=status,
        organisation=organisation,
        describe=audit.describe,
        failed=failed,
        errors=errors or {},
        values=values or {},
        **service.organisation_overview(ctx.db, organisation),
    )


@routes.get("/support/organisations/{organisation_id}", permission=Permission.SUPPORT_VIEW)
def organisation_page(ctx: Ctx):
    return _organisation_page(ctx, _organisation(ctx))


def _person(ctx: Ctx) -> User:
    user = ctx.db.get(User, ctx.param_int("user_id"))
    if user is None:
        raise NotFound()
    return user


def _person_page(ctx: Ctx, user, *, status=200, failed="", errors=None, values=None):
    can_help = user.id != ctx.auth.user.id and not service.is_regulator_staff(ctx.db, user)
    return ctx.render(
        "support/person.html",
        status=status,
        person=user,
        describe=audit.describe,
        failed=failed,
        errors=errors or {},
        values=values or {},
        can_help=can_help,
        **service.person_overview(ctx.db, user),
    )


@routes.get("/support/people/{user_id}", permission=Permission.SUPPORT_VIEW)
def person_page(ctx: Ctx):
    return _person_page(ctx, _person(ctx))


@routes.get("/support/notifications/{notification_id}", permission=Permission.SUPPORT_VIEW)
def notification_page(ctx: Ctx):
    notification = service.visible_notification(ctx.db, ctx.param_int("notification_id"))
    if notification is None:
        raise NotFound()
    return ctx.render(
        "support/notification.html",
        notification=notification,
        kind=reading.type_of(notification),
        sections=compiled_sections(ctx.db, notification),
        attachments=reading.attachments_of(ctx.db, notification.id),
        status_words=presenters.STATUS_WORDS,
        timeline=service.notification_timeline(ctx.db, notification.id),
        describe=audit.describe,
    )


# Help actions: each needs a written reason and is audited ---------------------------------------


def _who(ctx: Ctx) -> dict:
    return {"actor": ctx.auth.user, "ip": ctx.client_ip, "user_agent": ctx.user_agent}


def _invitation_action(ctx: Ctx, action: str):
    organisation = _organisation(ctx)
    invitation = service.invitation_of(ctx.db, organisation.id, ctx.param_int("invitation_id"))
    if invitation is None:
        raise NotFound()
    reason = _form_text(ctx, "reason")
    key = f"invitation-{invitation.id}"
    try:
        if action == "resend":
            service.resend_invitation(ctx.db, invitation, reason=reason, base_url=ctx.settings.base_url, **_who(ctx))
        else:
            service.revoke_invitation(ctx.db, invitation, reason=reason, **_who(ctx))
    except ActionError as error:
        return _organisation_page(
            ctx, organisation, status=400, failed=key, errors=error.errors, values={"reason": reason}
        )
    except RuleBroken as error:
        return _organisation_page(
            ctx, organisation, status=409, failed=key, errors={"reason": str(error)}, values={"reason": reason}
        )
    done = "invitation_resent" if action == "resend" else "invitation_revoked"
    return ctx.redirect(f"/support/organisations/{organisation.id}?done={done}")


@routes.post(
    "/support/organisations/{organisation_id}/invitations/{invitation_id}/resend", permission=Permission.SUPPORT_ACT
)
def resend_invitation(ctx: Ctx):
    return _invitation_action(ctx, "resend")


@routes.post(
    "/support/organisations/{organisation_id}/invitations/{invitation_id}/revoke", permission=Permission.SUPPORT_ACT
)
def revoke_invitation(ctx: Ctx):
    return _invitation_action(ctx, "revoke")


@routes.post("/support/organisations/{organisation_id}/correct", permission=Permission.SUPPORT_ACT)
def correct_organisation(ctx: Ctx):
    organisation = _organisation(ctx)
    values = {name: _form_text(ctx, name) for name in ("name", "provider_id", "reason")}
    try:
        service.correct_organisation(ctx.db, organisation, **values, **_who(ctx))
    except ActionError as error:
        return _organisation_page(ctx, organisation, status=400, failed="correct", errors=error.errors, values=values)
    except RuleBroken as error:
        return _organisation_page(
            ctx, organisation, status=409, failed="correct", errors={"reason": str(error)}, values=values
        )
    return ctx.redirect(f"/support/organisations/{organisation.id}?done=corrected")


def _person_action(ctx: Ctx, action: str, form_key: str, done: str):
    user = _person(ctx)
    reason = _form_text(ctx, "reason")
    try:
        action(ctx.db, user, reason=reason, **_who(ctx))
    except ActionError as error:
        return _person_page(ctx, user, status=400, failed=form_key, errors=error.errors, values={"reason": reason})
    except RuleBroken as error:
        return _person_page(
            ctx, user, status=409, failed=form_key, errors={"reason": str(error)}, values={"reason": reason}
        )
    return ctx.redirect(f"/support/people/{user.id}?done={done}")


@routes.post("/support/people/{user_id}/sign-out", permission=Permission.SUPPORT_ACT)
def sign_out_everywhere(ctx: Ctx):
    return _person_action(ctx, service.sign_out_everywhere, "sign-out", "signed_out")


@routes.post("/support/people/{user_id}/deactivate", permission=Permission.SUPPORT_ACT)
def deactivate(ctx: Ctx):
    return _person_action(ctx, service.deactivate, "active", "deactivated")


@routes.post("/support/people/{user_id}/reactivate", permission=Permission.SUPPORT_ACT)
def reactivate(ctx: Ctx):
    return _person_action(ctx, service.reactivate, "active", "reactivated")
