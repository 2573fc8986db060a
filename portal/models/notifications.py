"""Notifications, their sections' answers, and attached files."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, utcnow
from .organisations import Location, Organisation


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # Each list filter has an index that reads its page in order (measured in bench/list_latency.py).
        Index("ix_notifications_org_updated", "organisation_id", "updated_at", "id"),
        Index("ix_notifications_org_status", "organisation_id", "status"),
        Index("ix_notifications_org_location_updated", "organisation_id", "location_id", "updated_at", "id"),
        Index("ix_notifications_org_type_updated", "organisation_id", "type_key", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    type_key: Mapped[str] = mapped_column(String(60))
    # Answers are read against the definition version they were made under.
    type_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(30), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    reference: Mapped[str | None] = mapped_column(String(8), unique=True)
    submitted_at: Mapped[datetime | None]
    review_requested_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The content hash at approval: any later edit changes the hash and so withdraws the approval.
    approved_hash: Mapped[str | None] = mapped_column(String(64))

    organisation: Mapped[Organisation] = relationship()
    location: Mapped[Location] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    sections: Mapped[list[SectionDraft]] = relationship(
        back_populates="notification", cascade="all, delete-orphan", order_by="SectionDraft.id"
    )


class SectionDraft(Base):
    """One section's answers. `version` is the optimistic lock: a save names the version it started from."""

    __tablename__ = "notification_sections"
    __table_args__ = (UniqueConstraint("notification_id", "section_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    section_key: Mapped[str] = mapped_column(String(60))
    # Typed values by question key, as validate_answer returns them.
    answers: Mapped[dict] = mapped_column(default=dict)
    # What people typed that did not pass validation yet, kept so nothing is lost.
    raw: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(30), default="not_started")
    version: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None]

    notification: Mapped[Notification] = relationship(back_populates="sections")
    updated_by: Mapped[User | None] = relationship()


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    uploaded_by: Mapped[User | None] = relationship()


class NotificationIdentifier(Base):
    """A notification's identifiers by search key: the person it is about, and the provider's own reference.

    Kept by the save of the section that holds the answer, in its transaction and under the notification's
    lock (portal/notifications/people.py), so support's search and a notification's "other notifications
    about this person" read an index instead of every notification's answers.
    """

    __tablename__ = "notification_identifiers"
    __table_args__ = (
        UniqueConstraint("notification_id", "question_key"),
        # Support searches by key across organisations; a notification's page by key within its own.
        Index("ix_notification_identifiers_key_org", "search_key", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(60))
    # "person" (a person_identifier question) or "provider_reference".
    kind: Mapped[str] = mapped_column(String(20))
    # identifiers.search_key of the answer: case folded, spaces dropped.
    search_key: Mapped[str] = mapped_column(String(200))


class DeadlineReminder(Base):
    """A reminder of a due date sent to one person: the unique row is what makes it once, even when two
    workers find the same notification due at the same moment (portal/notifications/reminders.py)."""

    __tablename__ = "deadline_reminders"
    __table_args__ = (UniqueConstraint("notification_id", "user_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
