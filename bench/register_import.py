"""How long `portal register import` takes for 100,000 locations, on SQLite and PostgreSQL.

    python bench/register_import.py postgresql://postgres@127.0.0.1:5432/portal_register_bench
    python bench/register_import.py postgresql://postgres@127.0.0.1:5432/portal_register_bench --locations 10000

Generates a file in the regulator's layout (tests/register_files.py: every column of the real file, four
locations to a provider), then, for each database, --rounds times on a freshly migrated database:

- **first**: the file into an empty register (every location and provider added);
- **again**: the same file (nothing changes; this is the monthly import when little has);
- **changed**: a second file where 1% of locations are renamed, 1% go dormant, 1% are no longer listed
  and 1% are new.

Before the first step, --organisations portal organisations (default 1,000) are made with the provider IDs of
as many generated providers, spread through the file, each with an admin and one of its four locations already
in the portal: after each import the portal follows the register (portal.organisation.register_sync), so the
first import adds three locations to each and emails each admin, and the changed file adds and closes some.

Each is portal.register.importing.import_file and then follow_the_register in one committed transaction, as
the command runs them; the
SQL statements' own time is summed beside the wall time, and this process's CPU time
(reading the file, the driver; not the PostgreSQL server's) is given too, since it does not depend on
what else the machine is doing. The PostgreSQL database named in the URL is
dropped and created again for each round; the SQLite one lives in a temporary directory. Prints median
and slowest seconds per step, and writes bench/results/register-import-<time>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a PostgreSQL database to create (and drop) for the run")
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--organisations", type=int, default=1_000, help="portal organisations with provider IDs")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgresql", action="store_true")
    return parser.parse_args(argv)


def write_files(directory: Path, count: int) -> tuple[Path, Path]:
    from tests.register_files import generated_places, write_directory

    first = write_directory(directory / "first.csv", generated_places(count))
    step = 100  # one in a hundred of each kind of change

    def changed():
        for index, place in enumerate(generated_places(count)):
            if index % step == 0:
                yield dataclasses.replace(place, name=place.name + " (renamed)")
            elif index % step == 1:
                yield dataclasses.replace(place, dormant="Y")
            elif index % step == 2:
                continue  # no longer listed
            else:
                yield place
        yield from generated_places(count // step, start=count)

    return first, write_directory(directory / "changed.csv", changed())


def seed_organisations(factory, count: int, locations: int) -> None:
    """count organisations, each with the provider ID of a generated provider, an admin, and the provider's first
    location (as tests/register_files.generated_places numbers them: four to a provider)."""
    from portal.db import transaction
    from portal.models import Location, Membership, Organisation, RoleGrant, User

    providers = locations // 4
    spacing = max(providers // count, 1) if count else 1
    with transaction(factory) as db:
        for number in range(min(count, providers)):
            provider = number * spacing
            organisation = Organisation(name=f"Provider {provider} Ltd", provider_id=f"1-{2_000_000_000 + provider}")
            organisation.locations.append(
                Location(name=f"Location {provider * 4}", regulator_location_id=f"1-{1_000_000_000 + provider * 4}")
            )
            user = User(email=f"admin{provider}@bench.example")
            db.add_all([organisation, user])
            db.flush()
            membership = Membership(user_id=user.id, organisation_id=organisation.id)
            membership.grants.append(RoleGrant(role="organisation_admin", location_id=None))
            db.add(membership)


def one_round(url: str, files: dict[str, Path], organisations: int, locations: int) -> dict[str, dict]:
    from sqlalchemy import event

    from portal.db import make_engine, make_session_factory, transaction
    from portal.migrate import upgrade
    from portal.organisation.register_sync import follow_the_register
    from portal.register.importing import import_file

    engine = make_engine(url)
    upgrade(engine)
    seed_organisations(make_session_factory(engine), organisations, locations)
    sql_seconds: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        sql_seconds.append(time.perf_counter() - conn.info.pop("started"))

    factory = make_session_factory(engine)
    steps = {}
    for step, path in files.items():
        sql_seconds.clear()
        started, cpu_started = time.perf_counter(), time.process_time()
        with transaction(factory) as db:
            report = import_file(db, path, location_id_pattern=r"1-[0-9]+")
            portal = follow_the_register(db, base_url="https://portal.example")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        assert report.imported, report.lines()
        steps[step] = {
            "seconds": round(wall, 3),
            "sql_seconds": round(sum(sql_seconds), 3),
            "cpu_seconds": round(cpu, 3),
            "statements": len(sql_seconds),
            "locations": dataclasses.asdict(report.locations),
            "providers": dataclasses.asdict(report.providers),
            "portal": dataclasses.asdict(portal),
        }
        print(
            f"    {step:8} {wall:6.2f} s  (SQL {sum(sql_seconds):5.2f} s, this process's CPU {cpu:5.2f} s)  "
            f"locations: {report.locations}; portal: {portal}",
            flush=True,
        )
    engine.dispose()
    return steps


def main(argv=None) -> int:
    args = parse_args(argv)
    load = common.machine_load("register import")
    results: dict = {
        "machine": load,
        "locations": args.locations,
        "organisations": args.organisations,
        "rounds": args.rounds,
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="register-bench-") as scratch:
        directory = Path(scratch)
        started = time.perf_counter()
        first, changed = write_files(directory, args.locations)
        print(
            f"wrote {args.locations} locations in {time.perf_counter() - started:.1f} s "
            f"({first.stat().st_size / 1e6:.0f} MB a file)"
        )
        files = {"first": first, "again": first, "changed": changed}
        databases = []
        if not args.skip_sqlite:
            databases.append("sqlite")
        if not args.skip_postgresql:
            databases.append("postgresql")
        for database in databases:
            print(f"{database}:")
            rounds = []
            for number in range(args.rounds):
                if database == "sqlite":
                    path = directory / f"round-{number}.sqlite3"
                    url = f"sqlite:///{path}"
                else:
                    common.create_database(args.url, replace=True)
                    url = common.plain_url(args.url)
                rounds.append(one_round(url, files, args.organisations, args.locations))
                if database == "postgresql":
                    common.drop_database(args.url)
            results["databases"][database] = {
                step: {
                    "median_seconds": round(statistics.median(r[step]["seconds"] for r in rounds), 2),
                    "slowest_seconds": round(max(r[step]["seconds"] for r in rounds), 2),
                    "median_sql_seconds": round(statistics.median(r[step]["sql_seconds"] for r in rounds), 2),
                    "median_cpu_seconds": round(statistics.median(r[step]["cpu_seconds"] for r in rounds), 2),
                    "statements": rounds[0][step]["statements"],
                    "locations": rounds[0][step]["locations"],
                    "portal": rounds[0][step]["portal"],
                }
                for step in files
            }
            results["databases"][database]["rounds"] = rounds
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    rows = [
        [
            database,
            step,
            figures["median_seconds"],
            figures["slowest_seconds"],
            figures["median_sql_seconds"],
            figures["median_cpu_seconds"],
        ]
        for database, steps in results["databases"].items()
        for step, figures in steps.items()
        if step != "rounds"
    ]
    common.print_table(["database", "step", "median s", "slowest s", "SQL s (median)", "CPU s (median)"], rows)
    print(f"peak memory of this process: {results['peak_rss_mb']} MB")
    RESULTS.mkdir(exist_ok=True)
    stamp = common.stamp()
    (RESULTS / f"register-import-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote bench/results/register-import-{stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
