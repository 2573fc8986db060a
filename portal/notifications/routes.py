"""Drafting pages: start, task list, sections, the whole notification, the list."""

from __future__ import annotations

import json

from markupsafe import Markup

from ..permissions import Permission
from ..web.routing import Ctx, Forbidden, NotFound, Routes
from ..workflow.deadlines import due_date
from . import service
from .form_input import anchor, section_raw, shown_values, to_raw
from .registry import definition, sorted_types
from .rendering import render_question

routes = Routes("notifications")


def notification_or_404(ctx: Ctx):
    """The notification in the path, if this person may see it; anyone else's is simply not found."""
    notification = service.visible(ctx.db, ctx.auth, ctx.param_int("notification_id"))
    if notification is None:
        raise NotFound()
    return notification


def _location_choices(ctx: Ctx, notification) -> list[tuple[str, str]]:
    from ..accounts.organisations import locations_of

    return [
        (place.regulator_location_id, f"{place.name} ({place.regulator_location_id})")
        for place in locations_of(ctx.db, notification.organisation_id)
    ]


@routes.get("/notifications", permission=Permission.NOTIFICATION_VIEW)
def notification_list(ctx: Ctx):
    from ..accounts.organisations import locations_of

    filters = service.ListFilters.from_query(ctx.query)
    rows, total = service.list_notifications(ctx.db, ctx.auth, filters)
    return ctx.render(
        "notifications/list.html",
        rows=rows,
        total=total,
        filters=filters,
        page_size=service.PAGE_SIZE,
        types=sorted_types(),
        locations=locations_of(ctx.db, ctx.auth.organisation.id),
        people=service.organisation_people(ctx.db, ctx.auth.organisation.id),
        status_words=service.STATUS_WORDS,
        type_titles={kind.key: kind.title for kind in sorted_types()},
        can_draft=ctx.auth.has(Permission.NOTIFICATION_DRAFT),
    )


@routes.get("/notifications/new", permission=Permission.NOTIFICATION_DRAFT)
def new(ctx: Ctx):
    return ctx.render(
        "notifications/new.html",
        types=sorted_types(),
        locations=service.drafting_locations(ctx.db, ctx.auth),
        errors={},
        chosen={},
    )


@routes.post("/notifications/new", permission=Permission.NOTIFICATION_DRAFT)
def new_post(ctx: Ctx):
    chosen = {"type": ctx.form.get("type", ""), "location": ctx.form.get("location", "")}
    errors = {}
    if not definition(str(chosen["type"])):
        errors["type"] = "Select what you are telling us about"
    try:
        location_id = int(chosen["location"])
    except (TypeError, ValueError):
        location_id = None
    locations = service.drafting_locations(ctx.db, ctx.auth)
    if location_id not in {location.id for location in locations}:
        errors["location"] = "Select the location where it happened"
    if errors:
        return ctx.render(
            "notifications/new.html",
            status=400,
            types=sorted_types(),
            locations=locations,
            errors=errors,
            chosen=chosen,
        )
    notification = service.start(
        ctx.db, ctx.auth, type_key=chosen["type"], location_id=location_id, ip=ctx.client_ip, user_agent=ctx.user_agent
    )
    return ctx.redirect(f"/notifications/{notification.id}")


@routes.get("/notifications/{notification_id}", permission=Permission.NOTIFICATION_VIEW)
def task_list(ctx: Ctx):
    notification = notification_or_404(ctx)
    kind = service.type_of(notification)
    drafts = {draft.section_key: draft for draft in notification.sections}
    from ..workflow import service as workflow

    return ctx.render(
        "notifications/task_list.html",
        notification=notification,
        kind=kind,
        drafts=drafts,
        all_completed=all(draft.status == "completed" for draft in drafts.values()),
        due=due_date(kind, {d.section_key: d.answers for d in notification.sections}),
        latest_review=workflow.latest_review(ctx.db, notification.id),
        watching=workflow.is_watching(ctx.db, ctx.auth.user.id, notification.id),
        section_words=service.SECTION_WORDS,
        status_words=service.STATUS_WORDS,
        can_edit=service.can_edit(ctx.auth, notification),
        colleagues=service.colleagues_who_can_draft(ctx.db, notification),
        events=service.timeline(ctx.db, notification.id),
        describe=_describe,
    )


