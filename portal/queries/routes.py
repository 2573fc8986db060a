"""Questions to the support team: the provider's pages under /queries, the support queue under /support/queries.

Providers hold query:ask and see only the questions they may (service.py: a question follows the notification it
is about; anyone else's answers 404).
Support staff read with support:view and answer with query:answer; neither reaches the other side's pages.
"""

from __future__ import annotations

from ..models import SupportQuery
from ..permissions import Permission
from ..rules import RuleBroken
from ..web.forms import show_rule_broken
from ..web.routing import Ctx, Routes
from ..web.templating import format_date
from . import service
from .forms import AssignForm, QuestionForm, ReplyForm, SupportReplyForm
from .lookups import ANY_QUERY, ORGANISATION_QUERY

routes = Routes("queries")


def _who(ctx: Ctx) -> dict:
    return {"ip": ctx.client_ip, "user_agent": ctx.user_agent}


# The provider's side ----------------------------------------------------------------------------


@routes.get("/queries", permission=Permission.QUERY_ASK)
def list_queries(ctx: Ctx):
    return ctx.render("queries/list.html", queries=service.organisation_queries(ctx.db, ctx.auth))


def _question_page(ctx: Ctx, form: QuestionForm, status: int = 200):
    choices = [("", "It is not about a particular notification")]
    for notification in service.askable_notifications(ctx.db, ctx.auth):
        label = notification.reference or f"Draft started {format_date(notification.created_at)}"
        kind = service.notifications.type_of(notification).title
        choices.append((str(notification.id), f"{label}: {kind}, {notification.location.name}"))
    form.notification.choices = choices
    return ctx.render("queries/new.html", status=status, form=form)


@routes.get("/queries/new", permission=Permission.QUERY_ASK)
def new_query(ctx: Ctx):
    asked_from = service.safe_asked_from(ctx.query.get("from", ""))
    about = ctx.query.get("notification") or service.notification_from_path(asked_from)
    form = QuestionForm(data={"asked_from": asked_from, "notification": str(about or "")})
    return _question_page(ctx, form)


@routes.post("/queries", permission=Permission.QUERY_ASK)
def ask(ctx: Ctx):
    form = QuestionForm(ctx.form)
    if not form.validate():
        return _question_page(ctx, form, status=400)
    try:
        query = service.ask(
            ctx.db,
            ctx.auth,
            subject=form.subject.data or "",
            message=form.message.data or "",
            notification_id=form.notification.data or None,
            asked_from=form.asked_from.data,
            support_email=ctx.settings.support_email,
            base_url=ctx.settings.base_url,
            **_who(ctx),
        )
    except RuleBroken as error:
        show_rule_broken(form, error)
        return _question_page(ctx, form, status=400)
    return ctx.redirect_to(
        "queries.thread", query_id=query.id, flash="Question sent. We will email you when the support team replies."
    )


def _thread_page(ctx: Ctx, query: SupportQuery, form: ReplyForm | None = None, status: int = 200):
    return ctx.render(
        "queries/thread.html",
        status=status,
        query=query,
        form=form or ReplyForm(),
        status_words=service.STATUS_WORDS,
        tag_classes=service.STATUS_TAG_CLASSES,
    )


@routes.get("/queries/{query_id}", permission=Permission.QUERY_ASK, loads=ORGANISATION_QUERY)
def thread(ctx: Ctx, query: SupportQuery):
    return _thread_page(ctx, query)


@routes.post("/queries/{query_id}/reply", permission=Permission.QUERY_ASK, loads=ORGANISATION_QUERY)
def reply(ctx: Ctx, query: SupportQuery):
    form = ReplyForm(ctx.form)
    if not form.validate():
        return _thread_page(ctx, query, form, status=400)
    service.reply_as_provider(
        ctx.db,
        ctx.auth,
        query,
        message=form.message.data or "",
        support_email=ctx.settings.support_email,
        base_url=ctx.settings.base_url,
        **_who(ctx),
    )
    return ctx.redirect_to("queries.thread", query_id=query.id, flash="Reply sent.", anchor="messages")


@routes.post("/queries/{query_id}/resolve", permission=Permission.QUERY_ASK, loads=ORGANISATION_QUERY)
def resolve(ctx: Ctx, query: SupportQuery):
    service.resolve_as_provider(ctx.db, ctx.auth, query, **_who(ctx))
    return ctx.redirect_to("queries.thread", query_id=query.id, flash="Marked as resolved.")


# The support team's side ------------------------------------------------------------------------


@routes.get("/support/queries", permission=Permission.SUPPORT_VIEW)
def support_queue(ctx: Ctx):
    filters = service.QueueFilters.from_query(ctx.query)
    return ctx.render("queries/queue.html", filters=filters, result=service.queue(ctx.db, ctx.auth.user, filters))


def _support_thread_page(ctx: Ctx, query: SupportQuery, *, reply_form=None, assign_form=None, status: int = 200):
    agents = service.agents(ctx.db)
    assign_form = assign_form or AssignForm(data={"assignee": str(query.assigned_to_id or "")})
    assign_form.assignee.choices = [("", "Nobody")] + [(str(agent.id), agent.email) for agent in agents]
    return ctx.render(
        "queries/support_thread.html",
        status=status,
        query=query,
        reply_form=reply_form or SupportReplyForm(),
        assign_form=assign_form,
        can_answer=ctx.auth.has(Permission.QUERY_ANSWER),
    )


@routes.get("/support/queries/{query_id}", permission=Permission.SUPPORT_VIEW, loads=ANY_QUERY)
def support_thread(ctx: Ctx, query: SupportQuery):
    return _support_thread_page(ctx, query)


@routes.post("/support/queries/{query_id}/reply", permission=Permission.QUERY_ANSWER, loads=ANY_QUERY)
def support_reply(ctx: Ctx, query: SupportQuery):
    form = SupportReplyForm(ctx.form)
    if not form.validate():
        return _support_thread_page(ctx, query, reply_form=form, status=400)
    service.reply_as_support(
        ctx.db,
        ctx.auth.user,
        query,
        message=form.message.data or "",
        resolve=bool(form.resolve.data),
        base_url=ctx.settings.base_url,
        **_who(ctx),
    )
    return ctx.redirect_to(
        "queries.support_thread", query_id=query.id, flash="Reply sent to the provider.", anchor="messages"
    )


@routes.post("/support/queries/{query_id}/assign", permission=Permission.QUERY_ANSWER, loads=ANY_QUERY)
def support_assign(ctx: Ctx, query: SupportQuery):
    form = AssignForm(ctx.form)
    try:
        service.assign(ctx.db, ctx.auth.user, query, form.assignee.data, base_url=ctx.settings.base_url, **_who(ctx))
    except RuleBroken as error:
        show_rule_broken(form, error)
        return _support_thread_page(ctx, query, assign_form=form, status=400)
    return ctx.redirect_to("queries.support_thread", query_id=query.id, flash="Assignment saved.")


@routes.post("/support/queries/{query_id}/resolve", permission=Permission.QUERY_ANSWER, loads=ANY_QUERY)
def support_resolve(ctx: Ctx, query: SupportQuery):
    service.resolve_as_support(ctx.db, ctx.auth.user, query, base_url=ctx.settings.base_url, **_who(ctx))
    return ctx.redirect_to(
        "queries.support_thread", query_id=query.id, flash="Marked as resolved. The provider has been told."
    )
