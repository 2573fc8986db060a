"""The transactional outbox: emails and webhooks are rows written with the change that causes them.

`portal worker` sends them after commit, with retries and backoff. A claim with a deadline lets
several workers share the table without sending one message twice while both are alive.
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from . import emails
from .models import OutboxMessage, utcnow
from .models.outbox import MAX_SUBJECT
from .settings import Settings
from .webhook_sender import WebhookSender

log = logging.getLogger("portal.outbox")

MAX_ATTEMPTS = 8
CLAIM_FOR = timedelta(minutes=5)


# Cc: C0 and C1 controls, CR, LF and NEL among them; Zl and Zp: U+2028 and U+2029, which splitlines()
# and so the email package's header folding treat as line ends.
_UNSAFE_IN_HEADER = {"Cc", "Zl", "Zp"}


def header_safe(text: str, limit: int = MAX_SUBJECT) -> str:
    """Text made fit to be an email header: on one line, without control characters, at most `limit` long.

    Subjects carry what people typed (a question's summary, an organisation's name). A CR or LF in one
    would be refused by every sender ("Header values may not contain linefeed or carriage return
    characters"), leaving the message failing for ever, or, with a sender less careful, start a header
    of its own. So each control character, and each Unicode line or paragraph separator, becomes a
    space, and runs of spaces become one. A subject longer than the column (a long organisation name
    and a long question summary) is shortened to fit, rather than failing the change that sends it.
    """
    cleaned = "".join(" " if unicodedata.category(ch) in _UNSAFE_IN_HEADER else ch for ch in text)
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def _checked_recipient(recipient: str) -> str:
    # Recipients are verified addresses or the support team's configured one, never text from a form as it
    # came: one with a line break or a control character is a bug upstream, so it stops the change.
    if any(unicodedata.category(ch) in _UNSAFE_IN_HEADER for ch in recipient):
        raise ValueError(f"email recipient contains a line break or control character: {recipient!r}")
    return recipient


def enqueue(db: Session, *, template: str, recipient: str, subject: str, body: str) -> OutboxMessage:
    """One message with its words already written. Services use enqueue_email, which writes them."""
    message = OutboxMessage(
        template=template, recipient=_checked_recipient(recipient), subject=header_safe(subject), body=body
    )
    db.add(message)
    return message


def enqueue_email(db: Session, *, template: str, recipient: str, **context: Any) -> OutboxMessage:
    """The email templates/emails/<template>.txt, rendered with `context`, to one address."""
    subject, body = emails.render(template, **context)
    return enqueue(db, template=template, recipient=recipient, subject=subject, body=body)


def enqueue_email_each(db: Session, recipients: Iterable[str], *, template: str, **context: Any) -> None:
    """The same email to each distinct address, one message each, in a stable order."""
    subject, body = emails.render(template, **context)
    for recipient in sorted(set(recipients)):
        enqueue(db, template=template, recipient=recipient, subject=subject, body=body)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


class LogSender:
    def send(self, message: OutboxMessage) -> None:
        log.info("email to=%s subject=%r\n%s", message.recipient, message.subject, message.body)


class SmtpSender:
    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, message: OutboxMessage) -> None:
        email = EmailMessage()
        email["From"] = self.settings.mail_from
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = f"<outbox-{message.id}@portal>"
        email.set_content(message.body)
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=30) as smtp:
            smtp.send_message(email)


@dataclass
class Senders:
    """One sender per kind of message. A worker without a webhook sender leaves webhooks to one with."""

    email: Any
    webhook: Any = None

    def for_kind(self, kind: str):
        return self.webhook if kind == "webhook" else self.email

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("email", "webhook") if self.webhook is not None else ("email",)


def email_sender_for(settings: Settings):
    if settings.email_sender == "smtp":
        return SmtpSender(settings)
    if settings.email_sender == "notify":
        from .notify_sender import NotifySender

        return NotifySender(settings)
    return LogSender()


def sender_for(settings: Settings) -> Senders:
    return Senders(email=email_sender_for(settings), webhook=WebhookSender(settings))


def claim_due(factory: sessionmaker, *, batch: int = 20, kinds: tuple[str, ...] = ("email",)) -> list[int]:
    now = utcnow()
    with factory() as db, db.begin():
        ids = list(
            db.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.kind.in_(kinds),
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.attempts < MAX_ATTEMPTS,
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(batch)
            )
        )
        claimed = []
        for message_id in ids:
            # The conditional update is the lock: only one worker's update matches.
            result = db.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.sent_at.is_(None),
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .values(claimed_until=now + CLAIM_FOR)
            )
            if result.rowcount == 1:
                claimed.append(message_id)
        return claimed


def deliver_due(factory: sessionmaker, sender) -> int:
    """Sends what is due, each message by its kind; returns how many were sent.

    `sender` is a Senders, or a bare email sender, which then sends email only.
    """
    senders = sender if isinstance(sender, Senders) else Senders(email=sender)
    sent = 0
    for message_id in claim_due(factory, kinds=senders.kinds):
        with factory() as db, db.begin():
            message = db.get(OutboxMessage, message_id)
            try:
                senders.for_kind(message.kind).send(message)
            except Exception as error:
                message.attempts += 1
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                message.next_attempt_at = utcnow() + backoff(message.attempts)
                message.claimed_until = None
                if message.attempts >= MAX_ATTEMPTS:
                    # No more retries: the support workspace lists it, so a person can try again.
                    log.error(
                        "%s %s to %s given up after %s attempts: %s",
                        message.kind,
                        message_id,
                        message.recipient,
                        message.attempts,
                        error,
                    )
                else:
                    log.warning("%s %s failed (attempt %s): %s", message.kind, message_id, message.attempts, error)
                continue
            message.attempts += 1
            message.sent_at = utcnow()
            message.claimed_until = None
            sent += 1
    return sent


def undeliverable_filter():
    return (OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= MAX_ATTEMPTS)


def undeliverable(db: Session, limit: int = 20) -> tuple[list[OutboxMessage], int]:
    """Messages the worker has given up on, newest first, and how many there are in all."""
    total = db.scalar(select(func.count(OutboxMessage.id)).where(*undeliverable_filter())) or 0
    rows = db.scalars(
        select(OutboxMessage).where(*undeliverable_filter()).order_by(OutboxMessage.id.desc()).limit(limit)
    )
    return list(rows), total


def try_again(db: Session, message_id: int) -> OutboxMessage | None:
    """Puts a given-up message back in the queue, with its retries and backoff from the start."""
    message = db.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id, *undeliverable_filter()))
    if message is not None:
        message.attempts, message.next_attempt_at, message.claimed_until = 0, utcnow(), None
        if message.kind == "email":
            # A message queued before subjects were made safe at enqueue may have failed for that reason.
            message.subject = header_safe(message.subject)
    return message


def recent(db: Session, limit: int = 50) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
