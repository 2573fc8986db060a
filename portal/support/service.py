"""The support workspace's rules, callable without HTTP: search, read-only views and audited help actions.

Every help action needs a written reason, which is stored in a typed audit event with the organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from .. import audit, outbox
from ..accounts import invitations
from ..accounts import organisations as orgs
from ..accounts.sessions import end_all_sessions, memberships_of
from ..models import (
    REGULATOR,
    AuditEvent,
    Invitation,
    Location,
    Membership,
    Notification,
    NotificationIdentifier,
    Organisation,
    SignupRequest,
    SupportQuery,
    User,
)
from ..notifications.identifiers import search_key
from ..notifications.people import PERSON, PROVIDER_REFERENCE
from ..register import facts, onboarding
from ..regulator_scope import for_regulator
from ..rules import RuleBroken

REASON_MAX = 2000
QUERY_MAX = 200
RESULTS_PER_KIND = 20
NAME_MAX = 200
PROVIDER_ID_MAX = 40


class ActionError(RuleBroken):
    """Input the agent must correct (the page answers 400), where a plain RuleBroken is a state that
    forbids the action (409)."""


def clean_reason(value) -> str:
    # PostgreSQL refuses NUL in text and JSON, so it never reaches the audit event.
    return (value if isinstance(value, str) else "").replace("\x00", "").strip()


def check_reason(value) -> str:
    """Every help action is audited with a written reason: the forms check it with this rule, and each
    action checks it again, so no caller can write an audit event without one."""
    reason = clean_reason(value)
    if not reason:
        raise ActionError("Enter the reason for this action", field="reason")
    if len(reason) > REASON_MAX:
        raise ActionError(f"The reason must be {REASON_MAX} characters or fewer", field="reason")
    return reason


def clean_name(value) -> str:
    return " ".join((value if isinstance(value, str) else "").replace("\x00", "").split())


def clean_provider_id(value) -> str:
    return (value if isinstance(value, str) else "").replace("\x00", "").strip()


# Search -----------------------------------------------------------------------------------------


# What a notification was found by, in words.
FOUND_BY = {
    "reference": "Reference",
    PERSON: "Identifier for the person",
    PROVIDER_REFERENCE: "Provider’s own reference",
}


@dataclass
class NotificationFound:
    notification: Notification
    found_by: str


@dataclass
class SearchResults:
    query: str
    organisations: list = field(default_factory=list)
    locations: list = field(default_factory=list)
    people: list = field(default_factory=list)
    notifications: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.organisations) + len(self.locations) + len(self.people) + len(self.notifications)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search(db: Session, query: str) -> SearchResults:
    """One box across organisations (name, provider ID), locations, people (email), submitted references,
    and the notifications support may read that name a person by the provider's identifier for them, or
    carry the provider's own reference: exact matches of the search key, read from their index."""
    text = " ".join((query or "").replace("\x00", "").split())[:QUERY_MAX]
    results = SearchResults(query=text)
    if not text:
        return results
    pattern = _like(text)
    results.organisations = list(
        db.scalars(
            select(Organisation)
            .where(
                or_(
                    func.lower(Organisation.name).like(pattern, escape="\\"),
                    func.lower(Organisation.provider_id).like(pattern, escape="\\"),
                ),
                for_regulator(Organisation.id),
            )
            .order_by(Organisation.name)
            .limit(RESULTS_PER_KIND)
        )
    )
    results.locations = list(
        db.scalars(
            select(Location)
            .options(joinedload(Location.organisation))
            .where(
                or_(
                    func.lower(Location.regulator_location_id).like(pattern, escape="\\"),
                    func.lower(Location.name).like(pattern, escape="\\"),
                ),
                for_regulator(Location.organisation_id),
            )
            .order_by(Location.name)
            .limit(RESULTS_PER_KIND)
        )
    )
    results.people = list(
        db.scalars(
            select(User)
            .where(func.lower(User.email).like(pattern, escape="\\"))
            .order_by(User.email)
            .limit(RESULTS_PER_KIND)
        )
    )
    by_reference = db.scalars(
        select(Notification)
        .options(joinedload(Notification.organisation), joinedload(Notification.location))
        .where(
            Notification.reference.is_not(None),
            func.upper(Notification.reference) == text.upper(),
            for_regulator(Notification.organisation_id),
        )
        .limit(RESULTS_PER_KIND)
    )
    found = [NotificationFound(notification, FOUND_BY["reference"]) for notification in by_reference]
    key = search_key(text)
    by_identifier = db.execute(
        select(Notification, NotificationIdentifier.kind)
        .join(NotificationIdentifier, NotificationIdentifier.notification_id == Notification.id)
        .options(joinedload(Notification.organisation), joinedload(Notification.location))
        .where(NotificationIdentifier.search_key == key, _support_may_read())
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(RESULTS_PER_KIND)
    )
    seen = {each.notification.id for each in found}
    for notification, kind in by_identifier:
        if notification.id not in seen:
            seen.add(notification.id)
            found.append(NotificationFound(notification, FOUND_BY[kind]))
    results.notifications = found[:RESULTS_PER_KIND]
    return results


