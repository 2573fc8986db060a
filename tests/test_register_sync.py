"""A later import of the register adds and closes the portal's own locations, and tells the organisation's admins.

Through the command, as an operator runs it, on both databases: what is added and closed, what stays (a location
the admins added by hand, one the register does not have, one another organisation holds), idempotence, the
audit events made by the register, the banner on the locations page and the one email each admin gets.
"""

from __future__ import annotations

import argparse
import dataclasses
from datetime import timedelta

from sqlalchemy import select

from portal import cli
from portal.db import transaction
from portal.models import AuditEvent, Location, OutboxMessage
from portal.organisation import register_sync
from portal.register.importing import import_file

from .conftest import add_member, audit_events, count_queries, make_organisation
from .register_files import HEADER, Place, write_directory

PROVIDER = "1-900"
ALDER = Place("1-100", PROVIDER, name="Alder House", provider_name="Alder Care Ltd", postcode="AL1 1AA")
BIRCH = Place("1-101", PROVIDER, name="Birch Court", provider_name="Alder Care Ltd")
CEDAR = Place("1-102", PROVIDER, name="Cedar Lodge", provider_name="Alder Care Ltd")
DAMSON = Place("1-103", PROVIDER, name="Damson Mews", provider_name="Alder Care Ltd", dormant="Y")
# Registered to the provider, but another organisation in the portal has its ID.
ELM = Place("1-104", PROVIDER, name="Elm Rise", provider_name="Alder Care Ltd")
# Another provider, with no organisation here.
FIR = Place("1-200", "1-901", name="Fir Grove", provider_name="Fir Care Ltd")

ADMIN = "admin@alder.example"
SECOND_ADMIN = "second.admin@alder.example"


def _import(settings, path, capsys, *extra) -> str:
    args = cli.build_parser().parse_args(["register", "import", str(path), *extra])
    assert isinstance(args, argparse.Namespace)
    assert args.func(settings, args) == 0
    return capsys.readouterr().out


def _places(db_factory, organisation_id) -> dict[str, bool]:
    """location ID -> open, for one organisation."""
    with db_factory() as db:
        return {
            row.regulator_location_id: row.closed_at is None
            for row in db.scalars(select(Location).where(Location.organisation_id == organisation_id))
        }


def _alder(db_factory):
    """Alder Care in the portal: Birch Court and Cedar Lodge added by hand, and one the register does not have."""
    alder = make_organisation(
        db_factory,
        "Alder Care",
        PROVIDER,
        [(ADMIN, "organisation_admin"), (SECOND_ADMIN, "organisation_admin"), ("drafter@alder.example", "drafter")],
        [("Birch Court", "1-101"), ("Our Cedar", "1-102"), ("Hand Made", "1-150")],
    )
    make_organisation(db_factory, "Elm Owners", "1-555", [], [("Elm Rise", "1-104")])
    return alder


def test_an_import_adds_the_registered_locations_an_organisation_lacks_and_keeps_the_rest(
    settings, db_factory, tmp_path, capsys
):
    alder = _alder(db_factory)
    out = _import(settings, write_directory(tmp_path / "d.csv", [ALDER, BIRCH, CEDAR, DAMSON, ELM, FIR]), capsys)

    assert "Portal: 1 organisation(s) changed: 1 location(s) added, 0 closed." in out
    # Alder House added; the dormant one is not; Elm Rise is another organisation's; the rest are as they were.
    assert _places(db_factory, alder["id"]) == {"1-100": True, "1-101": True, "1-102": True, "1-150": True}
    with db_factory() as db:
        added = db.scalar(select(Location).where(Location.regulator_location_id == "1-100"))
        assert (added.name, added.address_lines) == ("Alder House", ["1 Orchard Row", "Riverside", "AL1 1AA"])
        # The admins' own name for a registered location stays theirs.
        assert db.scalar(select(Location.name).where(Location.regulator_location_id == "1-102")) == "Our Cedar"
    (event,) = audit_events(db_factory, "location:added_from_register")
    assert event.actor_id is None and event.organisation_id == alder["id"]
    assert event.data == {
        "location": "Alder House",
        "location_id": "1-100",
        "address": "1 Orchard Row, Riverside, AL1 1AA",
    }
    assert audit_events(db_factory, "location:added") == []
    # Elm Rise is registered to Alder's provider, but Elm Owners hold it: named for support, left as it is.
    assert "Registered to another provider, for support to settle: 1 location(s)." in out
    assert "Elm Rise (1-104) is held by Elm Owners (1-555), registered to 1-900" in out


def test_an_import_closes_a_location_the_register_closed_and_a_second_changes_nothing(
    settings, db_factory, tmp_path, capsys
):
    alder = _alder(db_factory)
    _import(settings, write_directory(tmp_path / "1.csv", [ALDER, BIRCH, CEDAR, ELM]), capsys)
    later = [
        ALDER,
        dataclasses.replace(CEDAR, dormant="Y"),
        ELM,
        dataclasses.replace(FIR, location_id="1-105", provider_id=PROVIDER),
    ]
    path = write_directory(tmp_path / "2.csv", later)

    out = _import(settings, path, capsys)

    assert "Portal: 1 organisation(s) changed: 1 location(s) added, 2 closed." in out
    # Cedar is dormant, Birch no longer listed: both closed. 1-105 is new. The hand-made one stays open.
    assert _places(db_factory, alder["id"]) == {
        "1-100": True,
        "1-101": False,
        "1-102": False,
        "1-105": True,
        "1-150": True,
    }
    closed = {event.data["location_id"]: event for event in audit_events(db_factory, "location:closed_from_register")}
    assert closed["1-102"].data == {"location": "Our Cedar", "location_id": "1-102", "register_status": "dormant"}
    assert closed["1-101"].data["register_status"] == "no longer listed"
    assert all(event.actor_id is None for event in closed.values())
    with db_factory() as db:
        events_before = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        emails_before = len(list(db.scalars(select(OutboxMessage))))

    out = _import(settings, path, capsys)

    assert "Portal: 0 organisation(s) changed: 0 location(s) added, 0 closed." in out
    with db_factory() as db:
        assert db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == events_before
        assert len(list(db.scalars(select(OutboxMessage)))) == emails_before


