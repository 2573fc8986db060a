"""`portal register import FILE`: the regulator's directory into the register tables, in bulk.

The rows stream into two temporary staging tables, in batches; a handful of set-based statements then
count and apply the differences. No row is read back into Python and none is written on its own, so an
import of 100,000 locations takes seconds on both databases (bench/register_import.py).

An import is all or nothing: a file with any malformed row changes nothing, and the report names every
such line (the first MAX_PROBLEMS of them). Running the same file again changes nothing and says so.
A full import (the default: the published directory lists every registered location) closes the
locations it no longer lists; `partial` leaves them as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import (
    JSON,
    Column,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from ..models import RegisterLocation, RegisterProvider, utcnow
from ..models.base import UTCDateTime
from ..models.register import NOT_LISTED, REGISTERED
from ..write_locks import take_named_lock

if TYPE_CHECKING:
    import psycopg

from .reading import FileRefused, LocationRow, Problem, ProviderRow, decoded_lines, rows


class NothingListed(FileRefused):
    def __init__(self):
        Exception.__init__(self, "the file lists no locations, and a full import of it would close every one")
        self.line = 0

    def __str__(self) -> str:
        return str(self.args[0])


BATCH = 5000
MAX_PROBLEMS = 50

_STAGING = MetaData()
_LOCATION_COLUMNS = (
    "location_id",
    "provider_id",
    "name",
    "address_line_1",
    "address_line_2",
    "town",
    "county",
    "postcode",
    "registered_manager",
    "service_types",
    "status",
    "fingerprint",
)
_PROVIDER_COLUMNS = (
    "provider_id",
    "name",
    "address_line_1",
    "address_line_2",
    "town",
    "county",
    "postcode",
    "nominated_individual",
    "status",
    "fingerprint",
)


def _staging_table(name: str, columns: tuple[str, ...]) -> Table:
    def column(column_name: str) -> Column:
        if column_name == "service_types":
            return Column(column_name, JSON, nullable=False)
        return Column(column_name, String(300), primary_key=column_name == columns[0], nullable=False)

    return Table(name, _STAGING, *(column(name) for name in columns), prefixes=["TEMPORARY"])


STAGED_LOCATIONS = _staging_table("register_staged_locations", _LOCATION_COLUMNS)
STAGED_PROVIDERS = _staging_table("register_staged_providers", _PROVIDER_COLUMNS)


@dataclass
class Counts:
    added: int = 0
    changed: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.closed} closed"


@dataclass
class ImportReport:
    rows: int = 0
    locations: Counts = field(default_factory=Counts)
    providers: Counts = field(default_factory=Counts)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    refused: FileRefused | None = None

    @property
    def imported(self) -> bool:
        return self.refused is None and not self.problem_count

    def note(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def lines(self) -> list[str]:
        """The report in words, as the command prints it."""
        if self.refused is not None:
            return [f"Nothing was imported: {self.refused}"]
        if self.problem_count:
            more = self.problem_count - len(self.problems)
            return [
                f"Nothing was imported: {self.problem_count} row(s) of {self.rows} could not be read.",
                *(str(problem) for problem in self.problems),
                *([f"... and {more} more"] if more else []),
            ]
        return [
            f"Read {self.rows} locations.",
            f"Locations: {self.locations}.",
            f"Providers: {self.providers}.",
        ]


def import_file(db: Session, path: Path, *, location_id_pattern: str, full: bool = True) -> ImportReport:
    """Imports one file of the regulator's directory (UTF-8 CSV, the layout in docs/register.md)."""
    with open(path, "rb") as stream:
        return import_rows(db, rows(decoded_lines(stream), location_id_pattern), full=full)


def import_rows(
    db: Session, parsed: Iterable[tuple[LocationRow, ProviderRow] | Problem], *, full: bool = True
) -> ImportReport:
    report = ImportReport()
    # One import at a time: two merging at once would both add the same new location. On SQLite this is
    # the write lock, so the portal's own writes wait the few seconds an import takes.
    take_named_lock(db, "register-import")
    connection = db.connection()
    for table in (STAGED_LOCATIONS, STAGED_PROVIDERS):
        # A temporary table lives as long as its connection, and the pool keeps connections: one left by an
        # import that failed part way is dropped first.
        table.drop(connection, checkfirst=True)
        table.create(connection)
    _stage(db, parsed, report)
    if full and report.imported and not report.rows:
        report.refused = NothingListed()
    if report.imported:
        now = utcnow()
        report.providers = _merge(db, _table(RegisterProvider), STAGED_PROVIDERS, "provider_id", now, full)
        report.locations = _merge(db, _table(RegisterLocation), STAGED_LOCATIONS, "location_id", now, full)
    # Dropped here, not in a finally: after a database error the transaction is aborted and would refuse the
    # drop, hiding the error; its rollback removes the tables anyway, as it does everything the import did.
    for table in (STAGED_LOCATIONS, STAGED_PROVIDERS):
        table.drop(connection)
    return report


