"""Sign-in with OpenID Connect against a real provider (oidc-provider on node), set up like GOV.UK One Login.

The portal is driven with starlette's TestClient; the provider's pages with httpx, as a browser would:
redirects are followed by hand between the two, and the provider's forms are read from their HTML.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from sqlalchemy import select
from starlette.testclient import TestClient

from portal.accounts import oidc
from portal.app import create_app
from portal.models import AuditEvent, Identity, User, UserSession

from .conftest import ROOT, post_form

PORTAL = "http://testserver"
CALLBACK = f"{PORTAL}/sign-in/one-login/callback"
CLIENT_ID = "portal-test-client"
KEY_ID = "portal-key-1"
PROVIDER_SCRIPT = ROOT / "tests" / "oidc_provider.mjs"


# Keys and the provider ------------------------------------------------------------------------


def _rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def client_key_pem() -> bytes:
    """The portal's key: its public half is what the provider has registered for the client."""
    return _rsa_pem()


@pytest.fixture(scope="module")
def provider(client_key_pem):
    """Starts tests/oidc_provider.mjs on a free port of 127.0.0.1 and yields its issuer."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("needs node and `npm install` (oidc-provider)")
    public_jwk = RSAKey.import_key(client_key_pem).as_dict(private=False)
    public_jwk.update(kid=KEY_ID, alg="RS256", use="sig")
    config = {
        "client_id": CLIENT_ID,
        "client_jwks": {"keys": [public_jwk]},
        "redirect_uris": [CALLBACK],
        "post_logout_redirect_uris": [f"{PORTAL}/signed-out"],
    }
    process = subprocess.Popen(
        [node, str(PROVIDER_SCRIPT), "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    # Drain stderr so the provider never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    issuer = None
    deadline = time.monotonic() + 15
    try:
        while issuer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise RuntimeError("the test OpenID provider did not start")
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line.startswith("ready "):
                issuer = line.split()[1]
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        oidc.clear_caches()


@pytest.fixture
def key_file(tmp_path, client_key_pem):
    path = tmp_path / "oidc-client-key.pem"
    path.write_bytes(client_key_pem)
    return path


@pytest.fixture
def oidc_settings(settings, provider, key_file):
    return replace(
        settings,
        oidc_issuer=provider,
        oidc_client_id=CLIENT_ID,
        oidc_private_key_file=str(key_file),
        oidc_key_id=KEY_ID,
    )


@pytest.fixture
def portal(oidc_settings, db_factory):
    with TestClient(create_app(oidc_settings), base_url=PORTAL, follow_redirects=False) as client:
        yield client


@pytest.fixture
def browser():
    """The person's browser on the provider's side."""
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


# Driving the flow -----------------------------------------------------------------------------


class Forms(HTMLParser):
    """Every form on a page: its attributes and its input fields; and every link."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def follow_to_form(browser: httpx.Client, url: str) -> tuple[str, httpx.Response]:
    """Follows the provider's redirects until a page (200) or a redirect back to the portal."""
    for _ in range(10):
        if url.startswith(PORTAL):
            return url, None
        response = browser.get(url)
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["location"])
            continue
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
        return url, response
    raise AssertionError("too many redirects at the provider")


def submit(browser: httpx.Client, page_url: str, page: httpx.Response, extra: dict) -> str:
    (form,) = Forms(page.text).forms
    assert form["attrs"].get("method", "get").lower() == "post"
    response = browser.post(urljoin(page_url, form["attrs"]["action"]), data={**form["fields"], **extra})
    assert response.status_code in (302, 303), response.text[:500]
    return urljoin(page_url, response.headers["location"])


def through_provider(browser: httpx.Client, authorize_url: str, login: str) -> str:
    """Signs in at the provider (any login name works) and consents; returns the redirect back."""
    url = authorize_url
    for _ in range(6):
        url, page = follow_to_form(browser, url)
        if page is None:
            return url
        prompt = Forms(page.text).forms[0]["fields"].get("prompt")
        assert prompt in ("login", "consent"), page.text[:500]
        extra = {"login": login, "password": "anything"} if prompt == "login" else {}
        url = submit(browser, url, page, extra)
    raise AssertionError("the provider never sent the person back")


def begin(portal: TestClient, next_path: str = "/account") -> str:
    response = portal.get("/sign-in/one-login", params={"next": next_path})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK, url
    return f"{parts.path}?{parts.query}"


def new_login() -> str:
    return f"person-{uuid.uuid4().hex[:10]}"


