"""Two people pressing buttons on one notification at the same moment, across two worker processes:
the database record keeps its rules whoever wins, the loser is told why on a page, and only the
winner's emails go out (issue 13).

Each race is run many times, each time on a fresh notification brought to the right state through
the services, then the two (or three) requests leave together from a barrier, one of them held back by
a small offset that varies from try to try so that both orders and the overlaps between them are met.
After each try the database is read: the notification's invariants, its submissions, the snapshot
against the answers now, and the outbox. After all tries the server's log must hold no deadlock,
no traceback and no "database is locked".

Each race prints one line of figures (run with -s to see them): they are the before/after figures of
the issue's closing note, so they are counted here rather than by hand.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload
from starlette.datastructures import FormData

from portal.accounts import sessions
from portal.db import transaction
from portal.models import Location, Membership, Notification, Organisation, OutboxMessage, Submission, User
from portal.notifications import drafting, review
from portal.notifications.examples import example_section
from portal.notifications.form_input import section_raw
from portal.notifications.invariants import broken
from portal.notifications.reading import answers_of, attachments_of, type_of
from portal.notifications.registry import definition

from .conftest import SUMMARY, csrf_from, make_organisation
from .drafting import EXAMPLE_PDF
from .live_server import LiveServer, sign_in, wait_for

TRIES = 50
# The later of the two requests leaves up to this long after the other: from a true overlap to one
# finishing before the other starts, so every interleaving in between is met somewhere.
MAX_OFFSET_MS = 50
UPLOAD_MAX_OFFSET_MS = 250
TYPE = "event_stopping_service"  # small, with a file question
FILE_QUESTION = "supporting_documents"
REGULATOR_LOCATION = "1-204000013"
DRAFTER = "drafter@races.example"
SECOND_DRAFTER = "drafter2@races.example"
REVIEWER_A = "reviewer.a@races.example"
REVIEWER_B = "reviewer.b@races.example"
SUBMITTER = "submitter@races.example"
# Alternately on the two workers: each race's rivals are on different ones.
PEOPLE = [
    (DRAFTER, "drafter"),
    (SUBMITTER, "submitter"),
    (REVIEWER_A, "reviewer"),
    (REVIEWER_B, "reviewer"),
    (SECOND_DRAFTER, "drafter"),
]


@pytest.fixture(scope="module")
def server(database_url, migrated, tmp_path_factory):
    """One server for the module's races on each database: it keeps nothing in memory between tests."""
    live = LiveServer(database_url, tmp_path_factory.mktemp("races") / "portal", workers=2).start()
    yield live
    live.stop()


@dataclass
class Person:
    """One person's browser, whose requests go through one kept-alive connection to their own worker."""

    server: LiveServer
    email: str
    worker: int  # the worker process this person's connection is meant to reach
    client: httpx.Client = field(init=False)
    token: str = ""  # the CSRF token is bound to the browser's cookie, so one serves every form
    port: int = 0  # the client port of the connection

    def __post_init__(self) -> None:
        self.client = self._browser()

    def _browser(self) -> httpx.Client:
        # httpx drops a connection idle for 5 s by default; the next request would then go to whichever
        # worker accepts the new one. The server keeps an idle connection for over a minute.
        transport = httpx.HTTPTransport(
            local_address="127.0.0.1", limits=httpx.Limits(max_connections=4, keepalive_expiry=None)
        )
        browser = httpx.Client(base_url=self.server.base, transport=transport, follow_redirects=False, timeout=60)
        # Read as the response's headers arrive, while the connection is surely open.
        browser.event_hooks["response"] = [self._note_port]
        return browser

    def _note_port(self, response: httpx.Response) -> None:
        try:
            self.port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        except OSError:
            self.port = 0

    def post(self, path: str, data: dict, **kwargs) -> httpx.Response:
        return self.client.post(path, data={**data, "csrf_token": self.token}, **kwargs)

    def keep_on_own_worker(self) -> None:
        """Opens the connection again until this person's own worker accepts it, so that each race is
        between two processes, whichever way the kernel hands out connections."""
        for _ in range(200):
            if self.port and self.server.serving_pid(self.port) == self.worker:
                return
            if self.port:
                browser = self._browser()
                browser.cookies = self.client.cookies
                self.client.close()
                self.client = browser
            self.client.get("/healthz")
        raise AssertionError(f"worker {self.worker} never accepted {self.email}'s connection")


