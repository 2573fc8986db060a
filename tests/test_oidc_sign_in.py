"""Sign-in with OpenID Connect against a real provider (oidc-provider on node), set up like GOV.UK One Login.

The portal is driven with starlette's TestClient; the provider's pages with httpx, as a browser would:
redirects are followed by hand between the two, and the provider's forms are read from their HTML.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select
from starlette.testclient import TestClient

from portal.accounts import oidc
from portal.app import create_app
from portal.models import AuditEvent, Identity, User, UserSession

from .conftest import post_form
from .live_server import LiveServer
from .openid_provider import running_provider

PORTAL = "http://testserver"
CALLBACK = f"{PORTAL}/sign-in/one-login/callback"
CLIENT_ID = "portal-test-client"
KEY_ID = "portal-key-1"


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
def provider_key() -> ECKey:
    """The provider's signing key, made here so the tests can sign logout tokens as the provider would."""
    return ECKey.generate_key("P-256", parameters={"kid": "provider-es256", "alg": "ES256", "use": "sig"})


def provider_config(client_key_pem: bytes, provider_key: ECKey, issuer_suffix: str, portal: str = PORTAL) -> dict:
    """The provider's settings: the portal registered as its client, as One Login would have it."""
    public_jwk = RSAKey.import_key(client_key_pem).as_dict(private=False)
    public_jwk.update(kid=KEY_ID, alg="RS256", use="sig")
    return {
        "client_id": CLIENT_ID,
        "client_jwks": {"keys": [public_jwk]},
        "redirect_uris": [f"{portal}/sign-in/one-login/callback"],
        "post_logout_redirect_uris": [f"{portal}/signed-out"],
        "backchannel_logout_uri": f"{portal}/sign-in/one-login/back-channel-logout",
        "issuer_suffix": issuer_suffix,
        "signing_jwk": provider_key.as_dict(private=True),
    }


# GOV.UK One Login publishes its issuer with a trailing "/"; many providers publish theirs without one.
ISSUER_SUFFIXES = pytest.mark.parametrize("issuer_suffix", ["", "/"], ids=["issuer-without-slash", "issuer-with-slash"])


@pytest.fixture(scope="module", params=["", "/"], ids=["issuer-without-slash", "issuer-with-slash"])
def provider(request, client_key_pem, provider_key):
    with running_provider(provider_config(client_key_pem, provider_key, request.param)) as issuer:
        yield issuer


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

    @staticmethod
    def attrs_of(html: str, tag: str) -> list[tuple[str, str]]:
        """The attributes of the first `tag` on a page."""
        found: list[tuple[str, str]] = []

        class First(HTMLParser):
            def handle_starttag(self, name, attrs):
                if name == tag and not found:
                    found.extend((key, value or "") for key, value in attrs)

        First().feed(html)
        return found


def follow_to_form(browser: httpx.Client, url: str, portal: str = PORTAL) -> tuple[str, httpx.Response]:
    """Follows the provider's redirects until a page (200) or a redirect back to the portal."""
    for _ in range(10):
        if url.startswith(portal):
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


def through_provider(browser: httpx.Client, authorize_url: str, login: str, portal: str = PORTAL) -> str:
    """Signs in at the provider (any login name works) and consents; returns the redirect back."""
    url = authorize_url
    for _ in range(6):
        url, page = follow_to_form(browser, url, portal)
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
    assert authorize_url.startswith(provider.rstrip("/") + "/auth?")
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid email"]
    assert query["vtr"] == ['["Cl.Cm"]']
    assert query["ui_locales"] == ["en"]
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
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == provider.rstrip("/") + "/session/end"
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


# The issuer exactly as published, the level of authentication, the page's language -----------------


def sign_in(portal: TestClient, browser: httpx.Client, login: str) -> None:
    response = portal.get(callback_path(through_provider(browser, begin(portal), login)))
    assert response.status_code == 303, response.text


def test_an_issuer_set_other_than_the_provider_publishes_it_is_a_fault_in_the_settings_not_an_outage(
    oidc_settings, provider, db_factory, caplog
):
    # With a trailing "/" where the provider has none, or none where it has one: the discovery URL is the same.
    other = provider.rstrip("/") if provider.endswith("/") else provider + "/"
    with TestClient(create_app(replace(oidc_settings, oidc_issuer=other)), base_url=PORTAL) as portal:
        response = portal.get("/sign-in/one-login", follow_redirects=False)
    assert response.status_code == 500
    assert "because of a problem with this service" in response.text
    assert "not available" not in response.text
    assert {"method": "one login", "reason": "provider misconfigured"} in failures(db_factory)
    assert f"set PORTAL_OIDC_ISSUER to exactly that, not {other!r}" in caplog.text


