"""What the questions pages show, built in Python: table rows and the support team's summary of a question."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..models import SupportQuery
from ..web.templating import format_datetime, link, tag, with_url
from .service import STATUS_TAG_CLASSES, STATUS_WORDS, SUPPORT_STATUS_WORDS, age_words

Url = Callable[..., str]


def _status(query: SupportQuery, words: Mapping[str, str]) -> dict[str, Any]:
    return {"html": tag(words[query.status], STATUS_TAG_CLASSES[query.status])}


def question_rows(url: Url, queries: Iterable[SupportQuery]) -> list[list[dict[str, Any]]]:
    """A provider's list of their organisation's questions."""
    return [
        [
            {"html": link(url("queries.thread", query_id=query.id), query.subject)},
            _status(query, STATUS_WORDS),
            {"text": query.asked_by.email if query.asked_by else "A former member"},
            {"text": format_datetime(query.updated_at)},
        ]
        for query in queries
    ]


def queue_rows(url: Url, queries: Iterable[SupportQuery]) -> list[list[dict[str, Any]]]:
    """The support team's queue, each question with how long it has waited."""
    return [
        [
            {"text": age_words(query)},
            {"html": link(url("queries.support_thread", query_id=query.id), query.subject)},
            {"text": query.organisation.name},
            _status(query, SUPPORT_STATUS_WORDS),
            {"text": query.assigned_to.email if query.assigned_to else "Nobody"},
        ]
        for query in queries
    ]


def support_summary_rows(url: Url, query: SupportQuery) -> list[dict[str, Any]]:
    """Summary list rows for the support team's view of one question, linked to who and what it is about."""
    asked_by = query.asked_by
    rows: list[dict[str, Any]] = [
        {"key": {"text": "Status"}, "value": _status(query, SUPPORT_STATUS_WORDS)},
        {
            "key": {"text": "Waiting for"},
            "value": {"text": f"{age_words(query)} (asked {format_datetime(query.created_at)})"},
        },
        {
            "key": {"text": "Organisation"},
            "value": {
                "html": link(
                    url("support.organisation_page", organisation_id=query.organisation.id), query.organisation.name
                )
            },
        },
        {
            "key": {"text": "Asked by"},
            "value": {"html": link(url("support.person_page", user_id=asked_by.id), asked_by.email)}
            if asked_by
            else {"html": "A former member"},
        },
        {"key": {"text": "Assigned to"}, "value": {"text": query.assigned_to.email if query.assigned_to else "Nobody"}},
    ]
    notification = query.notification
    if notification is not None:
        words = (
            f"Notification {notification.reference}" if notification.reference else "A draft notification, read only"
        )
        path = url("support.notification_page", notification_id=notification.id)
        rows.append({"key": {"text": "About"}, "value": {"html": link(path, words)}})
    if query.asked_from:
        rows.append({"key": {"text": "Asked from the page"}, "value": {"text": query.asked_from}})
    return rows


TEMPLATE_GLOBALS = {
    "question_rows": with_url(question_rows),
    "queue_rows": with_url(queue_rows),
    "support_summary_rows": with_url(support_summary_rows),
}
