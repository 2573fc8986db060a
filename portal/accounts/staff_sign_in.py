"""Regulator staff sign in through the regulator's own identity provider. Callable without HTTP.

The protocol is One Login's (oidc.py: discovery, the code flow with state, nonce and PKCE, the id token
checked against the provider's keys), with three differences that belong to a workforce directory:

- the person is the provider's (issuer, sub), never an email address: a directory's `email` claim is
  not a verified address, and matching on it would let a directory entry take over someone's account.
  The one exception is the first sign-in of support staff whose accounts were made before (by email
  link): an account that belongs to the regulator's organisation alone, with no identity from this
  provider yet, is joined once, audited, and found by (issuer, sub) from then on;
- the roles come from one claim (groups or app roles), mapped in PORTAL_STAFF_OIDC_ROLE_MAP, and are
  set again from it at every sign-in, so someone taken out of a group loses the role the next time;
- someone the map gives no role is refused, with a typed audit event, and their stored roles go.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..models import REGULATOR, Identity, Membership, Organisation, RoleGrant, User, utcnow
from ..staff_oidc_config import StaffOidc
from . import oidc
from .oidc import FlowState, OidcError

FLOW_COOKIE = "portal_staff_flow"
FLOW_COOKIE_PATH = "/sign-in/staff"
CALLBACK_PATH = "/sign-in/staff/callback"
METHOD = "regulator staff"
ISSUER_SETTING = "PORTAL_STAFF_OIDC_ISSUER"
# How a client with a secret authenticates at the token endpoint (RFC 6749 2.3.1), as Entra ID accepts it.
BASIC_AUTH_METHOD = "client_secret_basic"


@dataclass(frozen=True)
class StaffIdentity:
    """Who the provider says signed in, and what its roles claim holds."""

    issuer: str
    subject: str
    email: str
    name: str
    claim_values: list[str]
    id_token: str


@dataclass(frozen=True)
class Admission:
    """A signed-in member of staff (user set), or why not (refusal set)."""

    user: User | None
    refusal: str = ""


# The protocol --------------------------------------------------------------------------------------


def _protocol_config(staff: StaffOidc, base_url: str) -> oidc.OidcConfig:
    """oidc.py's view of this provider, for the checks the two share (the id token's)."""
    return oidc.OidcConfig(
        issuer=staff.issuer,
        client_id=staff.client_id,
        private_key_file=staff.private_key_file,
        key_id=staff.key_id,
        scopes=staff.scopes,
        vtr="",
        redirect_uri=base_url + CALLBACK_PATH,
        post_logout_redirect_uri=base_url + "/signed-out",
    )


def _client(staff: StaffOidc, base_url: str, metadata: dict, *, authenticate: bool) -> OAuth2Client:
    common: dict[str, Any] = {
        "client_id": staff.client_id,
        "scope": staff.scopes,
        "redirect_uri": base_url + CALLBACK_PATH,
        "code_challenge_method": "S256",
        "timeout": oidc.HTTP_TIMEOUT_SECONDS,
        "headers": {"User-Agent": oidc.USER_AGENT},
    }
    if not staff.private_key_file:
        return OAuth2Client(
            client_secret=staff.client_secret if authenticate else None,
            token_endpoint_auth_method=BASIC_AUTH_METHOD,
            **common,
        )
    # The key is read at each sign-in, so a rotated key file is used without a restart.
    key = RSAKey.import_key(Path(staff.private_key_file).read_bytes()) if authenticate else None
    client = OAuth2Client(client_secret=key, token_endpoint_auth_method=oidc.ShortLivedPrivateKeyJWT.name, **common)
    client.register_client_auth_method(
        oidc.ShortLivedPrivateKeyJWT(metadata["token_endpoint"], headers=dict(staff.assertion_header))
    )
    return client


def start(staff: StaffOidc, base_url: str, next_path: str = "") -> tuple[str, FlowState]:
    """The provider's authorize URL, and the flow state the caller keeps until the callback."""
    metadata = oidc.provider_metadata(staff.issuer, setting=ISSUER_SETTING)
    flow = FlowState(
        state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64), next_path=next_path
    )
    with _client(staff, base_url, metadata, authenticate=False) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=flow.state, code_verifier=flow.code_verifier, nonce=flow.nonce
        )
    return url, flow


