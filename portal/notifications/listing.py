"""Lists of notifications: the filtered, paged list, and the dashboard's overdue notifications."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..accounts.sessions import Auth
from ..models import Notification
from ..numbers import parse_id
from ..permissions import Permission
from .deadlines import due_date, is_overdue
from .reading import answers_of
from .registry import definition, sorted_types
from .states import OPEN_STATUSES, STATUSES

PAGE_SIZE = 25


@dataclass
class ListFilters:
    status: str = ""
    type_key: str = ""
    location_id: int | None = None
    assignee_id: int | None = None
    mine: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ListFilters:
        """From the list page's query string; anything unrecognised is no filter at all."""

        def number(name: str) -> int | None:
            # Beyond an integer column's range nothing can match, and PostgreSQL would refuse to compare.
            return parse_id(query.get(name, ""))

        status = query.get("status", "")
        return cls(
            status=status if status in STATUSES else "",
            type_key=query.get("type", "") if definition(query.get("type", "")) else "",
            location_id=number("location"),
            assignee_id=number("assignee"),
            mine=query.get("view") == "mine",
            page=max(1, min(number("page") or 1, 10_000)),
        )


def list_notifications(db: Session, auth: Auth, filters: ListFilters) -> tuple[list[Notification], int]:
    """One query for the page and one for the count, however many notifications there are."""
    if auth.organisation is None:
        return [], 0
    conditions = [Notification.organisation_id == auth.organisation.id]
    visible_at = auth.locations_with(Permission.NOTIFICATION_VIEW)
    if visible_at is not None:
        conditions.append(Notification.location_id.in_(visible_at or {-1}))
    if filters.status:
        conditions.append(Notification.status == filters.status)
    if filters.type_key:
        conditions.append(Notification.type_key == filters.type_key)
    if filters.location_id:
        conditions.append(Notification.location_id == filters.location_id)
    if filters.assignee_id:
        conditions.append(Notification.assigned_to_id == filters.assignee_id)
    if filters.mine:
        conditions.append(_needs_attention_of(auth))
    total = db.scalar(select(func.count()).select_from(Notification).where(*conditions))
    rows = db.scalars(
        select(Notification)
        .options(
            joinedload(Notification.location), joinedload(Notification.assigned_to), joinedload(Notification.updated_by)
        )
        .where(*conditions)
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    return list(rows), total or 0


def _needs_attention_of(auth: Auth):
    """Drafts assigned to you; for reviewers, anything in review; for submitters, anything approved."""
    clauses = [
        and_(Notification.assigned_to_id == auth.user.id, Notification.status.in_(("draft", "changes_requested")))
    ]
    for permission, status in (
        (Permission.NOTIFICATION_REVIEW, "in_review"),
        (Permission.NOTIFICATION_SUBMIT, "approved"),
    ):
        places = auth.locations_with(permission)
        if places is None:
            clauses.append(Notification.status == status)
        elif places:
            clauses.append(and_(Notification.status == status, Notification.location_id.in_(places)))
    return or_(*clauses)


@dataclass(frozen=True)
class Overdue:
    notification: Notification
    due: date


def overdue(db: Session, auth: Auth, today: date, limit: int = 20) -> list[Overdue]:
    """Unsent notifications whose due date, counted from the event or from when the provider became aware
    (`deadlines.due_date`), has passed: every kind with a clock, not only those due "without delay"."""
    if auth.organisation is None:
        return []
    timed = [kind.key for kind in sorted_types() if kind.deadline_from is not None]
    query = (
        select(Notification)
        .options(joinedload(Notification.location), selectinload(Notification.sections))
        .where(
            Notification.organisation_id == auth.organisation.id,
            Notification.type_key.in_(timed),
            Notification.status.in_(OPEN_STATUSES),
        )
        .order_by(Notification.created_at)
    )
    visible_at = auth.locations_with(Permission.NOTIFICATION_VIEW)
    if visible_at is not None:
        query = query.where(Notification.location_id.in_(visible_at or {-1}))
    # The due date lives in the answers, so it is worked out here for each open notification: two
    # statements whatever their number (the notifications, then their sections).
    found = []
    for notification in db.scalars(query):
        kind = definition(notification.type_key)
        due = due_date(kind, answers_of(notification)) if kind is not None else None
        if due is not None and is_overdue(due, today):
            found.append(Overdue(notification, due))
    found.sort(key=lambda item: item.due)
    return found[:limit]
