"""One serialisation point per notification: whatever reads a notification and then changes it holds its lock.

Two people acting on one notification at once (a submit and a section save, an approval and a request
for changes) must not both act on what they read before the other wrote. So every change takes the
notification's lock before it reads anything it decides on, and holds it until its transaction ends:
- PostgreSQL: `SELECT … FOR NO KEY UPDATE` on the notification's row. NO KEY, so inserting a comment or an
  audit event that points at the row (a foreign key's KEY SHARE lock) is not held up by it.
- SQLite: the database's write lock, taken with BEGIN IMMEDIATE before the transaction reads anything.
  Python's sqlite3 otherwise begins a deferred transaction only at the first write, after the reads it
  decided on, and a deferred transaction cannot wait its turn to write: it fails with "database is locked".

The notification's lock is always the first lock a change takes, so two changes can never each hold what
the other waits for: deadlocks cannot happen, rather than being retried away.

Holding the lock also enrols the notification for the invariant check (invariants.py) that runs before
the transaction commits.
"""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from ..models import Notification
from ..write_locks import take_sqlite_write_lock
from .invariants import InvariantBroken, broken

_LOCKED = "locked_notifications"
_LISTENING = "notification_lock_listeners"


def lock(db: Session, notification_id: int, *, organisation_id: int | None = None) -> None:
    """Takes the notification's lock for the rest of this transaction; waits while someone else holds it.

    With organisation_id, only that organisation's notification is locked: another organisation's id
    locks nothing, so its 404 never waits on, or reveals, someone else's busy notification."""
    held = db.info.setdefault(_LOCKED, set())
    if notification_id in held:
        return
    if db.get_bind().dialect.name == "sqlite":
        take_sqlite_write_lock(db)
    else:
        query = select(Notification.id).where(Notification.id == notification_id)
        if organisation_id is not None:
            query = query.where(Notification.organisation_id == organisation_id)
        if db.scalar(query.with_for_update(key_share=True)) is None:
            return
    if not db.info.get(_LISTENING):
        db.info[_LISTENING] = True
        event.listen(db, "before_commit", _check_invariants)
        event.listen(db, "after_transaction_end", _forget_locks)
    held.add(notification_id)


def holds_lock(db: Session, notification_id: int) -> bool:
    return notification_id in db.info.get(_LOCKED, ())


def changing(db: Session, notification: Notification) -> None:
    """Called first by every service that changes a notification.

    Routes load a notification for a POST with its lock already held (lookups.py), so this is free for
    them. A caller that loaded it without the lock (a script, a test) gets the lock now and everything
    the session had read is read again, since it may have changed before the lock was taken.
    """
    if holds_lock(db, notification.id):
        return
    lock(db, notification.id)
    db.expire_all()


def _check_invariants(db: Session) -> None:
    if db.in_nested_transaction():
        # A savepoint's release is not the end of the change: the check waits for the real commit.
        return
    db.flush()
    for notification_id in sorted(db.info.get(_LOCKED, ())):
        notification = db.get(Notification, notification_id)
        if notification is None:
            continue
        problems = broken(db, notification)
        if problems:
            # A bug, not a person's mistake: refuse to commit a record that breaks the rules.
            raise InvariantBroken(f"notification {notification_id}: " + "; ".join(problems))


def _forget_locks(db: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction's end releases the locks; a savepoint's end does not.
    if transaction.parent is None:
        db.info.pop(_LOCKED, None)
