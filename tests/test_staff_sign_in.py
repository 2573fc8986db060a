"""Regulator staff sign in through the regulator's own identity provider (a second oidc-provider instance).

That instance stands for a workforce directory such as Entra ID: the scopes' claims (email, name, groups)
are in the id token, and each login name's groups are read from a file at every sign-in, so a test can
take someone out of a group between two sign-ins. The portal's client authenticates with private_key_jwt.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select
from starlette.testclient import TestClient

from portal.accounts import oidc, staff_sign_in
from portal.accounts.oidc import FlowState
from portal.app import create_app
from portal.db import transaction
from portal.models import REGULATOR, AuditEvent, Identity, Membership, Organisation, RoleGrant, User, UserSession
from portal.settings import ConfigurationError, Settings
from portal.staff_oidc_config import parse as parse_staff_oidc

from .conftest import latest_email, link_in, make_organisation, post_form
from .openid_provider import running_provider
from .test_oidc_sign_in import CLIENT_ID as ONE_LOGIN_CLIENT_ID
from .test_oidc_sign_in import KEY_ID as ONE_LOGIN_KEY_ID
from .test_oidc_sign_in import _rsa_pem, begin, callback_path, counting_provider, provider_config, through_provider
from .test_oidc_sign_in import running_provider as running_one_login

PORTAL = "http://testserver"
CALLBACK = f"{PORTAL}/sign-in/staff/callback"
CLIENT_ID = "portal-staff-client"
KEY_ID = "portal-staff-key-1"
AGENTS = "0b6f5c1e-agents"
LEADS = "7d2a9e44-leads"
ROLE_MAP = json.dumps({AGENTS: "support_agent", LEADS: "support_lead"})


# The second provider ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staff_key_pem() -> bytes:
    return _rsa_pem()


@pytest.fixture(scope="module")
def claims_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("staff-directory") / "claims.json"
    path.write_text("{}")
    return path


def set_groups(claims_file, login: str, groups: list[str]) -> None:
    """What the directory holds for one person from now on (names are unique per test)."""
    data = json.loads(claims_file.read_text())
    data[login] = {"groups": groups, "name": f"Staff {login}", "email": f"{login}@regulator.example"}
    claims_file.write_text(json.dumps(data))


def directory_config(claims_file, **client) -> dict:
    """A workforce directory's set-up: the scopes' claims in the id token, groups from the claims file."""
    return {
        "client_id": CLIENT_ID,
        "redirect_uris": [CALLBACK],
        "post_logout_redirect_uris": [f"{PORTAL}/signed-out"],
        "conform_id_token_claims": False,
        "claims_file": str(claims_file),
        **client,
    }


@pytest.fixture(scope="module")
def staff_provider(staff_key_pem, claims_file):
    """The second provider, whose client authenticates with private_key_jwt; yields its issuer."""
    public_jwk = RSAKey.import_key(staff_key_pem).as_dict(private=False)
    public_jwk.update(kid=KEY_ID, alg="RS256", use="sig")
    with running_provider(directory_config(claims_file, client_jwks={"keys": [public_jwk]})) as issuer:
        yield issuer


@pytest.fixture
def staff_key_file(tmp_path, staff_key_pem):
    path = tmp_path / "staff-client-key.pem"
    path.write_bytes(staff_key_pem)
    return path


def with_staff_provider(settings, issuer: str, *, private_key_file: str = "", client_secret: str = ""):
    staff = parse_staff_oidc(
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret=client_secret,
        private_key_file=private_key_file,
        key_id=KEY_ID if private_key_file else "",
        scopes="openid email profile groups",
        roles_claim="groups",
        role_map=ROLE_MAP,
        production=False,
    )
    return replace(settings, staff_oidc=staff)


@pytest.fixture
def staff_settings(settings, staff_provider, staff_key_file):
    return with_staff_provider(settings, staff_provider, private_key_file=str(staff_key_file))


@pytest.fixture
def portal_app(staff_settings, db_factory):
    return create_app(staff_settings)


@pytest.fixture
def new_portal(portal_app):
    """new_portal() -> a browser of its own on the portal's side."""
    clients = []

    def make() -> TestClient:
        client = TestClient(portal_app, base_url=PORTAL, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def new_login() -> str:
    return f"staff-{uuid.uuid4().hex[:10]}"


def staff_sign_in_through(portal: TestClient, login: str, next_path: str = ""):
    """The whole journey: the portal's staff page, the directory's sign-in page, and back."""
    page = portal.get("/sign-in/staff", params={"next": next_path} if next_path else None)
    assert page.status_code == 200, page.text
    response = portal.get("/sign-in/staff/start", params={"next": next_path} if next_path else None)
    assert response.status_code == 303, response.text
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        back = through_provider(browser, response.headers["location"], login)
    parts = urlsplit(back)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK, back
    return portal.get(f"{parts.path}?{parts.query}")


def staff_roles(db_factory, issuer: str, login: str) -> list[str] | None:
    """The regulator roles the person holds in the portal; None when they have no account."""
    with db_factory() as db:
        identity = db.scalar(select(Identity).where(Identity.issuer == issuer, Identity.subject == login))
        if identity is None:
            return None
        membership = db.scalar(
            select(Membership)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == identity.user_id, Organisation.kind == REGULATOR)
        )
        return sorted(grant.role for grant in membership.grants) if membership else []


