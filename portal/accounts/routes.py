"""Sign-in, sign-out, choosing an organisation and asking for a new one."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from .. import outbox
from ..numbers import parse_id
from ..permissions import Permission
from ..rules import RuleBroken
from ..safe_paths import same_site_path
from ..web.form_text import form_text
from ..web.routing import Ctx, NotFound, Routes
from . import email_link, invitations, organisations, sessions, signing
from . import reminder_settings as reminder_choice
from .forms import ReminderSettingsForm, SignInForm, SignupRequestForm

routes = Routes("accounts")


def set_session_cookie(ctx: Ctx, response: Response, token: str) -> Response:
    response.set_cookie(
        sessions.SESSION_COOKIE, token, httponly=True, samesite="lax", secure=ctx.settings.is_production, path="/"
    )
    return response


@routes.get("/sign-in", permission=Permission.PUBLIC, name="sign_in")
def sign_in(ctx: Ctx):
    return ctx.render("accounts/sign_in.html", form=SignInForm(), next=ctx.query.get("next", ""))


@routes.post("/sign-in", permission=Permission.PUBLIC)
def sign_in_post(ctx: Ctx):
    form = SignInForm(ctx.form)
    next_path = form_text(ctx.form, "next")
    if not form.validate():
        return ctx.render("accounts/sign_in.html", status=400, form=form, next=next_path)
    try:
        email_link.request_link(
            ctx.db,
            email=form.email.data or "",
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
            base_url=ctx.settings.base_url,
            next_path=next_path,
        )
    except email_link.RateLimited:
        form.email.errors = ["You have asked for too many sign-in links. Wait 15 minutes, then try again"]
        return ctx.render("accounts/sign_in.html", status=429, form=form, next=next_path)
    return ctx.redirect_to("accounts.check_email")


@routes.get("/sign-in/check-email", permission=Permission.PUBLIC)
def check_email(ctx: Ctx):
    return ctx.render("accounts/check_email.html")


@routes.get("/sign-in/link/{token}", permission=Permission.PUBLIC)
def sign_in_link(ctx: Ctx):
    # A GET only shows a button: mail scanners that follow links must not use up the link.
    link = email_link.find_link(ctx.db, ctx.params["token"])
    if link is None or link.used_at is not None:
        return ctx.render("accounts/link_problem.html", status=400, failure="used" if link else "unknown")
    # The address it signs in, and whose session it ends: opening a colleague's link must never
    # swap people without a word.
    return ctx.render(
        "accounts/sign_in_link.html",
        token=ctx.params["token"],
        email=link.email,
        signed_in_as=ctx.auth.user.email if ctx.auth is not None else None,
    )


@routes.post("/sign-in/link/{token}", permission=Permission.PUBLIC)
def sign_in_link_post(ctx: Ctx):
    result = email_link.consume_link(
        ctx.db,
        ctx.params["token"],
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        staff_may_use=ctx.settings.staff_email_link,
    )
    if result.user is None:
        return ctx.render("accounts/link_problem.html", status=400, failure=result.failure)
    return complete_sign_in(ctx, result.user, method="email link", next_path=result.next_path)


def complete_sign_in(ctx: Ctx, user, *, method: str, next_path: str, id_token: str = "") -> Response:
    token = signing.sign_in(
        ctx.db,
        user,
        method=method,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        id_token=id_token,
        replacing=ctx.auth.session if ctx.auth is not None else None,
    )
    return set_session_cookie(ctx, ctx.redirect(email_link.safe_next(next_path)), token)


@routes.post("/sign-out", permission=Permission.SIGNED_IN)
def sign_out(ctx: Ctx):
    everywhere = form_text(ctx.form, "everywhere") == "yes"
    signing.sign_out(ctx.db, ctx.auth, everywhere=everywhere, ip=ctx.client_ip, user_agent=ctx.user_agent)
    logout_url = ctx.app.state.oidc_logout_url(ctx.auth.session) if ctx.auth.session.method == "one login" else None
    response = ctx.redirect(logout_url or ctx.url("accounts.signed_out"))
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


@routes.post("/session/keep-alive", permission=Permission.SIGNED_IN)
def keep_alive(ctx: Ctx):
    """The timeout warning's "Stay signed in". A session that has already ended never gets here: the central
    check answers with its redirect to the signed-out page, which the page's script reads as "signed out"."""
    idle, absolute = sessions.limits(ctx.settings.session_idle_minutes, ctx.settings.session_absolute_hours)
    seconds = sessions.keep_alive(ctx.auth.session, idle=idle, absolute=absolute)
    return JSONResponse({"seconds_left": seconds}, headers={"cache-control": "no-store"})


