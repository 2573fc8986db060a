"""What Prometheus reads at /metrics: request latency and errors by route, and facts from the database.

Two kinds of series, and how each adds up when several processes serve the portal:

- **Counted in the process** (request latency, 5xx answers, sign-in failures, the database pool). With
  `portal serve --workers N` each worker counts its own, and a scrape reaches one worker at random, so
  the workers share their values through files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's
  multiprocess mode): `portal serve` makes that directory, empties it at start-up, and any worker's
  /metrics then answers with the sum over all of them. Separate instances (machines, containers) are
  separate scrape targets, summed by Prometheus as usual.
- **Read from the database at scrape time** (outbox depth and age, emails given up on, submissions by
  type): facts of the one system of record, the same whichever process answers, so never summed. Each
  is one small query on an index (the outbox's on sent_at; submissions are counted by type).

Labels carry route templates ("/notifications/{notification_id}"), never paths, so no id becomes a label.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .models import OutboxMessage, Submission, utcnow

log = logging.getLogger("portal.metrics")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client chooses between memory and files when it is first imported, here: read the same moment.
MULTIPROCESS = bool(os.environ.get(MULTIPROCESS_DIR))
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A path no route matched: one label for all of them, so a scan of made-up paths adds no series.
UNMATCHED = "unmatched"

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by route template, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SERVER_ERRORS = Counter(
    "portal_server_errors",
    "Requests answered with a 5xx status, by route template and status.",
    ["route", "method", "status"],
)
SIGN_IN_FAILURES = Counter(
    "portal_sign_in_failures",
    "Sign-ins refused or failed, by method and reason (the same as their audit events).",
    ["event", "method", "reason"],
)
STORED_FILE_MISMATCHES = Counter(
    "portal_stored_file_mismatches",
    "Stored files found, while being sent, to differ from their record's size or SHA-256 (the send is cut short).",
)
# livesum: the pool's figures of the processes alive now, added up.
POOL_CHECKED_OUT = Gauge(
    "portal_db_pool_checked_out",
    "Database connections in use by requests and jobs.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "portal_db_pool_size",
    "Database connections the pools may keep open (before overflow).",
    multiprocess_mode="livesum",
)


def route_template(scope: Scope) -> str:
    """The template of the route Starlette matched ("/notifications/{notification_id}"), or "unmatched"."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Times every request and counts its 5xx answers, labelled by the route that answered it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception:
            # The error handler outside this middleware answers 500.
            status["code"] = status["code"] or 500
            raise
        finally:
            observe(scope, status["code"], time.perf_counter() - started)


def observe(scope: Scope, status: int, seconds: float) -> None:
    route, method = route_template(scope), scope.get("method", "")
    REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(seconds)
    if status >= 500:
        SERVER_ERRORS.labels(route, method, str(status)).inc()


SIGN_IN_REFUSALS = frozenset(
    {"account:sign_in_failed", "account:sign_in_level_too_low", "account:staff_sign_in_refused"}
)


def sign_in_refused(event_type: str, fields: dict) -> None:
    """Called for each sign-in refusal as it is audited, so the two always agree."""
    reason = str(fields.get("reason") or ("level too low" if event_type == "account:sign_in_level_too_low" else ""))
    method = str(fields.get("method") or "staff identity provider")
    # Reasons are the portal's own words, a few of them; the cut keeps a surprise from making a huge label.
    SIGN_IN_FAILURES.labels(event_type, method[:40], reason[:80]).inc()


# This process's engines (one per app): the size gauge is their pools' sizes added up.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _pool_size(engine: Engine) -> int:
    size = getattr(engine.pool, "size", None)
    return size() if callable(size) else 0


def watch_pool(engine: Engine) -> None:
    """Keeps the pool gauges current: the size when an app starts or stops, connections in use from the
    engine's own checkout and checkin events, which always come in pairs."""
    from sqlalchemy import event

    _ENGINES.add(engine)
    POOL_SIZE.set(sum(_pool_size(each) for each in _ENGINES))

    @event.listens_for(engine, "checkout")
    def _checkout(*_args) -> None:
        POOL_CHECKED_OUT.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_args) -> None:
        POOL_CHECKED_OUT.dec()


def forget_pool(engine: Engine) -> None:
    """An app's lifespan ended: its pool no longer counts, nor, in multiprocess mode, this process's live
    gauges (a worker that exits is no longer part of the sum)."""
    _ENGINES.discard(engine)
    POOL_SIZE.set(sum(_pool_size(each) for each in _ENGINES))
    if MULTIPROCESS:
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(os.getpid())


class DatabaseFacts(Collector):
    """Read at each scrape, on a connection of its own: a database that is down gives portal_database_up 0."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("portal_database_up", "1 when the database answered this scrape's queries.")
        try:
            facts = self._read()
        except Exception as error:
            log.warning("metrics: the database did not answer: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from facts

    def _read(self) -> list[Metric]:
        # Here rather than at the top: the outbox brings the senders, which audit (importing this) needs not.
        from .outbox import MAX_ATTEMPTS

        unsent = (OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        given_up = (OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= MAX_ATTEMPTS)
        with self.engine.connect() as connection:
            depth, oldest = connection.execute(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(*unsent)
            ).one()
            given_up_by_kind = connection.execute(
                select(OutboxMessage.kind, func.count(OutboxMessage.id)).where(*given_up).group_by(OutboxMessage.kind)
            ).all()
            by_type = connection.execute(
                select(Submission.type_key, func.count(Submission.id)).group_by(Submission.type_key)
            ).all()
        depth_metric = GaugeMetricFamily("portal_outbox_depth", "Emails and webhooks waiting to be sent.")
        depth_metric.add_metric([], depth)
        age = GaugeMetricFamily(
            "portal_outbox_oldest_unsent_age_seconds", "How long the oldest message waiting to be sent has waited."
        )
        age.add_metric([], _seconds_since(oldest))
        abandoned = GaugeMetricFamily(
            "portal_outbox_given_up",
            "Messages given up on after every retry, waiting for the support team.",
            labels=["kind"],
        )
        counts = {"email": 0, "webhook": 0} | {kind: count for kind, count in given_up_by_kind}
        for kind, count in sorted(counts.items()):
            abandoned.add_metric([kind], count)
        # A counter read from the database: submissions are never deleted, so it only goes up.
        submissions = CounterMetricFamily(
            "portal_submissions", "Notifications submitted to the regulator, by type.", labels=["type"]
        )
        for type_key, count in sorted(by_type):
            submissions.add_metric([type_key], count)
        return [depth_metric, age, abandoned, submissions]


def _seconds_since(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite gives naive UTC through a bare connection
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - moment).total_seconds())


def exposition(engine: Engine) -> bytes:
    """The text Prometheus reads: this process's (or, in multiprocess mode, every worker's) series and the
    database's facts."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        for metric in (REQUEST_SECONDS, SERVER_ERRORS, SIGN_IN_FAILURES, POOL_CHECKED_OUT, POOL_SIZE):
            registry.register(metric)
    registry.register(DatabaseFacts(engine))
    return generate_latest(registry)