def events(db_factory, event_type: str) -> list[dict]:
    with db_factory() as db:
        return [
            event.data
            for event in db.scalars(
                select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id)
            )
        ]


def assert_refused(response, db_factory, reason: str, login: str):
    assert response.status_code == 403, response.text
    assert response.text.count("<h1") == 1
    assert "portal_session" not in response.cookies
    refused = events(db_factory, "account:staff_sign_in_refused")
    assert refused and refused[-1]["reason"] == reason and refused[-1]["subject"] == login


# The tests ------------------------------------------------------------------------------------------


def test_a_mapped_group_signs_in_and_lands_on_support_with_that_role(
    new_portal, staff_provider, claims_file, db_factory
):
    login = new_login()
    set_groups(claims_file, login, ["some-other-group", AGENTS])
    portal = new_portal()
    response = staff_sign_in_through(portal, login)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/support"
    assert not any(cookie.name == staff_sign_in.FLOW_COOKIE for cookie in portal.cookies.jar)

    assert portal.get("/support").status_code == 200
    # An agent, not a lead: the reports are a lead's.
    assert portal.get("/support/reports").status_code == 403
    assert staff_roles(db_factory, staff_provider, login) == ["support_agent"]
    with db_factory() as db:
        user = db.scalar(select(User).join(Identity).where(Identity.subject == login))
        assert user.email == f"{login}@regulator.example" and user.display_name == f"Staff {login}"
        session = db.scalar(select(UserSession).where(UserSession.user_id == user.id))
        assert session.method == "regulator staff"
    assert {"method": "regulator staff"} in events(db_factory, "account:signed_in")
    assert {"before": ["none"], "after": ["support_agent"]} in events(db_factory, "account:staff_roles_changed")


def test_a_lead_group_gives_the_lead_role_and_next_is_kept(new_portal, staff_provider, claims_file, db_factory):
    login = new_login()
    set_groups(claims_file, login, [LEADS])
    portal = new_portal()
    response = staff_sign_in_through(portal, login, next_path="/support/reports")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/support/reports"
    assert portal.get("/support/reports").status_code == 200
    assert staff_roles(db_factory, staff_provider, login) == ["support_lead"]


def test_someone_with_no_mapped_group_is_refused_with_a_page_and_an_audit_event(
    new_portal, staff_provider, claims_file, db_factory
):
    login = new_login()
    set_groups(claims_file, login, ["finance-team"])
    portal = new_portal()
    response = staff_sign_in_through(portal, login)
    assert_refused(response, db_factory, "no mapped role", login)
    assert "You cannot use the portal with this account" in response.text
    assert events(db_factory, "account:staff_sign_in_refused")[-1]["claim_values"] == ["finance-team"]
    # No account is made for someone the portal does not let in.
    assert staff_roles(db_factory, staff_provider, login) is None
    assert portal.get("/support").status_code == 303


