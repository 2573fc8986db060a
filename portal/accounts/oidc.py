"""Sign-in with OpenID Connect, as GOV.UK One Login expects it. Callable without HTTP.

The authorization code flow with state, nonce and PKCE (S256); the client authenticates with
private_key_jwt (an RSA key, `kid` in the header, a 5-minute assertion); the `vtr` parameter;
the id token is verified against the provider's JWKS, and its `vot` against the `vtr` asked for;
email and email_verified come from /userinfo, because One Login does not put them in the id token.
The issuer is compared exactly as the provider publishes it (One Login's ends in "/"). The portal's
public keys are published as a JWKS, and One Login's back-channel logout tokens are verified here.

Nothing about a person's flow lives in this process: `start` returns a FlowState that the caller
keeps in a signed cookie (`seal_flow` / `open_flow`), and `finish` is given it back. Only the
provider's discovery document and keys are cached here, per process, since they are the same for
everyone.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from authlib.oidc.core import CodeIDToken
from itsdangerous import BadData, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, KeySetSerialization, RSAKey
from joserfc.jws import JWSRegistry

from .. import vectors_of_trust
from ..text import PAGE_LANGUAGE

log = logging.getLogger("portal.oidc")

FLOW_COOKIE = "portal_oidc_flow"
FLOW_COOKIE_PATH = "/sign-in/one-login"
FLOW_LIFETIME_SECONDS = 10 * 60
FLOW_SALT = "portal.oidc-flow"
ASSERTION_LIFETIME_SECONDS = 5 * 60
HTTP_TIMEOUT_SECONDS = 10.0
USER_AGENT = "statutory-notifications-portal/1.0 (OpenID Connect client)"
# Never "none" and never a shared-secret algorithm: the id token must be signed with the provider's key.
ID_TOKEN_ALGORITHMS = ("ES256", "RS256", "PS256")
ID_TOKEN_LEEWAY_SECONDS = 60
METADATA_MAX_AGE_SECONDS = 60 * 60
# A token naming a key the cached JWKS lacks makes the portal fetch the JWKS again (the provider may have
# rotated), but not more often than this per provider: anyone can post a logout token with a made-up kid.
JWKS_REFETCH_INTERVAL_SECONDS = 60
# A logout token without `exp` is refused once its `iat` is older than this.
LOGOUT_TOKEN_MAX_AGE_SECONDS = 5 * 60
BACK_CHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
CLIENT_KEY_ALGORITHM = "RS256"
# UserSession.method for a session started through One Login.
SESSION_METHOD = "one login"

# OidcError reasons that choose what people are told. A fault in the portal's own settings is never shown as
# the provider being unavailable: the person could wait all day and it would not come back.
PROVIDER_UNAVAILABLE = "provider unavailable"
MISCONFIGURED = "provider misconfigured"
CLIENT_KEY_UNREADABLE = "client key unreadable"
LEVEL_TOO_LOW = "level too low"


class OidcError(Exception):
    """Sign-in cannot finish. `reason` is short and goes into the audit log and chooses the message."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class LevelTooLow(OidcError):
    """The provider authenticated the person less strongly than `vtr` asked: `vot` is what it achieved."""

    def __init__(self, achieved: str, required: str):
        super().__init__(LEVEL_TOO_LOW, f"vot {achieved!r} does not meet vtr {required}")
        self.achieved = achieved
        self.required = required


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    private_key_file: str
    key_id: str
    scopes: str
    vtr: str
    redirect_uri: str
    post_logout_redirect_uri: str
    # The next client key, published in the JWKS but not yet signing (key rotation); "" when none.
    next_key_file: str = ""
    next_key_id: str = ""

    @classmethod
    def from_settings(cls, settings) -> OidcConfig | None:
        if not settings.oidc_enabled:
            return None
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            private_key_file=settings.oidc_private_key_file,
            key_id=settings.oidc_key_id,
            scopes=settings.oidc_scopes,
            vtr=settings.oidc_vtr,
            redirect_uri=settings.base_url + "/sign-in/one-login/callback",
            post_logout_redirect_uri=settings.base_url + "/signed-out",
            next_key_file=settings.oidc_next_key_file,
            next_key_id=settings.oidc_next_key_id,
        )


