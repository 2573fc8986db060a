"""Support sees the register's facts beside the portal's own, and every way the two differ."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update

from portal.db import transaction
from portal.models import Location, Organisation, RegisterLocation, RegisterProvider, utcnow
from portal.register import facts
from portal.register.importing import import_file

from .conftest import make_organisation
from .register_files import Place, write_directory


def _section(page_text: str, location_id: str) -> str:
    """The register's summary for one location: from its heading to the next heading."""
    match = re.search(rf'data-register-location="{location_id}">(.*?)(<h[23]|$)', page_text, re.DOTALL)
    assert match, location_id
    return match.group(1)


def test_support_sees_the_registered_facts_and_the_differences(agent, demo_org):
    page = agent.get(f"/support/organisations/{demo_org['id']}")
    assert page.status_code == 200
    assert "The regulator’s register" in page.text
    # The demo register: Riverside House matches, Meadow View differs three ways, Willow Lodge is not in the portal.
    assert "The portal differs from the register at 2 locations." in page.text
    assert "Nia Nominated" in page.text
    house = _section(page.text, "1-201000001")
    assert "Morgan Manager" in house and "Care home service without nursing" in house
    assert "1 River Walk<br>Riverside<br>RV1 1AA" in house
    assert re.search(r"Differences\s*</dt>\s*<dd[^>]*>\s*None", house)
    meadow = _section(page.text, "1-201000002")
    for words in (
        "Name differs: the register has “Meadow View Care Home”",
        "Address differs from the register’s",
        "Closed in the register (dormant), open in the portal",
        "Dormant",
    ):
        assert words in meadow, words
    willow = _section(page.text, "1-201000003")
    assert "In the register, but not one of the organisation’s locations in the portal" in willow


def test_a_location_or_provider_not_in_the_register_is_said(agent, db_factory, demo_org, tmp_path):
    organisation = make_organisation(
        db_factory, "Hillside Homes", "1-555", [("admin@hillside.example", "organisation_admin")], [("Top", "1-7777")]
    )
    page = agent.get(f"/support/organisations/{organisation['id']}")
    assert "The provider ID 1-555 is not in the register" in page.text
    assert "Not in the register: no registered location has this location ID" in page.text
    assert "The portal differs from the register about the provider and at 1 location." in page.text


def test_before_any_import_the_page_says_so(agent, db_factory, demo_org):
    with transaction(db_factory) as db:
        db.execute(delete(RegisterLocation))
        db.execute(delete(RegisterProvider))
    page = agent.get(f"/support/organisations/{demo_org['id']}")
    assert "The register has not been imported yet" in page.text
    assert "Differences" not in page.text


def test_differences_ignore_case_spacing_and_postcode_spacing_but_not_other_words(db_factory, tmp_path):
    organisation = make_organisation(db_factory, "Orchard Care Ltd", "1-900", [], [("orchard  house", "1-100")])
    with transaction(db_factory) as db:
        db.execute(
            update(Location)
            .where(Location.regulator_location_id == "1-100")
            .values(address_line_1="1 ORCHARD ROW", town="riverside", postcode="rv12ab")
        )
    register_places = [
        Place("1-100", "1-900", name="Orchard House"),
        Place("1-101", "1-901", name="Elsewhere", street="9 Other Road"),
    ]
    with transaction(db_factory) as db:
        import_file(db, write_directory(tmp_path / "d.csv", register_places), location_id_pattern=r"1-[0-9]+")

    def differences_of(location_id: str) -> list[str]:
        with db_factory() as db:
            org = db.get(Organisation, organisation["id"])
            locations = list(db.scalars(select(Location).where(Location.organisation_id == org.id)))
            found = facts.for_organisation(db, org, locations)
            return next(place.differences for place in found.locations if place.location_id == location_id)

    assert differences_of("1-100") == []

    with transaction(db_factory) as db:
        db.execute(
            update(Location).where(Location.regulator_location_id == "1-100").values(address_line_1="1 Orchard Road")
        )
        org_id = organisation["id"]
        db.add(Location(organisation_id=org_id, name="Elsewhere", regulator_location_id="1-101", closed_at=utcnow()))
    assert differences_of("1-100") == ["Address differs from the register’s"]
    assert differences_of("1-101") == [
        "Registered to another provider, 1-901",
        "No address in the portal",
        "Closed in the portal, still registered",
    ]
