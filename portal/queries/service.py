"""Providers' questions to the support team: threads, who they wait on, assignment and email alerts.

Statuses say whose turn it is. A provider's message puts the thread with support; a support reply
puts it with the provider; either side may mark it resolved, and a provider's reply reopens it.
Every change is audited against the provider's organisation, so it shows in their history too, and
every alert goes through the outbox in the same transaction.

Questions follow what they are about. On the provider's side, every route (the list, a question's page,
replying, resolving) and the dashboard's count find questions through `_visible_to`:
- a question about a notification is seen by exactly those who may see that notification: notification:view
  at its location or across the organisation, as notifications.reading.visible() decides for the notification;
- a question about no notification is seen by the person who asked it and by those who hold query:ask
  across the whole organisation; a colleague limited to some locations does not see others' general questions,
  since nothing ties them to a location of theirs.
Anyone else's answers 404, as another organisation's does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import audit, links, outbox
from ..accounts.permission_holders import people_with
from ..accounts.sessions import Auth
from ..models import (
    OPEN_STATUSES,
    REGULATOR,
    Notification,
    QueryMessage,
    SupportQuery,
    User,
    utcnow,
)
from ..notifications import reading as notifications
from ..numbers import parse_id, parse_number
from ..permissions import Permission
from ..regulator_scope import for_regulator
from ..rules import RuleBroken
from ..safe_paths import same_site_path

MAX_SUBJECT = 150
MAX_MESSAGE = 20_000
QUEUE_PAGE_SIZE = 50
PROVIDER_LIST_LIMIT = 200

STATUS_WORDS = {
    "new": "New",
    "waiting_on_support": "Waiting on support",
    "waiting_on_provider": "Waiting on you",
    "resolved": "Resolved",
}
# Support sees the same statuses from its own side of the thread.
SUPPORT_STATUS_WORDS = {**STATUS_WORDS, "waiting_on_provider": "Waiting on provider"}
STATUS_TAG_CLASSES = {
    "new": "govuk-tag--blue",
    "waiting_on_support": "govuk-tag--yellow",
    "waiting_on_provider": "govuk-tag--grey",
    "resolved": "govuk-tag--green",
}


def clean_text(value) -> str:
    # Null bytes cannot be stored by PostgreSQL and mean nothing to a reader.
    return (value if isinstance(value, str) else "").replace("\x00", "").strip()


# Narrower than same_site_path: the support team sees this link beside a provider's question, so it
# keeps to the characters the portal's own paths and query strings use.
_PORTAL_PATH = re.compile(r"^/[A-Za-z0-9/_\-.?=&%]*$")


def safe_asked_from(path) -> str:
    """Only a path on this site is kept: the support page links to it, so it must not point elsewhere."""
    path = same_site_path(clean_text(path))
    if path is None or not _PORTAL_PATH.match(path) or path.startswith("/queries"):
        return ""
    return path[:300]


_NOTIFICATION_PATH = re.compile(r"^/notifications/([0-9]+)(?:/|$)")


def notification_from_path(path: str) -> int | None:
    """Asking from a notification's page makes the question about that notification, unless changed."""
    match = _NOTIFICATION_PATH.match(path or "")
    return int(match.group(1)) if match else None


# Who hears about what ---------------------------------------------------------------------------


def _support_recipients(query: SupportQuery, support_email: str) -> list[str]:
    if query.assigned_to is not None and query.assigned_to.active:
        return [query.assigned_to.email]
    return [support_email] if support_email else []


def _record(db: Session, event_type: str, actor: User, query: SupportQuery, ip: str, user_agent: str, **fields):
    audit.record(
        db,
        event_type,
        actor_id=actor.id,
        organisation_id=query.organisation_id,
        notification_id=query.notification_id,
        ip=ip,
        user_agent=user_agent,
        **fields,
    )


# The provider's side ----------------------------------------------------------------------------


