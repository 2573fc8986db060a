"""The `portal` command: serve, db upgrade, demo, worker, org approve, attachments sweep, register import."""

from __future__ import annotations

import argparse
import logging
import logging.config
import os
import shutil
import sys
import threading
import time

from . import logs
from .settings import ConfigurationError, Settings

log = logging.getLogger("portal.cli")


def _engine_and_factory(settings: Settings):
    from .db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    return engine, make_session_factory(engine)


def cmd_db_upgrade(settings: Settings, args) -> int:
    from .migrate import upgrade

    engine, _ = _engine_and_factory(settings)
    upgrade(engine)
    print("database is up to date")
    return 0


def cmd_demo(settings: Settings, args) -> int:
    from . import demo
    from .db import transaction
    from .migrate import upgrade

    engine, factory = _engine_and_factory(settings)
    upgrade(engine)
    with transaction(factory) as db:
        demo.seed(db)
    print("demo data is in place: sign in as drafter@riverside.example (see the README for the others)")
    return 0


# Files left by uploads whose request died before commit are removed by the worker, not only by cron.
SWEEP_EVERY_SECONDS = 3600


def _sweep_orphaned_uploads(settings: Settings, factory) -> None:
    from datetime import timedelta

    from .attachments.service import sweep
    from .db import transaction
    from .files.storage import storage_for

    try:
        with transaction(factory) as db:
            swept = sweep(db, storage_for(settings), older_than=timedelta(minutes=60))
        if swept.keys or swept.temporary:
            log.info("swept %s orphaned uploads and %s part-written copies", len(swept.keys), len(swept.temporary))
    except Exception:
        log.exception("upload sweep failed")


# Retention runs when the worker starts and then hourly: each run's batches stay small, and a worker that
# restarts often still gets to it.
RETENTION_EVERY_SECONDS = 3600


def _apply_retention(settings: Settings, factory) -> None:
    from . import retention
    from .files.storage import storage_for

    try:
        retention.run(factory, settings.retention, storage_for(settings))
    except Exception:
        # The next run picks up where this one stopped: every batch it finished is committed.
        log.exception("retention run failed")


# Reminders are looked for when the worker starts and then every 15 minutes: they are days ahead of a due date,
# so a quarter of an hour late costs nothing, and each pass reads the open notifications once.
REMINDERS_EVERY_SECONDS = 900


def _send_reminders(settings: Settings, factory) -> None:
    from .notifications import deadlines, reminders

    try:
        written = reminders.send_due(factory, settings.base_url, deadlines.today())
        if written:
            log.info("wrote %s deadline reminders", written)
    except Exception:
        # Nothing of a failed pass was committed, so the next pass sends what this one would have.
        log.exception("deadline reminders failed")


def run_worker(
    settings: Settings, *, once: bool = False, stop: threading.Event | None = None, interval: float = 2.0
) -> int:
    from . import outbox

    _, factory = _engine_and_factory(settings)
    sender = outbox.sender_for(settings)
    stop = stop or threading.Event()
    next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
    next_retention = time.monotonic()
    next_reminders = time.monotonic()
    while not stop.is_set():
        try:
            sent = outbox.deliver_due(factory, sender)
        except Exception:
            # The database may be briefly away; the worker waits and tries again.
            log.exception("outbox pass failed")
            sent = 0
        if once:
            return sent
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
            _sweep_orphaned_uploads(settings, factory)
        if time.monotonic() >= next_retention:
            next_retention = time.monotonic() + RETENTION_EVERY_SECONDS
            _apply_retention(settings, factory)
        if time.monotonic() >= next_reminders:
            next_reminders = time.monotonic() + REMINDERS_EVERY_SECONDS
            _send_reminders(settings, factory)
        if not sent:
            stop.wait(interval)
    return 0


def cmd_worker(settings: Settings, args) -> int:
    sent = run_worker(settings, once=args.once)
    if args.once:
        print(f"sent {sent} messages")
    return 0


def _share_metrics_between_workers(settings: Settings) -> None:
    """prometheus_client's multiprocess mode: each uvicorn worker writes its counters to files in one
    directory, and whichever worker answers /metrics reads them all (portal/metrics.py). The directory must
    start empty, or the last run's counts would be added in; PROMETHEUS_MULTIPROC_DIR names another one."""
    if not settings.metrics_token:
        return
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(settings.data_dir / "metrics")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    # Set before uvicorn starts its workers, which inherit it and import prometheus_client afresh.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


