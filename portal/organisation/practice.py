"""Practice mode: a copy of a provider organisation where its members try every notification type.

One copy per organisation (Organisation.practice_of_id, unique), made the first time anyone enters and
shared by every member who enters it, so colleagues can practise a review together. Entering gives the
person the drafter, reviewer and submitter roles there, where they work in the real organisation (_join),
with separation of duties off, so one person alone can draft, review and submit. The copy has the real
organisation's open locations (brought up to date on each entry: a new location appears, a closed one
closes) under practice location IDs, and no provider ID, so nothing that matches by the regulator's IDs
(sign-up, the register) ever finds it.

What the copy may not do is in permissions.NOT_IN_PRACTICE (no questions to support, no invitations, no
member, location or settings changes: they would only drift from what it copies). What the regulator's
side never sees of it is in regulator_scope.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..accounts import sessions
from ..accounts.sessions import Auth
from ..models import (
    PROVIDER,
    Attachment,
    Location,
    Membership,
    Notification,
    Organisation,
    RoleGrant,
    Submission,
    utcnow,
)
from ..rules import RuleBroken
from ..write_locks import take_named_lock

SUFFIX = " (practice)"
ROLES = ("drafter", "reviewer", "submitter")
MAX_NAME = 200
MAX_LOCATION_ID = 40


def practice_name(real: Organisation) -> str:
    return real.name[: MAX_NAME - len(SUFFIX)] + SUFFIX


def practice_location_id(real: Location) -> str:
    """Unique, since the real one is and each organisation has one copy; recognisable where it fits.

    Still the shape of a location answer (answers.LOCATION_PATTERN), so a type that asks for the location
    takes the practice one; and never the configured regulator's format, so no register row matches it."""
    wanted = f"practice-{real.regulator_location_id}"
    return wanted if len(wanted) <= MAX_LOCATION_ID else f"practice-{real.id}"


def _lock(db: Session, real_id: int) -> None:
    # Entering and resetting one organisation's copy take turns: two first entries at once (a double
    # click) find one copy, and a reset never runs beside an entry that is copying locations.
    take_named_lock(db, f"practice:{real_id}")


def enter(db: Session, auth: Auth, *, ip: str = "", user_agent: str = "") -> Organisation:
    """The organisation's practice copy, made if need be, with this person in it; the session now uses it."""
    real = auth.require_organisation()
    if real.kind != PROVIDER or real.practice_of_id is not None:
        raise RuleBroken("Practice mode is for provider organisations")
    _lock(db, real.id)
    copy = db.scalar(select(Organisation).where(Organisation.practice_of_id == real.id))
    if copy is None:
        copy = Organisation(
            kind=PROVIDER,
            name=practice_name(real),
            provider_id="",
            separation_of_duties=False,
            practice_of_id=real.id,
        )
        db.add(copy)
        db.flush()
    _join(db, auth, copy, _copy_locations(db, real, copy))
    auth.session.organisation_id = copy.id
    audit.record(
        db,
        "practice:entered",
        actor_id=auth.user.id,
        organisation_id=real.id,
        ip=ip,
        user_agent=user_agent,
        practice=copy.name,
    )
    return copy


def _copy_locations(db: Session, real: Organisation, copy: Organisation) -> dict[int, Location]:
    """The real organisation's locations as they are now: open ones added, closed ones closed here too.

    Returns each real location's copy, by the real location's id."""
    have = {
        place.regulator_location_id: place
        for place in db.scalars(select(Location).where(Location.organisation_id == copy.id))
    }
    copies: dict[int, Location] = {}
    for place in db.scalars(select(Location).where(Location.organisation_id == real.id).order_by(Location.id)):
        location_id = practice_location_id(place)
        copied = have.get(location_id)
        if place.closed_at is not None:
            if copied is not None and copied.closed_at is None:
                copied.closed_at = utcnow()
        elif copied is None:
            copied = Location(
                organisation_id=copy.id,
                name=place.name,
                regulator_location_id=location_id,
                address_line_1=place.address_line_1,
                address_line_2=place.address_line_2,
                town=place.town,
                postcode=place.postcode,
            )
            db.add(copied)
        if copied is not None:
            copies[place.id] = copied
    db.flush()
    return copies


