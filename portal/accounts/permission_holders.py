"""Who holds a permission: the one query behind "email the reviewers", "assign to a drafter" and "support agents".

Each caller used to write its own, and one forgot that a deactivated person holds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import Membership, Organisation, RoleGrant, User
from ..permissions import ORGANISATION_WIDE, Permission
from ..roles import roles_granting


def people_with(
    db: Session,
    permission: Permission,
    *,
    organisation_id: int | None = None,
    organisation_kind: str | None = None,
    location_id: int | None = None,
) -> list[User]:
    """Active people whose roles grant `permission`, by email.

    With a location, a grant there or across the whole organisation counts, as in Auth.has;
    without one, a grant anywhere does.
    """
    holders = (
        select(Membership.user_id)
        .join(RoleGrant, RoleGrant.membership_id == Membership.id)
        .where(RoleGrant.role.in_(roles_granting(permission)))
    )
    if organisation_id is not None:
        holders = holders.where(Membership.organisation_id == organisation_id)
    if organisation_kind is not None:
        holders = holders.join(Organisation, Organisation.id == Membership.organisation_id).where(
            Organisation.kind == organisation_kind
        )
    if permission in ORGANISATION_WIDE:
        # As roles.permissions_at: a grant for some locations never carries these.
        holders = holders.where(RoleGrant.location_id.is_(None))
    elif location_id is not None:
        holders = holders.where(or_(RoleGrant.location_id.is_(None), RoleGrant.location_id == location_id))
    return list(db.scalars(select(User).where(User.id.in_(holders), User.active.is_(True)).order_by(User.email)))


def people_with_in_each(db: Session, permission: Permission, organisation_ids: Iterable[int]) -> dict[int, list[User]]:
    """people_with for many organisations in one query: {organisation id: its active holders, by email}, for a
    permission held across the whole organisation (an import of the register tells every organisation it changed).
    """
    if permission not in ORGANISATION_WIDE:
        raise ValueError(f"{permission} is granted per location: use people_with for one organisation")
    found: dict[int, list[User]] = {}
    for organisation_id, user in db.execute(
        select(Membership.organisation_id, User)
        .join(User, User.id == Membership.user_id)
        .join(RoleGrant, RoleGrant.membership_id == Membership.id)
        .where(
            Membership.organisation_id.in_(list(organisation_ids)),
            RoleGrant.role.in_(roles_granting(permission)),
            RoleGrant.location_id.is_(None),
            User.active.is_(True),
        )
        .distinct()
        .order_by(Membership.organisation_id, User.email)
    ):
        found.setdefault(organisation_id, []).append(user)
    return found