def failures(db_factory) -> list[dict]:
    with db_factory() as db:
        return [
            event.data
            for event in db.scalars(
                select(AuditEvent).where(AuditEvent.event_type == "account:sign_in_failed").order_by(AuditEvent.id)
            )
        ]


def assert_problem_page(response, db_factory, reason: str):
    assert response.status_code == 400, response.text
    assert "There is a problem signing you in with GOV.UK One Login" in response.text
    assert response.text.count("<h1") == 1
    assert {"method": "one login", "reason": reason} in failures(db_factory)


def assert_not_signed_in(portal: TestClient, db_factory):
    assert "portal_session" not in portal.cookies
    response = portal.get("/account")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    with db_factory() as db:
        assert db.scalar(select(UserSession.id)) is None


def jwt_payload(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


# The tests ------------------------------------------------------------------------------------


def test_a_whole_sign_in_and_sign_out(portal, browser, provider, db_factory):
    login = new_login()
    authorize_url = begin(portal, "/account")
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(provider + "/")
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid email"]
    assert query["vtr"] == ['["Cl.Cm"]']
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] and query["nonce"][0] and query["state"][0]
    flow_cookie = [value for value in portal.cookies.jar if value.name == oidc.FLOW_COOKIE]
    assert len(flow_cookie) == 1 and flow_cookie[0].path == "/sign-in/one-login"

    back = through_provider(browser, authorize_url, login)
    response = portal.get(callback_path(back))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/account"
    assert not any(value.name == oidc.FLOW_COOKIE for value in portal.cookies.jar)  # used once, then forgotten

    account = portal.get("/account")
    assert account.status_code == 200
    assert f"{login}@example.test" in account.text
    with db_factory() as db:
        identity = db.scalar(select(Identity).where(Identity.issuer == provider, Identity.subject == login))
        assert identity is not None
        assert identity.user.email == f"{login}@example.test"
        session = db.scalar(select(UserSession).where(UserSession.user_id == identity.user_id))
        assert session.method == "one login"
        # As with One Login, the email comes from /userinfo, never from the id token.
        claims = jwt_payload(session.id_token)
        assert claims["iss"] == provider and claims["sub"] == login and claims["aud"] == CLIENT_ID
        assert "email" not in claims
        id_token = session.id_token

    response = post_form(portal, "/sign-out", from_page="/account")
    assert response.status_code == 303
    logout = response.headers["location"]
    parts = urlsplit(logout)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == provider + "/session/end"
    logout_query = parse_qs(parts.query)
    assert logout_query["id_token_hint"] == [id_token]
    assert logout_query["post_logout_redirect_uri"] == [f"{PORTAL}/signed-out"]
    assert logout_query["state"][0]
    after = portal.get("/account")
    assert after.status_code == 303 and after.headers["location"].startswith("/sign-in")
    with db_factory() as db:
        assert db.scalar(select(UserSession.ended_reason).where(UserSession.id_token == id_token)) == "signed out"

    # The provider accepts the hint and the registered address, asks, then sends the person back.
    page_url, page = follow_to_form(browser, logout)
    back = submit(browser, page_url, page, {"logout": "yes"})
    assert back.startswith(f"{PORTAL}/signed-out?")
    assert parse_qs(urlsplit(back).query)["state"] == logout_query["state"]


def test_signing_in_again_finds_the_same_person(portal, browser, provider, db_factory):
    login = new_login()
    for _ in range(2):
        portal.cookies.clear()
        browser.cookies.clear()
        response = portal.get(callback_path(through_provider(browser, begin(portal), login)))
        assert response.status_code == 303, response.text
    with db_factory() as db:
        assert len(db.scalars(select(User).where(User.email == f"{login}@example.test")).all()) == 1
        assert len(db.scalars(select(Identity).where(Identity.subject == login)).all()) == 1


def test_cancelling_at_the_provider_shows_a_clear_error_and_no_session(portal, browser, db_factory):
    url, page = follow_to_form(browser, begin(portal))
    (abort,) = [link for link in Forms(page.text).links if "abort" in link]
    url, page = follow_to_form(browser, urljoin(url, abort))
    assert page is None
    assert parse_qs(urlsplit(url).query)["error"] == ["access_denied"]
    response = portal.get(callback_path(url))
    assert_problem_page(response, db_factory, "cancelled")
    assert "You did not finish signing in" in response.text
    assert_not_signed_in(portal, db_factory)


