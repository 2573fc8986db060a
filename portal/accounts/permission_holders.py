"""Who holds a permission: the one query behind "email the reviewers", "assign to a drafter" and "support agents".

Each caller used to write its own, and one forgot that a deactivated person holds nothing.
"""

from __future__ import annotations

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