def test_a_partial_import_closes_only_what_it_marks_closed(settings, db_factory, tmp_path, capsys):
    alder = _alder(db_factory)
    _import(settings, write_directory(tmp_path / "1.csv", [ALDER, BIRCH, CEDAR]), capsys)
    deactivated = dataclasses.replace(ALDER, extra={"Location HSCA End Date": "2026-11-30"})
    header = [*HEADER, "Location HSCA End Date"]
    out = _import(settings, write_directory(tmp_path / "2.csv", [deactivated], header=header), capsys, "--partial")
    assert "1 location(s) added, 1 closed" not in out and "0 location(s) added, 1 closed." in out
    assert _places(db_factory, alder["id"]) == {"1-100": False, "1-101": True, "1-102": True, "1-150": True}
    (event,) = audit_events(db_factory, "location:closed_from_register")
    assert event.data["register_status"] == "deregistered"


def test_each_admin_gets_one_email_listing_the_changes(settings, db_factory, tmp_path, capsys):
    alder = _alder(db_factory)
    # An admin for one location only does not manage locations, so is not told.
    with db_factory() as db:
        birch = db.scalar(select(Location.id).where(Location.regulator_location_id == "1-101"))
    add_member(db_factory, alder["id"], "local.admin@alder.example", [("organisation_admin", birch)])
    _import(
        settings, write_directory(tmp_path / "1.csv", [ALDER, BIRCH, dataclasses.replace(CEDAR, dormant="Y")]), capsys
    )

    with db_factory() as db:
        messages = list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)))
    assert [message.recipient for message in messages] == [ADMIN, SECOND_ADMIN]
    message = messages[0]
    assert message.template == "register_changes" and message.kind == "email"
    assert message.subject == "Changes to the locations of Alder Care from the regulator's register"
    assert "Added, as the register lists them:\n- Alder House (1-100)\n" in message.body
    assert "- Our Cedar (1-102), dormant\n" in message.body
    assert message.body.endswith("See your locations: http://testserver/locations")


def test_the_admins_see_the_latest_imports_changes_on_the_locations_page(
    settings, db_factory, tmp_path, capsys, as_person
):
    _alder(db_factory)
    admin = as_person(ADMIN)
    assert "regulator’s register" not in admin.get("/locations").text
    _import(
        settings, write_directory(tmp_path / "1.csv", [ALDER, BIRCH, dataclasses.replace(CEDAR, dormant="Y")]), capsys
    )

    page = admin.get("/locations").text
    banner = page.split('id="register-changes"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "Changes from the regulator’s register on " in banner
    assert "Alder House (1-100)" in banner.split("data-register-added", 1)[1].split("</ul>", 1)[0]
    assert "Our Cedar (1-102), dormant" in banner.split("data-register-closed", 1)[1].split("</ul>", 1)[0]
    # The history says who made them: the register, not a person and not the support team.
    history = admin.get("/history").text
    assert "The regulator&#39;s register" in history or "The regulator's register" in history

    # A later import that changes this organisation replaces them; one that changes nothing leaves them.
    _import(settings, write_directory(tmp_path / "2.csv", [ALDER]), capsys)
    page = admin.get("/locations").text
    assert "data-register-added" not in page and "Birch Court (1-101), no longer listed" in page
    _import(settings, write_directory(tmp_path / "2.csv", [ALDER]), capsys)
    assert "Birch Court (1-101), no longer listed" in admin.get("/locations").text


def test_the_banner_goes_after_its_time(settings, db_factory, tmp_path, capsys, as_person):
    alder = _alder(db_factory)
    _import(settings, write_directory(tmp_path / "1.csv", [ALDER, BIRCH, CEDAR]), capsys)
    with db_factory() as db:
        assert register_sync.latest_changes(db, alder["id"]) is not None
    with transaction(db_factory) as db:
        for event in db.scalars(select(AuditEvent)):
            event.occurred_at -= register_sync.SHOWN_FOR + timedelta(days=1)
    with db_factory() as db:
        assert register_sync.latest_changes(db, alder["id"]) is None
    assert "register-changes" not in as_person(ADMIN).get("/locations").text


def test_following_the_register_runs_the_same_statements_whatever_the_number_of_changes(
    settings, db_factory, migrated, tmp_path, capsys
):
    """Two statements find the work; each change then costs its own inserts, never another search."""
    counted = []
    for size, name in ((2, "a"), (20, "b")):
        provider = f"1-9{size}"
        make_organisation(db_factory, f"Org {name}", provider, [(f"admin@{name}.example", "organisation_admin")], [])
        places = [Place(f"1-{size}{n:03d}", provider, name=f"Place {n}") for n in range(size)]
        with transaction(db_factory) as db:
            assert import_file(
                db, write_directory(tmp_path / f"{name}.csv", places), location_id_pattern=r"1-[0-9]+", full=False
            ).imported
        statements, stop = count_queries(migrated)
        with transaction(db_factory) as db:
            changes = register_sync.follow_the_register(db, base_url="http://testserver")
        stop()
        assert changes.added == size
        counted.append([s for s in statements if not s.lstrip().upper().startswith("INSERT")])
    assert len(counted[0]) == len(counted[1])
