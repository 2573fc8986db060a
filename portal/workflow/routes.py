"""Review, approval, submission, receipts, comments, watching and follow-ups."""

from __future__ import annotations

import json

from starlette.responses import Response

from ..models import Organisation
from ..notifications import service as drafting
from ..notifications.registry import definition, sorted_types
from ..notifications.rendering import display_value
from ..notifications.routes import notification_or_404 as _notification
from ..permissions import Permission
from ..web.routing import Ctx, Forbidden, NotFound, Routes
from . import service
from .service import WorkflowError

routes = Routes("workflow")


def _locations(ctx: Ctx, notification) -> dict[str, str]:
    from ..accounts.organisations import locations_of

    return {
        place.regulator_location_id: f"{place.name} ({place.regulator_location_id})"
        for place in locations_of(ctx.db, notification.organisation_id)
    }


def compiled_sections(ctx: Ctx, notification, answers_by_section=None, changed=frozenset()):
    """Every section in order, as rows of a summary list: the one rendering everyone sees."""
    kind = drafting.type_of(notification)
    locations = _locations(ctx, notification)
    attachments = drafting.attachments_of(ctx.db, notification.id)
    answers_by_section = answers_by_section or service.answers_of(notification)
    sections = []
    for section in kind.sections:
        answers = answers_by_section.get(section.key, {})
        rows = []
        for question in section.questions:
            shown = [question]
            if question.follow_up is not None and question.shows_follow_up(answers.get(question.key)):
                shown.append(question.follow_up)
            for each in shown:
                text = display_value(each, answers.get(each.key), locations, attachments)
                row = {"key": {"text": each.label}, "value": {"text": text}}
                if each.key in changed:
                    row["value"] = {
                        "html": f'<strong class="govuk-tag govuk-tag--yellow">Changed</strong> {_escape(text)}'
                    }
                    row["classes"] = "portal-changed"
                rows.append(row)
        sections.append(
            {
                "section": section,
                "rows": rows,
                "draft": next((d for d in notification.sections if d.section_key == section.key), None),
            }
        )
    return sections


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _threads(ctx: Ctx, notification):
    comments = service.comments_of(ctx.db, notification.id)
    roots = [c for c in comments if c.parent_id is None]
    replies = {}
    for comment in comments:
        if comment.parent_id is not None:
            replies.setdefault(comment.parent_id, []).append(comment)
    by_section = {}
    for root in roots:
        by_section.setdefault(root.section_key, []).append({"comment": root, "replies": replies.get(root.id, [])})
    return by_section


def _back_to(ctx: Ctx, notification, default: str) -> str:
    back = ctx.form.get("back", "") if ctx.form else ""
    prefix = f"/notifications/{notification.id}"
    return back if isinstance(back, str) and back.startswith(prefix) else default


def _problem(ctx: Ctx, notification, message: str, status: int = 400):
    return ctx.render(
        "workflow/problem.html",
        status=status,
        notification=notification,
        message=message,
        kind=drafting.type_of(notification),
    )


def _simple_move(ctx: Ctx, move, banner: str):
    """A move with no form of its own: do it, or explain on a page why it cannot be done yet."""
    notification = _notification(ctx)
    try:
        move(notification)
    except WorkflowError as error:
        return _problem(ctx, notification, str(error))
    return ctx.redirect(f"/notifications/{notification.id}?{banner}=1")


@routes.post("/notifications/{notification_id}/request-review", permission=Permission.NOTIFICATION_DRAFT)
def request_review(ctx: Ctx):
    return _simple_move(
        ctx,
        lambda notification: service.request_review(
            ctx.db, ctx.auth, notification, base_url=ctx.settings.base_url, ip=ctx.client_ip, user_agent=ctx.user_agent
        ),
        "sent",
    )


@routes.get("/notifications/{notification_id}/review", permission=Permission.NOTIFICATION_REVIEW)
def review(ctx: Ctx):
    notification = _notification(ctx)
    return _review_page(ctx, notification, errors={}, typed={})


def _review_page(ctx: Ctx, notification, *, errors: dict, typed: dict, status: int = 200):
    last = service.last_review_by(ctx.db, notification.id, ctx.auth.user.id)
    changed = service.changed_questions(notification, last)
    return ctx.render(
        "workflow/review.html",
        status=status,
        notification=notification,
        kind=drafting.type_of(notification),
        sections=compiled_sections(ctx, notification, changed=changed),
        threads=_threads(ctx, notification),
        last_review=last,
        changed=changed,
        errors=errors,
        typed=typed,
        has_errors=bool(errors),
        can_decide=notification.status == "in_review"
        and ctx.auth.has(Permission.NOTIFICATION_REVIEW, notification.location_id),
        status_words=drafting.STATUS_WORDS,
    )


