"""The regulator's support workspace. Providers can never reach it: its permissions are regulator-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from wtforms import Form

from .. import outbox
from ..accounts import organisations as orgs
from ..models import Notification, Organisation, SignupRequest, User
from ..notifications import presenters, reading
from ..notifications.document import compiled_sections
from ..permissions import Permission
from ..rules import RuleBroken
from ..web.forms import first_error, first_errors, show_rule_broken
from ..web.routing import Ctx, NotFound, Routes
from . import service
from .forms import CorrectionForm, ReasonForm, SignupDecisionForm
from .lookups import NOTIFICATION, ORGANISATION, PERSON, SIGNUP_REQUEST
from .service import ActionError

routes = Routes("support")


def _workspace(ctx: Ctx, *, status=200, failed="", errors=None, values=None, **context):
    undelivered, undelivered_total = outbox.undeliverable(ctx.db)
    signups = orgs.pending_signups(ctx.db)
    return ctx.render(
        "support/workspace.html",
        status=status,
        signups=signups,
        signup_matches=service.signup_matches(ctx.db, signups),
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
    form = ReasonForm(ctx.form)
    message_id = ctx.param_int("message_id")
    if not form.validate():
        return _workspace(ctx, status=400, failed=f"email-{message_id}", **_refused(form))
    message = service.send_email_again(ctx.db, message_id, reason=form.reason.data, **_who(ctx))
    if message is None:
        raise NotFound()
    return ctx.redirect_to("support.workspace", flash="The email is queued to be sent again.")


@routes.post("/support/signups/{request_id}/decide", permission=Permission.SIGNUP_DECIDE, loads=SIGNUP_REQUEST)
def decide_signup(ctx: Ctx, signup: SignupRequest):
    form = SignupDecisionForm(ctx.form)
    if not form.validate():
        return _workspace(ctx, status=400, error=first_error(form))
    decision = form.decision.data
    try:
        orgs.decide_signup(
            ctx.db,
            signup.id,
            approve=decision == "approve",
            actor_id=ctx.auth.user.id,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except orgs.ProviderHasAccount as refused:
        return _workspace(ctx, status=400, error=f"{refused} Reject this request instead.")
    except RuleBroken:
        # Decided a moment ago by someone else: said in words. One never there is the Loader's 404.
        return _workspace(ctx, status=409, error="That request has already been decided. The list below is up to date.")
    return ctx.redirect_to(
        "support.workspace", flash="Request approved." if decision == "approve" else "Request rejected."
    )


# Search and read-only pages ---------------------------------------------------------------------


@routes.get("/support/search", permission=Permission.SUPPORT_VIEW)
def search(ctx: Ctx):
    query = ctx.query.get("q", "")
    results = service.search(ctx.db, query)
    return ctx.render("support/search.html", results=results, searched="q" in ctx.query)


def _organisation_page(ctx: Ctx, organisation: Organisation, *, status=200, failed="", errors=None, values=None):
    return ctx.render(
        "support/organisation.html",
        status=status,
        organisation=organisation,
        failed=failed,
        errors=errors or {},
        values=values or {},
        **service.organisation_overview(ctx.db, organisation),
    )


@routes.get("/support/organisations/{organisation_id}", permission=Permission.SUPPORT_VIEW, loads=ORGANISATION)
def organisation_page(ctx: Ctx, organisation: Organisation):
    return _organisation_page(ctx, organisation)


def _person_page(ctx: Ctx, user: User, *, status=200, failed="", errors=None, values=None):
    can_help = user.id != ctx.auth.user.id and not service.is_regulator_staff(ctx.db, user)
    return ctx.render(
        "support/person.html",
        status=status,
        person=user,
        failed=failed,
        errors=errors or {},
        values=values or {},
        can_help=can_help,
        **service.person_overview(ctx.db, user),
    )


@routes.get("/support/people/{user_id}", permission=Permission.SUPPORT_VIEW, loads=PERSON)
def person_page(ctx: Ctx, user: User):
    return _person_page(ctx, user)


@routes.get("/support/notifications/{notification_id}", permission=Permission.SUPPORT_VIEW, loads=NOTIFICATION)
def notification_page(ctx: Ctx, notification: Notification):
    return ctx.render(
        "support/notification.html",
        notification=notification,
        kind=reading.type_of(notification),
        sections=compiled_sections(ctx.db, notification),
        attachments=reading.attachments_of(ctx.db, notification.id),
        status_words=presenters.STATUS_WORDS,
        timeline=service.notification_timeline(ctx.db, notification.id),
    )


# Help actions: each needs a written reason and is audited ---------------------------------------


def _who(ctx: Ctx) -> dict[str, Any]:
    return {"actor": ctx.auth.user, "ip": ctx.client_ip, "user_agent": ctx.user_agent}


def _refused(form: Form, error: RuleBroken | None = None) -> dict[str, Any]:
    """The page's errors and typed values. A refusal naming no field is shown at the reason box, the one
    field every help form has."""
    if error is not None:
        show_rule_broken(form, error if error.field else RuleBroken(error.message, field="reason"))
    return {"errors": first_errors(form), "values": {name: form[name].data or "" for name in form._fields}}


def _status(error: RuleBroken) -> int:
    return 400 if isinstance(error, ActionError) else 409


def _invitation_action(ctx: Ctx, organisation: Organisation, action: str) -> Response:
    # The invitation is found within the organisation the path names, so another's answers 404.
    invitation = service.invitation_of(ctx.db, organisation.id, ctx.param_int("invitation_id"))
    if invitation is None:
        raise NotFound()
    form = ReasonForm(ctx.form)
    key = f"invitation-{invitation.id}"
    if not form.validate():
        return _organisation_page(ctx, organisation, status=400, failed=key, **_refused(form))
    reason = form.reason.data
    try:
        if action == "resend":
            service.resend_invitation(ctx.db, invitation, reason=reason, base_url=ctx.settings.base_url, **_who(ctx))
        else:
            service.revoke_invitation(ctx.db, invitation, reason=reason, **_who(ctx))
    except RuleBroken as error:
        return _organisation_page(ctx, organisation, status=_status(error), failed=key, **_refused(form, error))
    done = "Invitation sent again." if action == "resend" else "Invitation revoked."
    return ctx.redirect_to("support.organisation_page", organisation_id=organisation.id, flash=done)


@routes.post(
    "/support/organisations/{organisation_id}/invitations/{invitation_id}/resend",
    permission=Permission.SUPPORT_ACT,
    loads=ORGANISATION,
)
def resend_invitation(ctx: Ctx, organisation: Organisation):
    return _invitation_action(ctx, organisation, "resend")


@routes.post(
    "/support/organisations/{organisation_id}/invitations/{invitation_id}/revoke",
    permission=Permission.SUPPORT_ACT,
    loads=ORGANISATION,
)
def revoke_invitation(ctx: Ctx, organisation: Organisation):
    return _invitation_action(ctx, organisation, "revoke")


@routes.post("/support/organisations/{organisation_id}/correct", permission=Permission.SUPPORT_ACT, loads=ORGANISATION)
def correct_organisation(ctx: Ctx, organisation: Organisation):
    form = CorrectionForm(ctx.form)
    if not form.validate():
        return _organisation_page(ctx, organisation, status=400, failed="correct", **_refused(form))
    try:
        service.correct_organisation(
            ctx.db,
            organisation,
            name=form.name.data or "",
            provider_id=form.provider_id.data or "",
            reason=form.reason.data,
            **_who(ctx),
        )
    except RuleBroken as error:
        return _organisation_page(ctx, organisation, status=_status(error), failed="correct", **_refused(form, error))
    return ctx.redirect_to(
        "support.organisation_page", organisation_id=organisation.id, flash="Organisation details corrected."
    )


def _person_action(ctx: Ctx, user: User, action: Callable[..., object], form_key: str, done: str) -> Response:
    form = ReasonForm(ctx.form)
    if not form.validate():
        return _person_page(ctx, user, status=400, failed=form_key, **_refused(form))
    try:
        action(ctx.db, user, reason=form.reason.data, **_who(ctx))
    except RuleBroken as error:
        return _person_page(ctx, user, status=_status(error), failed=form_key, **_refused(form, error))
    return ctx.redirect_to("support.person_page", user_id=user.id, flash=done)


@routes.post("/support/people/{user_id}/sign-out", permission=Permission.SUPPORT_ACT, loads=PERSON)
def sign_out_everywhere(ctx: Ctx, user: User):
    return _person_action(ctx, user, service.sign_out_everywhere, "sign-out", "Signed out everywhere.")


@routes.post("/support/people/{user_id}/deactivate", permission=Permission.SUPPORT_ACT, loads=PERSON)
def deactivate(ctx: Ctx, user: User):
    return _person_action(ctx, user, service.deactivate, "active", "Account deactivated and signed out everywhere.")


@routes.post("/support/people/{user_id}/reactivate", permission=Permission.SUPPORT_ACT, loads=PERSON)
def reactivate(ctx: Ctx, user: User):
    return _person_action(ctx, user, service.reactivate, "active", "Account reactivated.")
