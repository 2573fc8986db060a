"""Sign-in with GOV.UK One Login (OpenID Connect). The protocol is in oidc.py; this is the HTTP side.

The flow state (state, nonce, PKCE verifier, where to go next) travels in a signed, 10-minute,
HttpOnly, SameSite=Lax cookie, so any app process can finish a sign-in another one started.
"""

from __future__ import annotations

import logging

from starlette.responses import Response

from ..permissions import Permission
from ..web.routing import Ctx, NotFound, Routes
from . import email_link, oidc, signing
from .routes import complete_sign_in

log = logging.getLogger("portal.oidc")

routes = Routes("one_login")

METHOD = "one login"


def _config(ctx: Ctx) -> oidc.OidcConfig:
    config = oidc.OidcConfig.from_settings(ctx.settings)
    if config is None:
        raise NotFound()
    return config


def _forget_flow(ctx: Ctx, response: Response) -> Response:
    response.delete_cookie(
        oidc.FLOW_COOKIE, path=oidc.FLOW_COOKIE_PATH, secure=ctx.settings.is_production, httponly=True, samesite="lax"
    )
    return response


def _problem(ctx: Ctx, reason: str, *, status: int = 400, user=None) -> Response:
    signing.sign_in_failed(ctx.db, user=user, method=METHOD, reason=reason, ip=ctx.client_ip, user_agent=ctx.user_agent)
    return _forget_flow(ctx, ctx.render("accounts/one_login_problem.html", status=status, failure=reason))


@routes.get("/sign-in/one-login", permission=Permission.PUBLIC, name="sign_in_one_login")
def sign_in_one_login(ctx: Ctx):
    config = _config(ctx)
    next_path = email_link.safe_next(ctx.query.get("next", ""))
    try:
        url, flow = oidc.start(config, next_path)
    except Exception as error:  # discovery failed: the provider is down or misconfigured
        log.warning("cannot start One Login sign-in: %r", error)
        return _problem(ctx, "provider unavailable", status=503)
    response = ctx.redirect(url)
    response.set_cookie(
        oidc.FLOW_COOKIE,
        oidc.seal_flow(ctx.settings.secret_key, flow),
        max_age=oidc.FLOW_LIFETIME_SECONDS,
        path=oidc.FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.is_production,
    )
    return response


@routes.get("/sign-in/one-login/callback", permission=Permission.PUBLIC, name="sign_in_one_login_callback")
def sign_in_one_login_callback(ctx: Ctx):
    config = _config(ctx)
    flow = oidc.open_flow(ctx.settings.secret_key, ctx.request.cookies.get(oidc.FLOW_COOKIE))
    try:
        result = oidc.finish(config, flow, ctx.query)
    except oidc.OidcError as error:
        log.info("One Login sign-in failed: %s", error)
        return _problem(ctx, error.reason)
    user = email_link.user_for_verified_email(ctx.db, result.issuer, result.subject, result.email)
    if not user.active:
        return _problem(ctx, "deactivated", user=user)
    # finish() has refused a missing flow already; the check is for the type checker's sake.
    next_path = flow.next_path if flow is not None else ""
    response = complete_sign_in(ctx, user, method=METHOD, next_path=next_path, id_token=result.id_token)
    return _forget_flow(ctx, response)
