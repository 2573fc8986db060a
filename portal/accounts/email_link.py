"""Sign-in by a single-use email link: for the embedded default and providers without One Login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, links, outbox, ratelimit
from ..models import Identity, SignInLink, User, utcnow
from ..safe_paths import same_site_path
from ..tokens import new_token, token_hash
from .staff_sign_in import is_regulator_staff

LINK_LIFETIME = timedelta(minutes=15)
ISSUER = "urn:portal:email-link"
PER_ADDRESS = (5, timedelta(minutes=15))
PER_IP = (30, timedelta(minutes=15))
# sign_in_links.next_path holds this many characters; PostgreSQL refuses a longer value outright.
MAX_NEXT = 500


class RateLimited(Exception):
    pass


@dataclass
class LinkResult:
    user: User | None
    next_path: str
    failure: str = ""  # "", "expired", "used", "unknown"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def safe_next(path: str | None) -> str:
    """Only paths on this site: never an absolute URL an attacker could send people to."""
    path = same_site_path(path)
    if path is None or len(path) > MAX_NEXT:
        # The start page sends each person on to their own home: support staff have no dashboard.
        return "/"
    return path


def request_link(db: Session, *, email: str, ip: str, user_agent: str, base_url: str, next_path: str = "") -> None:
    email = normalise_email(email)
    limit, window = PER_ADDRESS
    within_address = ratelimit.hit(db, f"sign-in-link:email:{email}", limit=limit, window=window)
    limit, window = PER_IP
    within_ip = ratelimit.hit(db, f"sign-in-link:ip:{ip}", limit=limit, window=window)
    if not (within_address and within_ip):
        raise RateLimited()
    token = new_token()
    db.add(
        SignInLink(
            email=email,
            token_hash=token_hash(token),
            expires_at=utcnow() + LINK_LIFETIME,
            next_path=safe_next(next_path),
        )
    )
    outbox.enqueue_email(db, template="sign_in_link", recipient=email, link=links.sign_in(base_url, token))
    user_id = db.scalar(select(User.id).where(User.email == email))
    audit.record(
        db,
        "account:sign_in_link_sent",
        actor_id=user_id,
        subject_user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        email=email,
    )


def find_link(db: Session, token: str) -> SignInLink | None:
    return db.scalar(select(SignInLink).where(SignInLink.token_hash == token_hash(token)))


def consume_link(db: Session, token: str, *, ip: str, user_agent: str, staff_may_use: bool = True) -> LinkResult:
    """staff_may_use=False (PORTAL_STAFF_EMAIL_LINK=off) refuses a member of the regulator's staff, who must
    sign in through the regulator's identity provider, where leaving the organisation ends their access."""
    link = db.scalar(select(SignInLink).where(SignInLink.token_hash == token_hash(token)).with_for_update())
    failure = _link_failure(link)
    if link is None or failure:
        audit.record(
            db,
            "account:sign_in_failed",
            actor_id=None,
            ip=ip,
            user_agent=user_agent,
            method="email link",
            reason=failure,
        )
        return LinkResult(user=None, next_path="/", failure=failure)
    link.used_at = utcnow()
    user = user_for_verified_email(db, ISSUER, link.email, link.email)
    refusal = None
    if not user.active:
        refusal = ("deactivated", "deactivated")
    elif not staff_may_use and is_regulator_staff(db, user.id):
        refusal = ("staff", "regulator staff use their identity provider")
    if refusal is not None:
        failure, reason = refusal
        audit.record(
            db,
            "account:sign_in_failed",
            actor_id=user.id,
            subject_user_id=user.id,
            ip=ip,
            user_agent=user_agent,
            method="email link",
            reason=reason,
        )
        return LinkResult(user=None, next_path="/", failure=failure)
    return LinkResult(user=user, next_path=link.next_path)


def _link_failure(link: SignInLink | None) -> str:
    """Why the link cannot sign anyone in, or "" when it can."""
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.expires_at < utcnow():
        return "expired"
    return ""


def staff_account_for(db: Session, issuer: str, subject: str, email: str) -> User | None:
    """The regulator staff account a sign-in with this (issuer, subject, verified email) would open, if any.

    user_for_verified_email joins any account by email, so without this check a member of staff taken out of
    their directory group could still reach support through One Login, keeping roles only their identity
    provider should decide. Nothing is written: a refused person gains no identity."""
    identity = db.scalar(select(Identity).where(Identity.issuer == issuer, Identity.subject == subject))
    user: User | None = identity.user if identity is not None else None
    if user is None:
        user = db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not is_regulator_staff(db, user.id):
        return None
    return user


def user_for_verified_email(db: Session, issuer: str, subject: str, email: str) -> User:
    """Finds the person by (issuer, subject). A new identity joins the account with that verified email."""
    email = normalise_email(email)
    identity = db.scalar(select(Identity).where(Identity.issuer == issuer, Identity.subject == subject))
    if identity is not None:
        identity.last_used_at = utcnow()
        user = identity.user
        if user.email != email and db.scalar(select(User.id).where(User.email == email)) is None:
            user.email = email  # the identity provider verified a new address
        return user
    existing = db.scalar(select(User).where(User.email == email))
    if existing is not None:
        user = existing
    else:
        user = User(email=email)
        db.add(user)
        db.flush()
    db.add(Identity(user_id=user.id, issuer=issuer, subject=subject))
    return user