def test_taken_out_of_the_group_in_the_provider_is_refused_at_the_next_sign_in(
    new_portal, staff_provider, claims_file, db_factory
):
    login = new_login()
    set_groups(claims_file, login, [AGENTS])
    first = new_portal()
    assert staff_sign_in_through(first, login).status_code == 303
    assert staff_roles(db_factory, staff_provider, login) == ["support_agent"]

    set_groups(claims_file, login, [])
    second = new_portal()
    response = staff_sign_in_through(second, login)
    assert_refused(response, db_factory, "no mapped role", login)
    assert staff_roles(db_factory, staff_provider, login) == []
    assert {"before": ["support_agent"], "after": ["none"]} in events(db_factory, "account:staff_roles_changed")
    # The role is gone everywhere at once, also in the session the person still has open.
    assert first.get("/support").status_code == 403

    set_groups(claims_file, login, [LEADS])
    third = new_portal()
    assert staff_sign_in_through(third, login).status_code == 303
    assert staff_roles(db_factory, staff_provider, login) == ["support_lead"]


def test_the_person_is_the_providers_subject_never_an_email_address(
    new_portal, staff_provider, claims_file, db_factory
):
    """A directory entry whose email is a provider's person's address gets no way into that account."""
    login = new_login()
    make_organisation(db_factory, "Riverside Care", "1-555", [(f"{login}@regulator.example", "organisation_admin")])
    set_groups(claims_file, login, [AGENTS])
    portal = new_portal()
    response = staff_sign_in_through(portal, login)
    assert_refused(response, db_factory, "email in use", login)
    with db_factory() as db:
        assert db.scalar(select(Identity).where(Identity.subject == login)) is None
        assert db.scalar(select(UserSession.id)) is None


def test_a_support_account_made_before_is_joined_once_at_the_first_staff_sign_in(
    new_portal, staff_provider, claims_file, db_factory
):
    """Support staff who signed in by email link keep their account and its history; their roles are now the
    directory's. A second directory entry with the same address is refused: the account has its identity."""
    login = new_login()
    email = f"{login}@regulator.example"
    with transaction(db_factory) as db:
        regulator = staff_sign_in.regulator_organisation(db, "The Care Regulator")
        user = User(email=email, display_name="Suki Support")
        db.add(user)
        db.flush()
        membership = Membership(user_id=user.id, organisation_id=regulator.id)
        membership.grants.append(RoleGrant(role="support_lead", location_id=None))
        db.add(membership)
        db.flush()
        user_id = user.id
    set_groups(claims_file, login, [AGENTS])
    assert staff_sign_in_through(new_portal(), login).status_code == 303
    with db_factory() as db:
        identity = db.scalar(select(Identity).where(Identity.subject == login))
        assert identity.user_id == user_id
    assert staff_roles(db_factory, staff_provider, login) == ["support_agent"]
    assert {"email": email} in events(db_factory, "account:staff_identity_joined")

    impostor = new_login()
    set_groups(claims_file, impostor, [LEADS])
    data = json.loads(claims_file.read_text())
    data[impostor]["email"] = email
    claims_file.write_text(json.dumps(data))
    assert_refused(staff_sign_in_through(new_portal(), impostor), db_factory, "email in use", impostor)
    assert staff_roles(db_factory, staff_provider, login) == ["support_agent"]


def test_staff_email_links_are_refused_when_switched_off(staff_settings, staff_provider, claims_file, db_factory):
    login = new_login()
    set_groups(claims_file, login, [AGENTS])
    make_organisation(db_factory, "Riverside Care", "1-556", [("drafter@riverside.example", "drafter")])
    app = create_app(replace(staff_settings, staff_email_link=False))
    with TestClient(app, base_url=PORTAL, follow_redirects=False) as portal:
        assert staff_sign_in_through(portal, login).status_code == 303
    email = f"{login}@regulator.example"

    with TestClient(app, base_url=PORTAL, follow_redirects=False) as other:
        assert post_form(other, "/sign-in", {"email": email}).status_code == 303
        path = link_in(latest_email(db_factory, email), "/sign-in/link/")
        response = post_form(other, path, from_page=path)
        assert response.status_code == 400
        assert "Regulator staff cannot sign in with an email link" in response.text
        assert "portal_session" not in response.cookies
        assert other.get("/support").status_code == 303
    assert {"method": "email link", "reason": "regulator staff use their identity provider"} in events(
        db_factory, "account:sign_in_failed"
    )

    # Providers' people still sign in by email link.
    with TestClient(app, base_url=PORTAL, follow_redirects=False) as provider_person:
        assert post_form(provider_person, "/sign-in", {"email": "drafter@riverside.example"}).status_code == 303
        path = link_in(latest_email(db_factory, "drafter@riverside.example"), "/sign-in/link/")
        assert post_form(provider_person, path, from_page=path).status_code == 303


