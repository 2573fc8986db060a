"""Engine, sessions and the bounded thread pool that blocking database work runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.base import Executable


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets readers work while one writer commits; foreign keys are off by default in SQLite.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # psycopg prepares a statement after 5 runs, and PostgreSQL may then keep one generic plan for
    # every organisation; measured on 100,000 notifications that plan made one list 8 times slower.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=8,
        max_overflow=4,
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_matched(db: Session, statement: Executable) -> int:
    """Runs an UPDATE or DELETE and says how many rows its WHERE matched: how a conditional update
    tells whether it won a race. Session.execute is typed as returning any Result, but a statement
    without RETURNING always gives a CursorResult, which carries the count."""
    result = db.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"expected an UPDATE or DELETE, got {type(statement).__name__}")
    return result.rowcount


def database_is_up(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