# Read-only views --------------------------------------------------------------------------------


def _events(db: Session, *conditions, limit: int = 30) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(*conditions)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def organisation(db: Session, organisation_id: int) -> Organisation | None:
    """A practice copy is not found: it is its members' own, never the regulator's business."""
    return db.scalar(select(Organisation).where(Organisation.id == organisation_id, for_regulator(Organisation.id)))


def signup_request(db: Session, request_id: int) -> SignupRequest | None:
    return db.get(SignupRequest, request_id)


def person(db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def signup_matches(db: Session, signups: list[SignupRequest]) -> dict[int, onboarding.SignupMatch]:
    return onboarding.matches(db, ((signup.id, signup.organisation_name, signup.provider_id) for signup in signups))


def organisation_overview(db: Session, organisation: Organisation) -> dict:
    locations = orgs.locations_of(db, organisation.id)
    return {
        "locations": locations,
        "register": facts.for_organisation(db, organisation, locations),
        "members": orgs.members_of(db, organisation.id),
        "invitations": invitations.invitations_of(db, organisation.id),
        "notifications": list(
            db.scalars(
                select(Notification)
                .options(joinedload(Notification.location))
                .where(Notification.organisation_id == organisation.id, Notification.reference.is_not(None))
                .order_by(Notification.submitted_at.desc())
                .limit(20)
            )
        ),
        "events": _events(db, AuditEvent.organisation_id == organisation.id),
    }


def person_overview(db: Session, user: User) -> dict:
    return {
        "memberships": memberships_of(db, user.id),
        "sessions": orgs.active_sessions(db, user.id),
        # What a person did in practice stays theirs (events with no organisation, such as sign-ins, stay).
        "events": _events(
            db,
            or_(AuditEvent.subject_user_id == user.id, AuditEvent.actor_id == user.id),
            or_(AuditEvent.organisation_id.is_(None), for_regulator(AuditEvent.organisation_id)),
        ),
    }


def visible_notification(db: Session, notification_id: int) -> Notification | None:
    """What has been sent to the regulator, and drafts a provider has asked the support team about.

    Other drafts stay the provider's own: asking a question about one is what lets support read it.
    """
    return db.scalar(
        select(Notification)
        .options(joinedload(Notification.organisation), joinedload(Notification.location))
        .where(Notification.id == notification_id, _support_may_read())
    )


def _support_may_read():
    """Sent to the regulator, or asked about, and never practice: the search finds only what the notification
    page shows."""
    asked_about = select(SupportQuery.id).where(SupportQuery.notification_id == Notification.id).exists()
    return and_(or_(Notification.reference.is_not(None), asked_about), for_regulator(Notification.organisation_id))


def notification_timeline(db: Session, notification_id: int) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.notification_id == notification_id)
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


# Help actions -----------------------------------------------------------------------------------


def _organisation_ids_of(db: Session, user_id: int) -> list[int | None]:
    ids: list[int | None] = list(
        db.scalars(select(Membership.organisation_id).where(Membership.user_id == user_id).order_by(Membership.id))
    )
    return ids or [None]


def _record_for_person(
    db: Session, event_type: str, user: User, *, actor: User, ip: str, user_agent: str, **fields
) -> None:
    # One event in each organisation the person belongs to, so each one's history shows the help given.
    for organisation_id in _organisation_ids_of(db, user.id):
        audit.record(
            db,
            event_type,
            actor_id=actor.id,
            organisation_id=organisation_id,
            subject_user_id=user.id,
            ip=ip,
            user_agent=user_agent,
            **fields,
        )


def is_regulator_staff(db: Session, user: User) -> bool:
    return (
        db.scalar(
            select(Membership.id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user.id, Organisation.kind == REGULATOR)
            .limit(1)
        )
        is not None
    )