def test_staff_email_links_work_while_switched_on(new_portal, staff_provider, claims_file, db_factory):
    """The default keeps today's behaviour: a support agent may still use a link."""
    with transaction(db_factory) as db:
        staff_sign_in.regulator_organisation(db, "The Care Regulator")
    login = new_login()
    set_groups(claims_file, login, [AGENTS])
    assert staff_sign_in_through(new_portal(), login).status_code == 303
    email = f"{login}@regulator.example"
    portal = new_portal()
    assert post_form(portal, "/sign-in", {"email": email}).status_code == 303
    path = link_in(latest_email(db_factory, email), "/sign-in/link/")
    assert post_form(portal, path, from_page=path).status_code == 303


def test_staff_taken_out_of_the_group_cannot_keep_support_through_one_login(
    staff_settings, staff_provider, staff_key_pem, claims_file, db_factory, tmp_path
):
    """One Login joins accounts by verified email; a member of staff's must stay their directory's alone."""
    login = new_login()
    set_groups(claims_file, login, [LEADS])
    one_login_key = tmp_path / "one-login.pem"
    one_login_key.write_bytes(staff_key_pem)
    signing_key = ECKey.generate_key("P-256", parameters={"kid": "one-login", "alg": "ES256", "use": "sig"})
    # The same claims file: One Login confirms the same email address the directory holds.
    config = {**provider_config(staff_key_pem, signing_key, ""), "claims_file": str(claims_file)}
    with running_one_login(config) as one_login:
        settings = replace(
            staff_settings,
            oidc_issuer=one_login,
            oidc_client_id=ONE_LOGIN_CLIENT_ID,
            oidc_private_key_file=str(one_login_key),
            oidc_key_id=ONE_LOGIN_KEY_ID,
        )
        app = create_app(settings)
        with TestClient(app, base_url=PORTAL, follow_redirects=False) as portal:
            assert staff_sign_in_through(portal, login).status_code == 303
        set_groups(claims_file, login, [])  # taken out of the group; no staff sign-in since

        with TestClient(app, base_url=PORTAL, follow_redirects=False) as portal:
            with httpx.Client(follow_redirects=False, timeout=10) as browser:
                back = through_provider(browser, begin(portal), login)
            response = portal.get(callback_path(back))
            assert response.status_code == 403, response.text
            assert "Regulator staff cannot sign in with GOV.UK One Login" in response.text
            assert 'href="/sign-in/staff"' in response.text
            assert "portal_session" not in response.cookies
            assert portal.get("/support").status_code == 303
    assert {"method": "one login", "reason": "regulator staff"} in events(db_factory, "account:sign_in_failed")
    with db_factory() as db:
        assert db.scalar(select(Identity.id).where(Identity.issuer == one_login)) is None
        user = db.scalar(select(User).where(User.email == f"{login}@regulator.example"))
        assert db.scalar(select(UserSession.id).where(UserSession.method == "one login")) is None
        assert user is not None


def test_a_client_secret_authenticates_the_portal_too(settings, claims_file, db_factory):
    """A registration with a secret (client_secret_basic) instead of a key, against a provider that wants one."""
    secret = "a-long-client-secret-" + uuid.uuid4().hex
    with running_provider(directory_config(claims_file, client_secret=secret)) as issuer:
        login = new_login()
        set_groups(claims_file, login, [AGENTS])
        app = create_app(with_staff_provider(settings, issuer, client_secret=secret))
        with TestClient(app, base_url=PORTAL, follow_redirects=False) as portal:
            response = staff_sign_in_through(portal, login)
            assert response.status_code == 303, response.text
            assert portal.get("/support").status_code == 200
        wrong = create_app(with_staff_provider(settings, issuer, client_secret="not-the-secret"))
        with TestClient(wrong, base_url=PORTAL, follow_redirects=False) as portal:
            response = staff_sign_in_through(portal, login)
            assert response.status_code == 400
            assert {"method": "regulator staff", "reason": "token refused"} in events(
                db_factory, "account:sign_in_failed"
            )