def _describe(event):
    from .. import audit

    return audit.describe(event)


def _section_page(ctx: Ctx, notification, section, draft, *, values, errors, status=200):
    env = ctx.app.state.templates.env
    locations = _location_choices(ctx, notification)
    attachments = service.attachments_of(ctx.db, notification.id)
    back = f"/notifications/{notification.id}/sections/{section.key}"
    file_macros = None

    def file_html(question):
        nonlocal file_macros
        file_macros = file_macros or env.get_template("notifications/_attachments.html").module
        return file_macros.file_question(
            question,
            [a for a in attachments if a.question_key == question.key],
            notification.id,
            back,
            ctx.render_csrf_token(),
            errors.get(question.key),
        )

    fields = Markup("").join(
        render_question(env, question, values, errors, locations, file_html) for question in section.questions
    )
    summary = [
        {"text": message, "href": f"#{anchor(service.type_of(notification).question(key))}"}
        for key, message in errors.items()
    ]
    file_questions = [q for q in section.questions if q.kind == "file"]
    return ctx.render(
        "notifications/section.html",
        status=status,
        notification=notification,
        kind=service.type_of(notification),
        section=section,
        draft=draft,
        fields=fields,
        error_list=summary,
        has_errors=bool(errors),
        file_questions=file_questions,
        attachments=attachments,
        back=back,
    )


def _editable_section(ctx: Ctx):
    notification = notification_or_404(ctx)
    if not service.can_edit(ctx.auth, notification):
        raise Forbidden()
    found = service.section_of(notification, ctx.params["section_key"])
    if found is None:
        raise NotFound()
    return notification, *found


@routes.get("/notifications/{notification_id}/sections/{section_key}", permission=Permission.NOTIFICATION_DRAFT)
def section_page(ctx: Ctx):
    notification, section, draft = _editable_section(ctx)
    values = shown_values(section, draft.answers, draft.raw)
    return _section_page(ctx, notification, section, draft, values=values, errors={})


def _version(ctx: Ctx) -> int:
    try:
        return int(ctx.form.get("version", ""))
    except ValueError:
        return -1


