"""Regulator staff sign in through the regulator's own identity provider: the HTTP side of staff_sign_in.py.

The flow state travels in its own signed, 10-minute, HttpOnly, SameSite=Lax cookie, scoped to
/sign-in/staff, so a One Login sign-in in another tab never mixes with it.
"""

from __future__ import annotations

import logging

from starlette.responses import Response

from ..permissions import Permission
from ..staff_oidc_config import StaffOidc
from ..web.routing import Ctx, NotFound, Routes
from . import email_link, oidc, signing, staff_sign_in
from .routes import complete_sign_in

log = logging.getLogger("portal.oidc")

routes = Routes("staff")

# Refusals of the person (not of the protocol) are 403: the provider knows them, the portal does not let them in.
REFUSED = frozenset({"no mapped role", "email in use", "deactivated"})
# Faults in the portal's own staff settings: people are told the service has a problem, never "try later".
CONFIGURATION_FAULTS = (oidc.MISCONFIGURED, oidc.CLIENT_KEY_UNREADABLE)


def _status_for(reason: str) -> int:
    if reason == oidc.PROVIDER_UNAVAILABLE:
        return 503
    if reason in CONFIGURATION_FAULTS:
        return 500
    return 403 if reason in REFUSED else 400


def _log_failure(error: oidc.OidcError) -> None:
    if error.reason in CONFIGURATION_FAULTS:
        log.error("regulator staff sign-in is misconfigured: %s", error)
    else:
        log.info("regulator staff sign-in failed: %s", error)


def _config(ctx: Ctx) -> StaffOidc:
    if ctx.settings.staff_oidc is None:
        raise NotFound()
    return ctx.settings.staff_oidc


def _forget_flow(ctx: Ctx, response: Response) -> Response:
    response.delete_cookie(
        staff_sign_in.FLOW_COOKIE,
        path=staff_sign_in.FLOW_COOKIE_PATH,
        secure=ctx.settings.is_production,
        httponly=True,
        samesite="lax",
    )
    return response


def _problem(ctx: Ctx, reason: str, *, status: int) -> Response:
    return _forget_flow(ctx, ctx.render("accounts/staff_problem.html", status=status, failure=reason))


def _failed(ctx: Ctx, reason: str) -> Response:
    """The sign-in could not finish (not a refusal of the person): audited, and its page."""
    signing.sign_in_failed(
        ctx.db, user=None, method=staff_sign_in.METHOD, reason=reason, ip=ctx.client_ip, user_agent=ctx.user_agent
    )
    return _problem(ctx, reason, status=_status_for(reason))


@routes.get("/sign-in/staff", permission=Permission.PUBLIC, name="sign_in_staff")
def sign_in_staff(ctx: Ctx):
    _config(ctx)
    return ctx.render("accounts/staff_sign_in.html", next=email_link.safe_next(ctx.query.get("next", "")))


@routes.get("/sign-in/staff/start", permission=Permission.PUBLIC, name="start")
def start(ctx: Ctx):
    config = _config(ctx)
    next_path = ctx.query.get("next", "")
    try:
        url, flow = staff_sign_in.start(config, ctx.settings.base_url, email_link.safe_next(next_path))
    except oidc.OidcError as error:  # discovery failed: the provider is down, or does not fit the settings
        _log_failure(error)
        return _failed(ctx, error.reason)
    except Exception as error:  # the provider answers nonsense
        log.warning("cannot start regulator staff sign-in: %r", error)
        return _failed(ctx, oidc.PROVIDER_UNAVAILABLE)
    response = ctx.redirect(url)
    oidc.keep_flow(
        response,
        ctx.settings.secret_key,
        flow,
        cookie=staff_sign_in.FLOW_COOKIE,
        path=staff_sign_in.FLOW_COOKIE_PATH,
        secure=ctx.settings.is_production,
    )
    return response


@routes.get("/sign-in/staff/callback", permission=Permission.PUBLIC, name="callback")
def callback(ctx: Ctx):
    config = _config(ctx)
    flow = oidc.open_flow(ctx.settings.secret_key, ctx.request.cookies.get(staff_sign_in.FLOW_COOKIE))
    try:
        person = staff_sign_in.finish(config, ctx.settings.base_url, flow, ctx.query)
    except oidc.OidcError as error:
        _log_failure(error)
        return _failed(ctx, error.reason)
    admission = staff_sign_in.admit(
        ctx.db,
        config,
        person,
        regulator_name=ctx.settings.regulator_name,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    if admission.user is None:
        return _problem(ctx, admission.refusal, status=_status_for(admission.refusal))
    # finish() has refused a missing flow already; the check is for the type checker's sake.
    next_path = (flow.next_path if flow is not None else "") or ""
    if next_path in ("", "/"):
        next_path = ctx.url("support.workspace")
    response = complete_sign_in(
        ctx, admission.user, method=staff_sign_in.METHOD, next_path=next_path, id_token=person.id_token
    )
    return _forget_flow(ctx, response)