@pytest.fixture
def people(server, db_factory) -> dict[str, Person]:
    """Everyone signed in once, through the sign-in link, each in a browser of their own; the people who
    race each other have their connections on different workers."""
    make_organisation(
        db_factory, "Race Care Ltd", "1-104000013", PEOPLE, locations=[("Race House", REGULATOR_LOCATION)]
    )
    server.wait_until_ready()
    workers = sorted(server.worker_pids())
    signed_in = {}
    for n, (email, _) in enumerate(PEOPLE):
        person = Person(server, email, workers[n % 2])
        sign_in(person.client, db_factory, email)
        person.token = csrf_from(person.client, "/notifications")
        signed_in[email] = person
    yield signed_in
    for person in signed_in.values():
        person.client.close()


# Bringing a fresh notification to the state a race starts from, through the services ---------------


def auth_of(db: Session, email: str) -> sessions.Auth:
    user = db.scalar(select(User).where(User.email == email))
    membership = db.scalar(
        select(Membership)
        .options(
            selectinload(Membership.grants), joinedload(Membership.organisation).selectinload(Organisation.locations)
        )
        .where(Membership.user_id == user.id)
    )
    return sessions.Auth(
        user=user,
        session=None,
        organisation=membership.organisation,
        membership=membership,
        grants=sessions.grants_of(membership),
    )


def section_fields(section_key: str, changes: dict[str, str] | None = None) -> dict[str, list[str]]:
    """A valid answer to every question of the section as form fields, with some answers changed."""
    section = next(s for s in definition(TYPE).sections if s.key == section_key)
    fields = {**example_section(section), **(changes or {})}
    return {name: value if isinstance(value, list) else [value] for name, value in fields.items()}


def prepared(db_factory, base_url: str, until: str) -> int:
    """A notification drafted in full by the drafter and sent for review; approved by reviewer A when
    `until` is "approved". The reviewers never edit it, so either may approve it (separation of duties)."""
    with transaction(db_factory) as db:
        drafter = auth_of(db, DRAFTER)
        location_id = db.scalar(select(Location.id).where(Location.regulator_location_id == REGULATOR_LOCATION))
        notification = drafting.start(db, drafter, type_key=TYPE, location_id=location_id)
        for section, draft in zip(type_of(notification).sections, notification.sections, strict=True):
            raw = section_raw(section, FormData([(k, v) for k, vs in section_fields(section.key).items() for v in vs]))
            result = drafting.save_section(db, drafter, notification, section.key, raw, expected_version=draft.version)
            assert not result.errors and result.conflict is None, result.errors
        review.request_review(db, drafter, notification, base_url=base_url)
        if until == "approved":
            review.approve(db, auth_of(db, REVIEWER_A), notification, base_url=base_url)
        assert notification.status == until
        return notification.id


def section_version(db_factory, notification_id: int, section_key: str) -> int:
    with db_factory() as db:
        notification = db.get(Notification, notification_id)
        return next(d.version for d in notification.sections if d.section_key == section_key)


def last_outbox_id(db_factory) -> int:
    with db_factory() as db:
        return db.scalar(select(func.max(OutboxMessage.id))) or 0


