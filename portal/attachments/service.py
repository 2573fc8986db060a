"""Adding and removing a notification's files. Every rule is here, callable without HTTP."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..accounts.sessions import Auth
from ..files.storage import Storage, Stored, TooLarge
from ..models import Attachment, Notification, utcnow
from ..notifications.definitions import Question, Section
from ..notifications.drafting import SaveResult, can_edit, save_section, withdraw_approval_if_changed
from ..notifications.errors import NotAllowed
from ..notifications.locking import changing
from ..notifications.reading import type_of, visible
from ..text import byte_size
from .scanner import Scanner, ScannerUnavailable
from .sniff import sniff

log = logging.getLogger("portal.attachments")

SELECT_A_FILE = "Select a file"
EMPTY = "The selected file is empty"
WRONG_TYPE = "The selected file must be a PDF, image, Office document or plain text"
VIRUS = "The selected file contains a virus"
NOT_CHECKED = "The selected file could not be checked for viruses – try again later"
MAX_NAME = 200


class RefusedFile(Exception):
    """The file cannot be attached; the message is for the person, in GOV.UK error wording."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownQuestion(LookupError):
    pass


class UnknownAttachment(LookupError):
    pass


def file_question(notification: Notification, question_key: str) -> Question:
    try:
        question = type_of(notification).question(question_key)
    except (KeyError, LookupError):
        raise UnknownQuestion(question_key) from None
    if question.kind != "file":
        raise UnknownQuestion(question_key)
    return question


@dataclass(frozen=True)
class ReceivedFile:
    """A file stored under its key, its type sniffed and scanned clean, with no record yet.

    Either record_attachment records it, or whoever received it deletes its stored file.
    """

    filename: str
    content_type: str
    stored: Stored


def check_upload(db: Session, auth: Auth, notification: Notification, question_key: str, upload_file) -> Question:
    """Everything that can refuse an upload before its file is copied, so a person who may not add a
    file, or has no room for one, is told at once rather than after a long upload."""
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    question = file_question(notification, question_key)
    if not _has_file(upload_file):
        raise RefusedFile(SELECT_A_FILE)
    _check_room(db, notification, question)
    return question


def receive_file(upload_file, *, storage: Storage, scanner: Scanner, max_bytes: int) -> ReceivedFile:
    """Copies, sniffs and scans the file, taking no database connection: this is the slow part of an
    upload, and on a database thread it would hold up every other request. Nothing is left stored
    when the file is refused."""
    if not _has_file(upload_file):
        raise RefusedFile(SELECT_A_FILE)
    filename = display_name(upload_file.filename or "")
    upload_file.file.seek(0)
    try:
        stored = storage.save(upload_file.file, max_bytes=max_bytes)
    except TooLarge:
        raise RefusedFile(f"The selected file must be smaller than {byte_size(max_bytes)}") from None
    try:
        if stored.size == 0:
            raise RefusedFile(EMPTY if upload_file.filename else SELECT_A_FILE)
        # Sniffed and scanned from the request's own copy (on local disk once past a megabyte), the bytes
        # just stored: reading them back from object storage would cost a second transfer of the file.
        file = upload_file.file
        kind = sniff(file, filename)
        if kind is None:
            raise RefusedFile(WRONG_TYPE)
        verdict = _scan(scanner, file)
        if not verdict.clean:
            log.warning("virus refused signature=%s", verdict.signature)
            raise RefusedFile(VIRUS)
    except BaseException:
        storage.delete(stored.key)
        raise
    return ReceivedFile(filename=filename, content_type=kind[0], stored=stored)


def record_attachment(
    db: Session,
    auth: Auth,
    notification: Notification,
    question_key: str,
    received: ReceivedFile,
    *,
    ip: str = "",
    user_agent: str = "",
) -> Attachment:
    """Records a received file, checking again what check_upload checked: the notification may have
    been submitted, or filled up, while the file was on its way. When this raises, the caller deletes
    the stored file."""
    # Two uploads racing for the last place: the lock makes the second count the first.
    changing(db, notification)
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    question = file_question(notification, question_key)
    _check_room(db, notification, question)
    attachment = Attachment(
        notification_id=notification.id,
        question_key=question.key,
        filename=received.filename,
        content_type=received.content_type,
        size=received.stored.size,
        sha256=received.stored.sha256,
        storage_key=received.stored.key,
        uploaded_by_id=auth.user.id,
    )
    db.add(attachment)
    _touch(notification, auth)
    db.flush()
    audit.record(
        db,
        "notification:attachment_added",
        actor_id=auth.user.id,
        organisation_id=notification.organisation_id,
        notification_id=notification.id,
        ip=ip,
        user_agent=user_agent,
        filename=received.filename,
        sha256=received.stored.sha256,
    )
    withdraw_approval_if_changed(db, auth, notification, ip=ip, user_agent=user_agent)
    return attachment


