"""The whole notification as one document: the rendering authors, reviewers, submitters, support and the
receipt all see, with each section's answers in words and its comment threads."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from ..models import Attachment, Comment, Notification
from .definitions import Question
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
            return date.fromisoformat(value).strftime("%-d %B %Y")
        except (TypeError, ValueError):
            return str(value)
    if question.kind == "datetime":
        try:
            return datetime.fromisoformat(value).strftime("%-d %B %Y at %H:%M")
        except (TypeError, ValueError):
            return str(value)
    labels = question.labels()
    if isinstance(value, list):
        return ", ".join(labels.get(item, str(item)) for item in value)
    if labels:
        return labels.get(value, str(value))
    return str(value)
