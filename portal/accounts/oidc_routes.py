"""Sign-in with GOV.UK One Login (OpenID Connect). The protocol is in oidc.py; this is the HTTP side.

The flow state (state, nonce, PKCE verifier, where to go next) travels in a signed, 10-minute,
HttpOnly, SameSite=Lax cookie, so any app process can finish a sign-in another one started.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse, Response

from ..permissions import Permission
from ..web.routing import Ctx, NotFound, Prepare, Routes
from . import back_channel_logout, email_link, oidc, signing
from .routes import complete_sign_in

log = logging.getLogger("portal.oidc")

routes = Routes("one_login")

METHOD = oidc.SESSION_METHOD


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


# What people see for a fault in the portal's own One Login settings, or its key: not "try later", which
# would never help; the log says exactly what is wrong.
CONFIGURATION_FAULTS = (oidc.MISCONFIGURED, oidc.CLIENT_KEY_UNREADABLE)


# A member of the regulator's staff, who signs in through the regulator's identity provider instead.
STAFF_REFUSED = "regulator staff"


def _status_for(reason: str) -> int:
    if reason == oidc.PROVIDER_UNAVAILABLE:
        return 503
    return 500 if reason in CONFIGURATION_FAULTS else 400


def _problem(ctx: Ctx, reason: str, *, status: int | None = None, user=None) -> Response:
    signing.sign_in_failed(ctx.db, user=user, method=METHOD, reason=reason, ip=ctx.client_ip, user_agent=ctx.user_agent)
    page = ctx.render("accounts/one_login_problem.html", status=status or _status_for(reason), failure=reason)
    return _forget_flow(ctx, page)


def _log_failure(error: oidc.OidcError) -> None:
    if error.reason in CONFIGURATION_FAULTS:
        log.error("One Login is misconfigured: %s", error)
    else:
        log.info("One Login sign-in failed: %s", error)


@routes.get("/sign-in/one-login", permission=Permission.PUBLIC, name="sign_in_one_login")
def sign_in_one_login(ctx: Ctx):
    config = _config(ctx)
    next_path = email_link.safe_next(ctx.query.get("next", ""))
    try:
        url, flow = oidc.start(config, next_path)
    except oidc.OidcError as error:  # discovery failed: the provider is down, or does not fit the settings
        _log_failure(error)
        return _problem(ctx, error.reason)
    response = ctx.redirect(url)
    oidc.keep_flow(
        response,
        ctx.settings.secret_key,
        flow,
        cookie=oidc.FLOW_COOKIE,
        path=oidc.FLOW_COOKIE_PATH,
        secure=ctx.settings.is_production,
    )
    return response


@routes.get("/sign-in/one-login/callback", permission=Permission.PUBLIC, name="sign_in_one_login_callback")
def sign_in_one_login_callback(ctx: Ctx):
    config = _config(ctx)
    flow = oidc.open_flow(ctx.settings.secret_key, ctx.request.cookies.get(oidc.FLOW_COOKIE))
    try:
        result = oidc.finish(config, flow, ctx.query)
    except oidc.LevelTooLow as error:
        log.info("One Login sign-in refused: %s", error)
        signing.sign_in_level_too_low(
            ctx.db,
            method=METHOD,
            achieved=error.achieved,
            required=error.required,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
        page = ctx.render("accounts/one_login_problem.html", status=403, failure=error.reason)
        return _forget_flow(ctx, page)
    except oidc.OidcError as error:
        _log_failure(error)
        return _problem(ctx, error.reason)
    # With a staff provider (which PORTAL_STAFF_EMAIL_LINK=off needs), staff are that provider's alone.
    if ctx.settings.staff_oidc is not None or not ctx.settings.staff_email_link:
        staff = email_link.staff_account_for(ctx.db, result.issuer, result.subject, result.email)
        if staff is not None:
            log.info("One Login sign-in refused: account %d is regulator staff", staff.id)
            return _problem(ctx, STAFF_REFUSED, status=403, user=staff)
    user = email_link.user_for_verified_email(ctx.db, result.issuer, result.subject, result.email)
    if not user.active:
        return _problem(ctx, "deactivated", user=user)
    # finish() has refused a missing flow already; the check is for the type checker's sake.
    next_path = flow.next_path if flow is not None else ""
    response = complete_sign_in(ctx, user, method=METHOD, next_path=next_path, id_token=result.id_token)
    return _forget_flow(ctx, response)


@routes.get("/sign-in/one-login/jwks.json", permission=Permission.PUBLIC, name="client_jwks")
def client_jwks(ctx: Ctx):
    """The portal's public client keys, for One Login to verify its client assertions (a JWKS URL)."""
    try:
        keys = oidc.client_jwks(_config(ctx))
    except oidc.OidcError as error:
        log.error("cannot publish the One Login client keys: %s", error)
        return JSONResponse({"error": "unavailable"}, status_code=503, headers={"cache-control": "no-store"})
    # An hour: a provider that caches it learns of a next key well before the rotation that needs it.
    return JSONResponse(keys, headers={"cache-control": "public, max-age=3600"})


NO_STORE = {"cache-control": "no-store"}


def _logout_token(form) -> str | None:
    token = form.get("logout_token") if form is not None else None
    return token if isinstance(token, str) and token else None


def _check_logout(ctx: Ctx) -> Response | None:
    _config(ctx)
    if _logout_token(ctx.form) is None:
        return JSONResponse({"error": "invalid_request"}, status_code=400, headers=NO_STORE)
    return None


def _verify_logout(form, settings, _path_params) -> oidc.LogoutClaims | oidc.OidcError | None:
    """Outside any transaction: verifying may fetch the provider's discovery document and keys, and a
    database thread must never wait on the provider."""
    config = oidc.OidcConfig.from_settings(settings)
    token = _logout_token(form)
    if config is None or token is None:
        return None
    try:
        return oidc.verify_logout_token(config, token)
    except oidc.OidcError as error:
        return error


def _nothing_to_discard(_prepared, _settings) -> None:
    return None


def _refuse_logout(error: oidc.OidcError) -> Response:
    log.warning("back-channel logout refused: %s", error)
    status = 503 if error.reason == oidc.PROVIDER_UNAVAILABLE else 400
    return JSONResponse({"error": "invalid_request", "error_description": error.reason}, status, headers=NO_STORE)


@routes.post(
    "/sign-in/one-login/back-channel-logout",
    permission=Permission.PUBLIC,
    name="back_channel_logout",
    load_auth=False,
    csrf_exempt="One Login posts the logout token from its servers; the signed token is the proof, not a cookie",
    prepare=Prepare(check=_check_logout, work=_verify_logout, discard=_nothing_to_discard),
)
def back_channel_logout_post(ctx: Ctx, verified: oidc.LogoutClaims | oidc.OidcError | None):
    """OpenID Connect Back-Channel Logout 1.0: 200 when the token is good, 400 (JSON) when it is not."""
    _config(ctx)
    if verified is None:
        return JSONResponse({"error": "invalid_request"}, status_code=400, headers=NO_STORE)
    if isinstance(verified, oidc.OidcError):
        return _refuse_logout(verified)
    try:
        ended = back_channel_logout.end_sessions(ctx.db, verified, ip=ctx.client_ip, user_agent=ctx.user_agent)
    except oidc.OidcError as error:
        return _refuse_logout(error)
    log.info("back-channel logout ended %d session(s)", ended)
    return Response(status_code=200, headers=NO_STORE)
