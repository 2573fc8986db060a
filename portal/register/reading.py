"""Reads the regulator's directory one row at a time: a row becomes a location and its provider, or a
problem naming its line. The file is never held in memory whole; 100,000 locations stream through."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from ..input_text import refused_character
from ..models.register import DEREGISTERED, DORMANT, REGISTERED
from . import layout

# The longest value each stored column takes (portal/models/register.py).
LONGEST = {"id": 40, "name": 300, "address": 300, "town": 100, "postcode": 20, "person": 300}
# Values longer than this are refused, not read into memory: csv's own limit, lowered from 128 KiB.
csv.field_size_limit(10_000)


class LocationRow(NamedTuple):
    location_id: str
    provider_id: str
    name: str
    address_line_1: str
    address_line_2: str
    town: str
    county: str
    postcode: str
    registered_manager: str
    service_types: tuple[str, ...]
    status: str
    fingerprint: str


class ProviderRow(NamedTuple):
    provider_id: str
    name: str
    address_line_1: str
    address_line_2: str
    town: str
    county: str
    postcode: str
    nominated_individual: str
    fingerprint: str


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class FileRefused(Exception):
    """The file cannot be read at all (no header, a missing column, not text): nothing is imported."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


def fingerprint(values: list[str]) -> str:
    # The unit separator never occurs in the register's text, so two different rows never join the same.
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()


# How the published file marks a service type a location is registered for: "Y", else blank.
_YES = frozenset(("Y", "y", " Y", "Y "))


class _RowError(Exception):
    pass


_ADDRESS_LIMITS = (LONGEST["address"], LONGEST["address"], LONGEST["town"], LONGEST["town"], LONGEST["postcode"])
# Every column read, in one order, with the longest value it may hold.
_FIELDS = (
    (layout.LOCATION_ID, LONGEST["id"]),
    (layout.PROVIDER_ID, LONGEST["id"]),
    (layout.LOCATION_NAME, LONGEST["name"]),
    (layout.PROVIDER_NAME, LONGEST["name"]),
    *zip(layout.LOCATION_ADDRESS, _ADDRESS_LIMITS, strict=True),
    *zip(layout.PROVIDER_ADDRESS, _ADDRESS_LIMITS, strict=True),
    (layout.REGISTERED_MANAGER, LONGEST["person"]),
    (layout.NOMINATED_INDIVIDUAL, LONGEST["person"]),
    (layout.DORMANT, 10),
    (layout.END_DATE, 40),
)


class _Columns:
    """Where each column the portal reads sits in this file's header."""

    def __init__(self, header: list[str], line: int):
        names = [name.strip() for name in header]
        missing = [name for name in layout.REQUIRED if name not in names]
        if missing:
            raise FileRefused(line, "the header lacks the column(s) " + ", ".join(f'"{name}"' for name in missing))
        self.width = len(names)
        index = {name: position for position, name in enumerate(names) if name}
        # An optional column the file lacks reads as blank: -1 points at the blank put after each row's values.
        self.positions = [index.get(name, -1) for name, _ in _FIELDS]
        self.service_types = [
            (position, name.removeprefix(layout.SERVICE_TYPE_PREFIX).strip())
            for position, name in enumerate(names)
            if name.startswith(layout.SERVICE_TYPE_PREFIX)
        ]

    def values(self, row: list[str]) -> list[str]:
        row.append("")
        values = [" ".join(row[position].split()) for position in self.positions]
        for value, (name, longest) in zip(values, _FIELDS, strict=True):
            if len(value) > longest:
                raise _RowError(f'"{name}" is longer than {longest} characters')
        return values


def _find_header(reader) -> tuple[list[str], int]:
    for row in reader:
        names = [name.strip().lstrip("\ufeff") for name in row]
        if layout.LOCATION_ID in names:
            return names, reader.line_num
        if reader.line_num >= layout.HEADER_SEARCH_LINES:
            break
    raise FileRefused(
        1, f'no header row with a "{layout.LOCATION_ID}" column in the first {layout.HEADER_SEARCH_LINES} lines'
    )


