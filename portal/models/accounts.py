"""People, how they prove who they are, and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The verified email the person signed in with; names are never used to match people.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Emails before a notification's due date (portal/notifications/reminders.py); each person can stop them.
    deadline_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())

    identities: Mapped[list[Identity]] = relationship(back_populates="user")

    @property
    def label(self) -> str:
        return self.display_name or self.email


class Identity(Base):
    """A person is (issuer, subject) at an identity provider; email-link sign-in is one more issuer."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")


class UserSession(Base):
    """Kept in the database so any app process can read it and support can revoke it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(20))
    id_token: Mapped[str] = mapped_column(default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str] = mapped_column(String(40), default="")

    user: Mapped[User] = relationship()


class SignInLink(Base):
    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    next_path: Mapped[str] = mapped_column(String(500), default="/")


class RateLimitCounter(Base):
    """Fixed-window counters, in the database so every app process sees the same count."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=0)


class KeptInput(Base):
    """What a person posted after their session had ended, kept for them alone until they sign in again.

    One row per person and page: the page that offers it back (a section's own address, say). fields are
    the posted (name, value) pairs in order, without the CSRF token or any file.
    """

    __tablename__ = "kept_inputs"
    __table_args__ = (
        UniqueConstraint("user_id", "page"),
        Index("ix_kept_inputs_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    page: Mapped[str] = mapped_column(String(500))
    fields: Mapped[list] = mapped_column()
    signed_out_at: Mapped[datetime]
    kept_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SeenLogoutToken(Base):
    """A back-channel logout token's jti, kept until the token expires, so a replayed one is refused."""

    __tablename__ = "seen_logout_tokens"
    __table_args__ = (
        UniqueConstraint("issuer", "jti"),
        Index("ix_seen_logout_tokens_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    jti: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