@dataclass(frozen=True)
class FlowState:
    state: str
    nonce: str
    code_verifier: str
    next_path: str


@dataclass(frozen=True)
class SignInResult:
    issuer: str
    subject: str
    email: str
    id_token: str


# Flow state in a signed, short-lived cookie ------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=FLOW_SALT)


def seal_flow(secret_key: str, flow: FlowState) -> str:
    return _serializer(secret_key).dumps(asdict(flow))


def keep_flow(response, secret_key: str, flow: FlowState, *, cookie: str, path: str, secure: bool) -> None:
    """The flow's state, nonce and verifier ride in a sealed cookie, sent back only to the callback's path."""
    response.set_cookie(
        cookie,
        seal_flow(secret_key, flow),
        max_age=FLOW_LIFETIME_SECONDS,
        path=path,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def open_flow(secret_key: str, value: str | None, *, max_age: int = FLOW_LIFETIME_SECONDS) -> FlowState | None:
    """None when missing, tampered with, older than max_age or malformed."""
    if not value:
        return None
    try:
        data = _serializer(secret_key).loads(value, max_age=max_age)
        return FlowState(**{key: str(data[key]) for key in ("state", "nonce", "code_verifier", "next_path")})
    except (BadData, KeyError, TypeError):
        return None


# Per-process cache of what the provider publishes -------------------------------------------------

_cache_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, dict]] = {}
_jwks_cache: dict[str, dict] = {}
# When each JWKS was last fetched (time.monotonic()), which limits fetches forced by an unknown kid.
_jwks_fetched_at: dict[str, float] = {}


def clear_caches() -> None:
    with _cache_lock:
        _metadata_cache.clear()
        _jwks_cache.clear()
        _jwks_fetched_at.clear()


def _http() -> httpx.Client:
    return httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, headers={"User-Agent": USER_AGENT}, follow_redirects=False)


def _get_json(url: str) -> dict:
    with _http() as http:
        response = http.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not return a JSON object")
    return data


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0, section 4: the issuer with any trailing "/" removed, then the path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def provider_metadata(issuer: str, *, setting: str = "PORTAL_OIDC_ISSUER") -> dict:
    """The discovery document, cached in memory per process for an hour. Raises OidcError: reason
    PROVIDER_UNAVAILABLE when the provider cannot be reached or fails, MISCONFIGURED when it answers
    something that does not fit the settings. `setting` names the variable that holds the issuer, for the
    log line that says what to change (One Login's, or the staff provider's)."""
    with _cache_lock:
        cached = _metadata_cache.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < METADATA_MAX_AGE_SECONDS:
        return cached[1]
    url = discovery_url(issuer)
    try:
        metadata = _get_json(url)
    except httpx.TransportError as error:
        raise OidcError(PROVIDER_UNAVAILABLE, f"{url}: {error!r}"[:300]) from error
    except httpx.HTTPStatusError as error:
        status = error.response.status_code
        if status >= 500:
            raise OidcError(PROVIDER_UNAVAILABLE, f"{url} answered {status}") from error
        raise OidcError(MISCONFIGURED, f"{url} answered {status}: is {setting} right?") from error
    except httpx.HTTPError as error:  # any other failure to talk to it, such as a redirect loop
        raise OidcError(PROVIDER_UNAVAILABLE, f"{url}: {error!r}"[:300]) from error
    except httpx.InvalidURL as error:
        raise OidcError(MISCONFIGURED, f"{url} is not a URL: is {setting} right?") from error
    except ValueError as error:
        raise OidcError(MISCONFIGURED, f"{url} is not a JSON object") from error
    # Compared exactly, as every id token's `iss` will be (OpenID Connect Discovery 1.0, section 4.3).
    if metadata.get("issuer") != issuer:
        raise OidcError(
            MISCONFIGURED,
            f"the provider publishes its issuer as {metadata.get('issuer')!r}; "
            f"set {setting} to exactly that, not {issuer!r}",
        )
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        if not isinstance(metadata.get(name), str):
            raise OidcError(MISCONFIGURED, f"discovery has no {name}")
    with _cache_lock:
        _metadata_cache[issuer] = (time.monotonic(), metadata)
    return metadata


