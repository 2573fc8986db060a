"""Sign-up tied to the register: support sees the register's match for a request's provider ID, and an
approved organisation starts with its open registered locations."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import transaction
from portal.models import Location, Organisation
from portal.register.importing import import_file

from .conftest import audit_events, make_organisation
from .register_files import Place, write_directory
from .test_signup_requests import ask, decide, request_ids

PROVIDER = "1-900000000"
PLACES = [
    Place("1-9101", PROVIDER, name="Alder House", provider_name="Alder Care Ltd", postcode="al1 1aa"),
    Place("1-9102", PROVIDER, name="Birch Court", provider_name="Alder Care Ltd"),
    Place("1-9103", PROVIDER, name="Cedar Lodge", provider_name="Alder Care Ltd", dormant="Y"),
    # Registered to this provider, but another organisation in the portal already has its ID.
    Place("1-9104", PROVIDER, name="Damson Mews", provider_name="Alder Care Ltd"),
]


def _register(db_factory, tmp_path):
    with transaction(db_factory) as db:
        report = import_file(db, write_directory(tmp_path / "d.csv", PLACES), location_id_pattern=r"1-[0-9]+")
    assert report.imported


def test_support_sees_the_register_match_before_deciding(as_person, agent, db_factory, tmp_path):
    _register(db_factory, tmp_path)
    make_organisation(db_factory, "Damson Owners", "1-555555555", [], [("Damson Mews", "1-9104")])
    assert ask(as_person("founder@alder.example"), provider_id=PROVIDER, name="Alder Care").status_code == 303
    assert ask(as_person("someone@unknown.example"), provider_id="1-404040404", name="Unknown Ltd").status_code == 303

    page = agent.get("/support")
    first, second = request_ids(db_factory)
    assert "In the register" in page.text
    match = page.text.split(f'data-register-match="{first}">', 1)[1].split("</td>", 1)[0]
    assert "Alder Care Ltd" in match
    assert "3 open registered locations; approving adds each one no other organisation has:" in match
    assert "Alder House (1-9101)" in match and "Cedar Lodge" not in match
    assert "Damson Mews (1-9104), another organisation’s" in match
    assert "1 of its registered locations already belong to another organisation in the portal" in match
    assert "Name differs: the register has “Alder Care Ltd”" in match
    unknown = page.text.split(f'data-register-match="{second}">', 1)[1].split("</td>", 1)[0]
    assert "The provider ID 1-404040404 is not in the register" in unknown


def test_approval_creates_the_organisation_with_its_open_registered_locations(as_person, agent, db_factory, tmp_path):
    _register(db_factory, tmp_path)
    make_organisation(db_factory, "Damson Owners", "1-555555555", [], [("Damson Mews", "1-9104")])
    client = as_person("founder@alder.example")
    assert ask(client, provider_id=PROVIDER, name="Alder Care Ltd").status_code == 303
    (request_id,) = request_ids(db_factory)

    assert decide(agent, request_id, "approve").status_code == 303

    with db_factory() as db:
        organisation = db.scalar(select(Organisation).where(Organisation.provider_id == PROVIDER))
        locations = list(
            db.scalars(select(Location).where(Location.organisation_id == organisation.id).order_by(Location.name))
        )
    # Cedar Lodge is dormant; Damson Mews's ID belongs to another organisation already.
    assert [(place.name, place.regulator_location_id) for place in locations] == [
        ("Alder House", "1-9101"),
        ("Birch Court", "1-9102"),
    ]
    assert locations[0].address_lines == ["1 Orchard Row", "Riverside", "al1 1aa"]
    added = [event.data for event in audit_events(db_factory, "location:added")]
    assert {event["location_id"] for event in added} == {"1-9101", "1-9102"}
    # The new admin can start a notification at once: the locations are theirs.
    assert "Alder House" in as_person("founder@alder.example").get("/locations").text


def test_approval_without_a_register_entry_creates_no_locations(as_person, agent, db_factory):
    client = as_person("founder@nowhere.example")
    assert ask(client, provider_id="1-404040404", name="Nowhere Ltd").status_code == 303
    (request_id,) = request_ids(db_factory)
    assert decide(agent, request_id, "approve").status_code == 303
    with db_factory() as db:
        organisation = db.scalar(select(Organisation).where(Organisation.provider_id == "1-404040404"))
        assert db.scalars(select(Location).where(Location.organisation_id == organisation.id)).first() is None