def test_a_client_key_gone_after_start_up_is_told_as_the_services_fault(portal, browser, key_file, db_factory):
    back = through_provider(browser, begin(portal), new_login())
    key_file.unlink()
    response = portal.get(callback_path(back))
    assert response.status_code == 500
    assert "because of a problem with this service" in response.text
    assert "not available" not in response.text and "could not confirm who you are" not in response.text
    assert {"method": "one login", "reason": "client key unreadable"} in failures(db_factory)
    assert_not_signed_in(portal, db_factory)


def test_a_lower_level_of_authentication_than_asked_is_refused_with_a_clear_page(portal, browser, db_factory):
    back = through_provider(browser, begin(portal), "low-" + uuid.uuid4().hex[:8])
    response = portal.get(callback_path(back))
    assert response.status_code == 403, response.text
    assert response.text.count("<h1") == 1
    assert "You signed in without the security code" in response.text
    with db_factory() as db:
        refusals = db.scalars(select(AuditEvent).where(AuditEvent.event_type == "account:sign_in_level_too_low")).all()
        assert [event.data for event in refusals] == [
            {"method": "one login", "achieved": "Cl", "required": '["Cl.Cm"]'}
        ]
    assert_not_signed_in(portal, db_factory)


def test_a_level_that_meets_a_lower_request_is_accepted(oidc_settings, browser, db_factory):
    with TestClient(create_app(replace(oidc_settings, oidc_vtr='["Cl"]')), base_url=PORTAL) as portal:
        portal.follow_redirects = False
        sign_in(portal, browser, "low-" + uuid.uuid4().hex[:8])
        assert portal.get("/account").status_code == 200


def test_one_login_is_asked_to_speak_the_language_of_the_pages(portal):
    page = portal.get("/sign-in")
    (lang,) = {value for name, value in Forms.attrs_of(page.text, "html") if name == "lang"}
    assert parse_qs(urlsplit(begin(portal)).query)["ui_locales"] == [lang]


def test_the_provider_being_temporarily_unavailable_has_its_own_message(portal, db_factory):
    authorize_url = begin(portal)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    response = portal.get("/sign-in/one-login/callback", params={"error": "temporarily_unavailable", "state": state})
    assert response.status_code == 503
    assert "GOV.UK One Login is not available at the moment" in response.text
    assert {"method": "one login", "reason": "provider unavailable"} in failures(db_factory)


def test_a_failing_token_endpoint_is_not_available_rather_than_could_not_confirm(oidc_settings, db_factory):
    flow = oidc.FlowState(state="s" * 32, nonce="n" * 32, code_verifier="v" * 64, next_path="/account")
    with counting_provider(ECKey.generate_key("P-256"), token_status=500) as (issuer, asked):
        app = create_app(replace(oidc_settings, oidc_issuer=issuer))
        with TestClient(app, base_url=PORTAL, follow_redirects=False) as portal:
            portal.cookies.set(
                oidc.FLOW_COOKIE, oidc.seal_flow(oidc_settings.secret_key, flow), path=oidc.FLOW_COOKIE_PATH
            )
            response = portal.get("/sign-in/one-login/callback", params={"state": flow.state, "code": "a-code"})
    assert "/token" in asked
    assert response.status_code == 503, response.text
    assert "GOV.UK One Login is not available at the moment" in response.text
    assert {"method": "one login", "reason": "provider unavailable"} in failures(db_factory)


# The portal's client keys ---------------------------------------------------------------------