def _table(model: type[RegisterLocation] | type[RegisterProvider]) -> Table:
    return model.metadata.tables[model.__tablename__]


def _stage(db: Session, parsed: Iterable[tuple[LocationRow, ProviderRow] | Problem], report: ImportReport) -> None:
    providers_seen: set[str] = set()
    locations: list[tuple] = []
    providers: list[tuple] = []
    try:
        for item in parsed:
            report.rows += 1
            if isinstance(item, Problem):
                report.note(item)
                continue
            location, provider = item
            if report.problem_count:
                continue  # nothing will be imported; the rest is read only to name every problem
            locations.append(
                (
                    *location[:9],
                    json.dumps(location.service_types),
                    location.status,
                    location.fingerprint,
                )
            )
            if provider.provider_id not in providers_seen:
                # A provider is on every row of its locations; the first row's details are the provider's.
                providers_seen.add(provider.provider_id)
                providers.append((*provider[:8], REGISTERED, provider.fingerprint))
            if len(locations) >= BATCH:
                _flush(db, locations, providers)
        _flush(db, locations, providers)
    except FileRefused as refused:
        report.refused = refused


def _flush(db: Session, locations: list[tuple], providers: list[tuple]) -> None:
    """Sends one batch to the staging tables as plain tuples: PostgreSQL's COPY, SQLite's executemany.
    Going round SQLAlchemy's per-value processing here is most of what makes a large import take seconds."""
    connection = db.connection()
    for table, batch in ((STAGED_LOCATIONS, locations), (STAGED_PROVIDERS, providers)):
        if not batch:
            continue
        names = ", ".join(table.c.keys())
        if connection.dialect.name == "postgresql":
            raw = cast("psycopg.Connection", connection.connection.dbapi_connection)
            with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            markers = ", ".join(["?"] * len(table.c))
            # The names are the staging table's own, never from the file; the values go as parameters.
            statement = f"INSERT INTO {table.name} ({names}) VALUES ({markers})"  # nosec B608
            connection.exec_driver_sql(statement, batch)
        batch.clear()


def _merge(db: Session, target: Table, staged: Table, key: str, now: datetime, full: bool) -> Counts:
    """Counts, then applies, the differences between the staged rows and the register table."""
    matched = target.c[key] == staged.c[key]
    differs = or_(target.c.fingerprint != staged.c.fingerprint, target.c.status != staged.c.status)
    closes = and_(target.c.closed_at.is_(None), staged.c.status != REGISTERED)
    not_listed = and_(target.c.closed_at.is_(None), ~exists().where(matched))

    def count(statement) -> int:
        return db.scalar(statement) or 0

    counts = Counts(
        added=count(select(func.count()).select_from(staged).where(~exists().where(matched))),
        changed=count(select(func.count()).select_from(staged).join(target, matched).where(differs, ~closes)),
        closed=count(select(func.count()).select_from(staged).join(target, matched).where(closes)),
    )
    unlisted = count(select(func.count()).select_from(target).where(not_listed)) if full else 0
    counts.closed += unlisted
    copied = list(staged.c.keys())
    at_now = literal(now, UTCDateTime())
    closed_at = case(
        (staged.c.status == REGISTERED, None), (target.c.closed_at.is_(None), at_now), else_=target.c.closed_at
    )
    if counts.changed or counts.closed > unlisted:
        db.execute(
            update(target)
            .where(matched, differs)
            .values({**{name: staged.c[name] for name in copied}, "closed_at": closed_at, "updated_at": now})
        )
    if counts.added:
        opened_or_closed = case((staged.c.status == REGISTERED, None), else_=at_now)
        db.execute(
            insert(target).from_select(
                [*copied, "closed_at", "updated_at"],
                select(*(staged.c[name] for name in copied), opened_or_closed, at_now).where(~exists().where(matched)),
            )
        )
    if unlisted:
        db.execute(update(target).where(not_listed).values(status=NOT_LISTED, closed_at=now, updated_at=now))
    return counts