def add_attachment(
    db: Session,
    auth: Auth,
    notification: Notification,
    question_key: str,
    upload_file,
    *,
    storage: Storage,
    scanner: Scanner,
    max_bytes: int,
    ip: str = "",
    user_agent: str = "",
) -> Attachment:
    """The three steps in the caller's one transaction, for callers with no other requests to keep
    going (scripts, tests). The upload route runs the middle one outside its transactions."""
    check_upload(db, auth, notification, question_key, upload_file)
    received = receive_file(upload_file, storage=storage, scanner=scanner, max_bytes=max_bytes)
    try:
        return record_attachment(db, auth, notification, question_key, received, ip=ip, user_agent=user_agent)
    except BaseException:
        storage.delete(received.stored.key)
        raise


def remove_attachment(
    db: Session, auth: Auth, notification: Notification, attachment_id: int, *, ip: str = "", user_agent: str = ""
) -> Attachment:
    """Marks the file removed; the caller deletes the stored bytes once this has committed."""
    changing(db, notification)
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    attachment = _current(db, notification.id, attachment_id)
    if attachment is None:
        raise UnknownAttachment(attachment_id)
    attachment.removed_at = utcnow()
    _touch(notification, auth)
    audit.record(
        db,
        "notification:attachment_removed",
        actor_id=auth.user.id,
        organisation_id=notification.organisation_id,
        notification_id=notification.id,
        ip=ip,
        user_agent=user_agent,
        filename=attachment.filename,
    )
    db.flush()
    withdraw_approval_if_changed(db, auth, notification, ip=ip, user_agent=user_agent)
    return attachment


# Sent with the section's answers ---------------------------------------------------------------
# The section page's "Upload file" and "Remove" buttons submit the section's own form, so what the
# person typed in its other questions arrives with them. It is saved with the change to the files, in
# the same transaction, the way "Save and come back later" saves: kept, not judged, since errors are
# for "Save and continue" to show.


@dataclass(frozen=True)
class TypedAnswers:
    """The section's answers as its form sent them (form_input.section_raw) and the version its page showed."""

    raw: dict[str, Any]
    version: int


@dataclass
class FileChange:
    """What an upload sent from the section's form did."""

    # The answers' save; None when the request carried no answers (the upload page, scripts).
    saved: SaveResult | None
    attachment: Attachment | None = None
    refused: RefusedFile | None = None
    # The notification was approved and this change (answers or file) sent it back to draft: the person
    # is told, since its approval is gone and it must be reviewed again.
    approval_withdrawn: bool = False


def section_holding(notification: Notification, question_key: str) -> Section:
    for section in type_of(notification).sections:
        if any(each and each.key == question_key for q in section.questions for each in (q, q.follow_up)):
            return section
    raise UnknownQuestion(question_key)


def question_of_attachment(db: Session, notification: Notification, attachment_id: int) -> str:
    attachment = _current(db, notification.id, attachment_id)
    if attachment is None:
        raise UnknownAttachment(attachment_id)
    return attachment.question_key


def upload_with_answers(
    db: Session,
    auth: Auth,
    notification: Notification,
    question_key: str,
    received: ReceivedFile | RefusedFile,
    typed: TypedAnswers | None,
    *,
    ip: str = "",
    user_agent: str = "",
) -> FileChange:
    """Saves the typed answers, then records the received file.

    A refused file, whether refused on its way in or here (the question filled up meanwhile), still
    has the answers saved. A conflict writes none of the answers, for the person to compare with the
    other save, but the file is still recorded: files are not part of a section's versions, and
    recording it loses nothing of the other person's. When no attachment comes back, the caller
    deletes the stored file.
    """
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    file_question(notification, question_key)
    was_approved = notification.status == "approved"
    saved = _save_typed(db, auth, notification, question_key, typed, ip=ip, user_agent=user_agent)
    change = FileChange(saved)
    if isinstance(received, RefusedFile):
        change.refused = received
    else:
        try:
            change.attachment = record_attachment(
                db, auth, notification, question_key, received, ip=ip, user_agent=user_agent
            )
        except RefusedFile as refused:
            change.refused = refused
    change.approval_withdrawn = was_approved and notification.status != "approved"
    return change