def test_the_client_keys_are_published_with_the_next_one_before_it_signs(oidc_settings, client_key_pem, tmp_path):
    next_pem = _rsa_pem()
    next_file = tmp_path / "next-key.pem"
    next_file.write_bytes(next_pem)
    settings = replace(oidc_settings, oidc_next_key_file=str(next_file), oidc_next_key_id="portal-key-2")
    with TestClient(create_app(settings), base_url=PORTAL) as portal:
        response = portal.get("/sign-in/one-login/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert [(key["kid"], key["alg"], key["use"], key["kty"]) for key in keys] == [
        (KEY_ID, "RS256", "sig", "RSA"),
        ("portal-key-2", "RS256", "sig", "RSA"),
    ]
    assert all(set(key) == {"kid", "alg", "use", "kty", "n", "e"} for key in keys)  # never a private part
    assert keys[0]["n"] == RSAKey.import_key(client_key_pem).as_dict(private=False)["n"]
    assert keys[1]["n"] == RSAKey.import_key(next_pem).as_dict(private=False)["n"]


def test_the_jwks_has_the_one_key_when_no_next_key_is_set(portal):
    assert [key["kid"] for key in portal.get("/sign-in/one-login/jwks.json").json()["keys"]] == [KEY_ID]


# Back-channel logout --------------------------------------------------------------------------

LOGOUT_PATH = "/sign-in/one-login/back-channel-logout"


def logout_token(provider: str, provider_key: ECKey, subject: str, **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": provider,
        "aud": CLIENT_ID,
        "sub": subject,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "events": {oidc.BACK_CHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    header = {"alg": "ES256", "kid": provider_key.kid, "typ": "logout+jwt"}
    return jwt.encode(header, claims, provider_key)


def live_sessions(db_factory, login: str) -> int:
    with db_factory() as db:
        user_id = db.scalar(select(Identity.user_id).where(Identity.subject == login))
        return len(
            db.scalars(select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))).all()
        )


def test_back_channel_logout_ends_the_persons_one_login_sessions(portal, browser, provider, provider_key, db_factory):
    login = new_login()
    sign_in(portal, browser, login)
    assert portal.get("/account").status_code == 200
    token = logout_token(provider, provider_key, login)
    # As One Login sends it: from its servers, a form post with no cookie and no CSRF token.
    with httpx.Client(transport=portal._transport, base_url=PORTAL) as provider_side:
        response = provider_side.post(LOGOUT_PATH, data={"logout_token": token})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert live_sessions(db_factory, login) == 0
    after = portal.get("/account")
    assert after.status_code == 303 and after.headers["location"].startswith("/sign-in")
    with db_factory() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.event_type == "account:signed_out_by_provider")).all()
        assert [event.data for event in events] == [{"method": "one login", "sessions": 1}]
    # The same token again is a replay.
    replay = portal.post(LOGOUT_PATH, data={"logout_token": token})
    assert replay.status_code == 400
    assert replay.json()["error_description"] == "logout token replayed"


def _other_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "provider-es256"})


@pytest.mark.parametrize(
    "changes,signer",
    [
        ({"iss": "http://127.0.0.1:1"}, None),
        ({"aud": "another-client"}, None),
        ({"events": None}, None),
        ({"events": {"http://schemas.openid.net/event/other": {}}}, None),
        ({"sub": None}, None),
        ({"iat": None}, None),
        ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3700}, None),
        ({"iat": int(time.time()) - 3600, "exp": int(time.time()) - 3500}, None),
        ({"nonce": "n"}, None),
        ({"jti": None}, None),
        ({}, _other_key),
    ],
    ids=["iss", "aud", "no-events", "other-event", "no-sub", "no-iat", "future", "expired", "nonce", "no-jti", "key"],
)
def test_a_bad_logout_token_is_refused_and_ends_nothing(
    portal, browser, provider, provider_key, db_factory, changes, signer
):
    login = new_login()
    sign_in(portal, browser, login)
    if changes.get("iss"):
        changes = {**changes, "iss": provider + "x"}
    token = logout_token(provider, signer() if signer else provider_key, login, **changes)
    response = portal.post(LOGOUT_PATH, data={"logout_token": token})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert live_sessions(db_factory, login) == 1
    assert portal.get("/account").status_code == 200


def test_a_logout_token_with_the_issuer_differing_by_a_slash_is_refused(
    portal, browser, provider, provider_key, db_factory
):
    login = new_login()
    sign_in(portal, browser, login)
    other = provider.rstrip("/") if provider.endswith("/") else provider + "/"
    response = portal.post(LOGOUT_PATH, data={"logout_token": logout_token(other, provider_key, login)})
    assert response.status_code == 400
    assert live_sessions(db_factory, login) == 1


