"""Review pages: sending for review, the review with its decision, withdrawing, comments and watching."""

from __future__ import annotations

from collections.abc import Callable

from ..models import Notification
from ..numbers import parse_id
from ..permissions import Permission
from ..safe_paths import page_within
from ..web.routing import Ctx, NotFound, Routes
from . import comments, kept, people, presenters, reading, review
from .document import comment_threads, compiled_sections, differences_from_original
from .errors import WorkflowError
from .lookups import NOTIFICATION
from .refusals import refusal_page
from .states import allowed_moves

routes = Routes("notifications")


def _problem(ctx: Ctx, notification: Notification, error: WorkflowError, *, kept: str = ""):
    """Why it cannot be done now, with the latest change (often someone else's, a moment before) and
    anything the person wrote, so what lost a race is explained and nothing typed is gone."""
    return refusal_page(ctx, notification, str(error), kept=kept)


def _form_text(ctx: Ctx, name: str) -> str:
    value = ctx.form.get(name, "") if ctx.form is not None else ""
    return value if isinstance(value, str) else ""


def _told(ctx: Ctx, done: str, emailed: str) -> str:
    # Practice sends no email (activity.email), so its message does not say it did.
    return done if ctx.auth.organisation.is_practice else f"{done} {emailed}"


def _simple_move(ctx: Ctx, notification: Notification, move: Callable[[], None], done: str):
    """A move with no form of its own: make it, or explain on a page why it cannot be made yet."""
    try:
        move()
    except WorkflowError as error:
        return _problem(ctx, notification, error)
    return ctx.redirect_to("notifications.task_list", notification_id=notification.id, flash=done)


@routes.post(
    "/notifications/{notification_id}/request-review", permission=Permission.NOTIFICATION_DRAFT, loads=NOTIFICATION
)
def request_review(ctx: Ctx, notification: Notification):
    return _simple_move(
        ctx,
        notification,
        lambda: review.request_review(
            ctx.db, ctx.auth, notification, base_url=ctx.settings.base_url, ip=ctx.client_ip, user_agent=ctx.user_agent
        ),
        _told(ctx, "Sent for review.", "Reviewers at this location have been emailed."),
    )


@routes.get(
    "/notifications/{notification_id}/review",
    permission=Permission.NOTIFICATION_REVIEW,
    loads=NOTIFICATION,
    name="review",
)
def review_page(ctx: Ctx, notification: Notification):
    words = kept.kept_review(ctx.db, ctx.auth.user.id, _review_url(ctx, notification))
    if words is None:
        return _review_page(ctx, notification, errors={}, summary="", chosen=[])
    return _review_page(ctx, notification, errors={}, summary=words.summary, chosen=words.sections, kept_review=words)


def _review_url(ctx: Ctx, notification: Notification) -> str:
    return ctx.url("notifications.review", notification_id=notification.id)


def _document_url(ctx: Ctx, notification: Notification) -> str:
    """Where a comment posted after the session ended is kept: the document page, whichever page it came from."""
    return ctx.url("notifications.document", notification_id=notification.id)


def _review_page(
    ctx: Ctx,
    notification: Notification,
    *,
    errors: dict[str, str],
    summary: str,
    chosen: list[str],
    status: int = 200,
    kept_review: kept.KeptReview | None = None,
):
    last = reading.last_review_by(ctx.db, notification.id, ctx.auth.user.id)
    changed = reading.changed_questions(notification, last)
    kind = reading.type_of(notification)
    return ctx.render(
        "notifications/review.html",
        status=status,
        notification=notification,
        kind=kind,
        sections=compiled_sections(ctx.db, notification, changed=changed),
        differences=differences_from_original(ctx.db, notification),
        threads=comment_threads(ctx.db, notification),
        last_review=last,
        changed=changed,
        errors=errors,
        error_list=presenters.error_list(errors, ("summary", "sections")),
        summary=summary,
        section_items=presenters.section_checkboxes(kind.sections, chosen),
        has_errors=bool(errors),
        moves=allowed_moves(ctx.auth, notification),
        status_words=presenters.STATUS_WORDS,
        kept_review=kept_review,
        kept_comment=kept.kept_comment(ctx.db, ctx.auth.user.id, _document_url(ctx, notification)),
        same_person=presenters.same_person(people.other_notifications_about_the_person(ctx.db, ctx.auth, notification)),
    )


