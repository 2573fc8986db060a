"""Provider organisations, their locations, members and the roles members hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, utcnow

PROVIDER = "provider"
REGULATOR = "regulator"


class Organisation(Base):
    """A provider or the regulator. A practice copy of a provider (practice_of_id set) is where its members
    try the service: nothing in it ever reaches the regulator (portal/regulator_scope.py)."""

    __tablename__ = "organisations"
    # One practice copy per organisation, so entering practice twice at once finds the same one.
    __table_args__ = (UniqueConstraint("practice_of_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=PROVIDER)
    name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(String(40), default="")
    separation_of_duties: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    practice_of_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))

    locations: Mapped[list[Location]] = relationship(back_populates="organisation", order_by="Location.name")

    @property
    def is_practice(self) -> bool:
        return self.practice_of_id is not None


class Location(Base):
    """A place the organisation provides care at, as the regulator registers it.

    The regulator's location ID names one location across the whole register, so it is unique across
    organisations, closed locations included: a closed location keeps its ID, its notifications and
    its history, and takes no new notifications (closed_at is set).
    """

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("regulator_location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    regulator_location_id: Mapped[str] = mapped_column(String(40))
    address_line_1: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address_line_2: Mapped[str] = mapped_column(String(200), default="", server_default="")
    town: Mapped[str] = mapped_column(String(100), default="", server_default="")
    postcode: Mapped[str] = mapped_column(String(10), default="", server_default="")
    closed_at: Mapped[datetime | None]
    # Who the location's registered manager (the register names them) is among the organisation's members, as an
    # admin recorded it; None when they are not a member here, or nobody has said. Removing the member clears it.
    registered_manager_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def address_lines(self) -> list[str]:
        return [part for part in (self.address_line_1, self.address_line_2, self.town, self.postcode) if part]

    organisation: Mapped[Organisation] = relationship(back_populates="locations")
    registered_manager: Mapped[Membership | None] = relationship(foreign_keys=[registered_manager_id])


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # This member is the organisation's nominated individual (the register names one per provider): at most one
    # member of an organisation is, which portal/organisation/registered_people.py keeps so.
    nominated_individual: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="membership", cascade="all, delete-orphan", order_by="RoleGrant.id"
    )


class RoleGrant(Base):
    """One role for one member: across the whole organisation, or at one location."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("membership_id", "role", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))

    membership: Mapped[Membership] = relationship(back_populates="grants")
    location: Mapped[Location | None] = relationship()


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    # [{"role": "drafter", "location_id": null}, ...]
    grants: Mapped[list] = mapped_column(default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship()


class SignupRequest(Base):
    __tablename__ = "signup_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship()