def test_a_back_channel_logout_without_a_token_is_refused(portal):
    assert portal.post(LOGOUT_PATH, data={}).status_code == 400
    assert portal.post(LOGOUT_PATH, data={"logout_token": "not.a.token"}).status_code == 400


@ISSUER_SUFFIXES
def test_signing_out_of_the_provider_elsewhere_ends_the_portal_session_through_back_channel_logout(
    issuer_suffix, database_url, migrated, tmp_path, client_key_pem, provider_key, key_file, db_factory
):
    """The real provider posts a real logout token to the real portal, as One Login would."""
    live = LiveServer(database_url, tmp_path / "portal", workers=2)
    with running_provider(provider_config(client_key_pem, provider_key, issuer_suffix, portal=live.base)) as issuer:
        live.env.update(
            PORTAL_OIDC_ISSUER=issuer,
            PORTAL_OIDC_CLIENT_ID=CLIENT_ID,
            PORTAL_OIDC_PRIVATE_KEY_FILE=str(key_file),
            PORTAL_OIDC_KEY_ID=KEY_ID,
        )
        live.start()
        try:
            login = new_login()
            # One browser for both: the portal and the provider are two ports of 127.0.0.1.
            with httpx.Client(follow_redirects=False, timeout=10) as person:
                authorize = person.get(f"{live.base}/sign-in/one-login")
                assert authorize.status_code == 303, authorize.text
                back = through_provider(person, authorize.headers["location"], login, portal=live.base)
                assert person.get(back).status_code == 303
                assert person.get(f"{live.base}/account").status_code == 200
                assert live_sessions(db_factory, login) == 1

                # Signing out at the provider, not through the portal: the provider tells the portal itself.
                page_url, page = follow_to_form(person, issuer.rstrip("/") + "/session/end", live.base)
                submit(person, page_url, page, {"logout": "yes"})

                assert live_sessions(db_factory, login) == 0
                account = person.get(f"{live.base}/account")
                assert account.status_code == 303 and account.headers["location"].startswith("/sign-in")
            with db_factory() as db:
                ended = db.scalar(
                    select(UserSession.ended_reason)
                    .join(Identity, Identity.user_id == UserSession.user_id)
                    .where(Identity.subject == login)
                )
                assert ended == "signed out at One Login"
        finally:
            live.stop()


@contextmanager
def counting_provider(provider_key: ECKey, *, token_status: int = 404) -> Iterator[tuple[str, list[str]]]:
    """A provider that publishes its discovery document and keys, answers token_status at its token endpoint,
    and lists the paths it was asked for."""
    asked: list[str] = []
    holder: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            issuer = holder["issuer"]
            if self.path == "/.well-known/openid-configuration":
                body = {
                    "issuer": issuer,
                    "authorization_endpoint": issuer + "/auth",
                    "token_endpoint": issuer + "/token",
                    "userinfo_endpoint": issuer + "/me",
                    "jwks_uri": issuer + "/jwks",
                }
            elif self.path == "/jwks":
                body = {"keys": [provider_key.as_dict(private=False)]}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            asked.append(self.path)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_error(token_status if self.path == "/token" else 404)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["issuer"] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["issuer"], asked
    finally:
        server.shutdown()
        server.server_close()
        oidc.clear_caches()


def test_logout_tokens_with_unknown_key_ids_cannot_make_the_portal_fetch_the_keys_again_and_again(
    oidc_settings, provider_key, db_factory
):
    """Anyone can post a logout token; one naming a key the provider does not publish must not send the portal
    to the provider each time (the keys are fetched again at most once a minute)."""
    oidc.clear_caches()
    with counting_provider(provider_key) as (issuer, asked):
        app = create_app(replace(oidc_settings, oidc_issuer=issuer))
        with TestClient(app, base_url=PORTAL, follow_redirects=False) as portal:
            for number in range(20):
                rogue = ECKey.generate_key("P-256", parameters={"kid": f"rogue-{number}", "alg": "ES256"})
                response = portal.post(LOGOUT_PATH, data={"logout_token": logout_token(issuer, rogue, "someone")})
                assert response.status_code == 400, response.text
            # The provider's own token still passes, from the keys fetched once.
            good = portal.post(LOGOUT_PATH, data={"logout_token": logout_token(issuer, provider_key, "someone")})
            assert good.status_code == 200, good.text
    assert asked.count("/jwks") == 1, asked
