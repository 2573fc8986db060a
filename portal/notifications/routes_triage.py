"""Which notification do I need: one question a page, answers in the address, ending at the types to start."""

from __future__ import annotations

from urllib.parse import urlencode

from ..permissions import Permission
from ..web.routing import Ctx, Routes
from . import triage
from .registry import definition

routes = Routes("notifications")

# The hidden field naming the question a press of Continue answered: with no choice made, it is asked again
# with an error rather than silently shown afresh.
ASKED = "asked"


@routes.get("/notifications/which", permission=Permission.NOTIFICATION_DRAFT)
def which(ctx: Ctx):
    answers = {key: value for key, value in ctx.query.items() if key != ASKED}
    place = triage.walk(answers)
    base = ctx.url("notifications.which")

    def address(upto: int) -> str:
        query = urlencode(place.query(upto))
        return f"{base}?{query}" if query else base

    back = address(len(place.answered) - 1) if place.answered else ctx.url("notifications.new")
    if place.question is not None:
        unanswered = ctx.query.get(ASKED) == place.question.key or place.invalid
        return ctx.render(
            "notifications/which_question.html",
            status=400 if unanswered else 200,
            question=place.question,
            earlier=place.query(),
            asked=ASKED,
            error="Select an answer" if unanswered else "",
            back=back,
            start_again=base,
        )
    start = ctx.url("notifications.new")
    return ctx.render(
        "notifications/which_result.html",
        kinds=[definition(key) for key in place.types],
        starts={key: f"{start}?{urlencode({'type': key})}" for key in place.types},
        notes=place.notes,
        ending=place.ending,
        answered=[
            {"question": step.question.question, "answer": step.option.label, "change": address(index)}
            for index, step in enumerate(place.answered)
        ],
        back=back,
        start_again=base,
    )