@routes.post("/notifications/{notification_id}/sections/{section_key}", permission=Permission.NOTIFICATION_DRAFT)
def section_post(ctx: Ctx):
    notification, section, draft = _editable_section(ctx)
    raw = section_raw(section, ctx.form)
    result = service.save_section(
        ctx.db,
        ctx.auth,
        notification,
        section.key,
        raw,
        expected_version=_version(ctx),
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    if result.conflict is not None:
        return _conflict_page(ctx, notification, section, result.conflict, raw)
    if ctx.form.get("action") == "later":
        return ctx.redirect(f"/notifications/{notification.id}?saved={section.key}")
    if result.errors:
        return _section_page(ctx, notification, section, result.section, values=raw, errors=result.errors, status=400)
    return ctx.redirect(_next_section_url(notification, section.key))


def _next_section_url(notification, key: str) -> str:
    keys = [section.key for section in service.type_of(notification).sections]
    index = keys.index(key)
    drafts = {draft.section_key: draft for draft in notification.sections}
    for later in keys[index + 1 :]:
        if drafts[later].status != "completed":
            return f"/notifications/{notification.id}/sections/{later}"
    return f"/notifications/{notification.id}"


@routes.post(
    "/notifications/{notification_id}/sections/{section_key}/autosave", permission=Permission.NOTIFICATION_DRAFT
)
def autosave(ctx: Ctx):
    """htmx saves while people type: never validates at them, only keeps their words safe."""
    notification, section, draft = _editable_section(ctx)
    raw = section_raw(section, ctx.form)
    result = service.save_section(
        ctx.db,
        ctx.auth,
        notification,
        section.key,
        raw,
        expected_version=_version(ctx),
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    return ctx.render("notifications/_autosave_status.html", result=result, draft=result.section)


def _conflict_page(ctx: Ctx, notification, section, theirs, mine_raw):
    rows = []
    for question in section.questions:
        for each in (question, question.follow_up):
            if each is None or each.kind == "file":
                continue
            their_raw = theirs.raw.get(each.key, to_raw(each, theirs.answers.get(each.key)))
            mine = mine_raw.get(each.key)
            if _same(mine, their_raw):
                continue
            rows.append(
                {
                    "question": each,
                    "mine": _words(each, mine),
                    "theirs": _words(each, their_raw),
                    "long": each.kind == "long_text",
                }
            )
    return ctx.render(
        "notifications/conflict.html",
        status=409,
        notification=notification,
        section=section,
        theirs=theirs,
        rows=rows,
        mine_json=json.dumps(mine_raw),
        kind=service.type_of(notification),
    )


def _same(a, b) -> bool:
    empty = (None, "", [], {})
    if a in empty and b in empty:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return all((a.get(k) or "") == (b.get(k) or "") for k in set(a) | set(b))
    return a == b


def _words(question, raw) -> str:
    if raw in (None, "", [], {}):
        return "Not answered"
    if isinstance(raw, dict):
        return " ".join(str(raw.get(part) or "") for part in ("day", "month", "year", "time")).strip()
    labels = dict(question.choices())
    if isinstance(raw, list):
        return ", ".join(labels.get(item, item) for item in raw)
    return labels.get(raw, raw)


@routes.post(
    "/notifications/{notification_id}/sections/{section_key}/resolve", permission=Permission.NOTIFICATION_DRAFT
)
def resolve_conflict(ctx: Ctx):
    """Each differing answer: keep mine, keep theirs, or (long text) both, one after the other."""
    notification, section, draft = _editable_section(ctx)
    try:
        mine = json.loads(ctx.form.get("mine", "{}"))
    except (ValueError, TypeError):
        mine = {}
    if not isinstance(mine, dict):
        mine = {}
    merged = {}
    for question in section.questions:
        for each in (question, question.follow_up):
            if each is None or each.kind == "file":
                continue
            theirs = draft.raw.get(each.key, to_raw(each, draft.answers.get(each.key)))
            choice = ctx.form.get(f"choice-{each.key}", "mine")
            if choice == "theirs":
                merged[each.key] = theirs
            elif choice == "both" and isinstance(mine.get(each.key), str) and isinstance(theirs, str):
                merged[each.key] = f"{mine[each.key]}\n\n{theirs}"
            else:
                merged[each.key] = mine.get(each.key, theirs)
    result = service.save_section(
        ctx.db,
        ctx.auth,
        notification,
        section.key,
        merged,
        expected_version=_version(ctx),
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    if result.conflict is not None:
        return _conflict_page(ctx, notification, section, result.conflict, merged)
    # Like "save and come back later": the choice is saved; unfinished answers are for the task list to show.
    return ctx.redirect(f"/notifications/{notification.id}?saved={section.key}")


@routes.post("/notifications/{notification_id}/assign", permission=Permission.NOTIFICATION_DRAFT)
def assign(ctx: Ctx):
    notification = notification_or_404(ctx)
    raw = ctx.form.get("assignee", "")
    try:
        user_id = int(raw) if raw else None
    except ValueError:
        user_id = -1
    try:
        service.assign(ctx.db, ctx.auth, notification, user_id, ip=ctx.client_ip, user_agent=ctx.user_agent)
    except service.NotAllowed:
        raise Forbidden() from None
    return ctx.redirect(f"/notifications/{notification.id}?assigned=1")


@routes.get("/notifications/{notification_id}/document", permission=Permission.NOTIFICATION_VIEW)
def document(ctx: Ctx):
    """The whole notification in one document: exactly what reviewers and the regulator will see."""
    from ..workflow.routes import _threads, compiled_sections

    notification = notification_or_404(ctx)
    return ctx.render(
        "notifications/document.html",
        notification=notification,
        kind=service.type_of(notification),
        sections=compiled_sections(ctx, notification),
        threads=_threads(ctx, notification),
        attachments=service.attachments_of(ctx.db, notification.id),
        status_words=service.STATUS_WORDS,
        section_words=service.SECTION_WORDS,
        can_comment=ctx.auth.has(Permission.NOTIFICATION_COMMENT, notification.location_id),
    )
