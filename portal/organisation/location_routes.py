"""The locations pages, for organisation admins for all locations: the list, adding, changing and closing one."""

from __future__ import annotations

from ..accounts import kept_input
from ..permissions import Permission
from ..rules import RuleBroken
from ..web.forms import show_rule_broken
from ..web.routing import Ctx, Loader, Routes
from . import locations, register_sync, registered_people
from .location_forms import AddLocationForm, LocationForm
from .people_forms import RegisteredManagerForm

routes = Routes("locations")

# One of the signed-in organisation's locations, open or closed; another organisation's answers 404.
LOCATION = Loader(
    "location_id", lambda ctx, location_id: locations.location_in(ctx.db, ctx.auth.organisation.id, location_id)
)


def _who(ctx: Ctx) -> dict:
    return {"actor_id": ctx.auth.user.id, "ip": ctx.client_ip, "user_agent": ctx.user_agent}


@routes.get("/locations", permission=Permission.LOCATIONS_MANAGE)
def locations_list(ctx: Ctx):
    organisation_id = ctx.auth.organisation.id
    return ctx.render(
        "organisation/locations.html",
        locations=locations.locations_of(ctx.db, organisation_id),
        register_changes=register_sync.latest_changes(ctx.db, organisation_id),
    )


def _kept(ctx: Ctx) -> kept_input.Kept | None:
    """What this person typed on this page before their session ended (keeps_input= on its form's POST)."""
    return kept_input.find(ctx.db, ctx.auth.user.id, ctx.request.url.path)


def _forget_kept(ctx: Ctx, page: str) -> None:
    kept_input.forget(ctx.db, ctx.auth.user.id, page)


def _add_page(ctx: Ctx, form: AddLocationForm, status: int = 200, kept: kept_input.Kept | None = None):
    return ctx.render("organisation/location_add.html", status=status, form=form, kept=kept)


@routes.get("/locations/new", permission=Permission.LOCATIONS_MANAGE)
def new(ctx: Ctx):
    kept = _kept(ctx)
    return _add_page(ctx, AddLocationForm(kept, id_format=locations.IdFormat.of(ctx.settings)), kept=kept)


@routes.post("/locations/new", permission=Permission.LOCATIONS_MANAGE, keeps_input="locations.new")
def new_post(ctx: Ctx):
    id_format = locations.IdFormat.of(ctx.settings)
    form = AddLocationForm(ctx.form, id_format=id_format)
    if form.validate():
        try:
            added = locations.add(
                ctx.db,
                ctx.auth.organisation,
                name=form.name.data or "",
                regulator_location_id=form.regulator_location_id.data or "",
                address=form.address(),
                id_format=id_format,
                **_who(ctx),
            )
            _forget_kept(ctx, ctx.url("locations.new"))
            return ctx.redirect_to("locations.locations_list", flash=f"{added.name} added.")
        except RuleBroken as broken:
            show_rule_broken(form, broken)
    return _add_page(ctx, form, status=400)


def _closed_page(ctx: Ctx, location, status: int):
    return ctx.render("organisation/location_closed.html", status=status, location=location)


def _manager_form(ctx: Ctx, location, formdata=None) -> RegisteredManagerForm:
    return RegisteredManagerForm(
        formdata,
        members=registered_people.members_of(ctx.db, location.organisation_id),
        current=location.registered_manager,
        registered=registered_people.registered_manager_in_register(ctx.db, location),
    )


def _change_page(
    ctx: Ctx,
    location,
    form: LocationForm,
    status: int = 200,
    manager_form: RegisteredManagerForm | None = None,
    kept: kept_input.Kept | None = None,
):
    return ctx.render(
        "organisation/location_change.html",
        status=status,
        location=location,
        form=form,
        manager_form=manager_form or _manager_form(ctx, location),
        kept=kept,
    )


@routes.get("/locations/{location_id}/change", permission=Permission.LOCATIONS_MANAGE, loads=LOCATION)
def change(ctx: Ctx, location):
    if location.is_closed:
        return _closed_page(ctx, location, 200)
    kept = _kept(ctx)
    # The page holds two forms, both kept against it: the words go back to the form they came from.
    if kept is not None and kept.get("registered_manager") is not None:
        return _change_page(
            ctx, location, LocationForm(obj=location), manager_form=_manager_form(ctx, location, kept), kept=kept
        )
    return _change_page(ctx, location, LocationForm(kept, obj=location), kept=kept)


@routes.post(
    "/locations/{location_id}/change",
    permission=Permission.LOCATIONS_MANAGE,
    loads=LOCATION,
    keeps_input="locations.change",
)
def change_post(ctx: Ctx, location):
    if location.is_closed:
        return _closed_page(ctx, location, 409)
    form = LocationForm(ctx.form)
    if not form.validate():
        return _change_page(ctx, location, form, status=400)
    changed = locations.change(ctx.db, location, name=form.name.data or "", address=form.address(), **_who(ctx))
    _forget_kept(ctx, ctx.url("locations.change", location_id=location.id))
    return ctx.redirect_to(
        "locations.locations_list", flash=f"{location.name} changed." if changed else "Nothing was changed."
    )


@routes.post(
    "/locations/{location_id}/registered-manager",
    permission=Permission.LOCATIONS_MANAGE,
    loads=LOCATION,
    keeps_input="locations.change",
)
def registered_manager_post(ctx: Ctx, location):
    if location.is_closed:
        return _closed_page(ctx, location, 409)
    form = _manager_form(ctx, location, ctx.form)
    if form.validate():
        try:
            changed = registered_people.record_registered_manager(
                ctx.db, location, str(form.registered_manager.data), **_who(ctx)
            )
            _forget_kept(ctx, ctx.url("locations.change", location_id=location.id))
            return ctx.redirect_to(
                "locations.change",
                location_id=location.id,
                flash="Registered manager saved." if changed else "Nothing was changed.",
            )
        except RuleBroken as broken:
            show_rule_broken(form, broken)
    return _change_page(ctx, location, LocationForm(obj=location), status=400, manager_form=form)


@routes.get("/locations/{location_id}/close", permission=Permission.LOCATIONS_MANAGE, loads=LOCATION)
def close(ctx: Ctx, location):
    if location.is_closed:
        return _closed_page(ctx, location, 200)
    return ctx.render("organisation/location_close.html", location=location)


@routes.post("/locations/{location_id}/close", permission=Permission.LOCATIONS_MANAGE, loads=LOCATION)
def close_post(ctx: Ctx, location):
    if location.is_closed:
        return _closed_page(ctx, location, 409)
    locations.close(ctx.db, location, **_who(ctx))
    return ctx.redirect_to(
        "locations.locations_list", flash=f"{location.name} is closed. It takes no new notifications."
    )