def test_the_authorize_request_and_the_sign_in_pages(new_portal, staff_provider):
    portal = new_portal()
    assert 'href="/sign-in/staff"' in portal.get("/sign-in").text
    response = portal.get("/sign-in/staff/start")
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert response.headers["location"].startswith(staff_provider + "/")
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["scope"] == ["openid email profile groups"]
    assert query["code_challenge_method"] == ["S256"]
    assert "vtr" not in query  # One Login's; a workforce directory has no such thing
    cookie = [value for value in portal.cookies.jar if value.name == staff_sign_in.FLOW_COOKIE]
    assert len(cookie) == 1 and cookie[0].path == "/sign-in/staff"


def test_a_staff_issuer_other_than_the_provider_publishes_is_a_fault_in_the_settings(
    staff_settings, staff_provider, db_factory, caplog
):
    """Not "not available": waiting would never help. The log names the staff provider's own setting."""
    other = staff_provider + "/"  # the provider publishes its issuer without the "/"
    settings = replace(staff_settings, staff_oidc=replace(staff_settings.staff_oidc, issuer=other))
    portal = TestClient(create_app(settings), base_url=PORTAL, follow_redirects=False)
    with portal, caplog.at_level(logging.INFO, logger="portal.oidc"):
        response = portal.get("/sign-in/staff/start")
    assert response.status_code == 500, response.text
    assert "not working because of a problem with this service" in response.text
    assert "not available at the moment" not in response.text
    faults = [record for record in caplog.records if "PORTAL_STAFF_OIDC_ISSUER" in record.getMessage()]
    assert faults and all(record.levelno == logging.ERROR for record in faults)
    assert not any("PORTAL_OIDC_ISSUER" in record.getMessage() for record in caplog.records)
    assert {"method": "regulator staff", "reason": "provider misconfigured"} in events(
        db_factory, "account:sign_in_failed"
    )


def test_the_staff_provider_being_temporarily_unavailable_says_so(new_portal, db_factory):
    portal = new_portal()
    response = portal.get("/sign-in/staff/callback", params={"error": "temporarily_unavailable", "state": "x"})
    assert response.status_code == 503, response.text
    assert "Your organisation's sign-in service is not available at the moment" in response.text
    assert {"method": "regulator staff", "reason": "provider unavailable"} in events(
        db_factory, "account:sign_in_failed"
    )


def test_a_failing_staff_token_endpoint_is_not_available_rather_than_a_refusal(settings, db_factory):
    flow = FlowState(state="s" * 32, nonce="n" * 32, code_verifier="v" * 64, next_path="/support")
    with counting_provider(ECKey.generate_key("P-256"), token_status=500) as (issuer, asked):
        staff = with_staff_provider(settings, issuer, client_secret="a-client-secret-" + "x" * 20)
        with TestClient(create_app(staff), base_url=PORTAL, follow_redirects=False) as portal:
            portal.cookies.set(
                staff_sign_in.FLOW_COOKIE,
                oidc.seal_flow(settings.secret_key, flow),
                path=staff_sign_in.FLOW_COOKIE_PATH,
            )
            response = portal.get("/sign-in/staff/callback", params={"state": flow.state, "code": "a-code"})
    assert "/token" in asked
    assert response.status_code == 503, response.text
    assert "not available at the moment" in response.text
    assert {"method": "regulator staff", "reason": "provider unavailable"} in events(
        db_factory, "account:sign_in_failed"
    )


def test_a_callback_without_the_flow_is_refused(new_portal, db_factory):
    response = new_portal().get("/sign-in/staff/callback", params={"state": "x", "code": "y"})
    assert response.status_code == 400
    assert "There is a problem signing you in as regulator staff" in response.text
    assert {"method": "regulator staff", "reason": "bad state"} in events(db_factory, "account:sign_in_failed")


def test_without_staff_settings_the_staff_pages_are_not_there(client):
    for path in ("/sign-in/staff", "/sign-in/staff/start", "/sign-in/staff/callback"):
        assert client.get(path).status_code == 404
    assert "/sign-in/staff" not in client.get("/sign-in").text


# Start-up ----------------------------------------------------------------------------------------


