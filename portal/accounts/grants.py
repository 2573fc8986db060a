"""Grants stay within the granter's own scope: whom a members admin sees and changes, and what they may grant.

A role is granted for the whole organisation or for one location (RoleGrant.location_id). A person's reach
is where they hold members:manage (to change) or members:view (to see):

- Across the whole organisation: they see and change every member and invitation, and grant any role for
  the whole organisation or for any of its locations.
- At some locations only (an organisation admin for one location): they see the members who hold a role
  at one of those locations, change only those roles, and grant roles only at those locations. Never for
  the whole organisation, so never an organisation-wide admin. What a member holds elsewhere stays as it
  is. They remove a member only when every role the member holds lies within their locations, and see,
  resend and revoke only the invitations whose every role does.
- A role granted for some locations carries none of the organisation-wide permissions
  (`permissions.ORGANISATION_WIDE`, applied by `roles.permissions_at`): the organisation's settings and
  its whole history need an organisation-wide grant, so /organisation/settings and /history answer 403.
- The organisation keeps at least one organisation-wide admin, and nobody takes away or narrows their own
  admin role (organisations.py).

The services check what is granted against the granter's own grants, read from the database, whoever
calls them; the pages offer only what the rule allows and show its words when it refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Membership, RoleGrant
from ..permissions import Permission
from ..roles import ROLES, permissions_at
from ..rules import RuleBroken


class GrantLike(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def location_id(self) -> int | None: ...


@dataclass(frozen=True)
class Grant:
    role: str
    location_id: int | None

    @classmethod
    def parse(cls, value: str) -> Grant:
        role, _, where = value.partition(":")
        if role not in ROLES or ROLES[role].scope != "provider":
            raise ValueError(value)
        return cls(role, None if where in ("", "all") else int(where))

    @property
    def value(self) -> str:
        return f"{self.role}:{'all' if self.location_id is None else self.location_id}"


@dataclass(frozen=True)
class Reach:
    """Where someone holds a permission: None is the whole organisation, else these locations."""

    locations: frozenset[int] | None

    @classmethod
    def of_grants(cls, grants: Iterable[GrantLike], permission: Permission) -> Reach:
        places: set[int] = set()
        for grant in grants:
            if permission in permissions_at(grant.role, grant.location_id):
                if grant.location_id is None:
                    return cls(None)
                places.add(grant.location_id)
        return cls(frozenset(places))

    @classmethod
    def of_places(cls, places: Iterable[int] | None) -> Reach:
        """From Auth.locations_with, which answers None for the whole organisation."""
        return cls(None if places is None else frozenset(places))

    @property
    def whole_organisation(self) -> bool:
        return self.locations is None

    def covers(self, location_id: int | None) -> bool:
        if self.locations is None:
            return True
        return location_id is not None and location_id in self.locations

    def includes(self, other: Reach) -> bool:
        """Everywhere `other` reaches, this does too."""
        if self.locations is None:
            return True
        return other.locations is not None and other.locations <= self.locations

    def touches(self, grants: Iterable[GrantLike]) -> bool:
        """Someone holding one of these grants is someone this reach sees."""
        return self.locations is None or any(self.covers(grant.location_id) for grant in grants)

    def covers_all(self, grants: Iterable[GrantLike]) -> bool:
        return all(self.covers(grant.location_id) for grant in grants)

    def outside(self, grants: Iterable[GrantLike]) -> list[Grant]:
        """The grants this reach may not change: they are kept whatever its holder chooses."""
        return [Grant(grant.role, grant.location_id) for grant in grants if not self.covers(grant.location_id)]


def reach_of(db: Session, organisation_id: int, user_id: int, permission: Permission) -> Reach:
    """Where a person holds a permission in an organisation, from their grants as stored."""
    grants = db.scalars(
        select(RoleGrant)
        .join(Membership, Membership.id == RoleGrant.membership_id)
        .where(Membership.organisation_id == organisation_id, Membership.user_id == user_id)
    )
    return Reach.of_grants(grants, permission)


def check_within(reach: Reach, grants: Iterable[Grant], location_names: dict[int, str]) -> None:
    """Refuses any grant wider than the granter's own reach, saying where they may grant."""
    if reach.covers_all(grants):
        return
    places = sorted(location_names.get(place, "a location") for place in reach.locations or ())
    raise RuleBroken(
        (
            f"You can give roles only at {_words(places)}, where you manage members. "
            "Ask an admin for all locations to give a role for all locations or at another location"
        )
        if places
        else "You do not manage members at any location, so you cannot give roles",
        field="grants",
    )


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
