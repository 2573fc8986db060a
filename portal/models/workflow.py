"""Review, comments, watchers and the frozen submissions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, utcnow


class ReviewRecord(Base):
    """What a reviewer saw when they decided, so their next review can highlight what changed."""

    __tablename__ = "review_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(30))  # changes_requested | approved
    summary: Mapped[str] = mapped_column(Text, default="")
    sections: Mapped[list] = mapped_column(default=list)
    answers: Mapped[dict] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[User | None] = relationship()


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    section_key: Mapped[str] = mapped_column(String(60))
    question_key: Mapped[str | None] = mapped_column(String(60))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class Watch(Base):
    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("notification_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship()


class Submission(Base):
    """The immutable snapshot of what was sent to the regulator. Nothing updates a row once written."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One notification, one submission: the unique constraint makes a double submit impossible.
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    parent_reference: Mapped[str | None] = mapped_column(String(8))
    type_key: Mapped[str] = mapped_column(String(60))
    type_version: Mapped[int]
    snapshot: Mapped[dict] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    submitted_by: Mapped[User | None] = relationship()


class ApiToken(Base):
    """A regulator intake system's token; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()