def _provider_keys(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    """The provider's keys. refresh=True (a token named a key not in them) fetches them again only when
    the last fetch is JWKS_REFETCH_INTERVAL_SECONDS old: a key rotated in since then waits that long."""
    with _cache_lock:
        cached = _jwks_cache.get(jwks_uri)
        fetched_at = _jwks_fetched_at.get(jwks_uri)
        now = time.monotonic()
        if cached is None or (refresh and (fetched_at is None or now - fetched_at >= JWKS_REFETCH_INTERVAL_SECONDS)):
            # Claimed before the fetch, so requests arriving meanwhile do not fetch too.
            _jwks_fetched_at[jwks_uri] = now
            fetch = True
        else:
            fetch = False
    if fetch or cached is None:
        try:
            cached = _get_json(jwks_uri)
        except Exception:
            with _cache_lock:  # a failed fetch does not hold back the next attempt when nothing is cached
                if jwks_uri not in _jwks_cache:
                    _jwks_fetched_at.pop(jwks_uri, None)
            raise
        with _cache_lock:
            _jwks_cache[jwks_uri] = cached
    # A document without "keys" raises KeyError here, as it did inside import_key_set.
    return KeySet.import_key_set(KeySetSerialization(keys=cached["keys"]))


# Client authentication ----------------------------------------------------------------------------


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """private_key_jwt with a `kid` header and a 5-minute assertion (Authlib's default is an hour)."""

    def sign(self, auth, token_endpoint):
        key = auth.client_secret if isinstance(auth.client_secret, RSAKey) else RSAKey.import_key(auth.client_secret)
        return private_key_jwt_sign(
            key,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            claims=dict(self.claims or {}),
            header=dict(self.headers or {}),
            alg=self.alg,
            expires_in=ASSERTION_LIFETIME_SECONDS,
        )


def _private_key(config: OidcConfig) -> RSAKey:
    try:
        with open(config.private_key_file, "rb") as handle:
            pem = handle.read()
    except OSError as error:
        raise OidcError(CLIENT_KEY_UNREADABLE, str(error)) from error
    try:
        key = RSAKey.import_key(pem)
    except (JoseError, ValueError, TypeError) as error:
        raise OidcError(CLIENT_KEY_UNREADABLE, f"not an RSA key: {error}"[:200]) from error
    if not key.is_private:
        raise OidcError(CLIENT_KEY_UNREADABLE, "the key file holds no private key")
    return key


def _public_jwk(path: str, key_id: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            key = RSAKey.import_key(handle.read())
    except (OSError, JoseError, ValueError, TypeError) as error:
        raise OidcError(CLIENT_KEY_UNREADABLE, f"{path}: {error}"[:200]) from error
    # Never the private half: as_dict(private=False) leaves out d, p, q and the rest.
    return {**key.as_dict(private=False), "kid": key_id, "alg": CLIENT_KEY_ALGORITHM, "use": "sig"}


def client_jwks(config: OidcConfig) -> dict[str, list[dict[str, Any]]]:
    """The public halves of the portal's client keys, for the provider to verify its assertions: the key
    that signs, and the next one, published first so the provider knows it before it signs anything."""
    keys = [_public_jwk(config.private_key_file, config.key_id)]
    if config.next_key_file and config.next_key_id:
        keys.append(_public_jwk(config.next_key_file, config.next_key_id))
    return {"keys": keys}


def _oauth_client(config: OidcConfig, metadata: dict, key: RSAKey | None = None) -> OAuth2Client:
    client = OAuth2Client(
        client_id=config.client_id,
        client_secret=key,
        token_endpoint_auth_method=ShortLivedPrivateKeyJWT.name,
        scope=config.scopes,
        redirect_uri=config.redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_SECONDS,
        headers={"User-Agent": USER_AGENT},
    )
    # Registering the method object is what makes private_key_jwt work: the name alone fails.
    headers = {"kid": config.key_id} if config.key_id else {}
    client.register_client_auth_method(ShortLivedPrivateKeyJWT(metadata["token_endpoint"], headers=headers))
    return client


# The flow ------------------------------------------------------------------------------------------


def start(config: OidcConfig, next_path: str = "") -> tuple[str, FlowState]:
    """The provider's authorize URL, and the flow state the caller must keep until the callback."""
    metadata = provider_metadata(config.issuer)
    flow = FlowState(
        state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64), next_path=next_path
    )
    with _oauth_client(config, metadata) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
            vtr=config.vtr,
            ui_locales=PAGE_LANGUAGE,
        )
    return url, flow


