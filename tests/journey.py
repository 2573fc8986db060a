"""The whole journey through HTTP, as people do it: draft, review, approve, submit."""

from __future__ import annotations

import re

from portal.notifications.registry import definitions

from .conftest import csrf_from, post_form
from .drafting import fill_section, start_notification

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(client, notification_id: int, question_key: str, name: str = "evidence.pdf", content: bytes = PDF):
    back = f"/notifications/{notification_id}"
    token = csrf_from(client, back)
    return client.post(
        f"/notifications/{notification_id}/attachments/{question_key}",
        data={"csrf_token": token, "back": back},
        files={"file": (name, content, "application/pdf")},
    )


def draft_complete(client, type_key: str, location_id: int, *, with_files: bool = True) -> int:
    notification = start_notification(client, type_key, location_id)
    for section in definitions()[type_key].sections:
        for question in section.questions:
            if question.kind == "file" and (question.required or with_files):
                assert upload(client, notification, question.key).status_code == 303
        response = fill_section(client, notification, section)
        assert response.status_code == 303, response.text[-1500:]
    return notification


def act(client, notification_id: int, action: str, data: dict | None = None):
    return post_form(
        client, f"/notifications/{notification_id}/{action}", data or {}, from_page=f"/notifications/{notification_id}"
    )


def submitted(drafter, reviewer, submitter, type_key: str, location_id: int) -> tuple[int, str]:
    notification = draft_complete(drafter, type_key, location_id)
    assert act(drafter, notification, "request-review").status_code == 303
    assert act(reviewer, notification, "approve").status_code == 303
    response = act(submitter, notification, "submit", {"declaration": "yes"})
    assert response.status_code == 303, response.text[-1500:]
    receipt = submitter.get(f"/notifications/{notification}/receipt").text
    reference = re.search(r'class="portal-reference">([A-Z0-9]{8})<', receipt).group(1)
    return notification, reference
