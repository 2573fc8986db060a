"""Notifications in words for the pages: statuses, tags, and the items GOV.UK components take.

Pages get lists ready to hand to a component, built here rather than appended to in Jinja, and
get what a person may do from allowed_moves() rather than working it out from the status.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..models import Location, Notification, ReviewRecord, SectionDraft, User
from ..web.templating import format_datetime
from .definitions import NotificationType, Question, Section
from .form_input import to_raw
from .listing import ListFilters
from .people import SamePerson
from .registry import definition

# Builds a route's path from its name, as ctx.url does.
UrlFor = Callable[..., str]

STATUS_WORDS = {
    "draft": "Draft",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "submitted": "Submitted",
    "withdrawn": "Withdrawn",
}
SECTION_WORDS = {
    "not_started": "Not yet started",
    "in_progress": "In progress",
    "completed": "Completed",
    "needs_attention": "Needs attention",
}
STATUS_CLASSES = {
    "draft": "govuk-tag--grey",
    "in_review": "govuk-tag--blue",
    "changes_requested": "govuk-tag--orange",
    "approved": "govuk-tag--turquoise",
    "submitted": "govuk-tag--green",
    "withdrawn": "govuk-tag--grey",
}
SECTION_CLASSES = {
    "not_started": "govuk-tag--grey",
    "in_progress": "govuk-tag--light-blue",
    "needs_attention": "govuk-tag--red",
    "completed": "",
}


def status_tag(status: str) -> dict[str, str]:
    return {"text": STATUS_WORDS.get(status, status), "classes": STATUS_CLASSES.get(status, "")}


def section_tag(status: str) -> dict[str, str] | None:
    """A section's state as a tag; None once it is completed, which needs no tag."""
    if status == "completed":
        return None
    return {"text": SECTION_WORDS.get(status, status), "classes": SECTION_CLASSES.get(status, "")}


def error_list(errors: Mapping[str, str], order: Iterable[str]) -> list[dict[str, str]]:
    """The error summary's items, in the order the fields appear on the page."""
    return [{"text": errors[key], "href": f"#{key}"} for key in order if key in errors]


def select_items(blank: str, options: Iterable[tuple[Any, str]], selected: Any) -> list[dict[str, Any]]:
    return [{"value": "", "text": blank}] + [
        {"value": value, "text": text, "selected": value == selected} for value, text in options
    ]


# The task list -----------------------------------------------------------------------------------


def section_tasks(
    url: UrlFor,
    notification: Notification,
    kind: NotificationType,
    drafts: Mapping[str, SectionDraft],
    moves: Collection[str],
) -> list[dict[str, Any]]:
    """The task list's items: each section's state, who changed it last, and a link while it may be edited."""
    items = []
    for section in kind.sections:
        draft = drafts[section.key]
        tag = section_tag(draft.status)
        item: dict[str, Any] = {
            "title": {"text": section.title},
            "status": {"tag": tag} if tag else {"text": "Completed"},
        }
        if draft.updated_by is not None:
            item["hint"] = {"text": f"Last changed by {draft.updated_by.email}, {format_datetime(draft.updated_at)}"}
        if "edit" in moves:
            item["href"] = url("notifications.section_page", notification_id=notification.id, section_key=section.key)
        items.append(item)
    return items


@dataclass(frozen=True)
class Button:
    text: str
    route: str


@dataclass(frozen=True)
class NextStep:
    """What happens next: words, and the one button for it when this person may press it."""

    text: str | None = None
    post: Button | None = None  # a form that makes the move
    link: Button | None = None  # a page where the move is made
    receipt: bool = False


WAITING_WORDS = {
    "draft": "Complete every section, then send it for review.",
    "changes_requested": "Complete every section, then send it for review.",
    "in_review": "It is waiting for a reviewer.",
    "approved": "It is approved and ready to submit.",
    "withdrawn": "It was withdrawn. It is kept here for your records.",
}


def next_step(notification: Notification, moves: Collection[str], *, all_completed: bool) -> NextStep:
    if "request_review" in moves and all_completed:
        return NextStep(post=Button("Send for review", "notifications.request_review"))
    if notification.status == "submitted":
        return NextStep(receipt=True)
    text = WAITING_WORDS.get(notification.status)
    if "approve" in moves:
        return NextStep(text, link=Button("Review this notification", "notifications.review"))
    if "submit" in moves:
        return NextStep(text, link=Button("Check and submit", "notifications.submit_page"))
    return NextStep(text)


def changes_asked(notification: Notification, latest: ReviewRecord | None) -> str | None:
    """The reviewer's request, while the notification waits for those changes."""
    if notification.status != "changes_requested" or latest is None or not latest.summary:
        return None
    who = latest.reviewer.email if latest.reviewer else "a reviewer"
    return f"Changes requested by {who}: {latest.summary}"


def assignee_items(colleagues: Iterable[User], notification: Notification) -> list[dict[str, Any]]:
    return select_items("Nobody", ((person.id, person.email) for person in colleagues), notification.assigned_to_id)


# Starting, following up, reviewing ---------------------------------------------------------------


def type_items(types: Iterable[NotificationType], chosen: str) -> list[dict[str, Any]]:
    return [
        {
            "value": kind.key,
            "text": kind.title,
            "hint": {"text": f"Tell us {kind.deadline_wording}"},
            "checked": chosen == kind.key,
        }
        for kind in types
    ]


