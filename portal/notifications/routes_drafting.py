"""Drafting pages: the list, starting one, the task list, sections, settling a conflict, assigning, the whole."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from .. import audit
from ..accounts import kept_input
from ..accounts.organisations import locations_of
from ..input_text import refusal_message
from ..models import Notification, SectionDraft
from ..numbers import parse_id, parse_number
from ..permissions import Permission
from ..web.form_text import refused_fields
from ..web.forms import show_rule_broken
from ..web.routing import Ctx, Forbidden, NotFound, Routes
from . import deadlines, drafting, kept, listing, people, presenters, reading
from .definitions import Question, Section
from .document import comment_threads, compiled_sections
from .errors import NotAllowed, WorkflowError
from .form_input import anchor, kept_answers, section_raw, shown_values
from .forms import ChangeLocationForm, NewNotificationForm
from .lookups import NOTIFICATION
from .refusals import moved_on
from .registry import definition, sorted_types
from .rendering import render_question
from .states import OPEN_STATUSES, MoveRefused, allowed_moves

routes = Routes("notifications")

SAVED = "Your answers were saved."
APPROVAL_WITHDRAWN = (
    "Your answers were saved. The notification had been approved, so it now needs reviewing and approving again."
)


@routes.get("/notifications", permission=Permission.NOTIFICATION_VIEW)
def notification_list(ctx: Ctx):
    filters = listing.ListFilters.from_query(ctx.query)
    rows, total = listing.list_notifications(ctx.db, ctx.auth, filters)
    types = sorted_types()
    return ctx.render(
        "notifications/list.html",
        rows=rows,
        total=total,
        filters=filters,
        filter_items=presenters.filter_items(
            types,
            locations_of(ctx.db, ctx.auth.organisation.id),
            reading.organisation_people(ctx.db, ctx.auth.organisation.id),
            filters,
        ),
        pagination=presenters.pagination(
            ctx.url("notifications.notification_list"), ctx.query.multi_items(), filters.page, total, listing.PAGE_SIZE
        ),
        status_tag=presenters.status_tag,
        type_titles={kind.key: kind.title for kind in types},
        can_draft=ctx.auth.has(Permission.NOTIFICATION_DRAFT),
    )


def _new_page(ctx: Ctx, formdata=None) -> tuple[NewNotificationForm, Any]:
    """The form, and a function answering with the page that shows it."""
    types, locations = sorted_types(), reading.drafting_locations(ctx.db, ctx.auth)
    form = NewNotificationForm(formdata, types=types, locations=locations)

    def page(status: int = 200):
        return ctx.render(
            "notifications/new.html",
            status=status,
            form=form,
            type_items=presenters.type_items(types, form.type.data or ""),
            location_items=presenters.location_items(locations, form.location.data or ""),
        )

    return form, page


@routes.get("/notifications/new", permission=Permission.NOTIFICATION_DRAFT)
def new(ctx: Ctx):
    form, page = _new_page(ctx)
    # "Which notification do I need?" ends by linking here with its type chosen; the location is asked here.
    chosen = ctx.query.get("type")
    if chosen and definition(chosen) is not None:
        form.type.data = chosen
    return page()


@routes.post("/notifications/new", permission=Permission.NOTIFICATION_DRAFT)
def new_post(ctx: Ctx):
    form, page = _new_page(ctx, ctx.form)
    if not form.validate():
        return page(status=400)
    notification = drafting.start(
        ctx.db,
        ctx.auth,
        type_key=form.type.data,
        location_id=int(form.location.data),
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    return ctx.redirect_to("notifications.task_list", notification_id=notification.id)


def _text(ctx: Ctx, name: str) -> str:
    value = ctx.form.get(name, "") if ctx.form is not None else ""
    return value if isinstance(value, str) else ""


@routes.get("/notifications/{notification_id}", permission=Permission.NOTIFICATION_VIEW, loads=NOTIFICATION)
def task_list(ctx: Ctx, notification: Notification):
    return _task_list_page(ctx, notification)


def _deadline_facts(ctx: Ctx, kind, notification: Notification) -> dict[str, Any]:
    due = deadlines.due_date(kind, reading.answers_of(notification))
    today = deadlines.today()
    still_open = notification.status in OPEN_STATUSES
    return {
        "deadline_text": deadlines.deadline_sentence(kind, due),
        "overdue": still_open and deadlines.is_overdue(due, today),
        "short_notice": deadlines.short_notice_warning(kind, due, today, ctx.settings.regulator_name)
        if still_open
        else "",
    }


def _task_list_page(ctx: Ctx, notification: Notification, *, status: int = 200, assign_error: str = ""):
    kind = reading.type_of(notification)
    drafts = {draft.section_key: draft for draft in notification.sections}
    moves = allowed_moves(ctx.auth, notification)
    return ctx.render(
        "notifications/task_list.html",
        status=status,
        assign_error=assign_error,
        notification=notification,
        kind=kind,
        moves=moves,
        tasks=presenters.section_tasks(ctx.url, notification, kind, drafts, moves),
        next_step=presenters.next_step(
            notification, moves, all_completed=all(draft.status == "completed" for draft in drafts.values())
        ),
        changes_asked=presenters.changes_asked(notification, reading.latest_review(ctx.db, notification.id)),
        **_deadline_facts(ctx, kind, notification),
        watching=reading.is_watching(ctx.db, ctx.auth.user.id, notification.id),
        status_words=presenters.STATUS_WORDS,
        assignees=presenters.assignee_items(reading.colleagues_who_can_draft(ctx.db, notification), notification)
        if "edit" in moves
        else [],
        events=reading.timeline(ctx.db, notification.id),
        describe=audit.describe,
        same_person=presenters.same_person(people.other_notifications_about_the_person(ctx.db, ctx.auth, notification)),
    )


def _editable_section(ctx: Ctx, notification: Notification) -> tuple[Section, SectionDraft]:
    if not drafting.can_edit(ctx.auth, notification):
        raise Forbidden()
    found = reading.section_of(notification, ctx.params["section_key"])
    if found is None:
        raise NotFound()
    return found


def _section_page(
    ctx: Ctx,
    notification: Notification,
    section: Section,
    draft: SectionDraft,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    kept_words: kept.KeptSection | None = None,
    notice: str | None = None,
):
    env = ctx.app.state.templates.env
    kind = reading.type_of(notification)
    attachments = reading.attachments_of(ctx.db, notification.id)
    file_macros = None

    def file_html(question: Question) -> Markup:
        nonlocal file_macros
        # The macros link to routes by name, so they need the request that url() reads.
        file_macros = file_macros or env.get_template("notifications/_attachments.html").make_module(
            {"request": ctx.request}
        )
        return file_macros.file_question(
            question,
            [a for a in attachments if a.question_key == question.key],
            notification.id,
            errors.get(question.key),
        )

    fields = Markup("").join(
        render_question(env, question, values, errors, file_html) for question in section.questions
    )
    return ctx.render(
        "notifications/section.html",
        status=status,
        notification=notification,
        kind=kind,
        section=section,
        draft=draft,
        fields=fields,
        error_list=[{"text": message, "href": f"#{anchor(kind.question(key))}"} for key, message in errors.items()],
        has_errors=bool(errors),
        file_questions=[q for q in section.questions if q.kind == "file"],
        kept=kept_words,
        **_deadline_facts(ctx, kind, notification),
        version=kept_words.version if kept_words is not None else draft.version,
        **({"flash": notice} if notice else {}),
    )


@routes.get(
    "/notifications/{notification_id}/sections/{section_key}",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
)
def section_page(ctx: Ctx, notification: Notification):
    if not drafting.can_edit(ctx.auth, notification):
        return _kept_for_a_notification_that_moved_on(ctx, notification)
    section, draft = _editable_section(ctx, notification)
    kept_words = kept.kept_section(ctx.db, ctx.auth.user.id, _page(ctx, notification, section), section, draft)
    values = kept_words.values if kept_words is not None else shown_values(section, draft.answers, draft.raw)
    return _section_page(ctx, notification, section, draft, values=values, errors={}, kept_words=kept_words)


def _page(ctx: Ctx, notification: Notification, section: Section) -> str:
    """The section's own page: where words kept after a session ended are offered back (keeps_input=)."""
    return ctx.url("notifications.section_page", notification_id=notification.id, section_key=section.key)


