"""Generated files in the layout of the regulator's published directory (docs/register.md), for the tests
and bench/register_import.py: every column of the real file, in its order, most of them left blank."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SERVICE_TYPES = (
    "Acute services with overnight beds",
    "Care home service with nursing",
    "Care home service without nursing",
    "Community based services for people with a learning disability",
    "Domiciliary care service",
    "Extra Care housing services",
    "Hospice services",
    "Shared Lives",
    "Supported living service",
)
REGULATED_ACTIVITIES = (
    "Accommodation for persons who require nursing or personal care",
    "Diagnostic and screening procedures",
    "Nursing care",
    "Personal care",
    "Treatment of disease, disorder or injury",
)
SERVICE_USER_BANDS = ("Dementia", "Older People", "Younger Adults", "Whole Population")

HEADER = [
    "Location ID",
    "Location HSCA start date",
    "Dormant (Y/N)",
    "Care home?",
    "Location Name",
    "Location ODS Code",
    "Location Telephone Number",
    "Registered manager",
    "Location Web Address",
    "Care homes beds",
    "Location Type/Sector",
    "Location Inspection Directorate",
    "Location Primary Inspection Category",
    "Location Latest Overall Rating",
    "Publication Date",
    "Inherited Rating (Y/N)",
    "Location Region",
    "Location NHS Region",
    "Location Local Authority",
    "Location ONSPD CCG Code",
    "Location ONSPD CCG",
    "Location Commissioning CCG Code",
    "Location Commissioning CCG",
    "Location Street Address",
    "Location Address Line 2",
    "Location City",
    "Location County",
    "Location Postal Code",
    "Location PAF ID",
    "Location UPRN ID",
    "Location Latitude",
    "Location Longitude",
    "Location Parliamentary Constituency",
    "Brand ID",
    "Brand Name",
    "Provider Companies House Number",
    "Provider Charity Number",
    "Provider ID",
    "Provider Name",
    "Provider HSCA start date",
    "Provider Type/Sector",
    "Provider Inspection Directorate",
    "Provider Primary Inspection Category",
    "Provider Ownership Type",
    "Provider Telephone Number",
    "Provider Web Address",
    "Provider Street Address",
    "Provider Address Line 2",
    "Provider City",
    "Provider County",
    "Provider Postal Code",
    "Provider PAF ID",
    "Provider UPRN ID",
    "Provider Local Authority",
    "Provider Region",
    "Provider NHS Region",
    "Provider Latitude",
    "Provider Longitude",
    "Provider Parliamentary Constituency",
    "Provider Nominated Individual Name",
    "Provider Main Partner Name",
    *(f"Regulated activity - {name}" for name in REGULATED_ACTIVITIES),
    *(f"Service type - {name}" for name in SERVICE_TYPES),
    *(f"Service user band - {name}" for name in SERVICE_USER_BANDS),
    "Location Dual Registered",
    "Primary ID (Dual registration locations)",
]


@dataclass
class Place:
    """One row: a location and its provider."""

    location_id: str
    provider_id: str
    name: str = "Orchard House"
    provider_name: str = "Orchard Care Ltd"
    street: str = "1 Orchard Row"
    line_2: str = ""
    city: str = "Riverside"
    county: str = ""
    postcode: str = "RV1 2AB"
    manager: str = "Sam Manager"
    services: tuple[str, ...] = ("Care home service without nursing",)
    dormant: str = "N"
    nominated: str = "Nia Nominated"
    extra: dict = field(default_factory=dict)

    def row(self, header: list[str] = HEADER) -> list[str]:
        values = {
            "Location ID": self.location_id,
            "Location HSCA start date": "2020-12-11",
            "Dormant (Y/N)": self.dormant,
            "Care home?": "Y" if any("Care home" in s for s in self.services) else "N",
            "Location Name": self.name,
            "Registered manager": self.manager,
            "Location Type/Sector": "Social Care Org",
            "Location Inspection Directorate": "Adult social care",
            "Location Street Address": self.street,
            "Location Address Line 2": self.line_2,
            "Location City": self.city,
            "Location County": self.county,
            "Location Postal Code": self.postcode,
            "Provider ID": self.provider_id,
            "Provider Name": self.provider_name,
            "Provider Street Address": "2 Head Office Road",
            "Provider City": "Riverside",
            "Provider Postal Code": "RV9 9ZZ",
            "Provider Nominated Individual Name": self.nominated,
            "Regulated activity - Personal care": "Y",
            **{f"Service type - {name}": "Y" for name in self.services},
            **self.extra,
        }
        return [values.get(column, "") for column in header]


def write_directory(path: Path, places: Iterable[Place], *, title_lines: int = 0, header: list[str] = HEADER) -> Path:
    """Writes the places as the directory's CSV, UTF-8 with the byte order mark a spreadsheet saves."""
    with open(path, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        for number in range(title_lines):
            writer.writerow([f"Care directory with filters, title line {number + 1}"])
        writer.writerow(header)
        for place in places:
            writer.writerow(place.row(header))
    return path


def generated_places(count: int, *, locations_per_provider: int = 4, start: int = 0) -> Iterable[Place]:
    """count locations, a few to each provider, their IDs in the regulator's "1-digits" form."""
    for number in range(start, start + count):
        provider = number // locations_per_provider
        yield Place(
            location_id=f"1-{1_000_000_000 + number}",
            provider_id=f"1-{2_000_000_000 + provider}",
            name=f"Location {number}",
            provider_name=f"Provider {provider} Ltd",
            street=f"{number} High Street",
            postcode=f"RV{number % 90 + 1} {number % 9}AB",
            manager=f"Manager {number}",
            services=(SERVICE_TYPES[number % len(SERVICE_TYPES)],),
        )