@pytest.fixture
def good_env(tmp_path, staff_key_pem):
    key = tmp_path / "staff.pem"
    key.write_bytes(staff_key_pem)
    return {
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_STAFF_OIDC_ISSUER": "https://login.example.test/tenant/v2.0",
        "PORTAL_STAFF_OIDC_CLIENT_ID": "portal",
        "PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE": str(key),
        "PORTAL_STAFF_OIDC_KEY_ID": "k1",
        "PORTAL_STAFF_OIDC_ROLE_MAP": ROLE_MAP,
    }


def test_good_staff_settings_are_read(good_env):
    settings = Settings.from_env(good_env)
    assert settings.staff_oidc is not None
    assert settings.staff_oidc.roles_claim == "groups"
    assert settings.staff_oidc.roles_for([LEADS, AGENTS, "other"]) == ["support_agent", "support_lead"]
    assert settings.staff_email_link is True
    assert Settings.from_env({**good_env, "PORTAL_STAFF_EMAIL_LINK": "off"}).staff_email_link is False
    secret = {**good_env, "PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE": "", "PORTAL_STAFF_OIDC_CLIENT_SECRET": "s3cret"}
    assert Settings.from_env(secret).staff_oidc.client_secret == "s3cret"
    assert Settings.from_env({"PORTAL_DATA_DIR": good_env["PORTAL_DATA_DIR"]}).staff_oidc is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"PORTAL_STAFF_OIDC_ROLE_MAP": "support_agent"}, "PORTAL_STAFF_OIDC_ROLE_MAP must be a JSON object"),
        ({"PORTAL_STAFF_OIDC_ROLE_MAP": "{}"}, "PORTAL_STAFF_OIDC_ROLE_MAP must be a JSON object mapping"),
        ({"PORTAL_STAFF_OIDC_ROLE_MAP": '{"g": "drafter"}'}, "a staff role must be one of support_agent, support_lead"),
        ({"PORTAL_STAFF_OIDC_ROLE_MAP": '{"g": "suport_agent"}'}, "maps 'g' to 'suport_agent'"),
        ({"PORTAL_STAFF_OIDC_ISSUER": "login.example.test"}, "PORTAL_STAFF_OIDC_ISSUER must be an http(s) URL"),
        ({"PORTAL_STAFF_OIDC_ISSUER": "https://login .example.test/t"}, "it has a space in it"),
        ({"PORTAL_STAFF_OIDC_ISSUER": "https://:443/t"}, "it is not an http(s) URL with a host"),
        ({"PORTAL_STAFF_OIDC_CLIENT_ID": ""}, "PORTAL_STAFF_OIDC_CLIENT_ID must be set"),
        ({"PORTAL_STAFF_OIDC_CLIENT_SECRET": "s"}, "exactly one of PORTAL_STAFF_OIDC_CLIENT_SECRET"),
        ({"PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE": ""}, "exactly one of PORTAL_STAFF_OIDC_CLIENT_SECRET"),
        ({"PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE": "/nowhere/key.pem"}, "PRIVATE_KEY_FILE cannot be read"),
        (
            {"PORTAL_STAFF_OIDC_KEY_ID": ""},
            "PORTAL_STAFF_OIDC_KEY_ID or PORTAL_STAFF_OIDC_CERTIFICATE_FILE must be set",
        ),
        ({"PORTAL_STAFF_OIDC_SCOPES": "email groups"}, "PORTAL_STAFF_OIDC_SCOPES must include openid"),
        ({"PORTAL_STAFF_OIDC_ROLES_CLAIM": " "}, "PORTAL_STAFF_OIDC_ROLES_CLAIM must name the claim"),
        ({"PORTAL_STAFF_OIDC_ISSUER": ""}, "PORTAL_STAFF_OIDC_CLIENT_ID is set but PORTAL_STAFF_OIDC_ISSUER is empty"),
        ({"PORTAL_STAFF_EMAIL_LINK": "no"}, "PORTAL_STAFF_EMAIL_LINK must be on or off"),
    ],
)
def test_a_bad_staff_setting_stops_start_up_with_its_reason(good_env, change, reason):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({**good_env, **change})
    assert reason in refused.value.reason
    assert "\n" not in str(refused.value)


