"""What must be true of a notification whatever happened to it, and in whatever order.

The state machine (states.py) says which moves may be made; these are the facts the moves together
must keep. They are checked before every transaction that changed a notification commits
(locking.py), and after every step of the property-based test that drives people through random
interleavings of every operation, so a rule no single move breaks but two moves together could is
caught by both.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Notification, ReviewRecord, Submission
from .reading import current_hash

# States where the content may no longer change unless someone's approval is withdrawn first.
ALL_SECTIONS_COMPLETE = ("in_review", "approved", "submitted")


class InvariantBroken(RuntimeError):
    """A notification is about to be left in a state the rules forbid: a bug, never a person's mistake."""


def broken(db: Session, notification: Notification) -> list[str]:
    """Each rule this notification breaks now, in words; empty when it keeps them all."""
    problems: list[str] = []
    submissions = list(db.scalars(select(Submission).where(Submission.notification_id == notification.id)))
    status = notification.status
    digest = current_hash(db, notification) if status in ("approved", "submitted") else ""
    if status == "submitted":
        if len(submissions) != 1:
            problems.append(f"submitted with {len(submissions)} submissions")
        else:
            made = submissions[0]
            # The frozen record is exactly the content at the moment of submission, and nothing changed it since.
            if made.content_hash != digest:
                problems.append("its content differs from what was submitted")
            if notification.reference != made.reference:
                problems.append(
                    f"its reference {notification.reference!r} differs from its submission's {made.reference!r}"
                )
    elif submissions:
        problems.append(f"has a submission but is {status}")
    if status == "approved":
        if notification.approved_hash != digest:
            problems.append("approved, but its content changed since the approval")
        last = db.scalar(
            select(ReviewRecord.decision)
            .where(ReviewRecord.notification_id == notification.id)
            .order_by(ReviewRecord.id.desc())
            .limit(1)
        )
        if last != "approved":
            problems.append(f"approved, but the latest review decision is {last!r}")
    if status in ALL_SECTIONS_COMPLETE:
        unfinished = sorted(draft.section_key for draft in notification.sections if draft.status != "completed")
        if unfinished:
            # Sections marked as needing attention beside an approval: an approval and an open change request.
            problems.append(f"{status} with sections not complete: {', '.join(unfinished)}")
    return problems