# The requests ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One person's request in a race."""

    name: str
    side: str  # the moves of one side may all succeed together; two sides may not
    person: Person
    path: str
    data: dict = field(default_factory=dict)
    files: dict | None = None
    emails: frozenset[str] = frozenset()  # the email templates it sends when it succeeds
    lands_on: str = ""  # where its success redirects to

    def send(self) -> httpx.Response:
        return self.person.post(self.path, self.data, files=self.files)

    def succeeded(self, response: httpx.Response) -> bool:
        return response.status_code == 303 and response.headers["location"].endswith(self.lands_on)


def submit(person: Person, notification_id: int) -> Move:
    return Move(
        "submit",
        "submit",
        person,
        f"/notifications/{notification_id}/submit",
        {"declaration": "yes"},
        emails=frozenset({"submitted"}),
        lands_on="/receipt",
    )


def save(person: Person, notification_id: int, version: int, section_key: str, changes: dict[str, str]) -> Move:
    return Move(
        f"save {section_key}",
        "edit",
        person,
        f"/notifications/{notification_id}/sections/{section_key}",
        {**section_fields(section_key, changes), "version": [str(version)], "action": ["later"]},
    )


def upload(person: Person, notification_id: int) -> Move:
    return Move(
        "upload",
        "edit",
        person,
        f"/notifications/{notification_id}/attachments/{FILE_QUESTION}",
        {"back": f"/notifications/{notification_id}"},
        files={"file": ("evidence.pdf", EXAMPLE_PDF, "application/pdf")},
    )


def approve(person: Person, notification_id: int) -> Move:
    return Move(
        "approve", "approve", person, f"/notifications/{notification_id}/approve", emails=frozenset({"approved"})
    )


def request_changes(person: Person, notification_id: int) -> Move:
    return Move(
        "request changes",
        "request changes",
        person,
        f"/notifications/{notification_id}/request-changes",
        {"summary": "Please check the contact details", "sections": ["about_you"]},
        emails=frozenset({"changes_requested"}),
    )


def withdraw(person: Person, notification_id: int) -> Move:
    return Move("withdraw", "withdraw", person, f"/notifications/{notification_id}/withdraw")


# Running and judging ----------------------------------------------------------------------------------


