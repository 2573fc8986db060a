"""The regulator's register of providers and locations, as last imported (`portal register import`).

These rows are the regulator's facts, kept apart from the portal's own organisations and locations: an
import never changes what providers have entered, and support compares the two (portal/register/facts.py).
Rows are matched by the regulator's IDs, never by a foreign key, so the register can hold every provider
in the country whether or not it has an account here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# A location's standing in the register. Dormant and deregistered locations, and those a full import no
# longer lists, are closed: closed_at is set.
REGISTERED = "registered"
DORMANT = "dormant"
DEREGISTERED = "deregistered"
NOT_LISTED = "not_listed"


class RegisterProvider(Base):
    __tablename__ = "register_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    address_line_1: Mapped[str] = mapped_column(String(300))
    address_line_2: Mapped[str] = mapped_column(String(300))
    town: Mapped[str] = mapped_column(String(100))
    county: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    nominated_individual: Mapped[str] = mapped_column(String(300))
    # A digest of every value above, so an import finds changed rows by one comparison in SQL.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime | None]
    # When an import last changed the row.
    updated_at: Mapped[datetime]

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def address_lines(self) -> list[str]:
        parts = (self.address_line_1, self.address_line_2, self.town, self.county, self.postcode)
        return [part for part in parts if part]


class RegisterLocation(Base):
    __tablename__ = "register_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[str] = mapped_column(String(40), unique=True)
    provider_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(300))
    address_line_1: Mapped[str] = mapped_column(String(300))
    address_line_2: Mapped[str] = mapped_column(String(300))
    town: Mapped[str] = mapped_column(String(100))
    county: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    registered_manager: Mapped[str] = mapped_column(String(300))
    service_types: Mapped[list] = mapped_column()
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime | None]
    # When an import last changed the row.
    updated_at: Mapped[datetime]

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def address_lines(self) -> list[str]:
        parts = (self.address_line_1, self.address_line_2, self.town, self.county, self.postcode)
        return [part for part in parts if part]