def test_a_key_file_that_is_not_a_private_rsa_key_stops_start_up(good_env, tmp_path, staff_key_pem):
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    public = tmp_path / "public.pem"
    public.write_text(RSAKey.import_key(staff_key_pem).as_pem(private=False).decode())
    short = tmp_path / "short.pem"
    short.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    for path, reason in (
        (not_a_key, "does not hold a PEM RSA key"),
        (public, "holds a public key"),
        (short, "PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE must be an RSA key of at least 2048 bits, not 1024"),
    ):
        with pytest.raises(ConfigurationError) as refused:
            Settings.from_env({**good_env, "PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE": str(path)})
        assert reason in refused.value.reason


def certificate_for(key_pem: bytes) -> bytes:
    """A self-signed certificate for the key, as Entra ID's app registration takes one."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal staff sign-in")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_a_certificate_puts_its_thumbprints_in_the_client_assertion(
    good_env, tmp_path, staff_key_pem, staff_provider, claims_file, settings, db_factory
):
    """Entra ID finds the application's certificate by x5t / x5t#S256, not by kid."""
    pem = certificate_for(staff_key_pem)
    path = tmp_path / "staff.crt"
    path.write_bytes(pem)
    env = {**good_env, "PORTAL_STAFF_OIDC_CERTIFICATE_FILE": str(path), "PORTAL_STAFF_OIDC_KEY_ID": ""}
    staff = Settings.from_env(env).staff_oidc
    certificate = x509.load_pem_x509_certificate(pem)

    def b64(digest: bytes) -> str:
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    assert dict(staff.assertion_header) == {
        "x5t": b64(certificate.fingerprint(hashes.SHA1())),
        "x5t#S256": b64(certificate.fingerprint(hashes.SHA256())),
    }
    # The provider takes the assertion without a kid.
    login = new_login()
    set_groups(claims_file, login, [AGENTS])
    staff = replace(staff, issuer=staff_provider, client_id=CLIENT_ID, scopes="openid email profile groups")
    with TestClient(create_app(replace(settings, staff_oidc=staff)), base_url=PORTAL, follow_redirects=False) as portal:
        assert staff_sign_in_through(portal, login).status_code == 303


def test_a_certificate_that_is_not_the_keys_stops_start_up(good_env, tmp_path):
    other = tmp_path / "other.crt"
    other.write_bytes(certificate_for(_rsa_pem()))
    elliptic = tmp_path / "ec.crt"
    ec_key = ec.generate_private_key(ec.SECP256R1())
    elliptic.write_bytes(
        certificate_for(
            ec_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    )
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate")
    for change, reason in (
        ({"PORTAL_STAFF_OIDC_CERTIFICATE_FILE": str(other)}, "is not the certificate of"),
        ({"PORTAL_STAFF_OIDC_CERTIFICATE_FILE": str(garbage)}, "does not hold a PEM certificate"),
        # An RSA key with an EC certificate: a reason, not joserfc's InvalidKeyTypeError.
        ({"PORTAL_STAFF_OIDC_CERTIFICATE_FILE": str(elliptic)}, "it certifies a key that is not RSA"),
        ({"PORTAL_STAFF_OIDC_CERTIFICATE_FILE": str(tmp_path / "none.crt")}, "CERTIFICATE_FILE cannot be read"),
        (
            {
                "PORTAL_STAFF_OIDC_CERTIFICATE_FILE": str(other),
                "PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE": "",
                "PORTAL_STAFF_OIDC_CLIENT_SECRET": "s",
            },
            "PORTAL_STAFF_OIDC_CERTIFICATE_FILE needs PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE",
        ),
    ):
        with pytest.raises(ConfigurationError) as refused:
            Settings.from_env({**good_env, **change})
        assert reason in refused.value.reason


def test_switching_staff_email_links_off_needs_the_staff_provider(tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_STAFF_EMAIL_LINK": "off"})
    assert refused.value.reason == "PORTAL_STAFF_EMAIL_LINK=off needs PORTAL_STAFF_OIDC_ISSUER"


def test_production_wants_https_for_the_staff_provider(good_env):
    production = {
        **good_env,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "k" * 48,
        "PORTAL_ALLOW_UNSCANNED_UPLOADS": "1",
        "PORTAL_DATABASE_URL": "postgresql://db/portal",
        "PORTAL_STAFF_OIDC_ISSUER": "http://login.example.test",
    }
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env(production)
    assert refused.value.reason == "PORTAL_STAFF_OIDC_ISSUER must use https in production"