def _forget_kept(ctx: Ctx, notification: Notification, section: Section, result: drafting.SaveResult) -> None:
    # Saved, so the words kept for this page are in the section now; a conflict keeps them until settled.
    if result.conflict is None:
        kept.forget(ctx.db, ctx.auth.user.id, _page(ctx, notification, section))


def _kept_for_a_notification_that_moved_on(ctx: Ctx, notification: Notification):
    """Words kept when a session ended, for a notification that was sent for review, submitted or withdrawn
    before the person signed in again: shown back with what changed, where a bare 403 would lose them."""
    found = reading.section_of(notification, ctx.params["section_key"])
    if found is None or not ctx.auth.has(Permission.NOTIFICATION_DRAFT, notification.location_id):
        raise Forbidden()
    section, draft = found
    kept_words = kept.kept_section(ctx.db, ctx.auth.user.id, _page(ctx, notification, section), section, draft)
    if kept_words is None:
        raise Forbidden()
    return _unsaveable(ctx, notification, kept_words.values, status=200)


def _unsaveable(
    ctx: Ctx, notification: Notification, typed: dict[str, Any] | None = None, *, status: int = 409, words_only=False
):
    """The page for a save that arrives once the notification can no longer be changed (submitted, sent
    for review or withdrawn while the person typed): their words and what changed, never a bare refusal.
    None when the save may go ahead."""
    if drafting.can_edit(ctx.auth, notification):
        return None
    if not ctx.auth.has(Permission.NOTIFICATION_DRAFT, notification.location_id):
        raise Forbidden()
    found = reading.section_of(notification, ctx.params["section_key"])
    if found is None:
        raise NotFound()
    section, _ = found
    rows = presenters.typed_rows(section, section_raw(section, ctx.form) if typed is None else typed)
    latest = reading.latest_change(ctx.db, notification.id)
    if words_only or ctx.request.headers.get("hx-request"):
        # 200, so htmx puts the words into the live region; the words say nothing was saved.
        return ctx.render(
            "notifications/_autosave_status.html",
            result=None,
            draft=None,
            notification=notification,
            latest=latest,
            describe=audit.describe,
            status_words=presenters.STATUS_WORDS,
        )
    return ctx.render(
        "notifications/not_saved.html",
        status=status,
        notification=notification,
        kind=reading.type_of(notification),
        section=section,
        rows=rows,
        latest=latest,
        describe=audit.describe,
        status_words=presenters.STATUS_WORDS,
        can_follow_up="follow_up" in allowed_moves(ctx.auth, notification),
    )