def test_a_client_assertion_signed_with_the_wrong_key_is_refused(oidc_settings, browser, db_factory, tmp_path):
    wrong = tmp_path / "wrong-key.pem"
    wrong.write_bytes(_rsa_pem())  # same kid, a key the provider never registered
    app = create_app(replace(oidc_settings, oidc_private_key_file=str(wrong)))
    with TestClient(app, base_url=PORTAL, follow_redirects=False) as portal:
        back = through_provider(browser, begin(portal), new_login())
        response = portal.get(callback_path(back))
        assert_problem_page(response, db_factory, "token refused")
        assert_not_signed_in(portal, db_factory)


def test_a_tampered_state_is_refused(portal, browser, db_factory):
    back = through_provider(browser, begin(portal), new_login())
    parts = urlsplit(back)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    response = portal.get(callback_path(urlunsplit(parts._replace(query=urlencode(query)))))
    assert_problem_page(response, db_factory, "bad state")
    assert_not_signed_in(portal, db_factory)


def test_a_tampered_or_missing_flow_cookie_is_refused(portal, browser, db_factory):
    back = through_provider(browser, begin(portal), new_login())
    (cookie,) = [value for value in portal.cookies.jar if value.name == oidc.FLOW_COOKIE]
    portal.cookies.set(oidc.FLOW_COOKIE, cookie.value[:-3] + "xyz", domain=cookie.domain, path=cookie.path)
    response = portal.get(callback_path(back))
    assert_problem_page(response, db_factory, "bad state")
    response = portal.get(callback_path(back))  # the failed attempt forgot the cookie
    assert response.status_code == 400
    assert_not_signed_in(portal, db_factory)


def test_an_unverified_email_is_refused(portal, browser, db_factory):
    back = through_provider(browser, begin(portal), "unverified-" + uuid.uuid4().hex[:8])
    response = portal.get(callback_path(back))
    assert_problem_page(response, db_factory, "email not verified")
    assert "has not confirmed your email address" in response.text
    assert_not_signed_in(portal, db_factory)


def test_an_unreachable_provider_is_an_error_page_not_a_500(settings, db_factory, key_file):
    closed = replace(
        settings,
        oidc_issuer="http://127.0.0.1:9",
        oidc_client_id=CLIENT_ID,
        oidc_private_key_file=str(key_file),
        oidc_key_id=KEY_ID,
    )
    with TestClient(create_app(closed), base_url=PORTAL, follow_redirects=False) as portal:
        response = portal.get("/sign-in/one-login")
        assert response.status_code == 503
        assert "not available" in response.text
        response = portal.get("/sign-in/one-login/callback?code=x&state=y")
        assert response.status_code == 400


def test_the_flow_cookie_is_signed_short_lived_http_only_and_lax(portal):
    begin(portal)
    header = portal.get("/sign-in/one-login").headers["set-cookie"]
    assert header.startswith(f"{oidc.FLOW_COOKIE}=")
    for part in ("HttpOnly", "Max-Age=600", "Path=/sign-in/one-login", "SameSite=lax"):
        assert part.lower() in header.lower(), header


def test_the_flow_state_expires_after_ten_minutes():
    sealed = oidc.seal_flow("k" * 40, oidc.FlowState("s", "n", "v", "/account"))
    assert oidc.open_flow("k" * 40, sealed) == oidc.FlowState("s", "n", "v", "/account")
    assert oidc.open_flow("another-key" * 4, sealed) is None
    assert oidc.open_flow("k" * 40, sealed, max_age=-1) is None


def test_the_client_assertion_has_the_kid_and_lives_five_minutes(client_key_pem):
    class Auth:
        client_id = CLIENT_ID
        client_secret = RSAKey.import_key(client_key_pem)

    assertion = oidc.ShortLivedPrivateKeyJWT("https://op.example/token", headers={"kid": KEY_ID}).sign(
        Auth(), "https://op.example/token"
    )
    header = json.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
    assert header["kid"] == KEY_ID and header["alg"] == "RS256"
    claims = jwt_payload(assertion)
    assert claims["iss"] == claims["sub"] == CLIENT_ID and claims["aud"] == "https://op.example/token"
    assert claims["exp"] - claims["iat"] == 300 and claims["jti"]


def test_one_login_is_not_found_when_not_configured(client):
    assert client.get("/sign-in/one-login").status_code == 404
    assert client.get("/sign-in/one-login/callback?code=x&state=y").status_code == 404
