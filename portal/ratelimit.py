"""Fixed-window rate limits counted in the database, so they hold across app processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import rows_matched
from .models import RateLimitCounter, utcnow


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def hit(db: Session, key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Counts one attempt; True while the count stays within the limit."""
    start = window_start(now or utcnow(), window)
    updated = rows_matched(
        db,
        update(RateLimitCounter)
        .where(RateLimitCounter.key == key, RateLimitCounter.window_start == start)
        .values(count=RateLimitCounter.count + 1),
    )
    if updated == 0:
        try:
            with db.begin_nested():
                db.add(RateLimitCounter(key=key, window_start=start, count=1))
        except IntegrityError:
            # Another process created this window's row first; count on it.
            db.execute(
                update(RateLimitCounter)
                .where(RateLimitCounter.key == key, RateLimitCounter.window_start == start)
                .values(count=RateLimitCounter.count + 1)
            )
    # One row, always: this transaction has just updated or inserted it, and retention deletes only counters
    # whose window ended days ago (PORTAL_RETAIN_RATE_LIMITS_DAYS, at least 1; windows are minutes long).
    count = db.execute(
        select(RateLimitCounter.count).where(RateLimitCounter.key == key, RateLimitCounter.window_start == start)
    ).scalar_one()
    return count <= limit