def delays(attempt: int, moves: int, max_offset_ms: int) -> list[float]:
    """Every move but one leaves at once; that one (each in turn) leaves up to max_offset_ms later, the
    offset growing in even steps over the tries."""
    steps = -(-TRIES // moves)
    offset = max_offset_ms * (attempt // moves) / (steps - 1) / 1000
    return [offset if n == attempt % moves else 0.0 for n in range(moves)]


@dataclass
class Sent:
    response: httpx.Response
    landed: httpx.Response | None = None  # the page its redirect leads to


def race(pool: ThreadPoolExecutor, moves: list[Move], held_back: list[float]) -> list[Sent]:
    """Sends the moves together; each redirect is followed at once, as a browser does (which also takes
    the one-time success message, so that it does not show on the next try's pages)."""
    for move in moves:
        move.person.keep_on_own_worker()
    barrier = threading.Barrier(len(moves))

    def go(n: int) -> Sent:
        barrier.wait(timeout=60)
        if held_back[n]:
            time.sleep(held_back[n])
        response = moves[n].send()
        sent = Sent(response)
        if response.status_code == 303:
            sent.landed = moves[n].person.client.get(response.headers["location"])
        return sent

    return list(pool.map(go, range(len(moves))))


def page_words(response: httpx.Response) -> str:
    """What the person reads: the main content's words, or where a redirect sends them."""
    if 300 <= response.status_code < 400:
        return f"-> {re.sub(r'/[0-9]+', '/N', response.headers.get('location', ''))}"
    main = re.search(r"<main\b.*?</main>", response.text, re.S)
    text = re.sub(r"<[^>]+>", " ", main.group(0) if main else response.text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()[:240]


@dataclass
class Tally:
    race: str
    database: str
    tries: int = 0
    broken_records: int = 0  # tries after which the database breaks a rule
    errors: int = 0  # responses 5xx
    both_succeeded: int = 0  # tries where two sides that exclude each other both succeeded
    wrong_emails: int = 0
    request_ids: list[list[str]] = field(default_factory=list)  # each try's racing requests
    wins: Counter = field(default_factory=Counter)
    losers: Counter = field(default_factory=Counter)
    rules_broken: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def across_workers(self, log: str) -> int:
        """The tries whose requests two different worker processes served, as the log tells: every
        request's line carries its worker's pid and its request id (which the response carries too)."""
        worker_of = {request_id: pid for pid, request_id in SERVED_BY.findall(log)}
        return sum(1 for ids in self.request_ids if len({worker_of.get(i) for i in ids} - {None}) > 1)

    def summary(self, log: str) -> str:
        return (
            f"RACE {self.race} [{self.database}]: {self.tries} tries ({self.across_workers(log)} across both workers), "
            f"{self.broken_records} broken records, "
            f"{self.errors} responses 5xx, {self.both_succeeded} both succeeded, {self.wrong_emails} wrong emails; "
            f"log: {log_count(log, 'deadlock detected')} deadlock detected, "
            f"{log_count(log, 'database is locked')} database is locked, {log_count(log, 'Traceback')} tracebacks; "
            f"won: {dict(sorted(self.wins.items()))}"
        )


SERVED_BY = re.compile(r"^\S+ \S+ \w+ (\d+) portal\S* .*request_id=([0-9a-f]+)", re.M)
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ", re.M)


def log_count(log: str, words: str) -> int:
    """The log records (a record's traceback included) that hold the words. uvicorn's "Exception in ASGI
    application" repeats the portal's own record of the same failed request, so it is not counted again."""
    starts = [match.start() for match in LOG_RECORD.finditer(log)] + [len(log)]
    records = [log[start:end] for start, end in zip(starts, starts[1:], strict=False)]
    return sum(1 for record in records if words in record and " uvicorn.error Exception in ASGI" not in record)


def judge(
    tally: Tally,
    attempt: int,
    db_factory,
    notification_id: int,
    moves: list[Move],
    sents: list[Sent],
    outbox_before: int,
    applied: Callable[[Session, Notification, Move], bool] | None = None,
) -> None:
    """Reads the database after one try and counts what went wrong; applied(db, n, move) says whether an
    edit's change is in the record now (it must be exactly when its response said it was saved)."""
    tally.tries += 1
    problems: list[str] = []
    winners = [move for move, sent in zip(moves, sents, strict=True) if move.succeeded(sent.response)]
    tally.request_ids.append([sent.response.headers["x-request-id"] for sent in sents])
    for move, sent in zip(moves, sents, strict=True):
        response = sent.response
        if response.status_code >= 500:
            tally.errors += 1
            problems.append(f"{move.name} answered {response.status_code}: {page_words(response)}")
        elif move in winners:
            tally.wins[move.name] += 1
        else:
            # A refusal is a page that says why, or a redirect to one.
            shown = sent.landed or response
            tally.losers[(move.name, response.status_code, page_words(shown))] += 1
            if not 400 <= shown.status_code < 500 and shown.status_code != 200:
                problems.append(f"{move.name} answered {response.status_code}, then {shown.status_code}")
        if sent.landed is not None and sent.landed.status_code != 200:
            problems.append(f"{move.name} redirected to a page that answered {sent.landed.status_code}")
    sides = {move.side for move in winners}
    if len(sides) > 1:
        tally.both_succeeded += 1
        problems.append(f"both succeeded: {', '.join(move.name for move in winners)}")

    with db_factory() as db:
        notification = db.get(Notification, notification_id)
        record_problems = list(broken(db, notification))
        submissions = list(db.scalars(select(Submission).where(Submission.notification_id == notification_id)))
        if len(submissions) > 1:
            record_problems.append(f"{len(submissions)} submissions")
        if submissions:
            snapshot = submissions[0].snapshot
            if snapshot["answers"] != answers_of(notification):
                record_problems.append("the submission's answers differ from the notification's answers now")
            if sorted(a["sha256"] for a in snapshot["attachments"]) != sorted(
                a.sha256 for a in attachments_of(db, notification_id)
            ):
                record_problems.append("the submission's files differ from the notification's files now")
        submitted_move = any(move.name == "submit" for move in winners)
        if submitted_move != bool(submissions):
            record_problems.append(
                f"submit {'succeeded' if submitted_move else 'failed'} but there are {len(submissions)} submissions"
            )
        if applied is not None:
            for move in moves:
                if move.side == "edit" and (move in winners) != applied(db, notification, move):
                    said = "saved" if move in winners else "refused"
                    record_problems.append(f"{move.name} was {said} but the record says otherwise")
        status = notification.status
        emails = Counter(
            db.scalars(
                select(OutboxMessage.template).where(OutboxMessage.id > outbox_before, OutboxMessage.kind == "email")
            )
        )
    if record_problems:
        tally.broken_records += 1
        for rule in record_problems:
            tally.rules_broken[re.sub(r"notification [0-9]+", "notification N", rule)] += 1
        problems.extend(record_problems)
    # Only one side's emails: both an "approved" and a "changes requested" email is wrong even when
    # both requests claimed success.
    expected = set().union(*(move.emails for move in winners))
    emailed_sides = {move.side for move in moves if move.emails & set(emails)}
    if set(emails) != expected or len(emailed_sides) > 1:
        tally.wrong_emails += 1
        problems.append(f"emails {dict(emails)}: from {sorted(emailed_sides)}, where the winners send {expected}")
    if problems:
        tally.problems.append(f"try {attempt} (ended {status}): " + "; ".join(problems))


# The running test's record_property: each race's figures go into the run's summary, so CI shows them
# without -s (pytest-xdist's workers never show a test's own output).
_recording: list[Callable[[str, str], None]] = []


@pytest.fixture(autouse=True)
def _figures_in_the_summary(record_property):
    _recording[:] = [record_property]
    yield
    _recording.clear()


def finish(tally: Tally, log: str) -> None:
    for record in _recording:
        record(SUMMARY, tally.summary(log))
    print("\n" + tally.summary(log))
    for (name, status, words), count in sorted(tally.losers.items()):
        print(f"    {name} lost {count}x with {status}: {words}")
    for rule, count in sorted(tally.rules_broken.items()):
        print(f"    broken {count}x: {rule}")
    assert tally.problems == [], "\n".join(tally.problems[:10])
    for words in ("deadlock detected", "database is locked", "Traceback"):
        assert words not in log, log[max(0, log.index(words) - 3000) : log.index(words) + 1000]
    # Each race was between the two processes, as in production: the rivals were kept on different workers.
    assert tally.across_workers(log) == tally.tries


def run(
    name: str,
    database_url: str,
    server: LiveServer,
    db_factory,
    build: Callable[[int, int], list[Move]],
    *,
    until: str,
    applied: Callable[[Session, Notification, Move], bool] | None = None,
    max_offset_ms: int = MAX_OFFSET_MS,
) -> None:
    """TRIES races, each on a fresh notification; build(attempt, notification_id) gives the moves."""
    tally = Tally(name, database_url.split(":", 1)[0])
    log_from = len(server.log())
    with ThreadPoolExecutor(max_workers=3) as pool:
        for attempt in range(TRIES):
            notification_id = prepared(db_factory, server.base, until)
            moves = build(attempt, notification_id)
            before = last_outbox_id(db_factory)
            sents = race(pool, moves, delays(attempt, len(moves), max_offset_ms))
            judge(tally, attempt, db_factory, notification_id, moves, sents, before, applied)
    finish(tally, logged(server, log_from, {i for ids in tally.request_ids for i in ids}))


def logged(server: LiveServer, log_from: int, request_ids: set[str]) -> str:
    """The server's log from log_from on, once it holds every one of the requests (each is logged as it
    ends, which may be a moment after its response has reached the client)."""

    def complete() -> str:
        log = server.log()[log_from:]
        return log if request_ids <= {request_id for _, request_id in SERVED_BY.findall(log)} else ""

    return wait_for(complete, "the server to log every racing request")


def answer_is(section_key: str, question_key: str, text: str) -> Callable[[Session, Notification, Move], bool]:
    def check(db: Session, notification: Notification, move: Move) -> bool:
        if move.name != f"save {section_key}":
            return True
        draft = next(d for d in notification.sections if d.section_key == section_key)
        return draft.answers.get(question_key) == text

    return check


def all_of(*checks: Callable[[Session, Notification, Move], bool]) -> Callable[[Session, Notification, Move], bool]:
    return lambda db, notification, move: all(check(db, notification, move) for check in checks)


# The races ----------------------------------------------------------------------------------------


def test_submit_against_a_section_save_on_an_approved_notification(database_url, server, people, db_factory):
    changed = {"completed_by_name": "Changed at the last moment"}

    def build(attempt: int, notification_id: int) -> list[Move]:
        version = section_version(db_factory, notification_id, "about_you")
        return [
            submit(people[SUBMITTER], notification_id),
            save(people[DRAFTER], notification_id, version, "about_you", changed),
        ]

    run(
        "1 submit vs section save",
        database_url,
        server,
        db_factory,
        build,
        until="approved",
        applied=answer_is("about_you", "completed_by_name", changed["completed_by_name"]),
    )


def test_approve_against_request_changes_by_two_reviewers(database_url, server, people, db_factory):
    def build(attempt: int, notification_id: int) -> list[Move]:
        return [approve(people[REVIEWER_A], notification_id), request_changes(people[REVIEWER_B], notification_id)]

    run("2 approve vs request changes", database_url, server, db_factory, build, until="in_review")


def test_attachment_upload_against_submit_on_an_approved_notification(database_url, server, people, db_factory):
    def build(attempt: int, notification_id: int) -> list[Move]:
        return [upload(people[DRAFTER], notification_id), submit(people[SUBMITTER], notification_id)]

    def file_kept(db: Session, notification: Notification, move: Move) -> bool:
        return bool(attachments_of(db, notification.id))

    # An upload checks in one transaction and records the file in another, receiving it in between, so
    # it needs a longer head start than 50 ms to finish before a submit: without one it nearly always
    # loses, and the order where the file withdraws the approval first would hardly ever be met.
    run(
        "3 upload vs submit",
        database_url,
        server,
        db_factory,
        build,
        until="approved",
        applied=file_kept,
        max_offset_ms=UPLOAD_MAX_OFFSET_MS,
    )


def test_withdraw_against_submit_on_an_approved_notification(database_url, server, people, db_factory):
    def build(attempt: int, notification_id: int) -> list[Move]:
        return [withdraw(people[DRAFTER], notification_id), submit(people[SUBMITTER], notification_id)]

    run("4a withdraw vs submit", database_url, server, db_factory, build, until="approved")


def test_two_saves_of_different_sections_against_submit(database_url, server, people, db_factory):
    name = {"completed_by_name": "Changed by the first drafter"}
    description = {"event_description": "Changed by the second drafter"}

    def build(attempt: int, notification_id: int) -> list[Move]:
        return [
            save(
                people[DRAFTER],
                notification_id,
                section_version(db_factory, notification_id, "about_you"),
                "about_you",
                name,
            ),
            save(
                people[SECOND_DRAFTER],
                notification_id,
                section_version(db_factory, notification_id, "event"),
                "event",
                description,
            ),
            submit(people[SUBMITTER], notification_id),
        ]

    run(
        "4b two section saves vs submit",
        database_url,
        server,
        db_factory,
        build,
        until="approved",
        applied=all_of(
            answer_is("about_you", "completed_by_name", name["completed_by_name"]),
            answer_is("event", "event_description", description["event_description"]),
        ),
    )
