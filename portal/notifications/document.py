"""The whole notification as one document: the rendering authors, reviewers, submitters, support and the
receipt all see, with each section's answers in words and its comment threads."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from ..models import Attachment, Comment, Notification
from ..text import date_time_words, date_words
from .definitions import Question, Section
from .presenters import section_tag
from .reading import answers_of, attachments_of, comments_of, type_of


def compiled_sections(
    db: Session,
    notification: Notification,
    answers_by_section: dict[str, dict] | None = None,
    changed: Collection[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Every section in order, as rows of a summary list; answers marked Changed when their key is in `changed`."""
    kind = type_of(notification)
    attachments = attachments_of(db, notification.id)
    answers_by_section = answers_by_section or answers_of(notification)
    drafts = {draft.section_key: draft for draft in notification.sections}
    sections = []
    for section in kind.sections:
        answers = answers_by_section.get(section.key, {})
        rows = []
        for question in section.questions:
            shown = [question]
            if question.follow_up is not None and question.shows_follow_up(answers.get(question.key)):
                shown.append(question.follow_up)
            for each in shown:
                text = display_value(each, answers.get(each.key), attachments)
                row: dict[str, Any] = {"key": {"text": each.label}, "value": {"text": text}}
                if each.key in changed:
                    row["value"] = {
                        "html": Markup('<strong class="govuk-tag govuk-tag--yellow">Changed</strong> {}').format(text)
                    }
                    row["classes"] = "portal-changed"
                rows.append(row)
        draft = drafts.get(section.key)
        sections.append(
            {"section": section, "rows": rows, "tag": section_tag(draft.status) if draft is not None else None}
        )
    return sections


def comment_threads(db: Session, notification: Notification) -> dict[str, list[dict[str, Any]]]:
    """Each section's threads: a comment with its replies, oldest first."""
    comments = comments_of(db, notification.id)
    replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is not None:
            replies.setdefault(comment.parent_id, []).append(comment)
    by_section: dict[str, list[dict[str, Any]]] = {}
    for root in comments:
        if root.parent_id is None:
            by_section.setdefault(root.section_key, []).append({"comment": root, "replies": replies.get(root.id, [])})
    return by_section


def display_value(question: Question, value: Any, attachments: list[Attachment] | None = None) -> str:
    """An answer in words, as the compiled document shows it."""
    if question.kind == "file":
        names = [a.filename for a in (attachments or []) if a.question_key == question.key]
        return ", ".join(names) if names else "No files attached"
    if value in (None, "", []):
        return "Not answered"
    if question.kind == "date":
        try:
            return date_words(date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    if question.kind == "datetime":
        try:
            return date_time_words(datetime.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    labels = question.labels()
    if isinstance(value, list):
        return ", ".join(labels.get(item, str(item)) for item in value)
    if labels:
        return labels.get(value, str(value))
    return str(value)


@dataclass(frozen=True)
class Difference:
    question: str
    # "Added", "Removed" or "Changed": said in words, never by colour alone.
    change: str
    before: str
    after: str


@dataclass(frozen=True)
class Differences:
    reference: str
    same_type: bool
    # (section title, its differences), sections with none left out.
    sections: list[tuple[str, list[Difference]]]


def _asked_in(section: Section) -> Iterator[Question]:
    for question in section.questions:
        yield question
        if question.follow_up is not None:
            yield question.follow_up


def differences_from_original(db: Session, notification: Notification) -> Differences | None:
    """What a follow-up says differently from the notification it follows, question by question, for its
    reviewers. Questions are matched by key and kind, so a follow-up of another type is compared on the
    questions the two share and its own new answers read "Added". None for a notification that follows none."""
    if notification.parent_id is None:
        return None
    original = db.get(Notification, notification.parent_id)
    if original is None:
        return None
    kind, before_kind = type_of(notification), type_of(original)
    before_answers, after_answers = answers_of(original), answers_of(notification)
    before_questions: dict[str, tuple[Question, Any]] = {}
    for section in before_kind.sections:
        for question in _asked_in(section):
            if question.kind != "file":
                before_questions[question.key] = (question, before_answers.get(section.key, {}).get(question.key))
    sections: list[tuple[str, list[Difference]]] = []
    for section in kind.sections:
        rows: list[Difference] = []
        for question in _asked_in(section):
            if question.kind == "file":
                continue
            after = after_answers.get(section.key, {}).get(question.key)
            earlier = before_questions.get(question.key)
            before = earlier[1] if earlier is not None and earlier[0].kind == question.kind else None
            if before == after or (before in (None, "", []) and after in (None, "", [])):
                continue
            shown_before = display_value(earlier[0], before) if earlier is not None else ""
            shown_after = display_value(question, after)
            if before in (None, "", []):
                rows.append(Difference(question.label, "Added", "", shown_after))
            elif after in (None, "", []):
                rows.append(Difference(question.label, "Removed", shown_before, ""))
            elif shown_before != shown_after:
                rows.append(Difference(question.label, "Changed", shown_before, shown_after))
        if rows:
            sections.append((section.title, rows))
    return Differences(original.reference or "", original.type_key == notification.type_key, sections)
