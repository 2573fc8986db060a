"""The Jinja environment: our templates first, then the GOV.UK Frontend macros under a prefix."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    pass_context,
)
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from ..permissions import Permission
from ..roles import ROLES
from . import fields
from .govuk_macros import PortalTemplate

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
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are part of the release: read once per process, never stat'ed again per render.
        auto_reload=False,
    )
    env.template_class = PortalTemplate
    manifest = load_manifest()
    env.globals["P"] = Permission
    env.globals["url"] = url
    env.globals["asset"] = lambda name: f"/static/{manifest[name]}"
    env.globals["field"] = lambda form_field, **params: fields.render_field(env, form_field, **params)
    env.globals["error_summary"] = lambda *forms, **params: fields.render_error_summary(env, *forms, **params)
    env.globals["page_title"] = page_title
    env.globals["roles_by_name"] = ROLES
    env.globals["roles_for_help"] = list(ROLES.values())
    env.globals["status_class"] = status_class
    env.globals["section_class"] = section_class
    # A global, not a page's variable: macros imported from other files cannot see the page's variables,
    # so the whole-document macro showed section states as raw keys ("not_started").
    from ..notifications.service import SECTION_WORDS

    env.globals["section_words"] = SECTION_WORDS
    env.globals["status_items"] = lambda words, selected: [
        {"value": key, "text": text, "selected": key == selected} for key, text in words.items()
    ]
    env.globals["link"] = link
    env.filters["filesize"] = format_size
    env.filters["datetime"] = format_datetime
    env.filters["date"] = format_date
    return Jinja2Templates(env=env)


@pass_context
def url(context, name: str, **params) -> str:
    """The path of a named route: templates write url("members.member", member_id=m.id), never "/members/…"."""
    return str(context["request"].app.url_path_for(name, **params))


def link(href, text) -> Markup:
    """A GOV.UK link as markup, for table cells and summary values that take "html".

    Jinja's ~ escapes the literal markup when any part is already Markup, so templates cannot build these
    by concatenation; this escapes the text and the address, and nothing else.
    """
    return Markup('<a class="govuk-link" href="{}">{}</a>').format(str(href), str(text))


def page_title(title: str, service_name: str, has_errors: bool = False) -> str:
    prefix = "Error: " if has_errors else ""
    return f"{prefix}{title} – {service_name}"


STATUS_CLASSES = {
    "draft": "govuk-tag--grey",
    "in_review": "govuk-tag--blue",
    "changes_requested": "govuk-tag--orange",
    "approved": "govuk-tag--turquoise",
    "submitted": "govuk-tag--green",
    "withdrawn": "govuk-tag--grey",
}
SECTION_CLASSES = {
    "not_started": "govuk-tag--grey",
    "in_progress": "govuk-tag--light-blue",
    "needs_attention": "govuk-tag--red",
    "completed": "",
}


def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "")


def section_class(status: str) -> str:
    return SECTION_CLASSES.get(status, "")


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def format_datetime(value) -> str:
    if value is None:
        return ""
    local = value.astimezone()
    return local.strftime("%-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm")


def format_date(value) -> str:
    if value is None:
        return ""
    return value.strftime("%-d %B %Y")


__all__ = ["make_templates", "StrictUndefined"]