@routes.post(
    "/notifications/{notification_id}/request-changes",
    permission=Permission.NOTIFICATION_REVIEW,
    loads=NOTIFICATION,
    keeps_input="notifications.review",
)
def request_changes(ctx: Ctx, notification: Notification):
    summary = _form_text(ctx, "summary")
    chosen = [s for s in ctx.form.getlist("sections") if isinstance(s, str)] if ctx.form is not None else []
    try:
        review.request_changes(
            ctx.db,
            ctx.auth,
            notification,
            summary=summary,
            sections=chosen,
            base_url=ctx.settings.base_url,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except WorkflowError as error:
        if error.field is None:
            return _problem(ctx, notification, error, kept=summary)
        return _review_page(
            ctx, notification, errors={error.field: str(error)}, summary=summary, chosen=chosen, status=400
        )
    kept.forget(ctx.db, ctx.auth.user.id, _review_url(ctx, notification))
    return ctx.redirect_to(
        "notifications.task_list",
        notification_id=notification.id,
        flash=_told(ctx, "Changes requested.", "The drafter has been emailed."),
    )


@routes.post("/notifications/{notification_id}/approve", permission=Permission.NOTIFICATION_REVIEW, loads=NOTIFICATION)
def approve(ctx: Ctx, notification: Notification):
    return _simple_move(
        ctx,
        notification,
        lambda: review.approve(
            ctx.db, ctx.auth, notification, base_url=ctx.settings.base_url, ip=ctx.client_ip, user_agent=ctx.user_agent
        ),
        _told(ctx, "Approved.", "Submitters at this location have been emailed."),
    )


@routes.post("/notifications/{notification_id}/withdraw", permission=Permission.NOTIFICATION_DRAFT, loads=NOTIFICATION)
def withdraw(ctx: Ctx, notification: Notification):
    return _simple_move(
        ctx,
        notification,
        lambda: review.withdraw(ctx.db, ctx.auth, notification, ip=ctx.client_ip, user_agent=ctx.user_agent),
        "The notification was withdrawn. It is kept, marked withdrawn.",
    )


def _back_to(ctx: Ctx, notification: Notification, default: str) -> str:
    """Back to the page the form was on, so long as it is one of this notification's pages."""
    back = _form_text(ctx, "back")
    own = ctx.url("notifications.task_list", notification_id=notification.id)
    return page_within(back, own) or default


@routes.post(
    "/notifications/{notification_id}/comments",
    permission=Permission.NOTIFICATION_COMMENT,
    loads=NOTIFICATION,
    keeps_input="notifications.document",
)
def comment(ctx: Ctx, notification: Notification):
    replying_to = _form_text(ctx, "parent_id")
    try:
        if replying_to and parse_id(replying_to) is None:
            # A mangled reply must not quietly become a new thread of its own.
            raise WorkflowError("That comment no longer exists")
        comments.add_comment(
            ctx.db,
            ctx.auth,
            notification,
            section_key=_form_text(ctx, "section"),
            question_key=_form_text(ctx, "question") or None,
            body=_form_text(ctx, "body"),
            parent_id=parse_id(replying_to),
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except WorkflowError as error:
        return _problem(ctx, notification, error, kept=_form_text(ctx, "body"))
    document = _document_url(ctx, notification)
    kept.forget(ctx.db, ctx.auth.user.id, document)
    return ctx.redirect(_back_to(ctx, notification, document) + "#comments")


@routes.post(
    "/notifications/{notification_id}/comments/{comment_id}/resolve",
    permission=Permission.NOTIFICATION_COMMENT,
    loads=NOTIFICATION,
)
def resolve_comment(ctx: Ctx, notification: Notification):
    try:
        comments.resolve_comment(ctx.db, ctx.auth, notification, ctx.param_int("comment_id"))
    except WorkflowError:
        raise NotFound() from None
    document = ctx.url("notifications.document", notification_id=notification.id)
    return ctx.redirect(_back_to(ctx, notification, document))


@routes.post("/notifications/{notification_id}/watch", permission=Permission.NOTIFICATION_VIEW, loads=NOTIFICATION)
def watch(ctx: Ctx, notification: Notification):
    comments.watch(ctx.db, ctx.auth.user.id, notification.id, _form_text(ctx, "watch") == "yes")
    return ctx.redirect_to("notifications.task_list", notification_id=notification.id)
