"""Load: signed-in people working through the portal, against a ceiling of bare Starlette.

    python bench/seed.py postgresql://postgres@127.0.0.1:5432/portal_bench --replace
    python bench/load.py postgresql://postgres@127.0.0.1:5432/portal_bench            # 50 people, 60 s
    python bench/load.py postgresql://postgres@127.0.0.1:5432/portal_bench --users 20 --duration 15

Starts the portal (`python -m portal.cli serve --workers 2 --no-worker`, PORTAL_ENV=development,
PORTAL_SEED_DEMO=0, a fixed PORTAL_SECRET_KEY so this script can make CSRF tokens) on a free port
against the seeded database, and bench/bare_app.py (one plaintext route, uvicorn, 2 workers).
Each is stopped at the end. Three phases, one after another, each bounded by its duration:

1. journey (--duration, 60 s, after --warmup 5 s unmeasured): --users virtual people loop through JOURNEY without pausing (--think
   adds a pause). Each works in a different seeded organisation (several share one when there are
   fewer organisations) and is signed in there three times, by session rows written straight to the
   database: as a drafter, a reviewer and a submitter. The drafter opens the dashboard, the
   notifications list, a draft's task list and its next unfinished section, saves that section (POST
   with the version from the page and valid answers for every question: 303 expected) and views the
   whole document. Once every section of the draft is complete, the drafter sends it for review, the
   reviewer opens the review page and approves it, and the submitter opens the submit page, submits
   it (declaration ticked) and opens the receipt; then the next draft. Each person has drafts of
   their own (--drafts-each), so saves do not conflict.
2. dashboard only (--phase-seconds, 20 s): the same people, GET /dashboard only.
3. bare (--phase-seconds): the same number of connections, GET /plaintext on the bare app.

Reports per page: requests/s, p50, p95, p99 (ms) and errors (any status other than the step's
expected one, or no response); the bare route's requests/s; and the dashboard's requests/s as a
percentage of the bare route's. Errors are listed with their status and the first lines of the
body, and the server log is searched for tracebacks. Writes bench/results/load-<time>.json.

The driver runs on the same two cores as the servers and the database; its own CPU use is reported
so you can tell when it, not the server, is the limit (the bare route usually is driver-bound).

--nodelay starts both servers with bench/serve_nodelay.py's listener fix (see that file): uvicorn
with --workers > 1 leaves TCP_NODELAY off, which costs ~40 ms per keep-alive request.

Adding a step: write an async function of the virtual person that makes its request(s) through
vu.request(step_name, method, path, role=..., expect=..., data=...) and add a Step to JOURNEY.
optional=True marks a page that may not be built yet: when its first answer is 404 the step is
skipped for the rest of the run and reported as not built (the review and submission steps are
marked so, as they were written while that work was under way).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

VERSION_RE = re.compile(r'name="version" value="(\d+)"')
TITLE_RE = re.compile(r"<title>\s*(.*?)\s*</title>", re.S)


# Virtual people ---------------------------------------------------------------------------------

ROLES = ("drafter", "reviewer", "submitter")


@dataclass
class Draft:
    id: int
    type_key: str
    location_rid: str
    unfinished: list[str]  # section keys not yet completed, in the type's order
    done: bool = False  # submitted, sent on its way, or stuck: not to be drafted again


@dataclass
class Run:
    """What every virtual person shares: the figures, and which optional steps turned out not to exist."""

    stats: Stats
    optional: set[str]
    deadline: float
    disabled: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)


@dataclass
class VU:
    """One virtual person, signed in three times in their organisation: as a drafter, a reviewer and
    a submitter (one connection each), working their own drafts through to submission."""

    number: int
    organisation_id: int
    clients: dict  # role -> httpx.AsyncClient
    csrf_token: dict  # role -> form token
    drafts: list[Draft]
    run: Run
    think: float = 0.0
    draft: Draft | None = None
    section_key: str = ""
    version: str = ""
    submitted: int = 0
    ran_out: bool = False

    def current(self) -> Draft | None:
        """The draft being worked on: the same one until it is submitted (or gets stuck)."""
        while self.draft is None and self.drafts:
            candidate = self.drafts.pop(0)
            if not candidate.done:
                self.draft = candidate
        if self.draft is None and not self.ran_out:
            self.ran_out = True  # from now on this person only looks at the dashboard and the list
            self.run.stats.ran_out += 1
        return self.draft

    def finish(self) -> None:
        if self.draft is not None:
            self.draft.done = True
        self.draft = None
        self.version = ""

    async def request(self, step: str, method: str, path: str, *, role: str = "drafter", expect=(200,), data=None):
        run = self.run
        if data is not None:
            data = {**data, "csrf_token": self.csrf_token[role]}
        began = time.perf_counter()
        try:
            try:
                response = await self.clients[role].request(method, path, data=data)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # The server closed an idle keep-alive connection (uvicorn's 5 s keep-alive timeout)
                # just as this request went out on it. Browsers retry a GET then, and so does this.
                if method != "GET":
                    raise
                run.stats.retries += 1
                response = await self.clients[role].request(method, path, data=data)
        except Exception as error:  # a timeout or a dropped connection is an error like any other
            run.stats.record(
                step,
                time.perf_counter() - began,
                ok=False,
                status=None,
                sample=f"{type(error).__name__}: {error}"[:300],
                path=path,
            )
            return None
        elapsed = time.perf_counter() - began
        if step in run.optional:
            # Its first answer decides (several people may be waiting on that first answer at once).
            if response.status_code == 404 and (step not in run.answered or step in run.disabled):
                run.answered.add(step)
                run.disabled.add(step)
                run.stats.skipped[step] = f"{method} {path} answered 404: not built yet, skipped"
                return None
            run.answered.add(step)
        ok = response.status_code in expect
        run.stats.record(
            step,
            elapsed,
            ok=ok,
            status=response.status_code,
            sample=None if ok else first_lines(response.text),
            path=path,
            size=len(response.content),
        )
        return response


def first_lines(text: str, lines: int = 3) -> str:
    title = TITLE_RE.search(text)
    body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    body = re.sub(r"<head>.*?</head>", "", body, flags=re.S)
    main = body.split('id="main-content"', 1)[-1]
    words = [line.strip() for line in re.sub(r"<[^>]+>", "\n", main).splitlines() if line.strip()]
    head = (f"title: {title.group(1)} | " if title else "") + " | ".join(words[:lines])
    return head[:400]


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: dict[tuple, dict] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    submitted: int = 0
    retries: int = 0
    ran_out: int = 0

    def record(self, step, elapsed, *, ok, status, sample, path, size=0):
        self.times.setdefault(step, []).append(elapsed)
        self.errors.setdefault(step, 0)
        counts = self.statuses.setdefault(step, {})
        counts[str(status)] = counts.get(str(status), 0) + 1
        self.bytes[step] = self.bytes.get(step, 0) + size
        if not ok:
            self.errors[step] += 1
            key = (step, status, sample)
            entry = self.samples.setdefault(
                key, {"step": step, "status": status, "first_lines": sample, "example_path": path, "count": 0}
            )
            entry["count"] += 1


# The journey ----------------------------------------------------------------------------------
#
# Each step is an async function of the virtual person. It makes its requests through vu.request,
# which times and checks them. A step with nothing to do this time round (no draft left, sections
# still unfinished) just returns.


@dataclass
class Step:
    name: str
    run: Callable[[VU], Awaitable[None]]
    optional: bool = False  # may not be built yet: a first answer of 404 skips it for the rest of the run


def _kind(draft: Draft):
    from portal.notifications.registry import definition

    return definition(draft.type_key)


async def dashboard(vu: VU):
    await vu.request("dashboard", "GET", "/dashboard")


async def notification_list(vu: VU):
    await vu.request("list", "GET", "/notifications")


async def task_list(vu: VU):
    draft = vu.current()
    if draft is not None:
        await vu.request("task list", "GET", f"/notifications/{draft.id}")


async def section_page(vu: VU):
    draft = vu.current()
    vu.version = ""
    if draft is None:
        return
    sections = _kind(draft).sections
    # The first unfinished section; once all are done, any section (people go back and change things).
    key = draft.unfinished[0] if draft.unfinished else sections[vu.number % len(sections)].key
    vu.section_key = key
    response = await vu.request("section", "GET", f"/notifications/{draft.id}/sections/{key}")
    match = VERSION_RE.search(response.text) if response is not None and response.status_code == 200 else None
    vu.version = match.group(1) if match else ""


async def save_section(vu: VU):
    from bench.answers import section_fields

    draft = vu.current()
    if draft is None or not vu.version:
        return  # nothing to work on, or the section page failed (already counted)
    section = next(s for s in _kind(draft).sections if s.key == vu.section_key)
    data = {**section_fields(section), "version": vu.version, "action": "continue"}
    response = await vu.request(
        "save section", "POST", f"/notifications/{draft.id}/sections/{section.key}", expect=(303,), data=data
    )
    if response is not None and response.status_code == 303 and section.key in draft.unfinished:
        draft.unfinished.remove(section.key)


async def document(vu: VU):
    draft = vu.current()
    if draft is not None:
        await vu.request("document", "GET", f"/notifications/{draft.id}/document")


def _ready(vu: VU) -> Draft | None:
    draft = vu.current()
    return draft if draft is not None and not draft.unfinished and not draft.done else None


async def send_for_review(vu: VU):
    draft = _ready(vu)
    if draft is None:
        return
    response = await vu.request(
        "send for review", "POST", f"/notifications/{draft.id}/request-review", expect=(303,), data={}
    )
    if response is None or response.status_code != 303:
        vu.finish()  # stuck: move on to the next draft rather than fail on this one every turn
    else:
        draft.done = True  # no more drafting on it; the reviewer is next
        vu.version = "review"


async def review_page(vu: VU):
    if vu.version == "review":
        await vu.request("review page", "GET", f"/notifications/{vu.draft.id}/review", role="reviewer")


async def approve(vu: VU):
    if vu.version != "review":
        return
    response = await vu.request(
        "approve", "POST", f"/notifications/{vu.draft.id}/approve", role="reviewer", expect=(303,), data={}
    )
    vu.version = "approved" if response is not None and response.status_code == 303 else ""
    if vu.version != "approved":
        vu.finish()


async def submit_page(vu: VU):
    if vu.version == "approved":
        await vu.request("submit page", "GET", f"/notifications/{vu.draft.id}/submit", role="submitter")


async def submit(vu: VU):
    if vu.version != "approved":
        return
    response = await vu.request(
        "submit",
        "POST",
        f"/notifications/{vu.draft.id}/submit",
        role="submitter",
        expect=(303,),
        data={"declaration": "yes"},
    )
    if response is not None and response.status_code == 303:
        vu.submitted += 1
        vu.version = "submitted"
    else:
        vu.finish()


async def receipt(vu: VU):
    if vu.version == "submitted":
        await vu.request("receipt", "GET", f"/notifications/{vu.draft.id}/receipt", role="submitter")
    if vu.version == "submitted":
        vu.finish()


JOURNEY: list[Step] = [
    Step("dashboard", dashboard),
    Step("list", notification_list),
    Step("task list", task_list),
    Step("section", section_page),
    Step("save section", save_section),
    Step("document", document),
    # Once every section is complete: review, approval and submission, each by the right person.
    Step("send for review", send_for_review, optional=True),
    Step("review page", review_page, optional=True),
    Step("approve", approve, optional=True),
    Step("submit page", submit_page, optional=True),
    Step("submit", submit, optional=True),
    Step("receipt", receipt, optional=True),
]


# Running --------------------------------------------------------------------------------------


def _members(conn, role: str) -> dict[int, list[int]]:
    """Organisation id -> people holding just that one role for the whole organisation."""
    rows = conn.execute(
        "SELECT m.user_id, m.organisation_id FROM memberships m JOIN role_grants g ON g.membership_id = m.id"
        " JOIN organisations o ON o.id = m.organisation_id"
        " WHERE o.kind = 'provider' AND o.name <> %s"
        " GROUP BY m.user_id, m.organisation_id"
        " HAVING count(*) = 1 AND bool_and(g.role = %s AND g.location_id IS NULL)"
        " ORDER BY m.organisation_id, m.user_id",
        (common.BIG_ORG_NAME, role),
    ).fetchall()
    by_org: dict[int, list[int]] = {}
    for user_id, org_id in rows:
        by_org.setdefault(org_id, []).append(user_id)
    return by_org


def people(url: str, count: int, per_person: int, rng: random.Random) -> list[dict]:
    """One virtual person per organisation where there are enough organisations (else several share
    one, each with drafts of their own): sessions for a drafter, a reviewer and a submitter there."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        members = {role: _members(conn, role) for role in ROLES}
        # Organisations with drafts enough left: earlier runs on the same database use some up.
        drafts_left = dict(
            conn.execute(
                "SELECT organisation_id, count(*) FROM notifications WHERE status IN ('draft', 'changes_requested')"
                " GROUP BY organisation_id"
            ).fetchall()
        )
        orgs = sorted(
            o
            for o in set(members["drafter"]) & set(members["reviewer"]) & set(members["submitter"])
            if drafts_left.get(o, 0) >= per_person
        )
        rng.shuffle(orgs)
        if not orgs:
            raise SystemExit(
                f"no organisation with a drafter, a reviewer, a submitter and {per_person} drafts left: "
                "seed again, or use fewer --drafts-each"
            )
        result = []
        taken: dict[int, int] = {}
        for number in range(count):
            org_id = orgs[number % len(orgs)]
            rows = conn.execute(
                "SELECT n.id, n.type_key, l.regulator_location_id,"
                " array_agg(s.section_key ORDER BY s.id) FILTER (WHERE s.status <> 'completed')"
                " FROM notifications n JOIN locations l ON l.id = n.location_id"
                " JOIN notification_sections s ON s.notification_id = n.id"
                " WHERE n.organisation_id = %s AND n.status IN ('draft', 'changes_requested')"
                " GROUP BY n.id, l.regulator_location_id ORDER BY n.id OFFSET %s LIMIT %s",
                (org_id, taken.get(org_id, 0), per_person),
            ).fetchall()
            taken[org_id] = taken.get(org_id, 0) + per_person
            if not rows:
                raise SystemExit(
                    f"organisation {org_id} has too few drafts for {per_person} each; "
                    "use fewer --users or --drafts-each"
                )
            cookies, tokens, users = {}, {}, {}
            for role in ROLES:
                people_there = members[role][org_id]
                users[role] = people_there[number // len(orgs) % len(people_there)]
                cookies[role], tokens[role] = common.signed_in_cookies(conn, users[role], org_id)
            result.append(
                {
                    "organisation_id": org_id,
                    "users": users,
                    "cookies": cookies,
                    "csrf_token": tokens,
                    "drafts": [
                        Draft(nid, type_key, rid, list(unfinished or [])) for nid, type_key, rid, unfinished in rows
                    ],
                }
            )
    return result


async def run_journey(
    base: str, persons: list[dict], duration: float, think: float, steps: list[Step], stats: Stats
) -> float:
    run = Run(stats=stats, optional={s.name for s in steps if s.optional}, deadline=time.monotonic() + duration)

    def clients_of(person: dict) -> dict:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        return {
            role: httpx.AsyncClient(
                base_url=base, cookies=person["cookies"][role], timeout=30, limits=limits, follow_redirects=False
            )
            for role in ROLES
        }

    # Every client is made before anyone starts: making one costs ~25 ms of the driver's CPU (httpx
    # loads the CA bundle), and made inside the run they blocked the event loop while the first
    # people's requests were timed, which showed as 4-second dashboards that the server never saw.
    all_clients = [clients_of(person) for person in persons]

    async def one(number: int, person: dict):
        clients = all_clients[number]
        vu = VU(
            number=number,
            organisation_id=person["organisation_id"],
            clients=clients,
            csrf_token=person["csrf_token"],
            drafts=list(person["drafts"]),
            run=run,
            think=think,
        )
        try:
            if think:
                # People arrive over a moment, not all in the same millisecond: a synchronised first
                # click from 50 fresh connections measured the start-up burst, not the pages.
                await asyncio.sleep(random.random() * 2 * think)
            while time.monotonic() < run.deadline:
                if vu.draft is not None and vu.draft.done:  # sent on its way last time round
                    vu.draft, vu.version = None, ""
                for step in steps:
                    if time.monotonic() >= run.deadline:
                        break
                    if step.name in run.disabled:
                        continue
                    await step.run(vu)
                    if think:
                        await asyncio.sleep(think * (0.5 + random.random()))
        finally:
            for client in clients.values():
                await client.aclose()
        return vu.submitted

    began = time.monotonic()
    submitted = await asyncio.wait_for(
        asyncio.gather(*(one(i, p) for i, p in enumerate(persons))), timeout=duration + 60
    )
    stats.submitted = sum(submitted)
    return time.monotonic() - began


async def run_single(
    base: str, path: str, name: str, connections: int, duration: float, cookies: list[dict] | None, stats: Stats
) -> float:
    run = Run(stats=stats, optional=set(), deadline=time.monotonic() + duration)

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    # Made before anyone starts, as in run_journey.
    all_clients = [
        httpx.AsyncClient(
            base_url=base, cookies=cookies[number % len(cookies)] if cookies else None, timeout=30, limits=limits
        )
        for number in range(connections)
    ]

    async def one(number: int):
        async with all_clients[number] as client:
            vu = VU(number=number, organisation_id=0, clients={"drafter": client}, csrf_token={}, drafts=[], run=run)
            while time.monotonic() < run.deadline:
                await vu.request(name, "GET", path)

    began = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(connections))), timeout=duration + 60)
    return time.monotonic() - began


