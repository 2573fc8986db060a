"""`portal register import`: the regulator's directory into the register tables, on both databases.

Files are generated in the published layout (tests/register_files.py): adds, changes, closes (dormant,
deregistered, no longer listed), idempotence, and malformed files reported by line, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses

import pytest
from sqlalchemy import select

from portal import cli
from portal.db import transaction
from portal.models import RegisterLocation, RegisterProvider
from portal.register.importing import import_file

from .conftest import count_queries
from .register_files import HEADER, Place, generated_places, write_directory

PATTERN = r"1-[0-9]+"

A = Place("1-100", "1-900", name="Alder House", services=("Care home service with nursing", "Hospice services"))
B = Place("1-101", "1-900", name="Birch Court")
C = Place("1-102", "1-900", name="Cedar Lodge")
D = Place("1-103", "1-901", name="Damson Mews", provider_name="Damson Care", dormant="Y")


def run_import(db_factory, path, *, full=True):
    with transaction(db_factory) as db:
        return import_file(db, path, location_id_pattern=PATTERN, full=full)


def counts(report) -> tuple:
    return (dataclasses.astuple(report.locations), dataclasses.astuple(report.providers))


def register(db_factory) -> dict[str, RegisterLocation]:
    with db_factory() as db:
        return {row.location_id: row for row in db.scalars(select(RegisterLocation))}


def test_a_first_import_adds_every_location_and_provider_with_their_facts(db_factory, tmp_path):
    report = run_import(db_factory, write_directory(tmp_path / "d.csv", [A, B, C, D]))

    assert report.imported and report.rows == 4
    assert counts(report) == ((4, 0, 0), (2, 0, 0))
    rows = register(db_factory)
    alder = rows["1-100"]
    assert (alder.provider_id, alder.name, alder.registered_manager) == ("1-900", "Alder House", "Sam Manager")
    assert alder.address_lines == ["1 Orchard Row", "Riverside", "RV1 2AB"]
    assert alder.service_types == ["Care home service with nursing", "Hospice services"]
    assert (alder.status, alder.closed_at) == ("registered", None)
    # A dormant location is in the register, and closed from the start.
    assert rows["1-103"].status == "dormant" and rows["1-103"].closed_at is not None
    with db_factory() as db:
        provider = db.scalar(select(RegisterProvider).where(RegisterProvider.provider_id == "1-900"))
        assert (provider.name, provider.nominated_individual, provider.postcode) == (
            "Orchard Care Ltd",
            "Nia Nominated",
            "RV9 9ZZ",
        )


def test_the_same_file_again_changes_nothing(db_factory, tmp_path):
    path = write_directory(tmp_path / "d.csv", [A, B, C, D])
    run_import(db_factory, path)
    before = {key: (row.updated_at, row.closed_at) for key, row in register(db_factory).items()}

    again = run_import(db_factory, path)

    assert counts(again) == ((0, 0, 0), (0, 0, 0))
    assert {key: (row.updated_at, row.closed_at) for key, row in register(db_factory).items()} == before


def test_a_later_import_adds_changes_and_closes_and_then_settles(db_factory, tmp_path):
    run_import(db_factory, write_directory(tmp_path / "first.csv", [A, B, C, D]))
    renamed = dataclasses.replace(A, name="Alder House Nursing Home", manager="Rae Newmanager")
    now_dormant = dataclasses.replace(B, dormant="Y")
    deregistered = Place("1-104", "1-901", name="Elm Farm", extra={"Location HSCA End Date": "2026-11-30"})
    new = Place("1-105", "1-902", name="Fir Grove", provider_name="Fir Care")
    # The regulator's file of deactivated locations has this column; a row with a date in it has ended.
    with_end_dates = [*HEADER, "Location HSCA End Date"]
    later = write_directory(tmp_path / "later.csv", [renamed, now_dormant, D, deregistered, new], header=with_end_dates)

    report = run_import(db_factory, later)

    # C is no longer listed, B went dormant: both closed. Elm Farm arrives deregistered: added, not "closed".
    assert counts(report) == ((2, 1, 2), (1, 0, 0))
    rows = register(db_factory)
    assert rows["1-100"].name == "Alder House Nursing Home" and rows["1-100"].registered_manager == "Rae Newmanager"
    assert rows["1-101"].status == "dormant" and rows["1-101"].closed_at is not None
    assert rows["1-102"].status == "not_listed" and rows["1-102"].closed_at is not None
    assert rows["1-104"].status == "deregistered" and rows["1-104"].closed_at is not None
    assert rows["1-105"].closed_at is None
    assert counts(run_import(db_factory, later)) == ((0, 0, 0), (0, 0, 0))

    # Listed again and active: reopened, which is a change.
    back = run_import(
        db_factory,
        write_directory(tmp_path / "back.csv", [renamed, now_dormant, C, D, deregistered, new], header=with_end_dates),
    )
    assert back.locations.changed == 1 and register(db_factory)["1-102"].closed_at is None


def test_a_provider_no_longer_listed_is_closed(db_factory, tmp_path):
    run_import(db_factory, write_directory(tmp_path / "first.csv", [A, D]))
    report = run_import(db_factory, write_directory(tmp_path / "later.csv", [A]))
    # Damson Mews was closed already (dormant); its provider closes now.
    assert counts(report) == ((0, 0, 0), (0, 0, 1))
    with db_factory() as db:
        damson = db.scalar(select(RegisterProvider).where(RegisterProvider.provider_id == "1-901"))
        assert damson.status == "not_listed" and damson.closed_at is not None


def test_a_partial_import_leaves_the_locations_it_does_not_list(db_factory, tmp_path):
    run_import(db_factory, write_directory(tmp_path / "first.csv", [A, B, C]))
    report = run_import(db_factory, write_directory(tmp_path / "some.csv", [A]), full=False)
    assert counts(report) == ((0, 0, 0), (0, 0, 0))
    assert all(row.closed_at is None for row in register(db_factory).values())


def test_title_lines_above_the_header_and_columns_in_another_order_are_read(db_factory, tmp_path):
    path = write_directory(tmp_path / "d.csv", [A, B], title_lines=2)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    # The last column first: columns are found by their header, not their place.
    swapped = [",".join([line.rsplit(",", 1)[-1], line.rsplit(",", 1)[0]]) for line in lines[2:]]
    path.write_text("\n".join(lines[:2] + swapped) + "\n", encoding="utf-8")
    assert counts(run_import(db_factory, path)) == ((2, 0, 0), (1, 0, 0))


def _cli_import(settings, path, capsys, *extra):
    args = cli.build_parser().parse_args(["register", "import", str(path), *extra])
    assert isinstance(args, argparse.Namespace)
    code = args.func(settings, args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_command_reports_its_counts(settings, db_factory, tmp_path, capsys):
    code, out, _ = _cli_import(settings, write_directory(tmp_path / "d.csv", [A, B, C, D]), capsys)
    assert code == 0
    assert "Locations: 4 added, 0 changed, 0 closed." in out and "Providers: 2 added, 0 changed, 0 closed." in out


def test_malformed_rows_are_named_by_line_and_nothing_is_imported(settings, db_factory, tmp_path, capsys):
    path = write_directory(
        tmp_path / "d.csv",
        [
            A,
            dataclasses.replace(B, location_id="X-101"),  # line 3
            dataclasses.replace(C, dormant="maybe"),  # line 4
            dataclasses.replace(D, name="Damson\nMews"),  # lines 5 and 6: one row, a line break inside quotes
            dataclasses.replace(B, provider_id=""),  # line 7
            dataclasses.replace(C, name="Cedar " * 80),  # line 8
            A,  # line 9: the same location again
            dataclasses.replace(D, name="Damson\x00Mews"),  # line 10: PostgreSQL stores no NUL
        ],
    )
    with open(path, "a", encoding="utf-8", newline="") as stream:
        stream.write("1-200,too,few,values\r\n")  # line 11

    code, out, err = _cli_import(settings, path, capsys)

    assert code == 1 and out == ""
    assert "Nothing was imported: 7 row(s) of 9 could not be read." in err
    assert 'line 3: the location ID "X-101" is not in the regulator\'s format' in err
    assert 'line 4: "Dormant (Y/N)" is "MAYBE", not Y or N' in err
    assert "line 7: the provider ID is missing" in err
    assert 'line 8: "Location Name" is longer than 300 characters' in err
    assert "line 9: the location ID 1-100 is also on line 2" in err
    assert "line 10: it holds a null character" in err
    assert f"line 11: it has 4 values where the header has {len(HEADER)}" in err
    assert "line 5" not in err and "line 6" not in err
    assert "Traceback" not in out + err
    assert register(db_factory) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Name,Address\r\nA,B\r\n", 'line 1: no header row with a "Location ID" column in the first 10 lines'),
        (b"Location ID,Location Name\r\n1-1,A\r\n", 'line 1: the header lacks the column(s) "Dormant (Y/N)"'),
        (",".join(HEADER).encode() + b"\r\n" + b"1-1,\xff\xfe\r\n", "line 2: the file is not UTF-8 text"),
        (",".join(HEADER).encode() + b"\r\n" + b'1-1,"' + b"x" * 20_000 + b'"\r\n', "line 2: the file is not readable"),
    ],
    ids=["no header", "missing columns", "not utf-8", "a huge value"],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_line(settings, db_factory, tmp_path, capsys, content, message):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    code, out, err = _cli_import(settings, path, capsys)
    assert code == 1 and message in err and "Traceback" not in err
    assert register(db_factory) == {}


def test_a_full_import_of_a_file_listing_nothing_is_refused(settings, db_factory, tmp_path, capsys):
    run_import(db_factory, write_directory(tmp_path / "first.csv", [A, B]))
    code, _, err = _cli_import(settings, write_directory(tmp_path / "empty.csv", []), capsys)
    assert code == 1 and "Nothing was imported: the file lists no locations" in err
    assert all(row.closed_at is None for row in register(db_factory).values())
    # A partial import of it is harmless, and changes nothing.
    assert _cli_import(settings, tmp_path / "empty.csv", capsys, "--partial")[0] == 0


def test_a_missing_file_is_said_in_words(settings, tmp_path, capsys):
    code, _, err = _cli_import(settings, tmp_path / "nowhere.csv", capsys)
    assert code == 2 and "no such file" in err


def test_the_statements_an_import_runs_do_not_grow_with_its_rows(db_factory, migrated, tmp_path):
    small = write_directory(tmp_path / "small.csv", generated_places(10))
    large = write_directory(tmp_path / "large.csv", generated_places(3000, start=10))
    statements, stop = count_queries(migrated)
    try:
        run_import(db_factory, small, full=False)
        for_small = len(statements)
        statements.clear()
        # Partial, so that both imports only add: the same statements, whatever the number of rows.
        report = run_import(db_factory, large, full=False)
        for_large = len(statements)
    finally:
        stop()
    assert report.locations.added == 3000
    assert for_large == for_small
