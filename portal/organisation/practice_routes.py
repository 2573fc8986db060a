"""Practice mode: entering it, leaving it, and resetting it (portal/organisation/practice.py has the rules)."""

from __future__ import annotations

import logging

from ..files.storage import storage_for
from ..permissions import Permission
from ..rules import RuleBroken
from ..web.routing import Ctx, Loader, Routes
from . import practice

log = logging.getLogger(__name__)
routes = Routes("practice")


def _current_copy(ctx: Ctx, organisation_id: int):
    """The practice copy the session is in, and only that: any other organisation answers 404."""
    organisation = ctx.auth.organisation
    if organisation is None or organisation.id != organisation_id or organisation.practice_of_id is None:
        return None
    return organisation


PRACTICE = Loader("organisation_id", _current_copy)


def _who(ctx: Ctx) -> dict:
    return {"ip": ctx.client_ip, "user_agent": ctx.user_agent}


# Organisation:view is what every provider role holds: any member may practise.
@routes.post("/practice", permission=Permission.ORGANISATION_VIEW)
def enter(ctx: Ctx):
    if ctx.auth.organisation.practice_of_id is not None:
        return ctx.redirect_to("dashboard.dashboard")
    try:
        practice.enter(ctx.db, ctx.auth, **_who(ctx))
    except RuleBroken as broken:
        return ctx.redirect_to("dashboard.dashboard", flash=broken.message)
    return ctx.redirect_to("dashboard.dashboard", flash="You are in practice mode.")


@routes.post("/practice/{organisation_id}/leave", permission=Permission.ORGANISATION_VIEW, loads=PRACTICE)
def leave(ctx: Ctx, copy):
    real = practice.leave(ctx.db, ctx.auth, **_who(ctx))
    if real is None:
        return ctx.redirect_to("accounts.choose_organisation", flash="You have left practice mode.")
    return ctx.redirect_to("dashboard.dashboard", flash="You have left practice mode.")


@routes.get("/practice/{organisation_id}/reset", permission=Permission.ORGANISATION_VIEW, loads=PRACTICE)
def reset_confirm(ctx: Ctx, copy):
    return ctx.render(
        "organisation/practice_reset.html", copy=copy, count=practice.practice_notification_count(ctx.db, copy)
    )


@routes.post("/practice/{organisation_id}/reset", permission=Permission.ORGANISATION_VIEW, loads=PRACTICE)
def reset(ctx: Ctx, copy):
    done = practice.reset(ctx.db, ctx.auth, **_who(ctx))
    storage = storage_for(ctx.settings)

    def delete_files():
        for key in done.storage_keys:
            try:
                storage.delete(key)
            except OSError:
                # The reset is committed; a file left behind is only disk space, and the sweep finds it.
                log.exception("could not delete a reset practice attachment's file %s", key)

    # Only once the reset has committed: a reset that rolls back keeps its notifications' files.
    ctx.after_commit.append(delete_files)
    words = "1 practice notification" if done.notifications == 1 else f"{done.notifications} practice notifications"
    return ctx.redirect_to("dashboard.dashboard", flash=f"Practice mode reset: {words} removed.")
