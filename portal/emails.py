"""The words of every email: one template per kind in templates/emails/, a subject and a plain-text body.

A template has two blocks, rendered apart:

    {% block subject %}Changes requested: {{ notification_type }}{% endblock %}
    {% block body %}
    {{ requested_by }} has asked for changes:
    …
    {% endblock %}

A block starts on the line after its tag (trim_blocks) and ends with the line before `{% endblock %}`;
that last newline is not part of the email. Plain text, so nothing is escaped; a name the template
uses that the service did not pass, or passed as None, raises rather than sending "None" to someone.

Services pass plain values (names, titles, references, links from portal/links.py) and enqueue by
name through outbox.enqueue_email; the outbox makes the subject safe to be a header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.utils import concat

from .text import with_article

EMAILS_DIR = Path(__file__).resolve().parent.parent / "templates" / "emails"
BLOCKS = ("subject", "body")


class MissingValue(Exception):
    pass


def _no_none(value: Any) -> Any:
    if value is None:
        raise MissingValue("an email template was given None to show")
    return value


# Plain text that no browser renders: HTML escaping would put &amp; into people's names and subjects.
environment = Environment(  # nosec B701
    loader=FileSystemLoader(EMAILS_DIR),
    autoescape=False,
    undefined=StrictUndefined,
    finalize=_no_none,
    trim_blocks=True,
    keep_trailing_newline=True,
    # Templates are part of the release: read once per process.
    auto_reload=False,
)
# "an Abuse or allegation of abuse notification", never "a Abuse …".
environment.filters["with_article"] = with_article


def names() -> list[str]:
    """Every kind of email there is a template for."""
    return sorted(path.stem for path in EMAILS_DIR.glob("*.txt"))


def render(name: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of the email `name`, from templates/emails/<name>.txt."""
    template = environment.get_template(f"{name}.txt")
    missing = [block for block in BLOCKS if block not in template.blocks]
    if missing:
        raise ValueError(f"templates/emails/{name}.txt has no {' or '.join(missing)} block")
    rendered = template.new_context(dict(context))
    subject = concat(template.blocks["subject"](rendered)).strip()
    body = concat(template.blocks["body"](rendered)).removesuffix("\n")
    return subject, body