def remove_with_answers(
    db: Session,
    auth: Auth,
    notification: Notification,
    attachment_id: int,
    typed: TypedAnswers | None,
    *,
    ip: str = "",
    user_agent: str = "",
) -> FileChange:
    """Saves the typed answers, then removes the file (the change's attachment); on a conflict, the file
    is removed all the same. The caller deletes the stored bytes once this has committed."""
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    question_key = question_of_attachment(db, notification, attachment_id)
    was_approved = notification.status == "approved"
    saved = _save_typed(db, auth, notification, question_key, typed, ip=ip, user_agent=user_agent)
    attachment = remove_attachment(db, auth, notification, attachment_id, ip=ip, user_agent=user_agent)
    return FileChange(
        saved, attachment=attachment, approval_withdrawn=was_approved and notification.status != "approved"
    )


def _save_typed(
    db: Session,
    auth: Auth,
    notification: Notification,
    question_key: str,
    typed: TypedAnswers | None,
    *,
    ip: str,
    user_agent: str,
) -> SaveResult | None:
    if typed is None:
        return None
    section = section_holding(notification, question_key)
    return save_section(
        db,
        auth,
        notification,
        section.key,
        typed.raw,
        expected_version=typed.version,
        ip=ip,
        user_agent=user_agent,
    )


@dataclass
class Swept:
    keys: list[str]  # stored files no attachment record names
    temporary: list[str]  # copies cut off part-way


# Longer than any upload request lasts between storing its file and committing its record.
SWEEP_GRACE = timedelta(hours=1)


def sweep(db: Session, storage: Storage, *, older_than: timedelta = SWEEP_GRACE) -> Swept:
    """Deletes the files an interrupted upload left behind: a copy cut off part-way, or a file
    stored whose record never committed (the worker killed, the database gone). Records are
    written after their file, so a young file may be an upload still on its way to its commit:
    only files older than `older_than` are looked at. Files with a record, removed or not, are kept.
    """
    keys, temporary = storage.files_older_than(time.time() - older_than.total_seconds())
    recorded: set[str] = set()
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        recorded.update(db.scalars(select(Attachment.storage_key).where(Attachment.storage_key.in_(batch))))
    orphans = [key for key in keys if key not in recorded]
    for key in orphans:
        storage.delete(key)
    for name in temporary:
        storage.delete_temporary(name)
    if orphans or temporary:
        log.warning("swept %d stored files without a record and %d part-written copies", len(orphans), len(temporary))
    return Swept(keys=orphans, temporary=temporary)


def downloadable(db: Session, auth: Auth, notification_id: int, attachment_id: int) -> Attachment | None:
    """The attachment if this person may see its notification; None (a 404) otherwise."""
    if visible(db, auth, notification_id) is None:
        return None
    return _current(db, notification_id, attachment_id)


def display_name(raw: str) -> str:
    """The name people see: the last path part only, no control or direction-changing characters."""
    # Browsers send these three escaped in multipart filenames (the HTML form encoding rules).
    for escaped, character in (("%22", '"'), ("%0D", "\r"), ("%0A", "\n")):
        raw = raw.replace(escaped, character)
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", raw))[-1]
    # Category C covers controls and format characters such as U+202E, which can make "gpj.exe" read as "exe.jpg".
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if name in ("", ".", ".."):
        return "attachment"
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 10:
            return stem[: MAX_NAME - len(extension) - 1] + "." + extension
        return name[:MAX_NAME]
    return name


def _has_file(upload_file) -> bool:
    return getattr(upload_file, "file", None) is not None


def _scan(scanner: Scanner, file):
    try:
        return scanner.scan(file)
    except ScannerUnavailable as error:
        # Refused rather than let through: an unscanned file must never reach the regulator.
        log.error("virus scanner unavailable: %s", error)
        raise RefusedFile(NOT_CHECKED) from None


def _check_room(db: Session, notification: Notification, question: Question) -> None:
    limit = question.rules.get("max_files", 1)
    count = db.scalar(
        select(func.count())
        .select_from(Attachment)
        .where(
            Attachment.notification_id == notification.id,
            Attachment.question_key == question.key,
            Attachment.removed_at.is_(None),
        )
    )
    if count >= limit:
        files = "file" if limit == 1 else "files"
        raise RefusedFile(f"You can add up to {limit} {files} here – remove one before adding another")


def _touch(notification: Notification, auth: Auth) -> None:
    notification.updated_at = utcnow()
    notification.updated_by_id = auth.user.id


def _current(db: Session, notification_id: int, attachment_id: int) -> Attachment | None:
    return db.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.notification_id == notification_id,
            Attachment.removed_at.is_(None),
        )
    )
