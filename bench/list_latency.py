"""How long the notifications list takes for an organisation with very many notifications.

    python bench/seed.py postgresql://postgres@127.0.0.1:5432/portal_bench --big-org 100000 --replace
    python bench/list_latency.py postgresql://postgres@127.0.0.1:5432/portal_bench

Two measurements, both against the organisation seed.py --big-org made ("Bench Big Care Ltd"):

1. The service: portal.notifications.listing.list_notifications called directly with an Auth for a
   member, in a fresh database session each time as a request would. Each SQL statement it runs is
   timed too (the count and the page), and each is run once more under EXPLAIN (ANALYZE, BUFFERS);
   the plans are written to bench/results/list-plans-<time>.txt.
2. HTTP: the portal served with 2 workers against the same database (`portal serve`), a signed-in
   session for the same member, and GET /notifications and /notifications?status=draft&page=50
   (and the other cases) one after another.

Prints median and p95 in milliseconds per case, and writes bench/results/list-latency-<time>.json.
The target is a median under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

TARGET_MS = 100

# (label, ListFilters keyword arguments, query string, which member: "wide" or "one_location")
CASES = [
    ("all, page 1", {}, "", "wide"),
    ("status=draft, page 50", {"status": "draft", "page": 50}, "status=draft&page=50", "wide"),
    ("all, page 2000 (deep)", {"page": 2000}, "page=2000", "wide"),
    ("type=serious_injury, page 1", {"type_key": "serious_injury"}, "type=serious_injury", "wide"),
    ("needs your attention (mine)", {"mine": True}, "view=mine", "wide"),
    ("member of one location, page 1", {}, "", "one_location"),
]


def find_members(conn) -> dict:
    """Two members of the big organisation: a drafter for the whole of it, and one for one location."""
    org = conn.execute("SELECT id FROM organisations WHERE name = %s", (common.BIG_ORG_NAME,)).fetchone()
    if org is None:
        raise SystemExit(f"no organisation named {common.BIG_ORG_NAME!r}: seed with --big-org 100000")
    org_id = org[0]
    count = conn.execute("SELECT count(*) FROM notifications WHERE organisation_id = %s", (org_id,)).fetchone()[0]
    rows = conn.execute(
        "SELECT m.user_id, bool_or(g.location_id IS NULL) AS wide, count(*) FROM memberships m"
        " JOIN role_grants g ON g.membership_id = m.id"
        " WHERE m.organisation_id = %s AND g.role = 'drafter' GROUP BY m.user_id ORDER BY m.user_id",
        (org_id,),
    ).fetchall()
    wide = next(user for user, is_wide, grants in rows if is_wide and grants == 1)
    narrow = next((user for user, is_wide, _ in rows if not is_wide), wide)
    return {"organisation_id": org_id, "notifications": count, "wide": wide, "one_location": narrow}


def explain(raw, statement: str, parameters: dict, *, generic: bool) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement; generic=True plans it as a prepared statement would be
    once PostgreSQL switches to its generic plan."""
    from psycopg import sql

    try:
        with raw.cursor() as cursor:
            if not generic:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                return "\n".join(line[0] for line in cursor.fetchall())
            names: list[str] = []

            def numbered(match):
                names.append(match.group(1))
                return f"${len(names)}"

            text = re.sub(r"%\((\w+)\)s", numbered, statement)
            values = ", ".join(sql.Literal(parameters[name]).as_string(raw) for name in names)
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE bench_generic AS {text}")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_generic({values})")
            plan = "\n".join(line[0] for line in cursor.fetchall())
            cursor.execute("DEALLOCATE bench_generic")
            return plan
    finally:
        raw.rollback()


def execution_ms(plan: str) -> float:
    match = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    return round(float(match.group(1)), 1) if match else float("nan")