@routes.post("/notifications/{notification_id}/request-changes", permission=Permission.NOTIFICATION_REVIEW)
def request_changes(ctx: Ctx):
    notification = _notification(ctx)
    summary = ctx.form.get("summary", "")
    sections = [s for s in ctx.form.getlist("sections") if isinstance(s, str)]
    try:
        service.request_changes(
            ctx.db,
            ctx.auth,
            notification,
            summary=summary if isinstance(summary, str) else "",
            sections=sections,
            base_url=ctx.settings.base_url,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except WorkflowError as error:
        if error.field is None:
            return _problem(ctx, notification, str(error))
        return _review_page(
            ctx,
            notification,
            errors={error.field: str(error)},
            typed={"summary": summary, "sections": sections},
            status=400,
        )
    return ctx.redirect(f"/notifications/{notification.id}?changes_requested=1")


@routes.post("/notifications/{notification_id}/approve", permission=Permission.NOTIFICATION_REVIEW)
def approve(ctx: Ctx):
    return _simple_move(
        ctx,
        lambda notification: service.approve(
            ctx.db, ctx.auth, notification, base_url=ctx.settings.base_url, ip=ctx.client_ip, user_agent=ctx.user_agent
        ),
        "approved",
    )


@routes.post("/notifications/{notification_id}/withdraw", permission=Permission.NOTIFICATION_DRAFT)
def withdraw(ctx: Ctx):
    return _simple_move(
        ctx,
        lambda notification: service.withdraw(
            ctx.db, ctx.auth, notification, ip=ctx.client_ip, user_agent=ctx.user_agent
        ),
        "withdrawn",
    )


@routes.get("/notifications/{notification_id}/submit", permission=Permission.NOTIFICATION_SUBMIT)
def submit_page(ctx: Ctx):
    notification = _notification(ctx)
    existing = service.submission_of(ctx.db, notification.id)
    if existing is not None:
        return ctx.redirect(f"/notifications/{notification.id}/receipt")
    return _submit_page(ctx, notification, error="")


def _submit_page(ctx: Ctx, notification, *, error: str, status: int = 200):
    return ctx.render(
        "workflow/submit.html",
        status=status,
        notification=notification,
        kind=drafting.type_of(notification),
        sections=compiled_sections(ctx, notification),
        error=error,
        has_errors=bool(error),
        can_submit=notification.status == "approved"
        and ctx.auth.has(Permission.NOTIFICATION_SUBMIT, notification.location_id),
    )


@routes.post("/notifications/{notification_id}/submit", permission=Permission.NOTIFICATION_SUBMIT)
def submit(ctx: Ctx):
    notification = _notification(ctx)
    try:
        service.submit(
            ctx.db,
            ctx.auth,
            notification,
            declared=ctx.form.get("declaration") == "yes",
            base_url=ctx.settings.base_url,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
            **_webhook(ctx),
        )
    except WorkflowError as error:
        if error.field == "declaration":
            return _submit_page(ctx, notification, error=str(error), status=400)
        return _problem(ctx, notification, str(error))
    return ctx.redirect(f"/notifications/{notification.id}/receipt")


def _webhook(ctx: Ctx) -> dict:
    """The regulator's webhook, when one is configured, rides the same outbox as email.

    The app registers it (app.state.submission_webhook): the API reads workflow's submissions, so
    workflow importing the API would make the two packages depend on each other.
    """
    enqueue = ctx.app.state.submission_webhook
    settings = ctx.settings
    return {"webhook": lambda db, submission: enqueue(db, submission, settings)}


@routes.get("/notifications/{notification_id}/receipt", permission=Permission.NOTIFICATION_VIEW)
def receipt(ctx: Ctx):
    notification = _notification(ctx)
    submission = service.submission_of(ctx.db, notification.id)
    if submission is None:
        raise NotFound()
    return ctx.render(
        "workflow/receipt.html",
        notification=notification,
        submission=submission,
        kind=drafting.type_of(notification),
        sections=compiled_sections(ctx, notification, submission.snapshot["answers"]),
        follow_up_types=_follow_up_types(notification),
    )


@routes.get("/notifications/{notification_id}/receipt.json", permission=Permission.NOTIFICATION_VIEW)
def receipt_json(ctx: Ctx):
    notification = _notification(ctx)
    submission = service.submission_of(ctx.db, notification.id)
    if submission is None:
        raise NotFound()
    body = {"reference": submission.reference, "content_hash": submission.content_hash, **submission.snapshot}
    return Response(
        json.dumps(body, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="notification-{submission.reference}.json"'},
    )


def _follow_up_types(notification):
    kinds = [kind for kind in sorted_types() if notification.type_key in kind.follow_up_of]
    same = definition(notification.type_key)
    return kinds + ([same] if same and same not in kinds else [])


@routes.get("/notifications/{notification_id}/follow-up", permission=Permission.NOTIFICATION_DRAFT)
def follow_up(ctx: Ctx):
    notification = _notification(ctx)
    if notification.status != "submitted":
        raise NotFound()
    return ctx.render(
        "workflow/follow_up.html",
        notification=notification,
        kind=drafting.type_of(notification),
        types=_follow_up_types(notification),
        error="",
    )


@routes.post("/notifications/{notification_id}/follow-up", permission=Permission.NOTIFICATION_DRAFT)
def follow_up_post(ctx: Ctx):
    notification = _notification(ctx)
    if notification.status != "submitted":
        raise NotFound()
    allowed = {kind.key for kind in _follow_up_types(notification)}
    chosen = ctx.form.get("type", "")
    if chosen not in allowed:
        return ctx.render(
            "workflow/follow_up.html",
            status=400,
            notification=notification,
            has_errors=True,
            kind=drafting.type_of(notification),
            types=_follow_up_types(notification),
            error="Select what you are sending",
        )
    try:
        new = drafting.start(
            ctx.db,
            ctx.auth,
            type_key=chosen,
            location_id=notification.location_id,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
            parent=notification,
        )
    except drafting.NotAllowed:
        raise Forbidden() from None
    from .. import audit

    audit.record(
        ctx.db,
        "notification:follow_up_started",
        actor_id=ctx.auth.user.id,
        organisation_id=notification.organisation_id,
        notification_id=notification.id,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        reference=notification.reference,
        type=definition(chosen).title,
    )
    return ctx.redirect(f"/notifications/{new.id}")


@routes.post("/notifications/{notification_id}/comments", permission=Permission.NOTIFICATION_COMMENT)
def comment(ctx: Ctx):
    notification = _notification(ctx)
    parent = ctx.form.get("parent_id", "")
    try:
        service.add_comment(
            ctx.db,
            ctx.auth,
            notification,
            section_key=ctx.form.get("section", ""),
            question_key=ctx.form.get("question") or None,
            body=ctx.form.get("body", ""),
            parent_id=int(parent) if parent.isdigit() else None,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    except WorkflowError as error:
        return _problem(ctx, notification, str(error))
    return ctx.redirect(_back_to(ctx, notification, f"/notifications/{notification.id}/document") + "#comments")


@routes.post(
    "/notifications/{notification_id}/comments/{comment_id}/resolve", permission=Permission.NOTIFICATION_COMMENT
)
def resolve(ctx: Ctx):
    notification = _notification(ctx)
    try:
        service.resolve_comment(ctx.db, ctx.auth, notification, ctx.param_int("comment_id"))
    except WorkflowError:
        raise NotFound() from None
    return ctx.redirect(_back_to(ctx, notification, f"/notifications/{notification.id}/document"))


@routes.post("/notifications/{notification_id}/watch", permission=Permission.NOTIFICATION_VIEW)
def watch(ctx: Ctx):
    notification = _notification(ctx)
    service.watch(ctx.db, ctx.auth.user.id, notification.id, ctx.form.get("watch") == "yes")
    return ctx.redirect(f"/notifications/{notification.id}")


@routes.get("/organisation/settings", permission=Permission.ORGANISATION_MANAGE)
def organisation_settings(ctx: Ctx):
    return ctx.render("workflow/settings.html")


@routes.post("/organisation/settings", permission=Permission.ORGANISATION_MANAGE)
def organisation_settings_post(ctx: Ctx):
    from .. import audit

    organisation = ctx.db.get(Organisation, ctx.auth.organisation.id)
    enabled = ctx.form.get("separation_of_duties") != "off"
    if enabled != organisation.separation_of_duties:
        organisation.separation_of_duties = enabled
        audit.record(
            ctx.db,
            "organisation:separation_of_duties_changed",
            actor_id=ctx.auth.user.id,
            organisation_id=organisation.id,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
            enabled="on" if enabled else "off",
        )
    return ctx.redirect("/organisation/settings?saved=1")