def measured(stats: Stats, elapsed: float, order: list[str]) -> dict:
    pages = {}
    for name in order + [n for n in stats.times if n not in order]:
        if name not in stats.times:
            continue
        times = stats.times[name]
        pages[name] = {
            "requests": len(times),
            "requests_per_s": round(len(times) / elapsed, 1),
            **common.summary_ms(times),
            "errors": stats.errors.get(name, 0),
            "statuses": stats.statuses.get(name, {}),
            "mean_kb": round(stats.bytes.get(name, 0) / max(1, len(times)) / 1024, 1),
        }
    return pages


def print_pages(pages: dict) -> None:
    common.print_table(
        ["page", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "statuses"],
        [
            [
                name,
                p["requests"],
                p["requests_per_s"],
                p["median_ms"],
                p["p95_ms"],
                p["p99_ms"],
                p["errors"],
                " ".join(f"{k}x{v}" for k, v in sorted(p["statuses"].items())),
            ]
            for name, p in pages.items()
        ],
    )


def log_problems(log_path: Path, limit: int = 10) -> list[str]:
    """Distinct exceptions in the server log: the line that names each, with the request it was in."""
    if not log_path.exists():
        return []
    found: dict[str, int] = {}
    lines = log_path.read_text(errors="replace").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = index + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            if end < len(lines):
                found[lines[end].strip()[:300]] = found.get(lines[end].strip()[:300], 0) + 1
        elif " ERROR " in line:
            key = line.split(" ERROR ", 1)[1][:300]
            key = re.sub(r"request_id=\w+", "request_id=…", key)
            found[key] = found.get(key, 0) + 1
    return [f"{count}x {text}" for text, count in list(found.items())[:limit]]