def service_benchmark(url: str, members: dict, repeat: int, plans_path: Path) -> dict:
    from sqlalchemy import event, select
    from sqlalchemy.orm import joinedload, selectinload

    from portal.accounts.sessions import Auth, grants_of
    from portal.db import make_engine, make_session_factory, transaction
    from portal.models import Membership, UserSession
    from portal.notifications import listing as service

    engine = make_engine(url)
    factory = make_session_factory(engine)
    captured: list[tuple[str, object, float]] = []
    timing: dict = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        timing["start"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters, time.perf_counter() - timing["start"]))

    def auth_for(db, user_id: int) -> Auth:
        membership = db.scalar(
            select(Membership)
            .options(joinedload(Membership.organisation), joinedload(Membership.user), selectinload(Membership.grants))
            .where(Membership.user_id == user_id, Membership.organisation_id == members["organisation_id"])
        )
        session = UserSession(token_hash="", user_id=user_id, method="bench")
        return Auth(
            user=membership.user,
            session=session,
            organisation=membership.organisation,
            membership=membership,
            grants=grants_of(membership),
        )

    results = {}
    plans = []
    for label, kwargs, _, who in CASES:
        filters = service.ListFilters(**kwargs)
        times, statements = [], []
        for attempt in range(repeat + 3):
            # Committed at the end, as portal.db.transaction does for every request. (A rollback
            # would make psycopg forget its prepared statements, hiding what PostgreSQL's plan
            # cache does to them after a few executions.)
            with transaction(factory) as db:
                auth = auth_for(db, members[who])
                captured.clear()
                began = time.perf_counter()
                rows, total = service.list_notifications(db, auth, filters)
                elapsed = time.perf_counter() - began
                run = list(captured)
            if attempt >= 3:  # the first few warm the pool and the caches
                times.append(elapsed)
                statements.append([t for _, _, t in run])
        per_statement = [statistics.median(column) * 1000 for column in zip(*statements, strict=False)]
        results[label] = {
            **common.summary_ms(times),
            "rows": len(rows),
            "total": total,
            "statement_median_ms": [round(t, 2) for t in per_statement],
        }
        # Each statement once more under EXPLAIN ANALYZE with the parameters it ran with, and again
        # with the generic plan PostgreSQL caches for a prepared statement after five executions
        # (psycopg prepares a statement after five on one connection, so in a long-running server
        # the generic plan is the one that runs).
        explained = []
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            for number, (statement, parameters, _) in enumerate(run, 1):
                custom = explain(raw, statement, parameters, generic=False)
                generic = explain(raw, statement, parameters, generic=True)
                explained.append((execution_ms(custom), execution_ms(generic)))
                plans.append(
                    f"=== {label}: statement {number} ===\n{statement}\n-- {parameters}\n"
                    f"--- custom plan (these parameter values) ---\n{custom}\n"
                    f"--- generic plan (prepared, after 5 executions) ---\n{generic}\n"
                )
        results[label]["explain_custom_ms"] = [c for c, _ in explained]
        results[label]["explain_generic_ms"] = [g for _, g in explained]
    plans_path.write_text("\n".join(plans))
    engine.dispose()
    return results


def try_indexes(url: str, members: dict, repeat: int, column_lists: list[str], plans_path: Path) -> dict:
    """The service again with candidate indexes in place; they are dropped afterwards whatever happens."""
    import psycopg

    names = [f"bench_try_{number}" for number in range(len(column_lists))]
    with psycopg.connect(url, autocommit=True) as conn:
        for name, columns in zip(names, column_lists, strict=False):
            if not re.fullmatch(r"[a-z_]+( (asc|desc))?(, ?[a-z_]+( (asc|desc))?)*", columns.strip(), re.I):
                raise SystemExit(f"--try-index takes column names separated by commas, not {columns!r}")
            print(f"\ntrying CREATE INDEX {name} ON notifications ({columns})", flush=True)
            conn.execute(f"CREATE INDEX {name} ON notifications ({columns})")
        conn.execute("ANALYZE notifications")
    try:
        return service_benchmark(url, members, repeat, plans_path)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for name in names:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
            conn.execute("ANALYZE notifications")


