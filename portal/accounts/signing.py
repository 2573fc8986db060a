"""Signing in, signing out and switching organisation: each changes the session and is audited with it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import audit
from ..models import Organisation, User, UserSession
from . import sessions
from .sessions import Auth


def sign_in(
    db: Session,
    user: User,
    *,
    method: str,
    ip: str,
    user_agent: str,
    id_token: str = "",
    replacing: UserSession | None = None,
) -> str:
    """The new session's token. A session the browser already had ends, so one cookie never means two people."""
    if replacing is not None:
        sessions.end_session(replacing, "replaced")
    token = sessions.start_session(db, user, method=method, ip=ip, user_agent=user_agent, id_token=id_token)
    audit.record(
        db,
        "account:signed_in",
        actor_id=user.id,
        subject_user_id=user.id,
        ip=ip,
        user_agent=user_agent,
        method=method,
    )
    return token


def sign_in_failed(db: Session, *, user: User | None, method: str, reason: str, ip: str, user_agent: str) -> None:
    audit.record(
        db,
        "account:sign_in_failed",
        actor_id=user.id if user else None,
        subject_user_id=user.id if user else None,
        ip=ip,
        user_agent=user_agent,
        method=method,
        reason=reason,
    )


def sign_in_level_too_low(db: Session, *, method: str, achieved: str, required: str, ip: str, user_agent: str) -> None:
    """The provider confirmed the person less strongly than the portal asked: nobody is signed in, and the
    audit says at which level, so a support agent can tell them what to do."""
    audit.record(
        db,
        "account:sign_in_level_too_low",
        actor_id=None,
        ip=ip,
        user_agent=user_agent,
        method=method,
        achieved=achieved,
        required=required,
    )


def sign_out(db: Session, auth: Auth, *, everywhere: bool, ip: str, user_agent: str) -> None:
    if everywhere:
        sessions.end_all_sessions(db, auth.user.id, "signed out everywhere")
    else:
        sessions.end_session(auth.session, "signed out")
    audit.record(
        db,
        "account:signed_out",
        actor_id=auth.user.id,
        subject_user_id=auth.user.id,
        organisation_id=None,
        ip=ip,
        user_agent=user_agent,
        everywhere=everywhere,
    )


def switch_organisation(
    db: Session, auth: Auth, organisation_id: int, *, ip: str, user_agent: str
) -> Organisation | None:
    """The organisation now in use; None when the person does not belong to it."""
    if not sessions.switch_organisation(db, auth, organisation_id):
        return None
    organisation = db.get(Organisation, organisation_id)
    if organisation is None:
        return None
    audit.record(
        db,
        "organisation:switched",
        actor_id=auth.user.id,
        organisation_id=organisation_id,
        ip=ip,
        user_agent=user_agent,
        organisation=organisation.name,
    )
    return organisation