def finish(staff: StaffOidc, base_url: str, flow: FlowState | None, params) -> StaffIdentity:
    """Checks the redirect back against the flow, exchanges the code and verifies the id token.

    The roles claim and the email are read from the id token, as Entra ID puts them there; a provider
    that keeps them for /userinfo is asked there. Raises OidcError for every failure."""
    oidc.raise_for_provider_error(params)
    if flow is None:
        raise OidcError("bad state", "no flow cookie, or it expired or was altered")
    returned_state = params.get("state", "")
    if not returned_state or not hmac.compare_digest(returned_state.encode(), flow.state.encode()):
        raise OidcError("bad state", "the state does not match")
    code = params.get("code", "")
    if not code:
        raise OidcError("provider error", "no code")
    try:
        metadata = oidc.provider_metadata(staff.issuer, setting=ISSUER_SETTING)
        if params.get("iss") is not None and params.get("iss") != metadata["issuer"]:
            raise OidcError("provider error", "the response came from another issuer")
        with _client(staff, base_url, metadata, authenticate=True) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.code_verifier,
                )
            except Exception as error:
                raise oidc.token_failure(error) from error
            id_token = token.get("id_token")
            if not isinstance(id_token, str) or not id_token:
                raise OidcError("id token invalid", "the token response has no id token")
            claims = dict(
                oidc.verify_id_token(
                    _protocol_config(staff, base_url),
                    metadata,
                    id_token,
                    nonce=flow.nonce,
                    access_token=token.get("access_token"),
                )
            )
            if (staff.roles_claim not in claims or not _email(claims)) and metadata.get("userinfo_endpoint"):
                claims = {**_userinfo(client, metadata["userinfo_endpoint"], claims["sub"]), **claims}
    except OidcError:
        raise
    except Exception as error:  # the provider is down or answers nonsense, or the key file went away
        raise OidcError("provider error", str(error)[:200]) from error
    email = _email(claims)
    if not email:
        raise OidcError("no email", "neither email nor preferred_username holds an email address")
    name = claims.get("name")
    return StaffIdentity(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email,
        name=name.strip()[:200] if isinstance(name, str) else "",
        claim_values=_values(claims.get(staff.roles_claim)),
        id_token=id_token,
    )


def _userinfo(client: OAuth2Client, endpoint: str, subject: str) -> dict:
    try:
        response = client.get(endpoint, headers={"Accept": "application/json"})
        response.raise_for_status()
        userinfo = response.json()
    except Exception as error:
        raise OidcError("userinfo failed", str(error)[:200]) from error
    if not isinstance(userinfo, dict) or userinfo.get("sub") != subject:
        raise OidcError("userinfo failed", "userinfo is for someone else")
    return userinfo


def _email(claims: dict) -> str:
    # Entra ID sends `email` only when it is configured as an optional claim; the sign-in name is an
    # address in most directories. Used to write to the person, never to find them.
    for name in ("email", "preferred_username"):
        value = claims.get(name)
        if isinstance(value, str) and "@" in value and len(value) <= 320:
            return value.strip().lower()
    return ""


def _values(claim) -> list[str]:
    """A claim of groups or roles as a list of strings, whichever shape the provider sends."""
    if isinstance(claim, str):
        return [claim]
    if isinstance(claim, list):
        return [value for value in claim if isinstance(value, str)]
    return []


# The portal's side: who they are here, and their roles ---------------------------------------------


def regulator_organisation(db: Session, name: str) -> Organisation:
    """The regulator's own organisation, which staff belong to; made at the first staff sign-in."""
    organisation = db.scalar(
        select(Organisation).where(Organisation.kind == REGULATOR).order_by(Organisation.id).limit(1)
    )
    if organisation is None:
        organisation = Organisation(kind=REGULATOR, name=name)
        db.add(organisation)
        db.flush()
    return organisation


