"""Typed audit events: each type declares its fields, and recording one with other fields raises."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from . import metrics
from .models import AuditEvent


@dataclass(frozen=True)
class EventType:
    name: str
    fields: frozenset[str]
    describe: str  # shown to people; formatted with the event's fields


def _event(name: str, fields: tuple[str, ...], describe: str) -> EventType:
    return EventType(name, frozenset(fields), describe)


EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in [
        _event("account:signed_in", ("method",), "Signed in ({method})"),
        _event("account:sign_in_failed", ("method", "reason"), "Sign-in failed ({method}): {reason}"),
        _event("account:signed_out", ("everywhere",), "Signed out"),
        _event("account:sign_in_link_sent", ("email",), "Sign-in link sent to {email}"),
        _event("account:reminders_changed", ("turned",), "Turned deadline reminder emails {turned}"),
        _event(
            "account:sign_in_level_too_low",
            ("method", "achieved", "required"),
            "Sign-in refused ({method}): authenticated at {achieved}, {required} needed",
        ),
        _event(
            "account:signed_out_by_provider",
            ("method", "sessions"),
            "Signed out at {method}, which ended {sessions} session(s) here",
        ),
        _event(
            "account:staff_sign_in_refused",
            ("reason", "subject", "claim_values"),
            "Regulator staff sign-in refused: {reason}",
        ),
        _event(
            "account:staff_identity_joined",
            ("email",),
            "Joined the staff account {email} to its sign-in at the regulator's identity provider",
        ),
        _event(
            "account:staff_roles_changed",
            ("before", "after"),
            "Roles from the regulator's identity provider changed from {before} to {after}",
        ),
        _event("member:invited", ("invitee", "roles"), "Invited {invitee} as {roles}"),
        _event("member:invitation_resent", ("invitee",), "Resent the invitation to {invitee}"),
        _event("member:invitation_revoked", ("invitee",), "Revoked the invitation to {invitee}"),
        _event("member:invitation_accepted", ("invitee", "roles"), "{invitee} joined as {roles}"),
        _event("member:invitation_declined", ("invitee",), "{invitee} declined the invitation"),
        _event(
            "member:roles_changed", ("member", "before", "after"), "Changed {member}'s roles from {before} to {after}"
        ),
        _event("member:removed", ("member", "roles"), "Removed {member} ({roles})"),
        _event("member:left", ("member",), "{member} left the organisation"),
        _event(
            "organisation:signup_requested", ("name", "provider_id"), "Asked for an account for {name} ({provider_id})"
        ),
        _event("organisation:signup_approved", ("name", "provider_id", "requester"), "Approved the account for {name}"),
        _event("organisation:signup_rejected", ("name", "provider_id", "requester"), "Rejected the account for {name}"),
        _event("organisation:switched", ("organisation",), "Switched to {organisation}"),
        _event("notification:started", ("type", "location"), "Started a notification: {type}, for {location}"),
        _event("notification:section_saved", ("section",), "Saved {section}"),
        _event(
            "notification:location_changed",
            ("before", "after"),
            "Changed the notification's location from {before} to {after}",
        ),
        _event("notification:assigned", ("assignee",), "Assigned the notification to {assignee}"),
        _event("notification:attachment_added", ("filename", "sha256"), "Attached {filename}"),
        _event("notification:attachment_removed", ("filename",), "Removed {filename}"),
        _event("notification:review_requested", ("type",), "Sent for review"),
        _event("notification:changes_requested", ("summary", "sections"), "Asked for changes to {sections}: {summary}"),
        _event("notification:approved", ("type",), "Approved"),
        _event("notification:approval_withdrawn", ("reason",), "Approval withdrawn: {reason}"),
        _event("notification:withdrawn", ("type",), "Withdrew the notification"),
        _event("notification:submitted", ("reference",), "Submitted to the regulator, reference {reference}"),
        _event(
            "notification:practice_submitted",
            ("reference",),
            "Submitted in practice mode, not sent to the regulator (practice reference {reference})",
        ),
        _event("notification:commented", ("section",), "Commented on {section}"),
        _event("notification:follow_up_started", ("reference", "type"), "Started a follow-up to {reference}: {type}"),
        _event("organisation:separation_of_duties_changed", ("enabled",), "Separation of duties switched {enabled}"),
        # Recorded in the real organisation's history, so its admins see who practised and who reset.
        _event("practice:entered", ("practice",), "Entered practice mode ({practice})"),
        _event("practice:left", ("practice",), "Left practice mode ({practice})"),
        _event(
            "practice:reset",
            ("practice", "notifications"),
            "Reset practice mode: removed {notifications} notifications",
        ),
        _event(
            "location:added",
            ("location", "location_id", "address"),
            "Added the location {location} ({location_id}) at {address}",
        ),
        _event(
            "location:renamed",
            ("before", "after", "location_id"),
            "Renamed the location {before} ({location_id}) to {after}",
        ),
        _event(
            "location:address_changed",
            ("location", "before", "after"),
            "Changed the address of {location} from {before} to {after}",
        ),
        _event(
            "location:closed",
            ("location", "location_id"),
            "Closed the location {location} ({location_id}): it takes no new notifications",
        ),
        # Made by `portal register import`, not by a person: the history names the regulator's register.
        _event(
            "location:added_from_register",
            ("location", "location_id", "address"),
            "The regulator's register lists the location {location} ({location_id}) at {address}, so it was added",
        ),
        _event(
            "location:closed_from_register",
            ("location", "location_id", "register_status"),
            "The regulator's register shows the location {location} ({location_id}) as {register_status}, "
            "so it was closed: it takes no new notifications",
        ),
        _event(
            "location:registered_manager_recorded",
            ("location", "location_id", "before", "after"),
            "Recorded who the registered manager of {location} ({location_id}) is in the portal: "
            "{after} (was {before})",
        ),
        _event(
            "organisation:nominated_individual_recorded",
            ("before", "after"),
            "Recorded who the nominated individual is in the portal: {after} (was {before})",
        ),
        _event("api_token:created", ("name",), "Created the API token {name}"),
        _event("api_token:revoked", ("name",), "Revoked the API token {name}"),
        _event(
            "support:invitation_resent",
            ("invitee", "reason"),
            "The support team resent the invitation to {invitee}: {reason}",
        ),
        _event(
            "support:invitation_revoked",
            ("invitee", "reason"),
            "The support team revoked the invitation to {invitee}: {reason}",
        ),
        _event(
            "support:signed_out_everywhere",
            ("person", "sessions", "reason"),
            "The support team signed {person} out everywhere: {reason}",
        ),
        _event(
            "support:account_deactivated",
            ("person", "sessions", "reason"),
            "The support team deactivated {person}'s account: {reason}",
        ),
        _event(
            "support:account_reactivated",
            ("person", "reason"),
            "The support team reactivated {person}'s account: {reason}",
        ),
        _event("query:asked", ("subject",), "Asked the support team: {subject}"),
        _event("query:replied", ("subject", "by_support"), "Replied to the question {subject}"),
        _event("query:assigned", ("subject", "assignee"), "Assigned the question {subject} to {assignee}"),
        _event("query:resolved", ("subject",), "Marked the question {subject} as resolved"),
        _event(
            "support:email_retried",
            ("recipient", "subject", "reason"),
            "The support team sent again the email {subject} to {recipient}: {reason}",
        ),
        _event(
            "support:organisation_corrected",
            ("before", "after", "reason"),
            "The support team corrected {before} to {after}: {reason}",
        ),
        _event(
            "retention:applied",
            ("kind", "action", "count", "days"),
            "Retention: {action} {count} {kind} older than {days} days",
        ),
    ]
}


# Events no person made: an import of the regulator's register made them, and the history says so.
BY_THE_REGISTER = frozenset({"location:added_from_register", "location:closed_from_register"})
THE_REGISTER = "The regulator's register"


def made_by(event: AuditEvent, *, nobody: str) -> str:
    """Who made an event, in words: the person, the regulator's register, or `nobody`'s words for the rest
    (the support team, or the portal, where an event without a person is theirs)."""
    if event.actor is not None:
        return event.actor.email
    return THE_REGISTER if event.event_type in BY_THE_REGISTER else nobody


class AuditFieldError(ValueError):
    pass


def record(
    db: Session,
    event_type: str,
    *,
    actor_id: int | None,
    organisation_id: int | None = None,
    subject_user_id: int | None = None,
    notification_id: int | None = None,
    ip: str = "",
    user_agent: str = "",
    **fields,
) -> AuditEvent:
    kind = EVENT_TYPES.get(event_type)
    if kind is None:
        raise AuditFieldError(f"unknown audit event type {event_type!r}")
    if set(fields) != kind.fields:
        raise AuditFieldError(f"{event_type} takes fields {sorted(kind.fields)}, was given {sorted(fields)}")
    event = AuditEvent(
        event_type=event_type,
        actor_id=actor_id,
        organisation_id=organisation_id,
        subject_user_id=subject_user_id,
        notification_id=notification_id,
        ip_address=ip[:64],
        user_agent=user_agent[:400],
        data=fields,
    )
    db.add(event)
    if event_type in metrics.SIGN_IN_REFUSALS:
        metrics.sign_in_refused(event_type, fields)
    return event


def describe(event: AuditEvent) -> str:
    kind = EVENT_TYPES.get(event.event_type)
    if kind is None:
        return event.event_type
    values = {
        key: (", ".join(map(str, value)) if isinstance(value, list) else value) for key, value in event.data.items()
    }
    try:
        return kind.describe.format(**values)
    except (KeyError, IndexError):
        return event.event_type


def organisation_history(db: Session, organisation_id: int, *, limit: int = 50, offset: int = 0) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.organisation_id == organisation_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