def cmd_serve(settings: Settings, args) -> int:
    import uvicorn

    from .server import use_tcp_nodelay

    use_tcp_nodelay()
    _share_metrics_between_workers(settings)
    cmd_db_upgrade(settings, args)
    if settings.seed_demo:
        cmd_demo(settings, args)
    if not settings.is_production and not args.no_worker:
        # One machine in development: the outbox worker runs beside the server.
        threading.Thread(target=run_worker, args=(settings,), daemon=True, name="outbox-worker").start()
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        # log_level sets uvicorn.access to INFO whatever log_config says, and its line would come beside the
        # portal's own (web/middleware.py, with the request id): off, so each request is logged once.
        access_log=False,
        proxy_headers=True,
        server_header=False,
        # Every worker process logs the portal's own lines (request ids, timings) in the configured format,
        # not only the parent that parsed the command line.
        log_config=logs.config(settings.log_format),
        timeout_keep_alive=settings.keep_alive_seconds,
        # On SIGTERM uvicorn closes its listening socket and idle connections at once, lets requests in flight
        # (a slow upload, a submission) finish, and after this long cancels what is left and exits. A
        # cancelled request commits nothing: its transaction rolls back and an unrecorded file is swept.
        timeout_graceful_shutdown=settings.shutdown_seconds,
    )
    return 0


def cmd_org_approve(settings: Settings, args) -> int:
    from .accounts import organisations
    from .db import transaction

    _, factory = _engine_and_factory(settings)
    with transaction(factory) as db:
        if args.request_id is None:
            pending = organisations.pending_signups(db)
            if not pending:
                print("no requests are waiting")
            for request in pending:
                print(f"{request.id}\t{request.organisation_name}\t{request.provider_id}\t{request.user.email}")
            return 0
        request = organisations.decide_signup(db, args.request_id, approve=not args.reject, actor_id=None)
        print(f"{request.status}: {request.organisation_name}")
    return 0


def cmd_attachments_sweep(settings: Settings, args) -> int:
    from datetime import timedelta

    from .attachments.service import sweep
    from .db import transaction
    from .files.storage import storage_for

    _, factory = _engine_and_factory(settings)
    with transaction(factory) as db:
        swept = sweep(db, storage_for(settings), older_than=timedelta(minutes=args.older_than))
    print(f"deleted {len(swept.keys)} stored files without a record and {len(swept.temporary)} part-written copies")
    return 0


def cmd_register_import(settings: Settings, args) -> int:
    from pathlib import Path

    from .db import transaction
    from .organisation.register_sync import follow_the_register
    from .register.importing import import_file

    path = Path(args.file)
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    _, factory = _engine_and_factory(settings)
    started = time.monotonic()
    with transaction(factory) as db:
        report = import_file(db, path, location_id_pattern=settings.location_id_pattern, full=not args.partial)
        # In the import's transaction: the portal's locations never disagree with a register that was committed.
        portal = follow_the_register(db, base_url=settings.base_url) if report.imported else None
    for line in report.lines():
        print(line, file=sys.stdout if report.imported else sys.stderr)
    if portal is not None:
        print("\n".join(portal.lines()))
    if report.imported:
        print(f"Took {time.monotonic() - started:.1f} s.")
    return 0 if report.imported else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="The statutory notifications portal")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, then serve the portal")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-worker", action="store_true", help="do not run the outbox worker in development")
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    commands.add_parser("demo", help="seed demo data (idempotent)").set_defaults(func=cmd_demo)

    worker = commands.add_parser("worker", help="send queued email")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.set_defaults(func=cmd_worker)

    org = commands.add_parser("org", help="organisation commands")
    org_commands = org.add_subparsers(dest="org_command", required=True)
    approve = org_commands.add_parser("approve", help="list sign-up requests, or approve one")
    approve.add_argument("request_id", type=int, nargs="?")
    approve.add_argument("--reject", action="store_true")
    approve.set_defaults(func=cmd_org_approve)

    attachments = commands.add_parser("attachments", help="uploaded file commands")
    attachment_commands = attachments.add_subparsers(dest="attachments_command", required=True)
    sweep = attachment_commands.add_parser(
        "sweep", help="delete stored files that no attachment record names (left by interrupted uploads)"
    )
    sweep.add_argument(
        "--older-than",
        type=float,
        default=60,
        metavar="MINUTES",
        help="only files last written this long ago, so uploads in progress are left alone (60)",
    )
    sweep.set_defaults(func=cmd_attachments_sweep)

    register = commands.add_parser("register", help="the regulator's register of providers and locations")
    register_commands = register.add_subparsers(dest="register_command", required=True)
    register_import = register_commands.add_parser(
        "import",
        help="load the regulator's directory of registered locations (CSV, see docs/register.md); "
        "a file with any malformed row changes nothing",
    )
    register_import.add_argument("file", help="the directory, saved as CSV UTF-8")
    register_import.add_argument(
        "--partial",
        action="store_true",
        help="the file lists some locations only: do not close the locations it leaves out",
    )
    register_import.set_defaults(func=cmd_register_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        print(error.code, file=sys.stderr)
        return 2
    logging.config.dictConfig(logs.config(settings.log_format))
    return args.func(settings, args)


if __name__ == "__main__":
    sys.exit(main())
