import pytest

from portal.app import all_endpoints

from .conftest import csrf_from


def test_security_headers_on_every_response(client):
    for path in ["/", "/healthz", "/no-such-page"]:
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # development


def test_hsts_and_secure_cookies_in_production(settings, db_factory):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from portal.app import create_app

    app = create_app(replace(settings, env="production"))
    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/")
        assert "max-age=31536000" in response.headers["strict-transport-security"]
        assert "Secure" in response.headers["set-cookie"]


def test_the_inline_script_carries_the_nonce_from_the_header(client):
    response = client.get("/")
    nonce = response.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.text


def test_a_post_without_a_csrf_token_is_refused_with_a_page_that_keeps_your_place(client):
    client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"email": "a@example.com"}, headers={"referer": "http://testserver/sign-in"}
    )
    assert response.status_code == 403
    assert "Your form could not be sent" in response.text
    assert 'href="/sign-in"' in response.text


def test_a_post_with_a_wrong_csrf_token_is_refused(client):
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": "a@example.com", "csrf_token": "0" * 64})
    assert response.status_code == 403


def test_a_token_from_another_browser_is_refused(app, client):
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as other:
        token = csrf_from(other)
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": "a@example.com", "csrf_token": token})
    assert response.status_code == 403


# Every one but the declared opt-outs (One Login's back-channel logout), which test_route_permissions holds to
# exactly that route, public and reading no session.
UNSAFE_ENDPOINTS = [(e.path, m) for e in all_endpoints() if not e.csrf_exempt for m in e.methods if m != "GET"]


@pytest.mark.parametrize("path,method", UNSAFE_ENDPOINTS)
def test_csrf_sweep_every_unsafe_route_refuses_a_missing_token(client, path, method):
    concrete = path.replace("{token}", "t" * 20)
    for name in (
        "member_id",
        "invitation_id",
        "request_id",
        "notification_id",
        "section",
        "attachment_id",
        "comment_id",
        "query_id",
        "token_id",
        "user_id",
        "organisation_id",
    ):
        concrete = concrete.replace("{" + name + "}", "1")
    client.get("/")
    response = client.request(method, concrete, data={"anything": "x"})
    assert response.status_code == 403, concrete


def test_an_over_size_body_gets_413_without_being_read(client):
    response = client.post(
        "/sign-in", content=b"x" * (3 * 1024 * 1024), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


def test_a_chunked_body_that_lies_about_its_size_gets_413(client):
    def chunks():
        for _ in range(40):
            yield b"email=" + b"x" * (100 * 1024)

    response = client.post("/sign-in", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_malformed_multipart_gets_400(client):
    token = csrf_from(client)
    response = client.post(
        "/sign-in",
        content=b"--XYZ\r\nthis is not a header\r\n\r\nbroken\r\n--XYZ--\r\n",
        headers={"content-type": "multipart/form-data; boundary=XYZ", "x-csrf-token": token},
    )
    assert response.status_code == 400
    assert "could not read" in response.text


def test_a_crash_shows_a_reference_and_no_stack_trace(app, caplog):
    caplog.set_level("INFO", logger="portal.request")
    from starlette.routing import Route
    from starlette.testclient import TestClient

    def explode(request):
        raise RuntimeError("secret internals")

    app.router.routes.insert(0, Route("/explode", explode))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/explode")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    request_id = response.headers["x-request-id"]
    assert request_id in response.text
    assert any(request_id in record.getMessage() for record in caplog.records)
    # The request log line says 500, what the person got, not the 0 of a response that had not started.
    [logged] = [r.getMessage() for r in caplog.records if r.name == "portal.request" and request_id in r.getMessage()]
    assert logged.startswith("GET /explode 500 ")


def test_a_crash_keeps_the_signed_in_header(app, drafter):
    from starlette.routing import Route
    from starlette.testclient import TestClient

    def explode(request):
        raise RuntimeError("secret internals")

    app.router.routes.insert(0, Route("/explode", explode))
    with TestClient(app, raise_server_exceptions=False, cookies=dict(drafter.cookies)) as client:
        response = client.get("/explode")
    assert response.status_code == 500
    assert "Signed in as" in response.text and "drafter@riverside.example" in response.text