def raise_for_provider_error(params: Mapping[str, str]) -> None:
    """The provider sent the person back with an error (RFC 6749 4.1.2.1) instead of a code."""
    refusal = params.get("error")
    if refusal:
        reason = {"access_denied": "cancelled", "temporarily_unavailable": PROVIDER_UNAVAILABLE}
        raise OidcError(
            reason.get(refusal, "provider error"), f"{refusal}: {params.get('error_description', '')}"[:200]
        )


def token_failure(error: Exception) -> OidcError:
    """Why the token endpoint gave no token. The provider failing (unreachable, or a 5xx) is "not available",
    which trying later cures; anything else it answered is a refusal of this sign-in."""
    failing = isinstance(error, httpx.TransportError) or (
        isinstance(error, httpx.HTTPStatusError) and error.response.status_code >= 500
    )
    if failing:
        return OidcError(PROVIDER_UNAVAILABLE, f"token endpoint: {error!r}"[:200])
    return OidcError("token refused", str(error)[:200])


def finish(config: OidcConfig, flow: FlowState | None, params: Mapping[str, str]) -> SignInResult:
    """Checks the provider's redirect back against the flow, exchanges the code, verifies the id token
    and reads the verified email from /userinfo. Raises OidcError for every failure."""
    raise_for_provider_error(params)
    returned_state = params.get("state", "")
    if flow is None:
        raise OidcError("bad state", "no flow cookie, or it expired or was altered")
    if not returned_state or not hmac.compare_digest(returned_state.encode(), flow.state.encode()):
        raise OidcError("bad state", "the state does not match")
    code = params.get("code", "")
    if not code:
        raise OidcError("provider error", "no code")
    try:
        metadata = provider_metadata(config.issuer)
        # RFC 9207: when the provider names itself in the response, it must be the one we asked.
        if params.get("iss") is not None and params.get("iss") != metadata["issuer"]:
            raise OidcError("provider error", "the response came from another issuer")
        key = _private_key(config)
        with _oauth_client(config, metadata, key) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.code_verifier,
                )
            except Exception as error:
                raise token_failure(error) from error
            id_token = token.get("id_token")
            if not isinstance(id_token, str) or not id_token:
                raise OidcError("id token invalid", "the token response has no id token")
            claims = verify_id_token(
                config, metadata, id_token, nonce=flow.nonce, access_token=token.get("access_token")
            )
            if not vectors_of_trust.satisfies(claims.get("vot"), config.vtr):
                raise LevelTooLow(str(claims.get("vot") or "none"), config.vtr)
            try:
                response = client.get(metadata["userinfo_endpoint"], headers={"Accept": "application/json"})
                response.raise_for_status()
                userinfo = response.json()
            except Exception as error:
                raise OidcError("userinfo failed", str(error)[:200]) from error
    except OidcError:
        raise
    except httpx.TransportError as error:
        raise OidcError(PROVIDER_UNAVAILABLE, repr(error)[:200]) from error
    except Exception as error:  # the provider answers nonsense
        log.warning("OpenID Connect sign-in failed: %r", error)
        raise OidcError("provider error", str(error)[:200]) from error
    if not isinstance(userinfo, dict) or userinfo.get("sub") != claims["sub"]:
        raise OidcError("userinfo failed", "userinfo is for someone else")
    email = userinfo.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise OidcError("no email", "userinfo has no email address")
    if userinfo.get("email_verified") is not True:
        raise OidcError("email not verified")
    return SignInResult(issuer=claims["iss"], subject=claims["sub"], email=email, id_token=id_token)