def askable_notifications(db: Session, auth: Auth, limit: int = 100) -> list[Notification]:
    """The notifications this person can see, newest first, to choose what a question is about."""
    places = auth.locations_with(Permission.NOTIFICATION_VIEW)
    statement = (
        select(Notification)
        .options(joinedload(Notification.location))
        .where(Notification.organisation_id == auth.require_organisation().id)
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if places is not None:
        statement = statement.where(Notification.location_id.in_(places or {-1}))
    return list(db.scalars(statement))


def ask(
    db: Session,
    auth: Auth,
    *,
    subject: str,
    message: str,
    notification_id=None,
    asked_from="",
    support_email: str,
    base_url: str,
    ip: str = "",
    user_agent: str = "",
) -> SupportQuery:
    """subject and message come from QuestionForm, which has checked them; which notifications this person
    may ask about only the service knows."""
    organisation = auth.require_organisation()
    subject, body = clean_text(subject), clean_text(message)
    notification = None
    if notification_id not in (None, ""):
        chosen = parse_id(notification_id)
        notification = notifications.visible(db, auth, chosen) if chosen is not None else None
        if notification is None:
            raise RuleBroken(
                "Select a notification from the list, or say the question is not about one", field="notification"
            )
    query = SupportQuery(
        organisation_id=organisation.id,
        asked_by_id=auth.user.id,
        subject=subject,
        notification_id=notification.id if notification else None,
        asked_from=safe_asked_from(asked_from),
        status="new",
    )
    query.messages.append(QueryMessage(author_id=auth.user.id, from_support=False, body=body))
    db.add(query)
    db.flush()
    _record(db, "query:asked", auth.user, query, ip, user_agent, subject=subject)
    outbox.enqueue_email_each(
        db,
        [support_email] if support_email else [],
        template="query_asked",
        organisation_name=organisation.name,
        question_summary=subject,
        asked_by=auth.user.email,
        message=body,
        about_notification=(notification.reference or f"#{notification.id}") if notification else "",
        link=links.support_question(base_url, query.id),
    )
    return query


def _visible_to(auth: Auth) -> ColumnElement[bool]:
    """The questions this person may see (the module's docstring says who sees what)."""
    seeing = auth.locations_with(Permission.NOTIFICATION_VIEW)
    about_one: ColumnElement[bool] = SupportQuery.notification_id.is_not(None)
    if seeing is not None:
        about_one = and_(
            about_one,
            SupportQuery.notification_id.in_(
                select(Notification.id).where(Notification.location_id.in_(seeing or {-1}))
            ),
        )
    general: ColumnElement[bool] = SupportQuery.notification_id.is_(None)
    if auth.locations_with(Permission.QUERY_ASK) is not None:
        general = and_(general, SupportQuery.asked_by_id == auth.user.id)
    return and_(SupportQuery.organisation_id == auth.require_organisation().id, or_(about_one, general))


def organisation_queries(db: Session, auth: Auth) -> list[SupportQuery]:
    """The organisation's questions this person may see, open ones first, then the most recently active."""
    rows = db.scalars(
        select(SupportQuery)
        .options(joinedload(SupportQuery.asked_by))
        .where(_visible_to(auth))
        .order_by(SupportQuery.updated_at.desc(), SupportQuery.id.desc())
        .limit(PROVIDER_LIST_LIMIT)
    )
    return sorted(rows, key=lambda query: query.status == "resolved")


def replies_waiting(db: Session, auth: Auth) -> int:
    """How many of the questions this person sees have a support reply nobody has answered yet."""
    return (
        db.scalar(
            select(func.count(SupportQuery.id)).where(_visible_to(auth), SupportQuery.status == "waiting_on_provider")
        )
        or 0
    )


def organisation_query(db: Session, auth: Auth, query_id: int) -> SupportQuery | None:
    """The question if this person may see it; None (a 404) otherwise."""
    return db.scalar(_thread().where(SupportQuery.id == query_id, _visible_to(auth)))


def _thread():
    return select(SupportQuery).options(
        joinedload(SupportQuery.organisation),
        joinedload(SupportQuery.asked_by),
        joinedload(SupportQuery.assigned_to),
        joinedload(SupportQuery.notification),
        selectinload(SupportQuery.messages).joinedload(QueryMessage.author),
    )


def _add_message(query: SupportQuery, author: User, body: str, *, from_support: bool) -> None:
    query.messages.append(QueryMessage(author_id=author.id, author=author, from_support=from_support, body=body))
    query.updated_at = utcnow()


def reply_as_provider(
    db: Session,
    auth: Auth,
    query: SupportQuery,
    *,
    message: str,
    support_email: str,
    base_url: str,
    ip: str = "",
    user_agent: str = "",
) -> None:
    body = clean_text(message)
    _add_message(query, auth.user, body, from_support=False)
    # A reply to a resolved question reopens it: the person still needs help.
    query.status = "waiting_on_support"
    query.resolved_at = None
    _record(db, "query:replied", auth.user, query, ip, user_agent, subject=query.subject, by_support=False)
    outbox.enqueue_email_each(
        db,
        _support_recipients(query, support_email),
        template="query_provider_replied",
        organisation_name=query.organisation.name,
        question_summary=query.subject,
        replied_by=auth.user.email,
        message=body,
        link=links.support_question(base_url, query.id),
    )


def resolve_as_provider(db: Session, auth: Auth, query: SupportQuery, *, ip: str = "", user_agent: str = "") -> None:
    if query.status == "resolved":
        return
    query.status, query.resolved_at, query.updated_at = "resolved", utcnow(), utcnow()
    _record(db, "query:resolved", auth.user, query, ip, user_agent, subject=query.subject)


# The support team's side ------------------------------------------------------------------------


@dataclass
class QueueFilters:
    status: str = "open"  # open | all | one of QUERY_STATUSES
    assigned: str = "anyone"  # anyone | me | unassigned
    page: int = 1

    STATUSES = ("open", "all", "new", "waiting_on_support", "waiting_on_provider", "resolved")
    ASSIGNED = ("anyone", "me", "unassigned")

    @classmethod
    def from_query(cls, params) -> QueueFilters:
        status = params.get("status", "open")
        assigned = params.get("assigned", "anyone")
        page = parse_number(params.get("page", "1"), minimum=1, maximum=100_000) or 1
        return cls(
            status=status if status in cls.STATUSES else "open",
            assigned=assigned if assigned in cls.ASSIGNED else "anyone",
            page=page,
        )


@dataclass
class QueuePage:
    queries: list[SupportQuery]
    total: int
    page: int
    pages: int


def queue(db: Session, user: User, filters: QueueFilters) -> QueuePage:
    """Oldest first: the question that has waited longest is answered first."""
    # Practice copies cannot ask (permissions.NOT_IN_PRACTICE); the queue would not show them if they had.
    conditions: list[ColumnElement[bool]] = [for_regulator(SupportQuery.organisation_id)]
    if filters.status == "open":
        conditions.append(SupportQuery.status.in_(OPEN_STATUSES))
    elif filters.status != "all":
        conditions.append(SupportQuery.status == filters.status)
    if filters.assigned == "me":
        conditions.append(SupportQuery.assigned_to_id == user.id)
    elif filters.assigned == "unassigned":
        conditions.append(SupportQuery.assigned_to_id.is_(None))
    total = db.scalar(select(func.count(SupportQuery.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / QUEUE_PAGE_SIZE))
    page = min(filters.page, pages)
    rows = db.scalars(
        select(SupportQuery)
        .options(joinedload(SupportQuery.organisation), joinedload(SupportQuery.assigned_to))
        .where(*conditions)
        .order_by(SupportQuery.created_at, SupportQuery.id)
        .limit(QUEUE_PAGE_SIZE)
        .offset((page - 1) * QUEUE_PAGE_SIZE)
    )
    return QueuePage(list(rows), total, page, pages)


def any_query(db: Session, query_id: int) -> SupportQuery | None:
    return db.scalar(_thread().where(SupportQuery.id == query_id, for_regulator(SupportQuery.organisation_id)))


def agents(db: Session) -> list[User]:
    """Active regulator staff whose roles let them answer questions: the people a question can go to."""
    return people_with(db, Permission.QUERY_ANSWER, organisation_kind=REGULATOR)


def reply_as_support(
    db: Session,
    actor: User,
    query: SupportQuery,
    *,
    message: str,
    resolve: bool,
    base_url: str,
    ip: str = "",
    user_agent: str = "",
) -> None:
    body = clean_text(message)
    _add_message(query, actor, body, from_support=True)
    if query.assigned_to_id is None:
        # Whoever answers an unassigned question owns it, so the provider's reply comes back to them.
        query.assigned_to_id, query.assigned_to = actor.id, actor
    query.status = "resolved" if resolve else "waiting_on_provider"
    query.resolved_at = utcnow() if resolve else None
    _record(db, "query:replied", actor, query, ip, user_agent, subject=query.subject, by_support=True)
    if resolve:
        _record(db, "query:resolved", actor, query, ip, user_agent, subject=query.subject)
    if query.asked_by is not None and query.asked_by.active:
        outbox.enqueue_email(
            db,
            recipient=query.asked_by.email,
            template="query_support_replied",
            question_summary=query.subject,
            message=body,
            resolved=resolve,
            link=links.question(base_url, query.id),
        )


def assign(
    db: Session, actor: User, query: SupportQuery, assignee_id, *, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    if assignee_id in (None, ""):
        assignee = None
    else:
        by_id = {user.id: user for user in agents(db)}
        chosen_id = parse_id(assignee_id)
        assignee = by_id.get(chosen_id) if chosen_id is not None else None
        if assignee is None:
            raise RuleBroken("Select someone from the list", field="assignee")
    if (assignee.id if assignee else None) == query.assigned_to_id:
        return
    query.assigned_to_id, query.assigned_to = (assignee.id, assignee) if assignee else (None, None)
    _record(
        db,
        "query:assigned",
        actor,
        query,
        ip,
        user_agent,
        subject=query.subject,
        assignee=assignee.email if assignee else "nobody",
    )
    if assignee is not None and assignee.id != actor.id:
        outbox.enqueue_email(
            db,
            recipient=assignee.email,
            template="query_assigned",
            question_summary=query.subject,
            assigned_by=actor.email,
            organisation_name=query.organisation.name,
            link=links.support_question(base_url, query.id),
        )


def resolve_as_support(
    db: Session, actor: User, query: SupportQuery, *, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    if query.status == "resolved":
        return
    query.status, query.resolved_at, query.updated_at = "resolved", utcnow(), utcnow()
    _record(db, "query:resolved", actor, query, ip, user_agent, subject=query.subject)
    if query.asked_by is not None and query.asked_by.active:
        outbox.enqueue_email(
            db,
            recipient=query.asked_by.email,
            template="query_resolved",
            question_summary=query.subject,
            link=links.question(base_url, query.id),
        )


def age_words(query: SupportQuery, now=None) -> str:
    """How long the question has been open, in the words a queue reader scans for."""
    seconds = ((now or utcnow()) - query.created_at).total_seconds()
    if seconds < 3600:
        return "Under an hour"
    if seconds < 86_400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = int(seconds // 86_400)
    return f"{days} day{'s' if days != 1 else ''}"
