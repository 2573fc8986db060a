"""What a person posted after their session ended, kept for them alone until they sign in again.

A route that declares `keeps_input=` (portal/web/routing.py) and receives a form from a session that
has ended (idle, expired, signed out elsewhere) keeps it here, bound to that session's person and to
the page that offers it back. Only that person, signed in again, finds it: nobody else is ever given
it, whatever page they open. It goes when they save or discard it, and after KEEP_FOR in any case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import rows_matched
from ..models import KeptInput, utcnow
from ..safe_paths import same_site_path

# Long enough to come back the next working day; short enough that words are never kept for long.
KEEP_FOR = timedelta(hours=24)
# More pages than anyone has open at once, so an old cookie posted in a loop cannot fill the table.
MAX_PER_PERSON = 20
# kept_inputs.page holds this many characters.
MAX_PAGE = 500


@dataclass(frozen=True)
class Kept:
    """Kept input as the form posted it: (name, value) pairs, read like a form."""

    fields: tuple[tuple[str, str], ...]
    signed_out_at: datetime
    kept_at: datetime

    def get(self, name: str, default: str | None = None) -> str | None:
        return next((value for key, value in self.fields if key == name), default)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self.fields)

    def __contains__(self, name: object) -> bool:
        # WTForms asks whether a field was posted before reading it: Kept serves as a form's formdata.
        return any(key == name for key, _ in self.fields)


def keep(
    db: Session,
    *,
    user_id: int,
    page: str,
    fields: Iterable[tuple[str, str]],
    signed_out_at: datetime,
    now: datetime | None = None,
) -> bool:
    """Keeps fields for user_id on page, replacing what was kept there before; False when page is no page."""
    if same_site_path(page) is None or len(page) > MAX_PAGE:
        return False
    now = now or utcnow()
    sweep(db, now)
    values = {
        "fields": [[_storable(name), _storable(value)] for name, value in fields],
        "signed_out_at": signed_out_at,
        "kept_at": now,
        "expires_at": now + KEEP_FOR,
    }
    replace = update(KeptInput).where(KeptInput.user_id == user_id, KeptInput.page == page).values(**values)
    if rows_matched(db, replace) == 0:
        try:
            with db.begin_nested():
                db.add(KeptInput(user_id=user_id, page=page, **values))
        except IntegrityError:
            # Another of their requests (a second tab's autosave) kept this page first: the later words win.
            db.execute(replace)
    _keep_only_the_newest(db, user_id)
    return True


def find(db: Session, user_id: int, page: str, now: datetime | None = None) -> Kept | None:
    """What user_id posted on page after their session ended, unless it has expired."""
    row = db.scalar(
        select(KeptInput).where(
            KeptInput.user_id == user_id, KeptInput.page == page, KeptInput.expires_at > (now or utcnow())
        )
    )
    if row is None:
        return None
    pairs = tuple(
        (pair[0], pair[1])
        for pair in row.fields
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
    )
    return Kept(fields=pairs, signed_out_at=row.signed_out_at, kept_at=row.kept_at)


def forget(db: Session, user_id: int, page: str) -> None:
    """Saved or discarded: the kept words have done their job."""
    db.execute(delete(KeptInput).where(KeptInput.user_id == user_id, KeptInput.page == page))


def sweep(db: Session, now: datetime | None = None) -> int:
    """Deletes what has expired, for everyone. Reading never shows an expired row, swept or not."""
    return rows_matched(db, delete(KeptInput).where(KeptInput.expires_at <= (now or utcnow())))


def _keep_only_the_newest(db: Session, user_id: int) -> None:
    older = list(
        db.scalars(
            select(KeptInput.id)
            .where(KeptInput.user_id == user_id)
            .order_by(KeptInput.kept_at.desc(), KeptInput.id.desc())
            .offset(MAX_PER_PERSON)
        )
    )
    if older:
        db.execute(delete(KeptInput).where(KeptInput.id.in_(older)))


def _storable(text: str) -> str:
    # A browser can post a lone surrogate or a NUL; neither can be stored as JSON text in PostgreSQL.
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
