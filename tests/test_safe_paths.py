"""One guard decides which user-supplied paths the portal may send people to; every back link uses it."""

import pytest
from starlette.requests import Request

from portal.accounts.email_link import safe_next
from portal.queries.service import safe_asked_from
from portal.safe_paths import same_site_path
from portal.web.routing import _same_site_back


@pytest.mark.parametrize(
    "path",
    ["/", "/dashboard", "/notifications/5/sections/about#when", "/members?page=2&sort=name", "/a.b/c-d_e%20f"],
)
def test_a_path_on_this_site_is_kept_as_it_is(path):
    assert same_site_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        None,
        "",
        "dashboard",
        "//evil.example",
        "///evil.example",
        "/notifications//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/dash\x00board",
        "/dash\rboard",
        "/dash\u202eboard",
        "https://evil.example/",
        "javascript:alert(1)",
        " /dashboard",
    ],
)
def test_anything_a_browser_could_read_as_another_site_is_refused(path):
    assert same_site_path(path) is None


def _request(referer: str, app, path: str = "/sign-in") -> Request:
    return Request(
        {
            "app": app,
            "type": "http",
            "method": "POST",
            "scheme": "http",
            "server": ("portal", 80),
            "root_path": "",
            "path": path,
            "query_string": b"",
            "headers": [(b"host", b"portal"), (b"referer", referer.encode())],
        }
    )


def test_a_referer_on_this_site_is_the_back_link(app):
    assert _same_site_back(_request("http://portal/members?page=2", app)) == "/members?page=2"


@pytest.mark.parametrize(
    "referer", ["http://portal//evil.example", "http://portal//evil.example/path", "http://evil.example/", ""]
)
def test_a_referer_that_would_leave_the_site_falls_back_to_the_form_itself(referer, app):
    assert _same_site_back(_request(referer, app)) == "/sign-in"


def test_every_caller_refuses_what_the_guard_refuses():
    for path in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example/"):
        assert safe_next(path) == "/"
        assert safe_asked_from(path) == ""
    assert safe_next("/notifications/3") == "/notifications/3"
    assert safe_asked_from("/notifications/3") == "/notifications/3"


def test_a_page_within_a_notification_is_that_notifications_own_page_or_none():
    from portal.safe_paths import page_within

    own = "/notifications/1"
    assert page_within("/notifications/1", own) == "/notifications/1"
    assert page_within("/notifications/1/document", own) == "/notifications/1/document"
    assert page_within("/notifications/1/sections/a?x=1", own) == "/notifications/1/sections/a?x=1"
    for refused in ("/notifications/12", "/notifications/1/../../dashboard", "/notifications/1/%2e%2e/2", "//x", None):
        assert page_within(refused, own) is None, refused


def test_without_a_usable_referer_a_form_that_only_takes_posts_sends_you_to_the_start_page(client):
    client.get("/sign-in")
    response = client.post("/sign-out", data={}, headers={"referer": "http://evil.example/"})
    assert response.status_code == 403
    assert 'href="/"' in response.text and 'href="/sign-out"' not in response.text
