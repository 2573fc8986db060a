from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

# The outbox shortens longer subjects to this (outbox.header_safe).
MAX_SUBJECT = 300


class OutboxMessage(Base):
    """An email written in the same transaction as the change that causes it; the worker sends it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "email", or "webhook" (recipient is the URL, body the signed JSON).
    kind: Mapped[str] = mapped_column(String(20), default="email", server_default="email")
    template: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    body: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(default="")
    claimed_until: Mapped[datetime | None]
