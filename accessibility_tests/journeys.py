"""Getting a notification to a state quickly, through the real HTTP routes, from a browser page.

page.request shares the page's cookies, so these steps are the signed-in person's own requests.
"""

from __future__ import annotations

import re

from portal.notifications.registry import definitions
from tests.drafting import valid_answer
from tests.journey import PDF


def _token(page, base: str, path: str) -> str:
    html = page.request.get(base + path).text()
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post(page, base: str, path: str, form: dict, multipart: dict | None = None, *, follow: bool = True) -> str:
    """The address the post ended on; with follow=False, the one it redirects to, left for the page to open,
    so the page shows the one-time success message the redirect carries."""
    token = _token(page, base, "/help")
    redirects = {} if follow else {"max_redirects": 0}
    if multipart is not None:
        response = page.request.post(base + path, multipart={**form, "csrf_token": token, **multipart}, **redirects)
    else:
        response = page.request.post(base + path, form={**form, "csrf_token": token}, **redirects)
    return response.url if follow else base + response.headers["location"]


def start(page, base: str, type_key: str) -> int:
    html = page.request.get(base + "/notifications/new").text()
    location = re.search(r'name="location" type="radio" value="(\d+)"', html).group(1)
    url = post(page, base, "/notifications/new", {"type": type_key, "location": location})
    return int(re.search(r"/notifications/(\d+)", url).group(1))


def complete(page, base: str, type_key: str = "dols_outcome") -> int:
    notification = start(page, base, type_key)
    fill_every_section(page, base, notification, type_key)
    return notification


def fill_every_section(page, base: str, notification: int, type_key: str, changed: dict | None = None) -> None:
    """Saves every section with the example answers, `changed` answers (by question key) in their place."""
    for section in definitions()[type_key].sections:
        path = f"/notifications/{notification}/sections/{section.key}"
        html = page.request.get(base + path).text()
        version = re.search(r'name="version" value="(\d+)"', html).group(1)
        body = f"action=continue&version={version}&csrf_token={_token(page, base, '/help')}"
        for question in section.questions:
            if question.kind == "file":
                post(
                    page,
                    base,
                    f"/notifications/{notification}/attachments/{question.key}",
                    {"back": f"/notifications/{notification}"},
                    multipart={"file": {"name": "evidence.pdf", "mimeType": "application/pdf", "buffer": PDF}},
                )
            for name, value in {**valid_answer(question), **(changed or {})}.items():
                if name not in valid_answer(question):
                    continue
                for each in value if isinstance(value, list) else [value]:
                    from urllib.parse import quote_plus

                    body += f"&{quote_plus(name)}={quote_plus(each)}"
        page.request.post(base + path, data=body, headers={"content-type": "application/x-www-form-urlencoded"})


def follow_up_in_review(new_page, base: str, type_key: str = "dols_outcome") -> int:
    """A follow-up of the same type to a submitted notification, one answer changed, sent for review."""
    original = submitted(new_page, base, type_key)
    drafter = new_page("drafter")
    url = post(drafter, base, f"/notifications/{original}/follow-up", {"type": type_key})
    notification = int(re.search(r"/notifications/(\d+)", url).group(1))
    long_text = next(q for s in definitions()[type_key].sections for q in s.questions if q.kind == "long_text")
    fill_every_section(drafter, base, notification, type_key, {long_text.key: "Changed in the follow-up."})
    post(drafter, base, f"/notifications/{notification}/request-review", {})
    return notification


def sent_for_review(new_page, base: str, type_key: str = "dols_outcome") -> int:
    drafter = new_page("drafter")
    notification = complete(drafter, base, type_key)
    post(drafter, base, f"/notifications/{notification}/request-review", {})
    return notification


def approved(new_page, base: str, type_key: str = "dols_outcome") -> int:
    notification = sent_for_review(new_page, base, type_key)
    post(new_page("reviewer"), base, f"/notifications/{notification}/approve", {})
    return notification


def submitted(new_page, base: str, type_key: str = "dols_outcome") -> int:
    notification = approved(new_page, base, type_key)
    post(new_page("submitter"), base, f"/notifications/{notification}/submit", {"declaration": "yes"})
    return notification


def changes_requested(new_page, base: str, type_key: str = "dols_outcome") -> int:
    notification = sent_for_review(new_page, base, type_key)
    section = definitions()[type_key].sections[0].key
    post(
        new_page("reviewer"),
        base,
        f"/notifications/{notification}/request-changes",
        {"summary": "Add the name of the supervisory body", "sections": section},
    )
    return notification


def asked_question(page, base: str, subject: str = "How do I add a second location?") -> int:
    url = post(page, base, "/queries", {"subject": subject, "message": "We opened a new home last week."})
    return int(re.search(r"/queries/(\d+)", url).group(1))


def answered_question(new_page, base: str, *, resolve: bool = False) -> int:
    """A provider's question with a reply from the support team."""
    query_id = asked_question(new_page("drafter"), base)
    form = {"message": "Ask your organisation admin to add it under Members.", **({"resolve": "y"} if resolve else {})}
    post(new_page("support_agent"), base, f"/support/queries/{query_id}/reply", form)
    return query_id
