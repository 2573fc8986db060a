"""Providers' questions to the regulator's support team, and the messages in each thread."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, utcnow
from .notifications import Notification
from .organisations import Organisation

# Who the thread is waiting on. "resolved" closes it; a reply from the provider reopens it.
QUERY_STATUSES = ("new", "waiting_on_support", "waiting_on_provider", "resolved")
OPEN_STATUSES = ("new", "waiting_on_support", "waiting_on_provider")


class SupportQuery(Base):
    __tablename__ = "support_queries"
    __table_args__ = (
        # The support queue reads open queries oldest first; providers read their organisation's newest first.
        Index("ix_support_queries_status_created", "status", "created_at"),
        Index("ix_support_queries_org_created", "organisation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(String(30), default="new")
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The page the person was on when they asked, so support can see what they saw.
    asked_from: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    asked_by: Mapped[User | None] = relationship(foreign_keys=[asked_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    notification: Mapped[Notification | None] = relationship()
    messages: Mapped[list[QueryMessage]] = relationship(
        back_populates="query", cascade="all, delete-orphan", order_by="QueryMessage.id"
    )


class QueryMessage(Base):
    __tablename__ = "query_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("support_queries.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept on the row, not derived from the author's roles today: a person can change sides later.
    from_support: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    query: Mapped[SupportQuery] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
