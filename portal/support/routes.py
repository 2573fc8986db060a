"""The regulator's support workspace. Providers can never reach it: its permissions are regulator-only."""

from __future__ import annotations

from ..accounts import organisations as orgs
from ..accounts.organisations import RuleBroken
from ..web.routing import Ctx, NotFound, Routes

routes = Routes()


@routes.get("/support", permission="support:view")
def workspace(ctx: Ctx):
    return ctx.render("support/workspace.html", signups=orgs.pending_signups(ctx.db))


@routes.post("/support/signups/{request_id}/decide", permission="signup:decide")
def decide_signup(ctx: Ctx):
    decision = ctx.form.get("decision")
    if decision not in ("approve", "reject"):
        return ctx.render("support/workspace.html", status=400, signups=orgs.pending_signups(ctx.db),
                          error="Choose whether to approve or reject the request")
    try:
        orgs.decide_signup(ctx.db, ctx.param_int("request_id"), approve=decision == "approve",
                           actor_id=ctx.auth.user.id, ip=ctx.client_ip, user_agent=ctx.user_agent)
    except RuleBroken:
        raise NotFound() from None
    return ctx.redirect(f"/support?decided={decision}")