@routes.get("/signed-out", permission=Permission.PUBLIC)
def signed_out(ctx: Ctx):
    reason = ctx.query.get("reason", "")
    return ctx.render(
        "accounts/signed_out.html",
        reason=reason if reason in ("idle", "expired", "ended") else "",
        # Where signing in again returns to: the page the person was on when their session ended.
        next=same_site_path(ctx.query.get("next")) or "",
    )


@routes.get("/account", permission=Permission.SIGNED_IN)
def account(ctx: Ctx):
    return ctx.render(
        "accounts/account.html",
        memberships=sessions.memberships_of(ctx.db, ctx.auth.user.id),
        active_sessions=organisations.active_sessions(ctx.db, ctx.auth.user.id),
    )


@routes.get("/account/reminders", permission=Permission.SIGNED_IN)
def reminder_settings(ctx: Ctx):
    form = ReminderSettingsForm(data={"reminders": "on" if ctx.auth.user.deadline_reminders else "off"})
    return ctx.render("accounts/reminders.html", form=form)


@routes.post("/account/reminders", permission=Permission.SIGNED_IN)
def reminder_settings_post(ctx: Ctx):
    form = ReminderSettingsForm(ctx.form)
    if not form.validate():
        return ctx.render("accounts/reminders.html", status=400, form=form)
    on = form.reminders.data == "on"
    reminder_choice.set_deadline_reminders(ctx.db, ctx.auth.user, on, ip=ctx.client_ip, user_agent=ctx.user_agent)
    return ctx.redirect_to(
        "accounts.account",
        flash="We will email you before notifications are due" if on else "We will not email you reminders",
    )


@routes.get("/organisations", permission=Permission.SIGNED_IN)
def choose_organisation(ctx: Ctx):
    return ctx.render(
        "accounts/organisations.html",
        memberships=sessions.memberships_of(ctx.db, ctx.auth.user.id),
        invitations=invitations.pending_invitations_for(ctx.db, ctx.auth.user.email),
        requests=organisations.signup_requests_of(ctx.db, ctx.auth.user.id),
    )


@routes.post("/organisations/switch", permission=Permission.SIGNED_IN)
def switch_organisation(ctx: Ctx):
    organisation_id = parse_id(form_text(ctx.form, "organisation_id"))
    organisation = (
        signing.switch_organisation(ctx.db, ctx.auth, organisation_id, ip=ctx.client_ip, user_agent=ctx.user_agent)
        if organisation_id is not None
        else None
    )
    if organisation is None:
        raise NotFound()
    return ctx.redirect_to("support.workspace" if organisation.kind == "regulator" else "dashboard.dashboard")


@routes.get("/organisations/request", permission=Permission.SIGNED_IN)
def request_organisation(ctx: Ctx):
    return ctx.render("accounts/request_organisation.html", form=SignupRequestForm())


@routes.post("/organisations/request", permission=Permission.SIGNED_IN)
def request_organisation_post(ctx: Ctx):
    form = SignupRequestForm(ctx.form)
    if not form.validate():
        return ctx.render("accounts/request_organisation.html", status=400, form=form)
    try:
        organisations.request_signup(
            ctx.db,
            ctx.auth.user,
            name=(form.organisation_name.data or "").strip(),
            provider_id=(form.provider_id.data or "").strip(),
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except RuleBroken as refused:
        form.provider_id.errors = [str(refused)]
        return ctx.render("accounts/request_organisation.html", status=400, form=form)
    return ctx.redirect_to(
        "accounts.choose_organisation",
        flash="Your request was sent. The support team will check it against the register and email you.",
    )


@routes.get("/dev/outbox", permission=Permission.PUBLIC)
def development_outbox(ctx: Ctx):
    """Development only: the emails the portal would have sent, so links can be followed locally."""
    if ctx.settings.is_production:
        raise NotFound()
    return ctx.render("accounts/dev_outbox.html", messages=outbox.recent(ctx.db))
