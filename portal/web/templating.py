"""The Jinja environment: our templates first, then the GOV.UK Frontend macros under a prefix."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    pass_context,
)
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from ..permissions import Permission
from ..roles import ROLES
from ..text import (
    PAGE_LANGUAGE,
    byte_size,
    count_of,
    date_time_words,
    date_words,
    reference_groups,
    reference_spelt,
    with_article,
)
from . import fields
from .govuk_macros import PortalTemplate
from .undefined import PortalUndefined, names_read_but_never_set

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIST = ROOT / "static" / "dist"


def load_manifest() -> dict[str, str]:
    path = STATIC_DIST / "manifest.json"
    if not path.exists():
        raise SystemExit("portal: static assets are not built; run `npm ci && npm run build` first")
    return json.loads(path.read_text())


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES_DIR),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")}),
            ]
        ),
        autoescape=True,
        undefined=PortalUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are part of the release: read once per process, never stat'ed again per render.
        auto_reload=False,
    )
    env.template_class = PortalTemplate
    manifest = load_manifest()
    env.globals["P"] = Permission
    # GOV.UK Frontend's template.html writes it as <html lang>.
    env.globals["htmlLang"] = PAGE_LANGUAGE
    env.globals["url"] = url
    env.globals["asset"] = lambda name: f"/static/{manifest[name]}"
    env.globals["field"] = lambda form_field, **params: fields.render_field(env, form_field, **params)
    env.globals["error_summary"] = lambda *forms, **params: fields.render_error_summary(env, *forms, **params)
    env.globals["page_title"] = page_title
    env.globals["roles_by_name"] = ROLES
    env.globals["roles_for_help"] = list(ROLES.values())
    env.globals["link"] = link
    env.globals["select_items"] = select_items
    env.filters["filesize"] = byte_size
    env.filters["datetime"] = format_datetime
    env.filters["date"] = format_date
    env.filters["with_article"] = with_article
    env.globals["with_article"] = with_article
    env.globals["count_of"] = count_of
    env.globals["spoken_reference"] = spoken_reference
    expected = names_read_but_never_set(env)
    env.undefined = type("PortalUndefined", (PortalUndefined,), {"__slots__": (), "expected_names": expected})
    return Jinja2Templates(env=env)


@pass_context
def url(context, name: str, **params) -> str:
    """The path of a named route: templates write url("members.member", member_id=m.id), never "/members/…"."""
    return str(context["request"].app.url_path_for(name, **params))


def select_items(choices: dict[str, str], selected: str | None) -> list[dict]:
    """A govukSelect's items from {value: words}, with the current value selected."""
    return [{"value": key, "text": text, "selected": key == selected} for key, text in choices.items()]


def link(href, text) -> Markup:
    """A GOV.UK link as markup, for table cells and summary values that take "html".

    Jinja's ~ escapes the literal markup when any part is already Markup, so templates cannot build these
    by concatenation; this escapes the text and the address, and nothing else.
    """
    return Markup('<a class="govuk-link" href="{}">{}</a>').format(str(href), str(text))


def tag(text, classes: str = "") -> Markup:
    """A GOV.UK tag as markup, for table cells built by presenters (the same markup as govukTag)."""
    return Markup('<strong class="govuk-tag{}">{}</strong>').format(f" {classes}" if classes else "", str(text))


def with_url(presenter: Callable[..., Any]) -> Callable[..., Any]:
    """A presenter that links to routes, as a template global: presenter(url, *args) is called as presenter(*args).

    Presenters build their rows in Python and name routes as templates do, with url(name, **params).
    """

    @pass_context
    def call(context, *args, **kwargs):
        return presenter(partial(url, context), *args, **kwargs)

    return call


def page_title(title: str, service_name: str, has_errors: bool = False, practice: bool = False) -> str:
    prefix = "Error: " if has_errors else ""
    # First thing a screen reader reads on every page in practice mode, after any error.
    if practice:
        prefix += "Practice mode: "
    return f"{prefix}{title} – {service_name}"


def format_datetime(value) -> str:
    """GOV.UK style, in the server's time zone: "8:48am on 2 December 2026"."""
    if value is None:
        return ""
    return date_time_words(value.astimezone())


def format_date(value) -> str:
    if value is None:
        return ""
    return date_words(value)


def spoken_reference(reference: str) -> Markup:
    """A reference people can read aloud: grouped "ABCD 1234" on screen, spelt character by character for a
    screen reader. Pages show the raw reference too, where it is to be copied."""
    return Markup('<span aria-hidden="true">{}</span><span class="govuk-visually-hidden">{}</span>').format(
        reference_groups(reference), reference_spelt(reference)
    )