def location_items(locations: Iterable[Location], chosen: str) -> list[dict[str, Any]]:
    return [
        {
            "value": location.id,
            "text": location.name,
            "hint": {"text": f"Location ID {location.regulator_location_id}"},
            "checked": chosen == str(location.id),
        }
        for location in locations
    ]


def follow_up_items(types: Iterable[NotificationType], notification: Notification) -> list[dict[str, Any]]:
    return [
        {
            "value": kind.key,
            "text": f"{kind.title} (further information)" if kind.key == notification.type_key else kind.title,
        }
        for kind in types
    ]


def section_checkboxes(sections: Iterable[Section], chosen: Collection[str]) -> list[dict[str, Any]]:
    return [{"value": section.key, "text": section.title, "checked": section.key in chosen} for section in sections]


# The list ---------------------------------------------------------------------------------------


def filter_items(
    types: Iterable[NotificationType], locations: Iterable[Location], people: Iterable[User], filters: ListFilters
) -> dict[str, list[dict[str, Any]]]:
    """The list's four filters as select items, with the chosen ones selected."""
    return {
        "status": select_items("Any status", STATUS_WORDS.items(), filters.status),
        "type": select_items("Any type", ((kind.key, kind.title) for kind in types), filters.type_key),
        "location": select_items("Any location", ((place.id, place.name) for place in locations), filters.location_id),
        "assignee": select_items("Anyone", ((person.id, person.email) for person in people), filters.assignee_id),
    }


def pagination(
    list_url: str, query: Iterable[tuple[str, str]], page: int, total: int, page_size: int
) -> dict[str, Any] | None:
    """Previous and next links that keep the filters; None when everything fits on one page."""
    pages = (total + page_size - 1) // page_size
    if pages <= 1:
        return None
    kept = sorted((name, value) for name, value in query if name != "page")

    def at(number: int) -> str:
        return f"{list_url}?{urlencode([*kept, ('page', str(number))])}"

    return {
        "page": page,
        "pages": pages,
        "previous": at(page - 1) if page > 1 else None,
        "next": at(page + 1) if page < pages else None,
    }


# Two people's saves of one section ---------------------------------------------------------------

EMPTY: tuple[Any, ...] = (None, "", [], {})


def conflict_rows(section: Section, theirs: SectionDraft, mine_raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each answer that differs, both ways round in words, with the choices for keeping it."""
    rows = []
    for question in section.questions:
        for each in (question, question.follow_up):
            if each is None or each.kind == "file":
                continue
            their_raw = theirs.raw.get(each.key, to_raw(each, theirs.answers.get(each.key)))
            mine = mine_raw.get(each.key)
            if _same(mine, their_raw):
                continue
            choices = [
                {"value": "mine", "text": "Keep your answer", "checked": True},
                {"value": "theirs", "text": "Keep their answer"},
            ]
            if each.kind == "long_text":
                choices.append({"value": "both", "text": "Keep both, yours first"})
            rows.append(
                {"question": each, "mine": _words(each, mine), "theirs": _words(each, their_raw), "choices": choices}
            )
    return rows


def typed_rows(section: Section, mine_raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the person typed into a section, in words, for a page that could not save it."""
    rows = []
    for question in section.questions:
        for each in (question, question.follow_up):
            if each is None or each.kind == "file" or mine_raw.get(each.key) in EMPTY:
                continue
            rows.append({"question": each, "mine": _words(each, mine_raw.get(each.key))})
    return rows


def _same(a: Any, b: Any) -> bool:
    if a in EMPTY and b in EMPTY:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return all((a.get(k) or "") == (b.get(k) or "") for k in set(a) | set(b))
    return bool(a == b)


def _words(question: Question, raw: Any) -> str:
    if raw in EMPTY:
        return "Not answered"
    if isinstance(raw, dict):
        return " ".join(str(raw.get(part) or "") for part in ("day", "month", "year", "time")).strip()
    labels = question.labels()
    if isinstance(raw, list):
        return ", ".join(str(labels.get(item, item)) for item in raw)
    return str(labels.get(raw, raw))


@dataclass
class SamePersonRow:
    notification_id: int
    title: str
    reference: str | None
    location: str
    status: dict[str, str]
    when: str


@dataclass
class SamePersonList:
    identifier: str
    rows: list[SamePersonRow]
    more: bool


def same_person(found: SamePerson | None) -> SamePersonList | None:
    """The other notifications about one person, as their list shows them: what, where, how far, when.
    None when there are none to show, so the page shows no section at all."""
    if found is None or not found.notifications:
        return None
    rows = []
    for notification in found.notifications:
        kind = definition(notification.type_key)
        sent = notification.submitted_at is not None
        moment = notification.submitted_at or notification.created_at
        rows.append(
            SamePersonRow(
                notification_id=notification.id,
                title=kind.title if kind else notification.type_key,
                reference=notification.reference,
                location=notification.location.name,
                status=status_tag(notification.status),
                when=f"{'Submitted' if sent else 'Started'} {moment.astimezone():%-d %B %Y}",
            )
        )
    return SamePersonList(identifier=found.identifier, rows=rows, more=found.more)