def _check_provider_person(db: Session, user: User, actor: User) -> None:
    if user.id == actor.id:
        raise RuleBroken("You cannot do this to your own account")
    if is_regulator_staff(db, user):
        raise RuleBroken("Help actions are for providers’ accounts, not the regulator’s staff")


def invitation_of(db: Session, organisation_id: int, invitation_id: int) -> Invitation | None:
    return invitations.invitation(db, organisation_id, invitation_id)


def resend_invitation(
    db: Session, invitation: Invitation, *, reason, actor: User, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    reason = check_reason(reason)
    invitations.resend_invitation(db, invitation, actor_id=actor.id, base_url=base_url, ip=ip, user_agent=user_agent)
    audit.record(
        db,
        "support:invitation_resent",
        actor_id=actor.id,
        organisation_id=invitation.organisation_id,
        ip=ip,
        user_agent=user_agent,
        invitee=invitation.email,
        reason=reason,
    )


def revoke_invitation(
    db: Session, invitation: Invitation, *, reason, actor: User, ip: str = "", user_agent: str = ""
) -> None:
    reason = check_reason(reason)
    invitations.revoke_invitation(db, invitation, actor_id=actor.id, ip=ip, user_agent=user_agent)
    audit.record(
        db,
        "support:invitation_revoked",
        actor_id=actor.id,
        organisation_id=invitation.organisation_id,
        ip=ip,
        user_agent=user_agent,
        invitee=invitation.email,
        reason=reason,
    )


def sign_out_everywhere(db: Session, user: User, *, reason, actor: User, ip: str = "", user_agent: str = "") -> int:
    reason = check_reason(reason)
    _check_provider_person(db, user, actor)
    ended = end_all_sessions(db, user.id, "support")
    _record_for_person(
        db,
        "support:signed_out_everywhere",
        user,
        actor=actor,
        ip=ip,
        user_agent=user_agent,
        person=user.email,
        sessions=ended,
        reason=reason,
    )
    return ended


def deactivate(db: Session, user: User, *, reason, actor: User, ip: str = "", user_agent: str = "") -> int:
    reason = check_reason(reason)
    _check_provider_person(db, user, actor)
    if not user.active:
        raise RuleBroken("This account is already deactivated")
    user.active = False
    ended = end_all_sessions(db, user.id, "deactivated")
    _record_for_person(
        db,
        "support:account_deactivated",
        user,
        actor=actor,
        ip=ip,
        user_agent=user_agent,
        person=user.email,
        sessions=ended,
        reason=reason,
    )
    return ended


def reactivate(db: Session, user: User, *, reason, actor: User, ip: str = "", user_agent: str = "") -> None:
    reason = check_reason(reason)
    _check_provider_person(db, user, actor)
    if user.active:
        raise RuleBroken("This account is already active")
    user.active = True
    _record_for_person(
        db,
        "support:account_reactivated",
        user,
        actor=actor,
        ip=ip,
        user_agent=user_agent,
        person=user.email,
        reason=reason,
    )


def correct_organisation(
    db: Session,
    organisation: Organisation,
    *,
    name: str,
    provider_id: str,
    reason,
    actor: User,
    ip: str = "",
    user_agent: str = "",
) -> None:
    """name and provider_id come from CorrectionForm, which has checked they are there and short enough."""
    name, provider_id = clean_name(name), clean_provider_id(provider_id)
    reason = check_reason(reason)
    if organisation.kind == REGULATOR:
        raise RuleBroken("Help actions are for providers’ organisations, not the regulator’s")
    if name == organisation.name and provider_id == organisation.provider_id:
        raise ActionError("Change the name or the provider ID, or leave them as they are", field="name")
    before = f"{organisation.name} ({organisation.provider_id})"
    organisation.name = name
    organisation.provider_id = provider_id
    audit.record(
        db,
        "support:organisation_corrected",
        actor_id=actor.id,
        organisation_id=organisation.id,
        ip=ip,
        user_agent=user_agent,
        before=before,
        after=f"{name} ({provider_id})",
        reason=reason,
    )


def send_email_again(db: Session, message_id: int, *, reason, actor: User, ip: str = "", user_agent: str = ""):
    """Requeues an email the worker gave up on; None when there is no such given-up message."""
    reason = check_reason(reason)
    message = outbox.try_again(db, message_id)
    if message is None:
        return None
    audit.record(
        db,
        "support:email_retried",
        actor_id=actor.id,
        ip=ip,
        user_agent=user_agent,
        recipient=message.recipient,
        subject=message.subject,
        reason=reason,
    )
    return message
