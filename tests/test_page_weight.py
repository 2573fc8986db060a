"""Page weight as a bound, not a timing: every page's HTML stays small, and so does a first visit.

Limits: HTML under 40 KB raw and under 10 KB gzipped; the start page's HTML plus the CSS and
JavaScript it links under /static/ (and the modules that JavaScript imports) under 200 KB gzipped.
bench/page_weight.py measures the same against a running server with a large database.
"""

import gzip
import re

import pytest

from portal.notifications.registry import definitions

from .drafting import attach_example_file, fill_section, start_notification

HTML_RAW_LIMIT = 40 * 1024
HTML_GZIP_LIMIT = 10 * 1024
FIRST_VISIT_LIMIT = 200 * 1024

STATIC_LINK_RE = re.compile(r'<(?:link|script)\b[^>]*?(?:href|src)="(/static/[^"]+\.(?:css|js))"', re.I)
IMPORT_RE = re.compile(r"""\bimport\b[^"'()]*?\bfrom\s*["']\./([^"']+\.m?js)["']""")


def gzipped(body: bytes) -> int:
    return len(gzip.compress(body))


def assert_light(name: str, response) -> None:
    assert response.status_code == 200, f"{name}: {response.status_code}"
    raw, packed = len(response.content), gzipped(response.content)
    assert raw < HTML_RAW_LIMIT, f"{name} HTML is {raw / 1024:.1f} KB raw, over {HTML_RAW_LIMIT // 1024} KB"
    assert packed < HTML_GZIP_LIMIT, f"{name} HTML is {packed / 1024:.1f} KB gzipped, over {HTML_GZIP_LIMIT // 1024} KB"


def test_public_pages_are_light(client):
    assert_light("start page", client.get("/"))
    assert_light("sign-in page", client.get("/sign-in"))


@pytest.mark.parametrize("type_key", sorted(definitions()))
def test_signed_in_pages_are_light(as_role, demo_org, type_key):
    """Every section page of the type, then the task list and the whole document once all are answered."""
    drafter = as_role("drafter")
    assert_light("dashboard", drafter.get("/dashboard"))
    notification = start_notification(drafter, type_key, demo_org["locations"][0][0])
    assert_light("task list, new", drafter.get(f"/notifications/{notification}"))
    for section in definitions()[type_key].sections:
        path = f"/notifications/{notification}/sections/{section.key}"
        assert_light(f"section {section.key} ({type_key})", drafter.get(path))
        # A required upload is given, as a person must, so a type with one is weighed like the rest.
        for question in section.questions:
            if question.kind == "file" and question.required:
                attach_example_file(drafter, notification, section, question)
        saved = fill_section(drafter, notification, section)
        assert saved.status_code == 303, saved.text[-2000:]
        assert_light(f"section {section.key} answered ({type_key})", drafter.get(path))
    assert_light(f"task list ({type_key})", drafter.get(f"/notifications/{notification}"))
    assert_light(f"whole document ({type_key})", drafter.get(f"/notifications/{notification}/document"))
    assert_light("notifications list", drafter.get("/notifications"))


def test_a_full_list_page_is_light(as_role, demo_org):
    """The list at its longest: a whole page of rows."""
    from portal.notifications.listing import PAGE_SIZE

    drafter = as_role("drafter")
    for _ in range(PAGE_SIZE + 1):
        start_notification(drafter, "serious_injury", demo_org["locations"][0][0])
    response = drafter.get("/notifications")
    assert response.text.count('href="/notifications/') >= PAGE_SIZE
    assert_light("notifications list, full page", response)


def test_a_first_visit_downloads_under_200_kb_gzipped(client):
    start = client.get("/")
    assert start.status_code == 200
    queue = STATIC_LINK_RE.findall(start.text)
    assert any(path.endswith(".css") for path in queue) and any(path.endswith(".js") for path in queue)
    seen, sizes = set(), {"(start page HTML)": gzipped(start.content)}
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        asset = client.get(path)
        assert asset.status_code == 200, f"{path} is linked but answers {asset.status_code}"
        sizes[path] = gzipped(asset.content)
        if path.endswith(".js"):
            folder = path.rsplit("/", 1)[0]
            queue.extend(f"{folder}/{name}" for name in IMPORT_RE.findall(asset.text))
    total = sum(sizes.values())
    assert total < FIRST_VISIT_LIMIT, f"first visit is {total / 1024:.1f} KB gzipped: {sizes}"