def admit(
    db: Session, staff: StaffOidc, person: StaffIdentity, *, regulator_name: str, ip: str, user_agent: str
) -> Admission:
    """Finds or makes the account for (issuer, sub) and sets its regulator roles from the claim.

    Refuses (and audits why) someone the map gives no role, a deactivated account, and a new member of
    staff whose email already belongs to another account."""
    roles = staff.roles_for(person.claim_values)
    identity = db.scalar(select(Identity).where(Identity.issuer == person.issuer, Identity.subject == person.subject))
    user = identity.user if identity is not None else None
    if user is None and not roles:
        return _refuse(db, None, "no mapped role", person, ip=ip, user_agent=user_agent)
    if identity is None or user is None:
        existing = db.scalar(select(User).where(User.email == person.email))
        if existing is not None and not _joins_by_email(db, existing, person.issuer):
            # An administrator decides whose the address is (see the module's docstring).
            return _refuse(db, None, "email in use", person, ip=ip, user_agent=user_agent)
        if existing is not None:
            user = existing
            audit.record(
                db,
                "account:staff_identity_joined",
                actor_id=user.id,
                subject_user_id=user.id,
                ip=ip,
                user_agent=user_agent,
                email=user.email,
            )
        else:
            user = User(email=person.email, display_name=person.name)
            db.add(user)
            db.flush()
        db.add(Identity(user_id=user.id, issuer=person.issuer, subject=person.subject))
    else:
        identity.last_used_at = utcnow()
        if person.name:
            user.display_name = person.name
        if user.email != person.email and db.scalar(select(User.id).where(User.email == person.email)) is None:
            user.email = person.email
    if not user.active:
        return _refuse(db, user, "deactivated", person, ip=ip, user_agent=user_agent)
    regulator = regulator_organisation(db, regulator_name)
    _set_roles(db, user, regulator, roles, ip=ip, user_agent=user_agent)
    if not roles:
        return _refuse(db, user, "no mapped role", person, ip=ip, user_agent=user_agent, organisation=regulator)
    return Admission(user=user)


def _set_roles(db: Session, user: User, regulator: Organisation, roles: list[str], *, ip: str, user_agent: str) -> None:
    membership = db.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == regulator.id)
    )
    if membership is None:
        if not roles:
            return
        membership = Membership(user_id=user.id, organisation_id=regulator.id)
        db.add(membership)
    before = sorted(grant.role for grant in membership.grants)
    after = sorted(roles)
    if before == after:
        return
    # The directory decides: what it no longer grants goes, even a role someone gave here by hand.
    membership.grants[:] = [RoleGrant(role=role, location_id=None) for role in after]
    audit.record(
        db,
        "account:staff_roles_changed",
        actor_id=user.id,
        subject_user_id=user.id,
        organisation_id=regulator.id,
        ip=ip,
        user_agent=user_agent,
        before=before or ["none"],
        after=after or ["none"],
    )


def _refuse(
    db: Session,
    user: User | None,
    reason: str,
    person: StaffIdentity,
    *,
    ip: str,
    user_agent: str,
    organisation: Organisation | None = None,
) -> Admission:
    audit.record(
        db,
        "account:staff_sign_in_refused",
        actor_id=user.id if user else None,
        subject_user_id=user.id if user else None,
        organisation_id=organisation.id if organisation else None,
        ip=ip,
        user_agent=user_agent,
        reason=reason,
        subject=person.subject,
        claim_values=person.claim_values[:50],
    )
    return Admission(user=None, refusal=reason)


def _joins_by_email(db: Session, user: User, issuer: str) -> bool:
    """Whether a first staff sign-in may take over an account with the same email: only a member of staff's
    account made before staff sign-in was set up (regulator memberships only, no identity from this provider
    yet), so the support team keeps its history. A provider's person's account never is."""
    kinds = set(
        db.scalars(
            select(Organisation.kind)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id)
        )
    )
    if kinds != {REGULATOR}:
        return False
    return db.scalar(select(Identity.id).where(Identity.user_id == user.id, Identity.issuer == issuer)) is None


def is_regulator_staff(db: Session, user_id: int) -> bool:
    """A member of the regulator's organisation: the people PORTAL_STAFF_EMAIL_LINK=off sends to their provider."""
    return (
        db.scalar(
            select(Membership.id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user_id, Organisation.kind == REGULATOR)
            .limit(1)
        )
        is not None
    )