def http_benchmark(url: str, members: dict, repeat: int, workers: int, nodelay: bool) -> dict:
    import httpx
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        people = {
            who: common.signed_in_cookies(conn, members[who], members["organisation_id"])[0]
            for who in ("wide", "one_location")
        }
    process, base, log_path = common.start_portal(url, workers=workers, log_name="list-latency", nodelay=nodelay)
    results = {}
    try:
        for label, _, query, who in CASES:
            path = "/notifications" + (f"?{query}" if query else "")
            with httpx.Client(base_url=base, cookies=people[who], timeout=30) as client:
                times = []
                for attempt in range(repeat + 3):
                    began = time.perf_counter()
                    response = client.get(path)
                    elapsed = time.perf_counter() - began
                    if response.status_code != 200:
                        raise SystemExit(f"GET {path} answered {response.status_code}: {response.text[:300]}")
                    if attempt >= 3:
                        times.append(elapsed)
            results[label] = {"path": path, **common.summary_ms(times), "bytes": len(response.content)}
    finally:
        common.stop(process)
    print(f"  (server log: {log_path})")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a database seeded by bench/seed.py --big-org N")
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per case (after 3 to warm up)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-http", action="store_true", help="only the service")
    parser.add_argument(
        "--try-index",
        action="append",
        default=[],
        metavar="COLUMNS",
        help="after the service run, create an index on notifications (COLUMNS, e.g. "
        "'organisation_id, type_key, updated_at') in the benchmark database, measure the "
        "service again, then drop it; repeatable (all are created together)",
    )
    parser.add_argument(
        "--pgoptions",
        default="",
        metavar="OPTIONS",
        help="PGOPTIONS for every database connection the service and the servers make, "
        "e.g. '-c plan_cache_mode=force_custom_plan' to see the portal without generic plans",
    )
    parser.add_argument(
        "--server",
        choices=("shipped", "nodelay", "both"),
        default="both",
        help="HTTP against `portal serve` as shipped, through bench/serve_nodelay.py, or both",
    )
    args = parser.parse_args(argv)
    import psycopg

    url = common.plain_url(args.url)
    if args.pgoptions:
        os.environ["PGOPTIONS"] = args.pgoptions  # libpq reads it; the servers started below inherit it
        print(f"PGOPTIONS={args.pgoptions}")
    with psycopg.connect(url) as conn:
        members = find_members(conn)
    print(
        f"organisation {members['organisation_id']} with {members['notifications']:,} notifications; "
        f"members {members['wide']} (whole organisation) and {members['one_location']} (one location)"
    )
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    when = common.stamp()
    plans_path = common.RESULTS / f"list-plans-{when}.txt"

    load_before = common.machine_load("before")
    print("\nservice: list_notifications")
    service = service_benchmark(url, members, args.repeat, plans_path)
    common.print_table(
        [
            "case",
            "rows",
            "total",
            "median ms",
            "p95 ms",
            "per statement (median ms)",
            "EXPLAIN ANALYZE custom / generic plan ms",
        ],
        [
            [
                label,
                r["rows"],
                r["total"],
                r["median_ms"],
                r["p95_ms"],
                " + ".join(f"{t:.1f}" for t in r["statement_median_ms"]),
                " + ".join(
                    f"{c:.1f}/{g:.1f}" for c, g in zip(r["explain_custom_ms"], r["explain_generic_ms"], strict=False)
                ),
            ]
            for label, r in service.items()
        ],
    )
    print(f"  query plans: {plans_path}")

    tried = {}
    if args.try_index:
        tried = try_indexes(
            url, members, args.repeat, args.try_index, common.RESULTS / f"list-plans-{when}-indexed.txt"
        )
        common.print_table(
            [
                "case",
                "median ms before",
                "median ms with the indexes",
                "p95 ms with",
                "per statement (median ms)",
                "EXPLAIN custom / generic ms",
            ],
            [
                [
                    label,
                    service[label]["median_ms"],
                    r["median_ms"],
                    r["p95_ms"],
                    " + ".join(f"{t:.1f}" for t in r["statement_median_ms"]),
                    " + ".join(
                        f"{c:.1f}/{g:.1f}"
                        for c, g in zip(r["explain_custom_ms"], r["explain_generic_ms"], strict=False)
                    ),
                ]
                for label, r in tried.items()
            ],
        )

    http = {}
    variants = {"shipped": [False], "nodelay": [True], "both": [False, True]}[args.server]
    for nodelay in [] if args.no_http else variants:
        name = "nodelay" if nodelay else "shipped"
        how = "bench/serve_nodelay.py (TCP_NODELAY fixed)" if nodelay else "portal serve as shipped"
        print(f"\nHTTP: GET through the portal, {args.workers} workers, {how}")
        http[name] = http_benchmark(url, members, args.repeat, args.workers, nodelay)
        common.print_table(
            ["case", "path", "median ms", "p95 ms", "KB"],
            [[label, r["path"], r["median_ms"], r["p95_ms"], r["bytes"] / 1024] for label, r in http[name].items()],
        )

    everything = {
        **service,
        **{f"HTTP {name}: {label}": r for name, cases in http.items() for label, r in cases.items()},
    }
    slow = [label for label, r in everything.items() if r["median_ms"] > TARGET_MS]
    print(f"\ntarget: median under {TARGET_MS} ms -> " + ("met" if not slow else "MISSED for: " + ", ".join(slow)))
    out = common.RESULTS / f"list-latency-{when}.json"
    out.write_text(
        json.dumps(
            {
                "members": members,
                "pgoptions": args.pgoptions,
                "load_before": load_before,
                "load_after": common.machine_load("after"),
                "service": service,
                "with_indexes": {"indexes": args.try_index, "service": tried},
                "http": http,
                "plans": str(plans_path),
                "target_ms": TARGET_MS,
                "missed": slow,
            },
            indent=2,
        )
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