def _status(dormant: str, end_date: str) -> str:
    if end_date:
        return DEREGISTERED
    dormant = dormant.upper()
    if dormant not in ("Y", "N", ""):
        raise _RowError(f'"{layout.DORMANT}" is "{dormant}", not Y or N')
    return DORMANT if dormant == "Y" else REGISTERED


def _five(values: list[str]) -> tuple[str, str, str, str, str]:
    first, second, third, fourth, fifth = values
    return first, second, third, fourth, fifth


def _parse(columns: _Columns, row: list[str], location_pattern: re.Pattern) -> tuple[LocationRow, ProviderRow]:
    if len(row) != columns.width:
        raise _RowError(f"it has {len(row)} values where the header has {columns.width}")
    values = columns.values(row)
    # What the portal keeps must be text PostgreSQL stores and a page shows: one search of the joined row.
    refused = refused_character("".join(values))
    if refused is not None:
        raise _RowError(f"it holds {refused}")
    location_id, provider_id, name, provider_name = values[:4]
    line_1, line_2, town, county, postcode = values[4:9]
    provider_address = values[9:14]
    manager, nominated, dormant, end_date = values[14:]
    if not location_pattern.fullmatch(location_id):
        raise _RowError(f'the location ID "{location_id}" is not in the regulator\'s format')
    if not provider_id or " " in provider_id:
        raise _RowError("the provider ID is missing" if not provider_id else "the provider ID has a space in it")
    if not name or not provider_name:
        raise _RowError("the location name is missing" if not name else "the provider name is missing")
    services = tuple(kind for position, kind in columns.service_types if row[position] in _YES)
    status = _status(dormant, end_date)
    address = [line_1, line_2, town, county, postcode]
    location_values = [location_id, provider_id, name, *address, manager, *services, status]
    provider_values = [provider_id, provider_name, *provider_address, nominated]
    return (
        LocationRow(
            location_id,
            provider_id,
            name,
            line_1,
            line_2,
            town,
            county,
            postcode,
            manager,
            services,
            status,
            fingerprint(location_values),
        ),
        ProviderRow(provider_id, provider_name, *_five(provider_address), nominated, fingerprint(provider_values)),
    )


def decoded_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's lines as text, decoded one at a time so that a byte that is not UTF-8 is found on its line."""
    for line in stream:
        yield line.decode("utf-8")


def rows(lines: Iterable[str], location_id_pattern: str) -> Iterator[tuple[LocationRow, ProviderRow] | Problem]:
    """Each data row of the file, in order: parsed, or a Problem naming the line it starts on.

    Raises FileRefused when the file as a whole cannot be read; a problem that stops the csv reader part
    way (a byte that is not UTF-8, a value too long to be a field) is one too, naming its line."""
    pattern = re.compile(location_id_pattern)
    reader = csv.reader(lines)
    first_line: dict[str, int] = {}  # location ID -> the line it was first on, to name a repeat
    start = 1
    try:
        header, header_line = _find_header(reader)
        columns = _Columns(header, header_line)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            if not "".join(row).strip():
                continue
            try:
                location, provider = _parse(columns, row, pattern)
            except _RowError as problem:
                yield Problem(start, str(problem))
                continue
            earlier = first_line.setdefault(location.location_id, start)
            if earlier != start:
                yield Problem(start, f"the location ID {location.location_id} is also on line {earlier}")
                continue
            yield location, provider
    except UnicodeDecodeError:
        raise FileRefused(
            reader.line_num + 1, "the file is not UTF-8 text (save it from the spreadsheet as CSV UTF-8)"
        ) from None
    except csv.Error as error:
        raise FileRefused(start, f"the file is not readable CSV here ({error})") from None
