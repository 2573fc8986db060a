"""How long the support leads' reports take to compute on a large database.

    python bench/seed.py postgresql://postgres@127.0.0.1:5432/portal_bench --replace
    python bench/reports.py postgresql://postgres@127.0.0.1:5432/portal_bench

Calls the services behind GET /support/reports directly (portal.reports.service), --repeat times
each: submissions per week by type, time to submit (medians by percentile_cont on PostgreSQL) and
open queries by age, then the time-to-submit way SQLite uses (rows read, medians in Python) for
comparison. seed.py makes no support queries, so --queries open ones (spread
over the last 30 days) are inserted first, inside the same transaction, which is rolled back at the
end: the seeded database is left as it was. Each SQL statement is timed too, and run once more under
EXPLAIN (ANALYZE, BUFFERS); the plans go to bench/results/reports-plans-<time>.txt.

Prints median and p95 in milliseconds per report and its statements, and writes
bench/results/reports-<time>.json. There is no target: the figures show how the reports grow with the
number of submissions in the 12-week window.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a database seed.py filled")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--queries", type=int, default=20_000, help="open support queries to add for the run")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from sqlalchemy import event, func, select, text

    from portal.db import make_engine, make_session_factory
    from portal.models import Submission
    from portal.reports import service

    engine = make_engine(common.plain_url(args.url))
    statements: list[tuple[str, dict, float]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters, time.perf_counter() - conn.info.pop("started")))

    load = common.machine_load("reports")
    session = make_session_factory(engine)()
    try:
        organisation = session.scalar(text("SELECT min(id) FROM organisations"))
        session.execute(
            text(
                "INSERT INTO support_queries (organisation_id, subject, status, asked_from, created_at, updated_at) "
                "SELECT :org, 'Bench question', (ARRAY['new', 'waiting_on_support', 'waiting_on_provider'])[1 + n % 3], "
                "'', now() - (n % 43200) * interval '1 minute', now() FROM generate_series(1, :count) AS n"
            ),
            {"org": organisation, "count": args.queries},
        )
        span = service.window()
        in_window = session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.submitted_at >= span.start, Submission.submitted_at < span.end)
        )
        reports = {
            "submissions per week": lambda: service.submissions_per_week(session, service.window()),
            "time to submit": lambda: service.time_to_submit(session, service.window()),
            "open queries by age": lambda: service.open_queries_by_age(session, service.window().now),
            "time to submit, medians in Python": lambda: service._time_to_submit_here(session, service.window()),
        }
        rows, plans = [], []
        results = {"machine": load, "submissions_in_window": in_window, "open_queries": args.queries, "reports": {}}
        for name, run in reports.items():
            statements.clear()
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                run()
                timings.append(time.perf_counter() - started)
            per_run = len(statements) // args.repeat
            statement, parameters, _ = statements[-1]
            sql_ms = sorted(seconds for _, _, seconds in statements)
            summary = common.summary_ms(timings)
            results["reports"][name] = {
                **summary,
                "statements_per_run": per_run,
                "sql_median_ms": round(1000 * sql_ms[len(sql_ms) // 2], 2),
            }
            rows.append(
                [name, summary["median_ms"], summary["p95_ms"], per_run, results["reports"][name]["sql_median_ms"]]
            )
            # In the session's own transaction, so the plan sees the queries added above.
            plan = session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            plans.append(f"-- {name}\n{statement}\n{parameters}\n" + "\n".join(line for (line,) in plan))
        print(f"{in_window:,} submissions in the 12-week window, {args.queries:,} open queries added")
        common.print_table(["report", "median ms", "p95 ms", "statements", "SQL median ms"], rows)
    finally:
        session.rollback()
        session.close()
        engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    stamp = common.stamp()
    (RESULTS / f"reports-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    (RESULTS / f"reports-plans-{stamp}.txt").write_text("\n\n".join(plans) + "\n")
    print(f"wrote bench/results/reports-{stamp}.json and reports-plans-{stamp}.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