def _refused_answers(section: Section, refused: dict[str, str]) -> dict[str, str]:
    """Question key -> the error, for each question one of whose form fields ("key", "key-day") held refused text."""
    questions = [each for question in section.questions for each in (question, question.follow_up) if each]
    errors: dict[str, str] = {}
    for name, what in refused.items():
        question = next((q for q in questions if name == q.key or name.startswith(f"{q.key}-")), None)
        if question is not None:
            errors.setdefault(question.key, refusal_message(question.label, what))
    return errors


def _version(ctx: Ctx) -> int:
    text = _text(ctx, "version")
    version = parse_number(text)
    return -1 if version is None else version


def _save(ctx: Ctx, notification: Notification, section: Section) -> drafting.SaveResult:
    return drafting.save_section(
        ctx.db,
        ctx.auth,
        notification,
        section.key,
        section_raw(section, ctx.form),
        expected_version=_version(ctx),
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )


@routes.post(
    "/notifications/{notification_id}/sections/{section_key}",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
    keeps_input="notifications.section_page",
)
def section_post(ctx: Ctx, notification: Notification):
    refused = _unsaveable(ctx, notification)
    if refused is not None:
        return refused
    section, draft = _editable_section(ctx, notification)
    refused_input = refused_fields(ctx.form)
    if refused_input:
        # Nothing is saved: the section shows the person's words back, with each question whose answer held a
        # character the input boundary refuses named (the boundary has taken the character out).
        errors = _refused_answers(section, refused_input)
        if errors:
            values = section_raw(section, ctx.form)
            return _section_page(ctx, notification, section, draft, values=values, errors=errors, status=400)
    result = _save(ctx, notification, section)
    _forget_kept(ctx, notification, section, result)
    if result.conflict is not None:
        return _conflict_page(ctx, notification, section, result.conflict, result.raw)
    later = _text(ctx, "action") == "later"
    if result.errors and result.section is not None and not later:
        # Errors first, even when the save withdrew an approval: "Save and continue" with a mistake must
        # show the mistake, and says the approval went as well.
        return _section_page(
            ctx,
            notification,
            section,
            result.section,
            values=result.raw,
            errors=result.errors,
            status=400,
            notice=APPROVAL_WITHDRAWN if result.approval_withdrawn else None,
        )
    if result.approval_withdrawn:
        return ctx.redirect_to("notifications.task_list", notification_id=notification.id, flash=APPROVAL_WITHDRAWN)
    if later:
        return ctx.redirect_to("notifications.task_list", notification_id=notification.id, flash=SAVED)
    following = drafting.next_unfinished_section(notification, section.key)
    if following is None:
        return ctx.redirect_to("notifications.task_list", notification_id=notification.id)
    return ctx.redirect_to("notifications.section_page", notification_id=notification.id, section_key=following)