def _join(db: Session, auth: Auth, copy: Organisation, copies: dict[int, Location]) -> None:
    """Drafter, reviewer and submitter, where the person works in the real organisation: for all locations
    if any of their roles there is, else at the copies of their own locations. The copy is shared, and
    people type into practice what they know; a colleague's practice at another home is no more theirs to
    read than the real notifications there (docs/scope.md). Brought up to date on every entry."""
    real = auth.membership
    if real is None or any(grant.location_id is None for grant in real.grants):
        places: set[int | None] = {None}
    else:
        places = {copies[grant.location_id].id for grant in real.grants if grant.location_id in copies}
        if not places:
            raise RuleBroken("None of your locations is open, so there is nowhere to practise")
    wanted = {(role, place) for role in ROLES for place in places}
    membership = db.scalar(
        select(Membership).where(Membership.user_id == auth.user.id, Membership.organisation_id == copy.id)
    )
    if membership is None:
        membership = Membership(user_id=auth.user.id, organisation_id=copy.id)
        db.add(membership)
        db.flush()
    if {(grant.role, grant.location_id) for grant in membership.grants} != wanted:
        membership.grants.clear()
        db.flush()
        for role, place in sorted(wanted, key=lambda pair: (pair[0], pair[1] or 0)):
            membership.grants.append(RoleGrant(role=role, location_id=place))
    db.flush()


def real_organisation_of(db: Session, copy: Organisation) -> Organisation | None:
    return db.get(Organisation, copy.practice_of_id) if copy.practice_of_id is not None else None


def leave(db: Session, auth: Auth, *, ip: str = "", user_agent: str = "") -> Organisation | None:
    """Back to the real organisation; None when the person no longer belongs to it (they choose again)."""
    copy = _current_copy(auth)
    real = real_organisation_of(db, copy)
    audit.record(
        db,
        "practice:left",
        actor_id=auth.user.id,
        organisation_id=copy.practice_of_id,
        ip=ip,
        user_agent=user_agent,
        practice=copy.name,
    )
    if real is not None and sessions.switch_organisation(db, auth, real.id):
        return real
    auth.session.organisation_id = None
    return None


@dataclass(frozen=True)
class Reset:
    notifications: int
    # Files to delete once the reset has committed: a reset that rolls back must still find them.
    storage_keys: list[str]


def reset(db: Session, auth: Auth, *, ip: str = "", user_agent: str = "") -> Reset:
    """Removes every notification of the practice copy, with its answers, files, comments, reviews,
    submission and history. The copy, its locations and its members stay, ready to practise again."""
    copy = _current_copy(auth)
    real_id = copy.practice_of_id or 0  # never 0: _current_copy refuses a real organisation
    _lock(db, real_id)
    in_copy = select(Notification.id).where(Notification.organisation_id == copy.id)
    count = db.scalar(select(func.count()).select_from(in_copy.subquery())) or 0
    keys = list(db.scalars(select(Attachment.storage_key).where(Attachment.notification_id.in_(in_copy))))
    # Submissions point at their notification without a cascade (a real one is never deleted), so first.
    db.execute(
        delete(Submission).where(Submission.organisation_id == copy.id),
        execution_options={"synchronize_session": False},
    )
    # Sections, files, comments, reviews, watches and their audit events go with them (ON DELETE CASCADE).
    db.execute(
        delete(Notification).where(Notification.organisation_id == copy.id),
        execution_options={"synchronize_session": False},
    )
    db.expire_all()
    audit.record(
        db,
        "practice:reset",
        actor_id=auth.user.id,
        organisation_id=copy.practice_of_id,
        ip=ip,
        user_agent=user_agent,
        practice=copy.name,
        notifications=count,
    )
    return Reset(notifications=count, storage_keys=keys)


def practice_notification_count(db: Session, copy: Organisation) -> int:
    return db.scalar(select(func.count(Notification.id)).where(Notification.organisation_id == copy.id)) or 0


def _current_copy(auth: Auth) -> Organisation:
    copy = auth.require_organisation()
    if copy.practice_of_id is None:
        raise RuleBroken("You are not in practice mode")
    return copy
