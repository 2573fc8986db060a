"""Helpers for drafting tests: start a notification and fill in sections as a person would."""

from __future__ import annotations

import re

from portal.notifications.definitions import Question, Section
from portal.notifications.examples import example_fields

from .conftest import csrf_from, post_form

# The smallest file the upload's type sniffing takes for a PDF.
EXAMPLE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def start_notification(client, type_key: str, location_id: int) -> int:
    response = post_form(
        client, "/notifications/new", {"type": type_key, "location": str(location_id)}, from_page="/notifications/new"
    )
    assert response.status_code == 303, response.text[-2000:]
    return int(response.headers["location"].rsplit("/", 1)[1])


def version_on(page_text: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page_text).group(1)


def valid_answer(question: Question) -> dict[str, str | list[str]]:
    return example_fields(question)


def fill_section(client, notification_id: int, section: Section, action="continue"):
    path = f"/notifications/{notification_id}/sections/{section.key}"
    page = client.get(path)
    assert page.status_code == 200, page.text[-2000:]
    data = {"action": action, "version": version_on(page.text)}
    for question in section.questions:
        data.update(valid_answer(question))
    pairs = []
    for name, value in data.items():
        for each in value if isinstance(value, list) else [value]:
            pairs.append((name, each))
    return post_form(client, path, pairs, from_page=path)


def attach_example_file(client, notification_id: int, section: Section, question: Question):
    """Uploads a small PDF to a file question through its form, as a person would before continuing."""
    page = f"/notifications/{notification_id}/sections/{section.key}"
    response = client.post(
        f"/notifications/{notification_id}/attachments/{question.key}",
        data={"csrf_token": csrf_from(client, page)},
        files={"file": ("evidence.pdf", EXAMPLE_PDF, "application/pdf")},
    )
    assert response.status_code == 303, response.text[-2000:]
    return response
