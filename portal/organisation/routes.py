"""The organisation settings page, for organisation admins."""

from __future__ import annotations

from ..accounts import kept_input
from ..permissions import Permission
from ..rules import RuleBroken
from ..web.forms import show_rule_broken
from ..web.routing import Ctx, Routes
from . import registered_people, service
from .people_forms import NominatedIndividualForm

routes = Routes("organisation")


def _nominated_form(ctx: Ctx, formdata=None) -> NominatedIndividualForm:
    organisation = ctx.auth.organisation
    return NominatedIndividualForm(
        formdata,
        members=registered_people.members_of(ctx.db, organisation.id),
        current=registered_people.nominated_individual(ctx.db, organisation.id),
        registered=registered_people.nominated_individual_in_register(ctx.db, organisation),
    )


@routes.get("/organisation/settings", permission=Permission.ORGANISATION_MANAGE)
def settings(ctx: Ctx):
    # The nominated individual form's words, posted after the session ended (keeps_input= below).
    kept = kept_input.find(ctx.db, ctx.auth.user.id, ctx.request.url.path)
    return ctx.render("organisation/settings.html", nominated_form=_nominated_form(ctx, kept), kept=kept)


@routes.post(
    "/organisation/nominated-individual", permission=Permission.ORGANISATION_MANAGE, keeps_input="organisation.settings"
)
def nominated_individual_post(ctx: Ctx):
    form = _nominated_form(ctx, ctx.form)
    if form.validate():
        try:
            changed = registered_people.record_nominated_individual(
                ctx.db,
                ctx.auth.organisation,
                str(form.nominated_individual.data),
                actor_id=ctx.auth.user.id,
                ip=ctx.client_ip,
                user_agent=ctx.user_agent,
            )
            kept_input.forget(ctx.db, ctx.auth.user.id, ctx.url("organisation.settings"))
            return ctx.redirect_to(
                "organisation.settings", flash="Nominated individual saved." if changed else "Nothing was changed."
            )
        except RuleBroken as broken:
            show_rule_broken(form, broken)
    return ctx.render("organisation/settings.html", status=400, nominated_form=form)


@routes.post("/organisation/settings", permission=Permission.ORGANISATION_MANAGE)
def settings_post(ctx: Ctx):
    service.set_separation_of_duties(
        ctx.db,
        ctx.auth.organisation,
        (ctx.form.get("separation_of_duties") if ctx.form is not None else None) != "off",
        actor_id=ctx.auth.user.id,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    return ctx.redirect_to("organisation.settings", flash="Settings saved.")
