"""The regulator API's rules, callable without HTTP: tokens, the submissions feed, one submission, its files.

Every answer is JSON, built by responses.py. Nothing a client sends can cause a 500: cursors, limits,
references and ids are checked for shape before they reach the database.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from .. import audit
from ..models import ApiToken, Attachment, Submission, utcnow
from ..numbers import parse_id
from ..references import REFERENCE_ALPHABET, REFERENCE_LENGTH
from ..regulator_scope import for_regulator
from ..regulator_view import API_PREFIX, summary
from ..tokens import new_token, token_hash

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Writing last_used_at on every call would make every read a write; a minute is precise enough to audit.
TOUCH_EVERY = timedelta(seconds=60)
# Ids are handed out when a submission is inserted, not when it commits: on PostgreSQL a slower
# transaction can commit id 10 after id 11 is already visible. A feed that moved its cursor past 11
# would never show 10. So the feed stops short of anything younger than this, by which time every
# submit that took an earlier id has committed or rolled back.
SETTLE = timedelta(seconds=5)
# A prefix lets secret scanners and people recognise a leaked token for what it is. Not a secret itself.
TOKEN_PREFIX = "prt_"  # nosec B105
MAX_TOKEN_NAME = 100
# RFC 6750's b64token, bounded: anything else is not a token we could have issued.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9\-._~+/]{1,200}=*")
CURSOR_SHAPE = re.compile(r"[A-Za-z0-9_\-]{1,64}")
CURSOR_CONTENT = re.compile(rb"v1:([0-9]+)")
# Both databases' integer keys fit here; SQLite raises OverflowError on a larger Python int.
MAX_ID = 2**63 - 1


class BadRequest(ValueError):
    """The client sent something malformed; the message tells its developer what."""


# Tokens --------------------------------------------------------------------------------------------


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN_SHAPE.fullmatch(token):
        return None
    return token


def authenticate(db: Session, authorization: str | None) -> ApiToken | None:
    """The live token the Authorization header carries, or None."""
    token = bearer_token(authorization)
    if token is None:
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return row


def clean_token_name(raw: str | None) -> str:
    """What is kept of a typed name: no control or direction-changing characters, no outer spaces."""
    text = unicodedata.normalize("NFC", raw or "")
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()


def all_tokens(db: Session) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).options(joinedload(ApiToken.created_by)).order_by(ApiToken.id.desc())))


def create_token(
    db: Session, *, name: str, actor_id: int, organisation_id: int | None, ip: str = "", user_agent: str = ""
) -> tuple[ApiToken, str]:
    """The row and the token itself: the caller shows the token once, and nothing can show it again."""
    name = clean_token_name(name)
    if not name or len(name) > MAX_TOKEN_NAME:
        raise BadRequest("a token needs a name of 1 to 100 characters")
    secret = TOKEN_PREFIX + new_token()
    row = ApiToken(name=name, token_hash=token_hash(secret), created_by_id=actor_id)
    db.add(row)
    db.flush()
    audit.record(
        db,
        "api_token:created",
        actor_id=actor_id,
        organisation_id=organisation_id,
        ip=ip,
        user_agent=user_agent,
        name=name,
    )
    return row, secret


def revoke_token(
    db: Session, token_id: int, *, actor_id: int, organisation_id: int | None, ip: str = "", user_agent: str = ""
) -> ApiToken | None:
    """None when there is no such token. Revoking twice changes nothing and records nothing more."""
    if not 0 < token_id <= MAX_ID:
        return None
    row = db.get(ApiToken, token_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            db,
            "api_token:revoked",
            actor_id=actor_id,
            organisation_id=organisation_id,
            ip=ip,
            user_agent=user_agent,
            name=row.name,
        )
    return row


# The submissions feed ------------------------------------------------------------------------------


def encode_cursor(submission_id: int) -> str:
    # Versioned inside, so the cursor's meaning can change without breaking clients that stored one.
    return base64.urlsafe_b64encode(f"v1:{submission_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    if not CURSOR_SHAPE.fullmatch(cursor):
        raise BadRequest("since must be a next_cursor this API returned")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise BadRequest("since must be a next_cursor this API returned") from None
    match = CURSOR_CONTENT.fullmatch(raw)
    # An id no column holds was never returned as a cursor (PostgreSQL refused to compare with one: a 500).
    submission_id = parse_id(match.group(1).decode("ascii")) if match is not None else None
    if submission_id is None:
        raise BadRequest("since must be a next_cursor this API returned")
    return submission_id


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


@dataclass
class Page:
    submissions: list[Submission]
    next_cursor: str | None
    has_more: bool
    limit: int


def feed(db: Session, *, since: str | None, limit: str | None, now: datetime | None = None) -> Page:
    """Submissions after the cursor, oldest first. next_cursor is where to carry on from, now or later."""
    after = decode_cursor(since) if since else 0
    count = parse_limit(limit)
    rows = db.scalars(
        select(Submission)
        .where(Submission.id > after, for_regulator(Submission.organisation_id))
        .order_by(Submission.id)
        .limit(count + 1)
    )
    cutoff = (now or utcnow()) - SETTLE
    settled: list[Submission] = []
    for row in rows:
        # Stop at the first unsettled one rather than skip it: what follows it must wait too, or
        # the cursor would move past it.
        if row.submitted_at > cutoff:
            break
        settled.append(row)
    page = settled[:count]
    last = page[-1].id if page else after
    return Page(page, encode_cursor(last) if last else None, has_more=len(settled) > count, limit=count)


def by_reference(db: Session, reference: str) -> Submission | None:
    reference = reference.upper()
    if len(reference) != REFERENCE_LENGTH or any(ch not in REFERENCE_ALPHABET for ch in reference):
        return None
    return db.scalar(
        select(Submission).where(Submission.reference == reference, for_regulator(Submission.organisation_id))
    )


def submitted_file(db: Session, submission: Submission, raw_id: str) -> tuple[dict, Attachment] | None:
    """(what the snapshot says of the file, its row), only for a file that was part of this submission."""
    attachment_id = parse_id(raw_id)
    if attachment_id is None:
        return None
    listed = next(
        (item for item in submission.snapshot.get("attachments", []) if item.get("id") == attachment_id), None
    )
    if listed is None:
        return None
    row = db.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.notification_id == submission.notification_id
        )
    )
    # The hash check means the bytes served are the bytes that were submitted, whatever happened since.
    if row is None or row.sha256 != listed.get("sha256"):
        return None
    return listed, row


def page_body(page: Page, base_url: str) -> dict:
    next_url = None
    if page.next_cursor:
        next_url = f"{base_url}{API_PREFIX}/submissions?since={page.next_cursor}&limit={page.limit}"
    return {
        "submissions": [summary(submission, base_url) for submission in page.submissions],
        "next_cursor": page.next_cursor,
        "next_url": next_url,
        "has_more": page.has_more,
    }
