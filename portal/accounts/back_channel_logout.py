"""GOV.UK One Login's back-channel logout: the person signed out of One Login elsewhere, so their One Login
sessions here end too. Callable without HTTP; the token's checks are in oidc.verify_logout_token."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..db import rows_matched
from ..models import Identity, SeenLogoutToken, UserSession, utcnow
from . import oidc

ENDED_REASON = "signed out at One Login"


def receive(db: Session, config: oidc.OidcConfig, logout_token: str, *, ip: str, user_agent: str) -> int:
    """How many sessions ended. Raises OidcError for a token that fails a check or was seen before."""
    return end_sessions(db, oidc.verify_logout_token(config, logout_token), ip=ip, user_agent=user_agent)


def end_sessions(db: Session, claims: oidc.LogoutClaims, *, ip: str, user_agent: str) -> int:
    """receive's second half, for a token verify_logout_token has passed (which may talk to the provider, so
    the route does it outside its transaction). Raises OidcError for a token seen before."""
    now = utcnow()
    # Tokens past their expiry would be refused anyway, so their jti need not be kept.
    db.execute(delete(SeenLogoutToken).where(SeenLogoutToken.expires_at < now))
    try:
        # The unique (issuer, jti) decides between two deliveries of one token, in any process.
        with db.begin_nested():
            db.add(
                SeenLogoutToken(
                    issuer=claims.issuer,
                    jti=claims.jti,
                    received_at=now,
                    expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
                )
            )
    except IntegrityError:
        raise oidc.OidcError("logout token replayed", f"jti {claims.jti!r} was seen before") from None
    user_id = db.scalar(
        select(Identity.user_id).where(Identity.issuer == claims.issuer, Identity.subject == claims.subject)
    )
    if user_id is None:
        return 0  # never signed in here: nothing to end
    ended = rows_matched(
        db,
        update(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.method == oidc.SESSION_METHOD,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=now, ended_reason=ENDED_REASON),
    )
    audit.record(
        db,
        "account:signed_out_by_provider",
        actor_id=user_id,
        subject_user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        method=oidc.SESSION_METHOD,
        sessions=ended,
    )
    return ended
