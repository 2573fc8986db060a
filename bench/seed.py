"""Seed a fresh PostgreSQL database with a large, realistic portal: fast, through COPY.

    python bench/seed.py postgresql://postgres@127.0.0.1:5432/portal_bench            # full size
    python bench/seed.py postgresql://postgres@127.0.0.1:5432/portal_bench --scale 0.05  # quick
    python bench/seed.py postgresql://postgres@127.0.0.1:5432/portal_bench --big-org 100000

The database named in the URL is created (--replace drops it first if it exists), migrated with
portal.migrate.upgrade, then filled:

- --orgs organisations (default 1,000), each with two locations;
- --users-per-org people each (default 20) with drafter, reviewer, submitter and organisation admin
  roles spread across them (some drafters hold their role at one location only);
- --notifications-per-org notifications each (default 200), spread over every shipped type, with
  mixed statuses (35% draft, 10% in review, 5% changes requested, 5% approved, 40% submitted, 5%
  withdrawn), and one section row per section of the type: submitted, approved and in-review ones
  complete, drafts part-way through. Where the schema has them, approved and submitted ones carry
  their approval (approved_hash is the portal's own content hash, so they stay approved) and each
  submitted one its frozen submissions row and reference;
- audit events for each start, saved section, review request, approval, submission and withdrawal
  (--no-audit to leave them out);
- --big-org N: one more organisation, "Bench Big Care Ltd", with N notifications (for list_latency.py).

--scale multiplies the number of organisations (0.01 gives 10). Rows are written with psycopg 3's
COPY in batches, with foreign-key triggers off for the load (session_replication_role = replica; the
rows are consistent by construction), then sequences are moved past the ids used and the database
is VACUUM ANALYZEd so plans and index-only scans are as they would be in steady state.

Every seeded person's email is u<org>-<n>@bench.example (big org: big-<n>@bench.example).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.answers import answers_json, partial_answers_json, shipped_types

# Role plan for a 20-person organisation, by position; larger and smaller ones repeat or cut it.
# (role, scope) where scope is None for the whole organisation, or 0/1 for its first/second location.
ROLE_PLAN: list[list[tuple[str, int | None]]] = [
    [("drafter", None)],
    [("drafter", None)],
    [("drafter", None)],
    [("drafter", None)],
    [("drafter", None)],
    [("drafter", None)],
    [("drafter", 0)],
    [("drafter", 1)],
    [("reviewer", None)],
    [("reviewer", None)],
    [("reviewer", None)],
    [("reviewer", 0)],
    [("submitter", None)],
    [("submitter", None)],
    [("submitter", 1)],
    [("organisation_admin", None)],
    [("organisation_admin", None)],
    [("drafter", None), ("reviewer", None)],
    [("drafter", None), ("reviewer", None)],
    [("reviewer", None), ("submitter", None)],
]

STATUSES = [
    ("draft", 35),
    ("in_review", 10),
    ("changes_requested", 5),
    ("approved", 5),
    ("submitted", 40),
    ("withdrawn", 5),
]
COMPLETE_STATUSES = {"in_review", "approved", "submitted"}

NOTIFICATION_COLUMNS = (
    "id",
    "organisation_id",
    "location_id",
    "type_key",
    "type_version",
    "status",
    "created_by_id",
    "assigned_to_id",
    "created_at",
    "updated_at",
    "updated_by_id",
    "parent_id",
    "reference",
    "submitted_at",
)
SECTION_COLUMNS = (
    "id",
    "notification_id",
    "section_key",
    "answers",
    "raw",
    "status",
    "version",
    "updated_by_id",
    "updated_at",
)
WORKFLOW_COLUMNS = ("review_requested_at", "approved_at", "approved_by_id", "approved_hash")
SUBMISSION_COLUMNS = (
    "id",
    "notification_id",
    "organisation_id",
    "reference",
    "parent_reference",
    "type_key",
    "type_version",
    "snapshot",
    "content_hash",
    "submitted_by_id",
    "submitted_at",
)
AUDIT_COLUMNS = (
    "id",
    "event_type",
    "organisation_id",
    "actor_id",
    "subject_user_id",
    "notification_id",
    "occurred_at",
    "ip_address",
    "user_agent",
    "data",
)


class Org:
    __slots__ = (
        "id",
        "name",
        "provider_id",
        "location_ids",
        "location_rids",
        "location_names",
        "user_ids",
        "drafters_at",
        "reviewers",
        "submitters",
    )

    def __init__(self, id_, name):
        self.id = id_
        self.name = name
        self.location_ids: list[int] = []
        self.location_rids: list[str] = []
        self.location_names: list[str] = []
        self.user_ids: list[int] = []
        self.drafters_at: list[list[int]] = [[], []]
        self.reviewers: list[int] = []
        self.submitters: list[int] = []
        self.provider_id = f"1-{100000000 + id_}"


def table_columns(conn) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    ):
        columns.setdefault(table, set()).add(column)
    return columns


def hash_of(answers_by_section: dict[str, str]) -> str:
    """What portal.notifications.content.content_hash gives for these answers and no attachments."""
    try:
        from portal.notifications.content import content_hash
    except ImportError:  # a schema without the workflow: any stable digest will do
        import hashlib

        return hashlib.sha256(json.dumps(answers_by_section, sort_keys=True).encode()).hexdigest()
    return content_hash({key: json.loads(text) for key, text in answers_by_section.items()}, [])


REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def reference_for(nid: int) -> str:
    """A unique 8-letter reference in the portal's alphabet, spread out rather than counting up."""
    number = (nid * 2_654_435_761) % (25**8)
    letters = []
    for _ in range(8):
        number, digit = divmod(number, 25)
        letters.append(REFERENCE_ALPHABET[digit])
    return "".join(letters)