def wrk(url: str, connections: int, seconds: float, cookies: dict | None = None) -> dict | None:
    """The same GET driven by wrk (C, one thread), when it is installed: a ceiling the Python driver,
    which needs a core of its own for a few thousand requests a second, cannot show."""
    import shutil
    import subprocess

    if shutil.which("wrk") is None:
        return None
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "-H", "Accept-Encoding: gzip"]
    if cookies:
        command += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    out = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    latency = re.search(r"Latency\s+([0-9.]+)(us|ms|s)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {
        "requests_per_s": float(rate.group(1)) if rate else None,
        "mean_latency_ms": round(float(latency.group(1)) * scale[latency.group(2)], 1) if latency else None,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a database seeded by bench/seed.py")
    parser.add_argument("--users", type=int, default=50, help="concurrent signed-in people")
    parser.add_argument("--duration", type=float, default=60, help="seconds of the journey phase")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of journey before measuring")
    parser.add_argument(
        "--phase-seconds",
        type=float,
        default=20,
        help="seconds of each of the dashboard-only and bare phases (0 skips them)",
    )
    parser.add_argument("--think", type=float, default=0, help="mean pause between steps, seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drafts-each", type=int, default=20, help="draft notifications per person")
    parser.add_argument("--nodelay", action="store_true", help="serve through bench/serve_nodelay.py")
    parser.add_argument(
        "--wrk", action="store_true", help="also drive the dashboard-only and bare phases with wrk, if it is installed"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    url = common.plain_url(args.url)
    rng = random.Random(args.seed)
    random.seed(args.seed)
    print(f"signing in {args.users} people ...", flush=True)
    persons = people(url, args.users, args.drafts_each, rng)
    results: dict = {
        "users": args.users,
        "duration_s": args.duration,
        "phase_seconds": args.phase_seconds,
        "think_s": args.think,
        "workers": args.workers,
        "nodelay": args.nodelay,
        "database": common.database_name(url),
        "load_before": common.machine_load("before"),
    }

    portal, base, portal_log = common.start_portal(url, workers=args.workers, log_name="load", nodelay=args.nodelay)
    try:
        print(
            f"portal at {base} ({'TCP_NODELAY fixed' if args.nodelay else 'as shipped'}); "
            f"journey for {args.warmup:.0f}s to warm up, then {args.duration:.0f}s measured ...",
            flush=True,
        )
        if args.warmup > 0:  # each worker compiles its templates and fills its pools; not measured
            asyncio.run(run_journey(base, persons, args.warmup, args.think, JOURNEY, Stats()))
        stats = Stats()
        cpu0 = time.process_time()
        elapsed = asyncio.run(run_journey(base, persons, args.duration, args.think, JOURNEY, stats))
        journey = measured(stats, elapsed, [step.name for step in JOURNEY])
        total = sum(p["requests"] for p in journey.values())
        results["journey"] = {
            "elapsed_s": round(elapsed, 1),
            "pages": journey,
            "skipped": stats.skipped,
            "notifications_submitted": stats.submitted,
            "get_retries_after_keepalive_close": stats.retries,
            "people_who_ran_out_of_drafts": stats.ran_out,
            "requests_per_s": round(total / elapsed, 1),
            "driver_cpu_percent": round(100 * (time.process_time() - cpu0) / elapsed),
            "errors": sorted(stats.samples.values(), key=lambda e: -e["count"]),
        }
        print(
            f"\njourney: {args.users} people, {elapsed:.0f}s, {total / elapsed:.1f} requests/s in all, "
            f"{stats.submitted} notifications taken from draft to submitted, "
            f"driver CPU {results['journey']['driver_cpu_percent']}% of one core"
        )
        print_pages(journey)
        for name, why in stats.skipped.items():
            print(f"  {name}: {why}")
        if stats.ran_out:
            print(
                f"  WARNING: {stats.ran_out} people ran out of drafts and only looked at the dashboard and list "
                "from then on: use more --drafts-each"
            )
        if stats.retries:
            print(f"  {stats.retries} GET(s) retried once after the server closed an idle keep-alive connection")

        if args.phase_seconds > 0:
            print(f"\ndashboard only for {args.phase_seconds:.0f}s ...", flush=True)
            stats = Stats()
            cpu0 = time.process_time()
            elapsed = asyncio.run(
                run_single(
                    base,
                    "/dashboard",
                    "dashboard only",
                    args.users,
                    args.phase_seconds,
                    [p["cookies"]["drafter"] for p in persons],
                    stats,
                )
            )
            results["dashboard_only"] = {
                **measured(stats, elapsed, [])["dashboard only"],
                "driver_cpu_percent": round(100 * (time.process_time() - cpu0) / elapsed),
                "errors_sample": list(stats.samples.values()),
            }
            print_pages({"dashboard only": results["dashboard_only"]})
            if args.wrk:
                results["wrk_dashboard"] = wrk(
                    f"{base}/dashboard", args.users, args.phase_seconds, persons[0]["cookies"]["drafter"]
                )
                print(f"  wrk, {args.users} connections: {results['wrk_dashboard']}")
    finally:
        common.stop(portal)
    results["server_log"] = str(portal_log)
    results["server_log_problems"] = log_problems(portal_log)

    if args.phase_seconds > 0:
        bare, bare_base, bare_log = common.start_bare(workers=args.workers, nodelay=args.nodelay)
        try:
            print(f"\nbare Starlette /plaintext for {args.phase_seconds:.0f}s ...", flush=True)
            stats = Stats()
            cpu0 = time.process_time()
            elapsed = asyncio.run(
                run_single(bare_base, "/plaintext", "bare /plaintext", args.users, args.phase_seconds, None, stats)
            )
            results["bare"] = {
                **measured(stats, elapsed, [])["bare /plaintext"],
                "driver_cpu_percent": round(100 * (time.process_time() - cpu0) / elapsed),
            }
            print_pages({"bare /plaintext": results["bare"]})
            if args.wrk:
                results["wrk_bare"] = wrk(f"{bare_base}/plaintext", args.users, args.phase_seconds)
                print(f"  wrk, {args.users} connections: {results['wrk_bare']}")
        finally:
            common.stop(bare)
        ceiling = results["bare"]["requests_per_s"]
        dash = results["dashboard_only"]["requests_per_s"]
        results["dashboard_percent_of_bare"] = round(100 * dash / ceiling, 1) if ceiling else None
        print(
            f"\ndashboard {dash:.1f} req/s = {results['dashboard_percent_of_bare']}% of bare {ceiling:.1f} req/s "
            f"(bare phase driver CPU {results['bare']['driver_cpu_percent']}% of one core)"
        )
        if results.get("wrk_dashboard") and results.get("wrk_bare"):
            wd, wb = results["wrk_dashboard"]["requests_per_s"], results["wrk_bare"]["requests_per_s"]
            if wd and wb:
                results["wrk_dashboard_percent_of_bare"] = round(100 * wd / wb, 1)
                print(
                    f"with wrk: dashboard {wd:.1f} req/s = {results['wrk_dashboard_percent_of_bare']}% of bare "
                    f"{wb:.1f} req/s"
                )

    results["load_after"] = common.machine_load("after")
    errors = results["journey"]["errors"]
    if errors:
        print("\nerrors (status, first lines of the body):")
        for entry in errors:
            print(
                f"  {entry['count']}x {entry['step']} {entry['status']} {entry['example_path']}: {entry['first_lines']}"
            )
    if results["server_log_problems"]:
        print("\nserver log problems:")
        for line in results["server_log_problems"]:
            print(f"  {line}")
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    out = common.RESULTS / f"load-{common.stamp()}{'-nodelay' if args.nodelay else ''}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
