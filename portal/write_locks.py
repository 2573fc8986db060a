"""Locks that serialise a decision in the database, for the rest of the transaction that takes them.

PostgreSQL: a transaction-scoped advisory lock on a name (two sign-up approvals for one provider ID).
SQLite has one write lock for the whole database: BEGIN IMMEDIATE takes it before the transaction reads
what it decides on. Python's sqlite3 otherwise begins a transaction only at the first write, after those
reads, and a deferred transaction cannot wait its turn to write: it fails with "database is locked".
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def take_sqlite_write_lock(db: Session) -> None:
    connection = db.connection()
    driver = connection.connection.driver_connection
    # A transaction that is already open has written (sqlite3 opens one only for a write), so it holds
    # the write lock already, and what it reads now is the newest.
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def take_named_lock(db: Session, name: str) -> None:
    """Waits while another transaction holds the lock on name; held until this transaction ends."""
    if db.get_bind().dialect.name == "sqlite":
        take_sqlite_write_lock(db)
    else:
        db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def lock_members(db: Session, organisation_id: int) -> None:
    """Serialises changes to who belongs to an organisation against choices that name a member (its registered
    manager, its nominated individual), so a member is never chosen in the moment they are removed."""
    take_named_lock(db, f"members:{organisation_id}")
