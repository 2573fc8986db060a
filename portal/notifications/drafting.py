"""Drafting: starting a notification or a follow-up, saving sections, settling two people's saves, assigning.

Every rule is here, callable without HTTP. Permissions are checked against the notification's
location through the state machine: a person may hold a role at one location only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ..accounts.sessions import Auth
from ..models import Location, Notification, SectionDraft, utcnow
from ..organisation.registered_people import prefill_for
from .activity import record
from .answers import validate_answer
from .definitions import NotificationType, Question, Section
from .errors import NotAllowed, WorkflowError
from .form_input import merge_choices
from .locking import changing
from .people import index_section, reindex
from .reading import attachments_of, colleagues_who_can_draft, current_hash, drafting_locations, section_of, type_of
from .registry import definition, sorted_types
from .states import MOVES, allowed_moves, require


@dataclass
class SaveResult:
    errors: dict[str, str] = field(default_factory=dict)
    # The other person's save, when theirs came first; nothing of this save was written.
    conflict: SectionDraft | None = None
    section: SectionDraft | None = None
    # What this save was given, for the page that compares it with theirs.
    raw: dict[str, Any] = field(default_factory=dict)
    # This save changed an approved notification, so its approval was withdrawn: the person is told.
    approval_withdrawn: bool = False

    @property
    def saved(self) -> bool:
        return self.conflict is None


def can_edit(auth: Auth, notification: Notification) -> bool:
    return "edit" in allowed_moves(auth, notification)


# How long a second press of "Start follow-up" counts as the same press.
REPEATED_PRESS = timedelta(minutes=2)


def start(
    db: Session,
    auth: Auth,
    *,
    type_key: str,
    location_id: int,
    ip: str = "",
    user_agent: str = "",
    parent: Notification | None = None,
) -> Notification:
    kind = definition(type_key)
    if kind is None:
        raise NotAllowed("Select the kind of event you are telling us about")
    places = drafting_locations(db, auth, closed_too=parent is not None)
    if auth.organisation is None or location_id not in {location.id for location in places}:
        raise NotAllowed("Select a location where you can draft notifications")
    notification = Notification(
        organisation_id=auth.organisation.id,
        location_id=location_id,
        type_key=kind.key,
        type_version=kind.version,
        created_by_id=auth.user.id,
        updated_by_id=auth.user.id,
        assigned_to_id=auth.user.id,
        parent_id=parent.id if parent else None,
    )
    prefilled = _prefilled_answers(db, kind, location_id)
    carried = answers_carried_over(parent, kind) if parent is not None else {}
    for section in kind.sections:
        answers = {**prefilled.get(section.key, {}), **carried.get(section.key, {})}
        # A section holding the original's answers is started, not complete: what was true then may not be now,
        # so each is complete only once someone has read it and saved it. (The register's names alone leave a
        # section not started, as before: they are a convenience, not something said to the regulator.)
        status = "in_progress" if carried.get(section.key) else "not_started"
        notification.sections.append(SectionDraft(section_key=section.key, answers=answers, status=status))
    db.add(notification)
    db.flush()
    if carried or prefilled:
        # Answers written other than by the section save: the identifier index must agree with them, written
        # under the new notification's lock as every index write is.
        changing(db, notification)
        reindex(db, notification)
    record(
        db,
        "notification:started",
        auth,
        notification,
        ip,
        user_agent,
        type=kind.title,
        location=_location_name(db, location_id),
    )
    return notification


def _prefilled_answers(db: Session, kind: NotificationType, location_id: int) -> dict[str, dict[str, Any]]:
    """{section key: {question key: answer}} for the questions that ask about a registered person, from who the
    organisation recorded them to be (or the register's name). Ordinary draft answers: the section stays not
    started until someone saves it, and they can change each one. A name the question would refuse (too long
    for it) is left for the drafter to type."""
    questions = [
        (section.key, question)
        for section in kind.sections
        for question in section.questions
        if question.prefill is not None
    ]
    if not questions:
        return {}
    location = db.get(Location, location_id)
    if location is None:
        return {}
    people = prefill_for(db, location)
    answers: dict[str, dict[str, Any]] = {}
    for section_key, question in questions:
        value, error = validate_answer(question, people.of(question.prefill or ""))
        if error is None and value:
            answers.setdefault(section_key, {})[question.key] = value
    return answers


def answers_carried_over(original: Notification, kind: NotificationType) -> dict[str, dict[str, Any]]:
    """{section key: {question key: answer}} for a follow-up of `kind` to `original`: every answer when the type
    is the same; otherwise the answers to questions with the same key and kind (about you, the person), as a
    follow-up of another type asks them again. An answer the new question would refuse is left out, and files
    are not carried: the original's stay with it, and the regulator has them under its reference."""
    source = type_of(original)
    given = {draft.section_key: draft.answers or {} for draft in original.sections}
    found: dict[str, tuple[Question, Any]] = {}
    for section in source.sections:
        for question in section.questions:
            for asked in (question, question.follow_up):
                if asked is not None and asked.key in given.get(section.key, {}):
                    found[asked.key] = (asked, given[section.key][asked.key])
    carried: dict[str, dict[str, Any]] = {}
    for section in kind.sections:
        for question in section.questions:
            for asked in (question, question.follow_up):
                if asked is None or asked.kind == "file" or asked.key not in found:
                    continue
                before, value = found[asked.key]
                if before.kind != asked.kind:
                    continue
                if value not in (None, "", []) and _still_valid(asked, value):
                    carried.setdefault(section.key, {})[asked.key] = value
    return carried


# Kinds stored in another shape than they are typed (a date as ISO text, not day, month and year), which the
# form validators cannot read back: the same key and kind is the same shape.
_STORED_AS_TYPED = {"date", "time", "datetime", "number"}


def _still_valid(question: Question, value: Any) -> bool:
    """Whether an answer saved for a question of the same key and kind is one this question takes: its choices
    may be fewer, its text shorter."""
    choices = {key for key, _ in question.choices()}
    if choices:
        return all(item in choices for item in (value if isinstance(value, list) else [value]))
    if question.kind in _STORED_AS_TYPED:
        return True
    checked, error = validate_answer(question, value)
    return error is None and checked == value


def _location_name(db: Session, location_id: int) -> str:
    return db.scalar(select(Location.name).where(Location.id == location_id)) or ""


def follow_up_types(notification: Notification) -> list[NotificationType]:
    """What may follow a submitted notification: the types that name it, and more of the same."""
    kinds = [kind for kind in sorted_types() if notification.type_key in kind.follow_up_of]
    same = definition(notification.type_key)
    return kinds + ([same] if same and same not in kinds else [])


def start_follow_up(
    db: Session, auth: Auth, notification: Notification, type_key: str, *, ip: str = "", user_agent: str = ""
) -> Notification:
    changing(db, notification)
    require(auth, notification, "follow_up")
    kind = next((kind for kind in follow_up_types(notification) if kind.key == type_key), None)
    if kind is None:
        raise WorkflowError("Select what you are sending", field="type")
    # A second press of "Start" (a double click, or Back and press again) must not leave two drafts:
    # under the original's lock, the same person's untouched follow-up of this type is that press's answer.
    pressed_again = db.scalar(
        select(Notification)
        .where(
            Notification.parent_id == notification.id,
            Notification.type_key == kind.key,
            Notification.created_by_id == auth.user.id,
            Notification.status == "draft",
            Notification.created_at >= utcnow() - REPEATED_PRESS,
            ~select(SectionDraft.id)
            .where(SectionDraft.notification_id == Notification.id, SectionDraft.version > 0)
            .exists(),
        )
        .limit(1)
    )
    if pressed_again is not None:
        return pressed_again
    new = start(
        db,
        auth,
        type_key=kind.key,
        location_id=notification.location_id,
        ip=ip,
        user_agent=user_agent,
        parent=notification,
    )
    record(
        db,
        "notification:follow_up_started",
        auth,
        notification,
        ip,
        user_agent,
        reference=notification.reference,
        type=kind.title,
    )
    return new


def validate_section(
    db: Session, notification: Notification, section: Section, raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(typed answers, raw input that failed, errors) for one section's submitted input."""
    answers: dict[str, Any] = {}
    failed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    attachment_questions = None

    def check(question: Question) -> Any:
        nonlocal attachment_questions
        if question.kind == "file":
            if attachment_questions is None:
                attachment_questions = {a.question_key for a in attachments_of(db, notification.id)}
            if question.required and question.key not in attachment_questions:
                errors[question.key] = (
                    question.rules.get("required_message") or f"Upload {question.label[0].lower()}{question.label[1:]}"
                )
            return None
        value, error = validate_answer(question, raw.get(question.key))
        if error is not None:
            errors[question.key] = error
            if raw.get(question.key) not in (None, "", [], {}):
                failed[question.key] = raw.get(question.key)
            return None
        if value not in (None, [], ""):
            answers[question.key] = value
        return value

    for question in section.questions:
        value = check(question)
        if question.follow_up is not None and question.shows_follow_up(value):
            check(question.follow_up)
    return answers, failed, errors


def save_section(
    db: Session,
    auth: Auth,
    notification: Notification,
    section_key: str,
    raw: dict[str, Any],
    *,
    expected_version: int,
    ip: str = "",
    user_agent: str = "",
) -> SaveResult:
    changing(db, notification)
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    found = section_of(notification, section_key)
    if found is None:
        raise NotAllowed("That section is not part of this notification")
    section, draft = found
    answers, failed, errors = validate_section(db, notification, section, raw)
    status = "completed" if not errors else "in_progress"
    now = utcnow()
    # The version check and the write are one statement: of two saves from the same version, one wins.
    changed = cast(
        "CursorResult[Any]",
        db.execute(
            update(SectionDraft)
            .where(SectionDraft.id == draft.id, SectionDraft.version == expected_version)
            .values(
                answers=answers,
                raw=failed,
                status=status,
                version=SectionDraft.version + 1,
                updated_by_id=auth.user.id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    db.refresh(draft)
    if changed != 1:
        return SaveResult(errors=errors, conflict=draft, section=draft, raw=raw)
    notification.updated_at = now
    notification.updated_by_id = auth.user.id
    # In this transaction, under the lock the save holds: the index never disagrees with the answers.
    index_section(db, notification, section, answers)
    record(db, "notification:section_saved", auth, notification, ip, user_agent, section=section.title)
    withdrawn = withdraw_approval_if_changed(db, auth, notification, ip=ip, user_agent=user_agent)
    return SaveResult(errors=errors, section=draft, raw=raw, approval_withdrawn=withdrawn)


def resolve_conflict(
    db: Session,
    auth: Auth,
    notification: Notification,
    section_key: str,
    mine: dict[str, Any],
    choices: dict[str, str],
    *,
    expected_version: int,
    ip: str = "",
    user_agent: str = "",
) -> SaveResult:
    """Saves, for each answer that differed, mine, theirs, or (long text) both, mine first.

    mine is what this person had typed; choices holds "mine", "theirs" or "both" by question key.
    """
    changing(db, notification)
    found = section_of(notification, section_key)
    if found is None:
        raise NotAllowed("That section is not part of this notification")
    section, draft = found
    merged = merge_choices(section, mine, choices, draft.answers, draft.raw)
    return save_section(
        db, auth, notification, section.key, merged, expected_version=expected_version, ip=ip, user_agent=user_agent
    )


def withdraw_approval_if_changed(
    db: Session, auth: Auth, notification: Notification, *, ip: str = "", user_agent: str = ""
) -> bool:
    """Called after any edit, files included: an approved notification whose content changed is back to draft."""
    changing(db, notification)
    # A save that leaves a section unfinished withdraws it too, even when no stored answer changed (an
    # over-long optional answer is not stored): an approval never stands beside an unfinished section.
    unfinished = any(draft.status != "completed" for draft in notification.sections)
    if notification.status != "approved" or (
        notification.approved_hash == current_hash(db, notification) and not unfinished
    ):
        return False
    notification.status = MOVES["edit_after_approval"].target
    notification.approved_hash = None
    record(db, "notification:approval_withdrawn", auth, notification, ip, user_agent, reason="changed after approval")
    return True


def assign(
    db: Session, auth: Auth, notification: Notification, user_id: int | None, *, ip: str = "", user_agent: str = ""
) -> None:
    changing(db, notification)
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    people = {user.id: user for user in colleagues_who_can_draft(db, notification)}
    if user_id is not None and user_id not in people:
        # Only a tampered form names someone else: a form error, since the person may assign, just not to them.
        raise WorkflowError("Select a colleague who can draft at this location", field="assignee")
    notification.assigned_to_id = user_id
    record(
        db,
        "notification:assigned",
        auth,
        notification,
        ip,
        user_agent,
        assignee=people[user_id].email if user_id else "nobody",
    )


# Why a location change withdraws an approval: the approval was of a notification about another place.
LOCATION_CHANGED_AFTER_APPROVAL = "the location changed after approval"


def change_location(
    db: Session, auth: Auth, notification: Notification, location_id: int, *, ip: str = "", user_agent: str = ""
) -> bool:
    """Moves the notification to another of the organisation's open locations, where this person may draft.

    The location is asked once, when the notification is started; this is the one way to change it, while the
    notification may be edited. It is part of what reviewers approve and the regulator receives, so an
    approval is withdrawn, as by any other change. True when the approval was withdrawn.
    """
    changing(db, notification)
    require(auth, notification, "edit")
    chosen = next((place for place in drafting_locations(db, auth) if place.id == location_id), None)
    if chosen is None:
        # The page offers only these; a closed one of the person's own is named, anything else is a tampered form.
        if location_id in {place.id for place in drafting_locations(db, auth, closed_too=True)}:
            raise WorkflowError("That location is closed: it takes no new notifications", field="location")
        raise NotAllowed("Select a location where you can draft notifications")
    if chosen.id == notification.location_id:
        return False
    before = notification.location
    notification.location_id = chosen.id
    notification.location = chosen
    notification.updated_at = utcnow()
    notification.updated_by_id = auth.user.id
    record(
        db,
        "notification:location_changed",
        auth,
        notification,
        ip,
        user_agent,
        before=f"{before.name} ({before.regulator_location_id})",
        after=f"{chosen.name} ({chosen.regulator_location_id})",
    )
    if notification.status != "approved":
        return False
    notification.status = MOVES["edit_after_approval"].target
    notification.approved_hash = None
    record(
        db,
        "notification:approval_withdrawn",
        auth,
        notification,
        ip,
        user_agent,
        reason=LOCATION_CHANGED_AFTER_APPROVAL,
    )
    return True


def next_unfinished_section(notification: Notification, after: str) -> str | None:
    """The key of the first section after `after` that is not yet completed, if any."""
    keys = [section.key for section in type_of(notification).sections]
    drafts = {draft.section_key: draft for draft in notification.sections}
    for key in keys[keys.index(after) + 1 :]:
        if key in drafts and drafts[key].status != "completed":
            return key
    return None