def submission_row(
    nid,
    org,
    where,
    kind,
    answers_by_section,
    drafter,
    approver,
    approved_at,
    submitter,
    submitted,
    reference,
    digest,
    emails,
):
    snapshot = {
        "type": {"key": kind.key, "version": kind.version, "title": kind.title},
        "organisation": {"name": org.name, "provider_id": org.provider_id},
        "location": {"name": org.location_names[where], "location_id": org.location_rids[where]},
        "answers": {key: json.loads(text) for key, text in answers_by_section.items()},
        "attachments": [],
        "drafted_by": [emails[drafter]],
        "approved_by": emails[approver],
        "approved_at": approved_at.isoformat(),
        "submitted_by": emails[submitter],
        "submitted_at": submitted.isoformat(),
        "follow_up_of": None,
    }
    return (
        nid,
        nid,
        org.id,
        reference,
        None,
        kind.key,
        kind.version,
        json.dumps(snapshot),
        digest,
        submitter,
        submitted,
    )


def copy_rows(cur, table: str, columns, rows) -> int:
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="postgresql://user@host:port/NEW_DATABASE (created by this script)")
    parser.add_argument("--replace", action="store_true", help="drop the database first if it exists")
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--users-per-org", type=int, default=20)
    parser.add_argument("--notifications-per-org", type=int, default=200)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies --orgs (0.01 -> 10 organisations)")
    parser.add_argument(
        "--big-org", type=int, default=0, metavar="N", help="also seed one organisation with N notifications"
    )
    parser.add_argument("--no-audit", action="store_true", help="seed no audit events")
    parser.add_argument("--batch", type=int, default=20_000, help="notifications per COPY batch")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import psycopg

    from portal.db import make_engine
    from portal.migrate import upgrade

    rng = random.Random(args.seed)
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []

    def mark(label: str, rows: int | None = None):
        now = time.perf_counter()
        elapsed = now - (marks[-1][1] if marks else started)
        marks.append((label, now))
        extra = f", {rows:,} rows ({rows / elapsed:,.0f}/s)" if rows else ""
        print(f"  {label}: {elapsed:.1f}s{extra}", flush=True)

    url = common.plain_url(args.url)
    print(f"seeding {common.database_name(url)}", flush=True)
    common.create_database(url, replace=args.replace)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    mark("created and migrated")

    org_count = max(1, round(args.orgs * args.scale))
    per_org = args.users_per_org
    now = datetime.now(UTC)
    types = shipped_types()
    status_names = [s for s, _ in STATUSES]
    status_weights = [w for _, w in STATUSES]

    orgs: list[Org] = [Org(i + 1, f"Bench Care {i + 1:04d} Ltd") for i in range(org_count)]
    if args.big_org:
        orgs.append(Org(org_count + 1, common.BIG_ORG_NAME))

    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        cur = conn.cursor()

        # Organisations, locations, people ------------------------------------------------------
        org_rows, location_rows, user_rows, membership_rows, grant_rows = [], [], [], [], []
        location_id = user_id = grant_id = 0
        emails: dict[int, str] = {}
        for org in orgs:
            big = org.name == common.BIG_ORG_NAME
            org_rows.append((org.id, "provider", org.name, org.provider_id, True, now - timedelta(days=800)))
            for n, place in enumerate(("House", "Court")):
                location_id += 1
                rid = f"1-{200000000 + org.id * 2 + n}"
                name = f"{'Big' if big else 'Bench'} {org.id} {place}"
                org.location_ids.append(location_id)
                org.location_rids.append(rid)
                org.location_names.append(name)
                location_rows.append((location_id, org.id, name, rid))
            for n in range(per_org):
                user_id += 1
                email = f"big-{n + 1}@bench.example" if big else f"u{org.id}-{n + 1}@bench.example"
                user_rows.append((user_id, email, f"Person {n + 1} of {org.id}", True, now - timedelta(days=700)))
                emails[user_id] = email
                membership_rows.append((user_id, user_id, org.id, now - timedelta(days=700)))
                org.user_ids.append(user_id)
                for role, scope in ROLE_PLAN[n % len(ROLE_PLAN)]:
                    grant_id += 1
                    where = None if scope is None else org.location_ids[scope]
                    grant_rows.append((grant_id, user_id, role, where))
                    if role == "drafter":
                        for index in (0, 1):
                            if scope is None or scope == index:
                                org.drafters_at[index].append(user_id)
                    elif role == "reviewer" and scope is None:
                        org.reviewers.append(user_id)
                    elif role == "submitter" and scope is None:
                        org.submitters.append(user_id)
            for index in (0, 1):
                if not org.drafters_at[index]:
                    org.drafters_at[index] = org.user_ids[:1]
            org.reviewers = org.reviewers or org.user_ids[:1]
            org.submitters = org.submitters or org.user_ids[:1]
        copy_rows(
            cur, "organisations", ("id", "kind", "name", "provider_id", "separation_of_duties", "created_at"), org_rows
        )
        copy_rows(cur, "locations", ("id", "organisation_id", "name", "regulator_location_id"), location_rows)
        copy_rows(cur, "users", ("id", "email", "display_name", "active", "created_at"), user_rows)
        copy_rows(cur, "memberships", ("id", "user_id", "organisation_id", "created_at"), membership_rows)
        copy_rows(cur, "role_grants", ("id", "membership_id", "role", "location_id"), grant_rows)
        conn.commit()
        mark(
            f"{len(orgs):,} organisations, {len(location_rows):,} locations, {len(user_rows):,} people",
            len(org_rows) + len(location_rows) + len(user_rows) + len(membership_rows) + len(grant_rows),
        )

        # Notifications, in the order they were started, so one organisation's rows are spread over
        # the table as they would be in life.
        owners: list[int] = []
        for org in orgs:
            count = args.big_org if org.name == common.BIG_ORG_NAME else args.notifications_per_org
            owners.extend([org.id - 1] * count)
        rng.shuffle(owners)
        total = len(owners)
        span = timedelta(days=730).total_seconds()
        # Start times ascending with the id.
        offsets = sorted(rng.random() * span for _ in range(total))
        print(f"  writing {total:,} notifications in batches of {args.batch:,}", flush=True)

        columns = table_columns(conn)
        workflow = {"review_requested_at", "approved_at", "approved_by_id", "approved_hash"} <= columns["notifications"]
        with_submissions = "submissions" in columns
        notification_columns = NOTIFICATION_COLUMNS + (WORKFLOW_COLUMNS if workflow else ())
        if not workflow:
            print("  (no review/approval columns in this schema: leaving them out)")

        section_id = audit_id = 0
        section_count = audit_count = submission_count = 0
        batch_started = time.perf_counter()
        for start in range(0, total, args.batch):
            notification_rows, section_rows, audit_rows, submission_rows = [], [], [], []

            def event(kind_name, org_id, actor, nid, when, audit_rows=audit_rows, **data):
                nonlocal audit_id
                if not args.no_audit:
                    audit_id += 1
                    audit_rows.append((audit_id, kind_name, org_id, actor, None, nid, when, "", "", json.dumps(data)))

            for index in range(start, min(start + args.batch, total)):
                nid = index + 1
                org = orgs[owners[index]]
                kind = types[rng.randrange(len(types))]
                where = rng.randrange(2)
                drafters = org.drafters_at[where]
                creator = drafters[rng.randrange(len(drafters))]
                editor = drafters[rng.randrange(len(drafters))]
                assignee = drafters[rng.randrange(len(drafters))] if rng.random() < 0.8 else None
                created = now - timedelta(seconds=span) + timedelta(seconds=offsets[index])
                status = rng.choices(status_names, status_weights)[0]
                edited = created + timedelta(seconds=rng.random() * min(7 * 86400, (now - created).total_seconds()))
                rid = org.location_rids[where]
                event(
                    "notification:started",
                    org.id,
                    creator,
                    nid,
                    created,
                    type=kind.title,
                    location=org.location_names[where],
                )

                sections = kind.sections
                done = len(sections) if status in COMPLETE_STATUSES else rng.randrange(len(sections) + 1)
                answers_by_section = {}
                for position, section in enumerate(sections):
                    section_id += 1
                    if position < done:
                        answers = answers_json(kind.key, section.key)
                        section_rows.append(
                            (
                                section_id,
                                nid,
                                section.key,
                                answers,
                                "{}",
                                "completed",
                                1 + rng.randrange(3),
                                editor,
                                edited,
                            )
                        )
                        event("notification:section_saved", org.id, editor, nid, edited, section=section.title)
                    elif position == done and rng.random() < 0.5:
                        answers = partial_answers_json(kind.key, section.key)
                        section_rows.append(
                            (section_id, nid, section.key, answers, "{}", "in_progress", 1, editor, edited)
                        )
                    else:
                        answers = "{}"
                        section_rows.append((section_id, nid, section.key, answers, "{}", "not_started", 0, None, None))
                    answers_by_section[section.key] = answers

                # The workflow, in order: sent for review, approved, submitted.
                updated, updated_by = edited, editor
                review_requested = approved_at = approver = approved_hash = submitted = reference = None
                if status in ("in_review", "changes_requested", "approved", "submitted"):
                    review_requested = edited + timedelta(minutes=5 + rng.randrange(600))
                    updated, updated_by = review_requested, editor
                    event("notification:review_requested", org.id, editor, nid, review_requested, type=kind.title)
                if status in ("approved", "submitted"):
                    approved_at = review_requested + timedelta(minutes=30 + rng.randrange(2880))
                    approver = org.reviewers[rng.randrange(len(org.reviewers))]
                    approved_hash = hash_of(answers_by_section)
                    updated, updated_by = approved_at, approver
                    event("notification:approved", org.id, approver, nid, approved_at, type=kind.title)
                if status == "submitted":
                    submitted = approved_at + timedelta(minutes=5 + rng.randrange(600))
                    submitter = org.submitters[rng.randrange(len(org.submitters))]
                    reference = reference_for(nid)
                    updated, updated_by = submitted, submitter
                    event("notification:submitted", org.id, submitter, nid, submitted, reference=reference)
                    if with_submissions:
                        submission_rows.append(
                            submission_row(
                                nid,
                                org,
                                where,
                                kind,
                                answers_by_section,
                                editor,
                                approver,
                                approved_at,
                                submitter,
                                submitted,
                                reference,
                                approved_hash,
                                emails,
                            )
                        )
                if status == "withdrawn":
                    updated = edited + timedelta(minutes=5 + rng.randrange(600))
                    event("notification:withdrawn", org.id, editor, nid, updated, type=kind.title)
                updated = min(updated, now)
                row = (
                    nid,
                    org.id,
                    org.location_ids[where],
                    kind.key,
                    kind.version,
                    status,
                    creator,
                    assignee,
                    created,
                    updated,
                    updated_by,
                    None,
                    reference,
                    submitted,
                )
                if workflow:
                    row += (review_requested, approved_at, approver, approved_hash)
                notification_rows.append(row)
            copy_rows(cur, "notifications", notification_columns, notification_rows)
            section_count += copy_rows(cur, "notification_sections", SECTION_COLUMNS, section_rows)
            if audit_rows:
                audit_count += copy_rows(cur, "audit_events", AUDIT_COLUMNS, audit_rows)
            if submission_rows:
                submission_count += copy_rows(cur, "submissions", SUBMISSION_COLUMNS, submission_rows)
            conn.commit()
            done_so_far = min(start + args.batch, total)
            rate = done_so_far / (time.perf_counter() - batch_started)
            print(f"    {done_so_far:,}/{total:,} notifications ({rate:,.0f}/s)", flush=True)
        mark(
            f"{total:,} notifications, {section_count:,} sections, {submission_count:,} submissions, "
            f"{audit_count:,} audit events",
            total + section_count + submission_count + audit_count,
        )

        for table in (
            "organisations",
            "locations",
            "users",
            "memberships",
            "role_grants",
            "notifications",
            "notification_sections",
            "audit_events",
        ) + (("submissions",) if with_submissions else ()):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
            )
        conn.execute("SET session_replication_role = DEFAULT")
        conn.commit()

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    mark("sequences, VACUUM ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.1f}s; database size {size}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