@routes.post(
    "/notifications/{notification_id}/sections/{section_key}/autosave",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
    keeps_input="notifications.section_page",
)
def autosave(ctx: Ctx, notification: Notification):
    """htmx saves while people type: never validates at them, only keeps their words safe."""
    # Only the live region ever asks here, so its answer is always the region's words.
    refused = _unsaveable(ctx, notification, words_only=True)
    if refused is not None:
        return refused
    section, _ = _editable_section(ctx, notification)
    result = _save(ctx, notification, section)
    _forget_kept(ctx, notification, section, result)
    return ctx.render("notifications/_autosave_status.html", result=result, draft=result.section)


def _conflict_page(
    ctx: Ctx, notification: Notification, section: Section, theirs: SectionDraft, mine_raw: dict[str, Any]
):
    return ctx.render(
        "notifications/conflict.html",
        status=409,
        notification=notification,
        section=section,
        theirs=theirs,
        rows=presenters.conflict_rows(section, theirs, mine_raw),
        mine_json=json.dumps(mine_raw),
        kind=reading.type_of(notification),
    )


@routes.post(
    "/notifications/{notification_id}/sections/{section_key}/resolve",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
    keeps_input="notifications.section_page",
)
def resolve_conflict(ctx: Ctx, notification: Notification):
    """Each differing answer: keep mine, keep theirs, or (long text) both, one after the other."""
    found = reading.section_of(notification, ctx.params["section_key"])
    if found is None:
        raise NotFound()
    mine = kept_answers(_text(ctx, "mine"), found[0])
    if mine is None:
        return ctx.render("errors/400.html", status=400)
    refused = _unsaveable(ctx, notification, mine)
    if refused is not None:
        return refused
    section, _ = _editable_section(ctx, notification)
    choices = {
        name.removeprefix("choice-"): value
        for name, value in (ctx.form.multi_items() if ctx.form is not None else [])
        if name.startswith("choice-") and isinstance(value, str)
    }
    result = drafting.resolve_conflict(
        ctx.db,
        ctx.auth,
        notification,
        section.key,
        mine,
        choices,
        expected_version=_version(ctx),
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    _forget_kept(ctx, notification, section, result)
    if result.conflict is not None:
        return _conflict_page(ctx, notification, section, result.conflict, result.raw)
    # Like "save and come back later": the choice is saved; unfinished answers are for the task list to show.
    return ctx.redirect_to("notifications.task_list", notification_id=notification.id, flash=SAVED)


@routes.post(
    "/notifications/{notification_id}/sections/{section_key}/kept/discard",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
)
def discard_kept(ctx: Ctx, notification: Notification):
    """The person chose the saved answers over the words kept after their session ended."""
    section, _ = _editable_section(ctx, notification)
    kept.forget(ctx.db, ctx.auth.user.id, _page(ctx, notification, section))
    return ctx.redirect(
        _page(ctx, notification, section),
        flash="We discarded what you typed. This page shows the saved answers.",
    )


@routes.post("/notifications/{notification_id}/assign", permission=Permission.NOTIFICATION_DRAFT, loads=NOTIFICATION)
def assign(ctx: Ctx, notification: Notification):
    chosen = _text(ctx, "assignee")
    user_id: int | None = None
    if chosen:
        # Not a number is nobody we know: refused like any colleague who cannot draft here.
        user_id = parse_id(chosen) or -1
    try:
        drafting.assign(ctx.db, ctx.auth, notification, user_id, ip=ctx.client_ip, user_agent=ctx.user_agent)
    except NotAllowed:
        return moved_on(ctx, notification, "change who it is assigned to")
    except WorkflowError as error:
        return _task_list_page(ctx, notification, status=400, assign_error=error.message)
    return ctx.redirect_to("notifications.task_list", notification_id=notification.id, flash="Assignment changed.")


def _location_page(
    ctx: Ctx, notification: Notification, formdata=None, kept: kept_input.Kept | None = None
) -> tuple[ChangeLocationForm, Any]:
    """The form, and a function answering with the page that shows it (with the words kept, if any)."""
    formdata = formdata if formdata is not None else kept
    kind = reading.type_of(notification)
    locations = reading.drafting_locations(ctx.db, ctx.auth)
    form = ChangeLocationForm(formdata, locations=locations, hint=kind.location_hint)
    chosen = form.location.data if formdata is not None else str(notification.location_id)

    def page(status: int = 200):
        return ctx.render(
            "notifications/location.html",
            status=status,
            form=form,
            notification=notification,
            kind=kind,
            location_items=presenters.location_items(locations, chosen or ""),
            kept=kept,
        )

    return form, page


CHANGING_LOCATION = "change its location"
LOCATION_CHANGED = "The location was changed."
LOCATION_CHANGED_APPROVAL_WITHDRAWN = (
    "The location was changed. The notification had been approved, so it now needs reviewing and approving again."
)


@routes.get("/notifications/{notification_id}/location", permission=Permission.NOTIFICATION_DRAFT, loads=NOTIFICATION)
def change_location(ctx: Ctx, notification: Notification):
    if not drafting.can_edit(ctx.auth, notification):
        return moved_on(ctx, notification, CHANGING_LOCATION)
    kept = kept_input.find(ctx.db, ctx.auth.user.id, ctx.request.url.path)
    return _location_page(ctx, notification, kept=kept)[1]()


@routes.post(
    "/notifications/{notification_id}/location",
    permission=Permission.NOTIFICATION_DRAFT,
    loads=NOTIFICATION,
    keeps_input="notifications.change_location",
)
def change_location_post(ctx: Ctx, notification: Notification):
    if not drafting.can_edit(ctx.auth, notification):
        return moved_on(ctx, notification, CHANGING_LOCATION)
    form, page = _location_page(ctx, notification, ctx.form)
    if not form.validate():
        return page(status=400)
    location_id = parse_id(form.location.data)
    if location_id is None:
        raise NotFound()
    try:
        withdrawn = drafting.change_location(
            ctx.db, ctx.auth, notification, location_id, ip=ctx.client_ip, user_agent=ctx.user_agent
        )
    except MoveRefused:
        return moved_on(ctx, notification, CHANGING_LOCATION)
    except NotAllowed:
        # Another organisation's location, or one outside the person's roles: not theirs to name.
        raise NotFound() from None
    except WorkflowError as error:
        show_rule_broken(form, error)
        return page(status=400)
    kept_input.forget(
        ctx.db, ctx.auth.user.id, ctx.url("notifications.change_location", notification_id=notification.id)
    )
    return ctx.redirect_to(
        "notifications.task_list",
        notification_id=notification.id,
        flash=LOCATION_CHANGED_APPROVAL_WITHDRAWN if withdrawn else LOCATION_CHANGED,
    )


@routes.get("/notifications/{notification_id}/document", permission=Permission.NOTIFICATION_VIEW, loads=NOTIFICATION)
def document(ctx: Ctx, notification: Notification):
    """The whole notification in one document: exactly what reviewers and the regulator will see."""
    return ctx.render(
        "notifications/document.html",
        notification=notification,
        kind=reading.type_of(notification),
        sections=compiled_sections(ctx.db, notification),
        threads=comment_threads(ctx.db, notification),
        attachments=reading.attachments_of(ctx.db, notification.id),
        status_words=presenters.STATUS_WORDS,
        moves=allowed_moves(ctx.auth, notification),
        kept_comment=kept.kept_comment(
            ctx.db, ctx.auth.user.id, ctx.url("notifications.document", notification_id=notification.id)
        ),
        same_person=presenters.same_person(people.other_notifications_about_the_person(ctx.db, ctx.auth, notification)),
    )