def verify_id_token(
    config: OidcConfig, metadata: dict, id_token: str, *, nonce: str, access_token: str | None = None
) -> CodeIDToken:
    """Signature against the provider's JWKS, then iss, aud, exp, iat, nonce (and azp, at_hash)."""
    offered = metadata.get("id_token_signing_alg_values_supported") or list(ID_TOKEN_ALGORITHMS)
    algorithms = [alg for alg in ID_TOKEN_ALGORITHMS if alg in offered]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            token = jwt.decode(id_token, _provider_keys(metadata["jwks_uri"]), registry=registry)
        except InvalidKeyIdError:  # the provider may have rotated its keys
            token = jwt.decode(id_token, _provider_keys(metadata["jwks_uri"], refresh=True), registry=registry)
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": config.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
            },
            {"nonce": nonce, "client_id": config.client_id, "access_token": access_token},
        )
        claims.validate(leeway=ID_TOKEN_LEEWAY_SECONDS)
    except (JoseError, ValueError) as error:
        raise OidcError("id token invalid", f"{type(error).__name__}: {error}"[:200]) from error
    return claims


@dataclass(frozen=True)
class LogoutClaims:
    issuer: str
    subject: str
    jti: str
    # When the token stops being acceptable: until then its jti must be remembered, to refuse a replay.
    expires_at: int


def verify_logout_token(config: OidcConfig, logout_token: str, *, now: float | None = None) -> LogoutClaims:
    """A back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.6): signed with the
    provider's key; iss exactly the provider's; aud the portal; iat, and exp when present, in time; the
    back-channel logout event; sub, since sessions are ended by who the person is; no nonce, so an id token
    cannot pass for one; and a jti, which the caller checks has not been seen. Raises OidcError."""
    metadata = provider_metadata(config.issuer)
    offered = metadata.get("id_token_signing_alg_values_supported") or list(ID_TOKEN_ALGORITHMS)
    registry = JWSRegistry(algorithms=[alg for alg in ID_TOKEN_ALGORITHMS if alg in offered], strict_check_header=False)
    try:
        try:
            token = jwt.decode(logout_token, _provider_keys(metadata["jwks_uri"]), registry=registry)
        except InvalidKeyIdError:  # the provider may have rotated its keys
            token = jwt.decode(logout_token, _provider_keys(metadata["jwks_uri"], refresh=True), registry=registry)
    except (JoseError, ValueError) as error:
        raise OidcError("logout token invalid", f"{type(error).__name__}: {error}"[:200]) from error
    claims = token.claims
    now = time.time() if now is None else now

    def refuse(why: str) -> OidcError:
        return OidcError("logout token invalid", why)

    if claims.get("iss") != metadata["issuer"]:
        raise refuse(f"iss {claims.get('iss')!r} is not {metadata['issuer']!r}")
    audience = claims.get("aud")
    if not (audience == config.client_id or (isinstance(audience, list) and config.client_id in audience)):
        raise refuse("aud is not this client")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + ID_TOKEN_LEEWAY_SECONDS:
        raise refuse("iat is missing or in the future")
    if exp is None:
        exp = iat + LOGOUT_TOKEN_MAX_AGE_SECONDS
    elif not isinstance(exp, int | float) or isinstance(exp, bool):
        raise refuse("exp is not a time")
    if exp + ID_TOKEN_LEEWAY_SECONDS < now:
        raise refuse("the logout token has expired")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACK_CHANNEL_LOGOUT_EVENT), dict):
        raise refuse("events has no back-channel logout event")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise refuse("sub is missing")
    if "nonce" in claims:
        raise refuse("a logout token has no nonce")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 200:
        raise refuse("jti is missing")
    return LogoutClaims(
        issuer=metadata["issuer"], subject=subject, jti=jti, expires_at=int(exp) + ID_TOKEN_LEEWAY_SECONDS
    )


def logout_url(config: OidcConfig | None, id_token: str) -> str | None:
    """RP-initiated logout at the provider, or None when there is nowhere to send the person."""
    if config is None or not id_token:
        return None
    try:
        endpoint = provider_metadata(config.issuer).get("end_session_endpoint")
    except Exception as error:
        log.warning("OpenID Connect discovery failed at sign-out: %r", error)
        return None
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("http", "https"):
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": config.post_logout_redirect_uri,
            "state": generate_token(24),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
