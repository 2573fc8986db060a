"""Sign-in by email link, and server-side sessions."""

from datetime import timedelta

from sqlalchemy import select, update

from portal.models import AuditEvent, Identity, SignInLink, UserSession, utcnow

from .conftest import latest_email, link_in, post_form, sign_in


def test_a_person_signs_in_with_a_link_and_lands_on_their_dashboard(client, db_factory, demo_org):
    response = sign_in(client, db_factory, "drafter@riverside.example")
    assert response.headers["location"] == "/"
    assert client.get("/").headers["location"] == "/dashboard"
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Riverside Care Ltd" in page.text


def test_the_link_is_stored_hashed_and_works_once(client, db_factory, demo_org):
    post_form(client, "/sign-in", {"email": "drafter@riverside.example"})
    path = link_in(latest_email(db_factory, "drafter@riverside.example"), "/sign-in/link/")
    token = path.rsplit("/", 1)[1]
    with db_factory() as db:
        stored = db.scalar(select(SignInLink.token_hash))
    assert token not in stored and len(stored) == 64
    assert post_form(client, path, from_page=path).status_code == 303
    client.cookies.clear()
    again = post_form(client, path, from_page="/sign-in")
    assert again.status_code == 400 and "already been used" in again.text


def test_an_expired_link_says_so_and_offers_a_new_one(client, db_factory, demo_org):
    post_form(client, "/sign-in", {"email": "drafter@riverside.example"})
    path = link_in(latest_email(db_factory, "drafter@riverside.example"), "/sign-in/link/")
    with db_factory() as db, db.begin():
        db.execute(update(SignInLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    response = post_form(client, path, from_page="/sign-in")
    assert response.status_code == 400 and "expired" in response.text and 'href="/sign-in"' in response.text
    assert "portal_session" not in response.cookies
    with db_factory() as db:
        event = db.scalar(select(AuditEvent).where(AuditEvent.event_type == "account:sign_in_failed"))
        assert event.data == {"method": "email link", "reason": "expired"}


def test_opening_the_link_does_not_use_it_up(client, db_factory, demo_org):
    post_form(client, "/sign-in", {"email": "drafter@riverside.example"})
    path = link_in(latest_email(db_factory, "drafter@riverside.example"), "/sign-in/link/")
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    assert post_form(client, path, from_page=path).status_code == 303


def test_the_same_page_answers_for_unknown_addresses(client, db_factory):
    response = post_form(client, "/sign-in", {"email": "nobody@example.com"})
    assert response.headers["location"] == "/sign-in/check-email"


def test_a_new_person_gets_an_account_and_no_organisation(client, db_factory):
    sign_in(client, db_factory, "new.person@example.com")
    assert client.get("/dashboard").headers["location"] == "/organisations"
    assert "do not belong to an organisation" in client.get("/organisations").text
    with db_factory() as db:
        identity = db.scalar(select(Identity))
        assert (identity.issuer, identity.subject) == ("urn:portal:email-link", "new.person@example.com")


def test_bad_email_keeps_what_was_typed(client):
    response = post_form(client, "/sign-in", {"email": "not an email <b>x</b>"})
    assert response.status_code == 400
    assert "Enter an email address in the correct format" in response.text
    assert 'value="not an email &lt;b&gt;x&lt;/b&gt;"' in response.text
    assert "<title>Error: Sign in" in response.text


def test_links_are_rate_limited_per_address(client, db_factory):
    for _ in range(5):
        assert post_form(client, "/sign-in", {"email": "x@example.com"}).status_code == 303
    response = post_form(client, "/sign-in", {"email": "x@example.com"})
    assert response.status_code == 429 and "too many sign-in links" in response.text


def test_links_are_rate_limited_per_ip_across_addresses(client, db_factory):
    statuses = [post_form(client, "/sign-in", {"email": f"p{i}@example.com"}).status_code for i in range(31)]
    assert statuses[:30] == [303] * 30 and statuses[30] == 429


def test_next_only_goes_to_paths_on_this_site(client, db_factory, demo_org):
    post_form(client, "/sign-in", {"email": "admin@riverside.example", "next": "https://evil.example/"})
    path = link_in(latest_email(db_factory, "admin@riverside.example"), "/sign-in/link/")
    assert post_form(client, path, from_page=path).headers["location"] == "/"


def test_signing_in_gives_a_new_session_id(client, db_factory, demo_org):
    client.cookies.set("portal_session", "planted-by-an-attacker", domain="testserver.local", path="/")
    response = sign_in(client, db_factory, "drafter@riverside.example")
    assert response.cookies["portal_session"] != "planted-by-an-attacker"


def test_a_signed_in_person_who_signs_in_again_ends_the_old_session(client, db_factory, demo_org):
    sign_in(client, db_factory, "drafter@riverside.example")
    first = client.cookies.get("portal_session")
    sign_in(client, db_factory, "drafter@riverside.example")
    assert client.cookies.get("portal_session") != first
    with db_factory() as db:
        reasons = sorted(s.ended_reason for s in db.scalars(select(UserSession)))
    assert reasons == ["", "replaced"]


def test_idle_sessions_end_with_a_clear_page(client, db_factory, demo_org):
    sign_in(client, db_factory, "drafter@riverside.example")
    with db_factory() as db, db.begin():
        db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    response = client.get("/dashboard")
    assert response.headers["location"] == "/signed-out?reason=idle&next=/dashboard"
    assert "had not done anything for 30 minutes" in client.get(response.headers["location"]).text
    assert client.get("/dashboard").headers["location"].startswith("/sign-in")


def test_sessions_end_after_the_absolute_limit_however_active(client, db_factory, demo_org):
    sign_in(client, db_factory, "drafter@riverside.example")
    with db_factory() as db, db.begin():
        db.execute(update(UserSession).values(created_at=utcnow() - timedelta(hours=13)))
    assert client.get("/dashboard").headers["location"] == "/signed-out?reason=expired&next=/dashboard"


def test_sign_out_ends_the_session_on_the_server(client, db_factory, demo_org):
    sign_in(client, db_factory, "drafter@riverside.example")
    cookie = client.cookies.get("portal_session")
    response = post_form(client, "/sign-out", from_page="/dashboard")
    assert response.headers["location"] == "/signed-out"
    client.cookies.delete("portal_session")
    client.cookies.set("portal_session", cookie, domain="testserver.local")  # a copied cookie is no use afterwards
    assert client.get("/dashboard").headers["location"].startswith("/sign-in")


def test_sign_out_everywhere_ends_every_session(as_role, db_factory):
    laptop = as_role("drafter")
    phone = as_role("drafter")
    post_form(laptop, "/sign-out", {"everywhere": "yes"}, from_page="/account")
    assert phone.get("/dashboard").status_code == 303
    with db_factory() as db:
        assert all(s.ended_at is not None for s in db.scalars(select(UserSession)))


def test_the_account_page_lists_where_you_are_signed_in(as_role):
    page = as_role("reviewer").get("/account").text
    assert "reviewer@riverside.example" in page and "This device" in page


def test_a_deactivated_person_cannot_sign_in(client, db_factory, demo_org):
    from portal.models import User

    with db_factory() as db, db.begin():
        db.execute(update(User).where(User.email == "drafter@riverside.example").values(active=False))
    post_form(client, "/sign-in", {"email": "drafter@riverside.example"})
    path = link_in(latest_email(db_factory, "drafter@riverside.example"), "/sign-in/link/")
    response = post_form(client, path, from_page=path)
    assert response.status_code == 400 and "deactivated" in response.text


def test_sign_in_is_audited(client, db_factory, demo_org):
    sign_in(client, db_factory, "drafter@riverside.example")
    with db_factory() as db:
        event = db.scalar(select(AuditEvent).where(AuditEvent.event_type == "account:signed_in"))
    assert event.data == {"method": "email link"} and event.ip_address == "testclient"
    assert event.user_agent.startswith("testclient")


def test_development_outbox_page_shows_the_link_and_production_hides_it(client, db_factory, settings):
    post_form(client, "/sign-in", {"email": "x@example.com"})
    assert "/sign-in/link/" in client.get("/dev/outbox").text
    from dataclasses import replace

    from starlette.testclient import TestClient

    from portal.app import create_app

    with TestClient(create_app(replace(settings, env="production"))) as production:
        assert production.get("/dev/outbox").status_code == 404


def test_the_link_page_names_the_address_it_signs_in(client, db_factory, demo_org):
    post_form(client, "/sign-in", {"email": "reviewer@riverside.example"})
    path = link_in(latest_email(db_factory, "reviewer@riverside.example"), "/sign-in/link/")
    page = client.get(path).text
    assert "This link signs you in as <strong>reviewer@riverside.example</strong>" in page
    assert "Sign in as reviewer@riverside.example" in page and "session ends" not in page


def test_someone_elses_link_warns_that_the_current_session_ends(client, db_factory, demo_org):
    sign_in(client, db_factory, "drafter@riverside.example")
    post_form(client, "/sign-in", {"email": "reviewer@riverside.example"}, from_page="/help")
    path = link_in(latest_email(db_factory, "reviewer@riverside.example"), "/sign-in/link/")
    page = client.get(path).text
    assert "You are signed in as drafter@riverside.example" in page
    assert "that session ends and you will be signed in as reviewer@riverside.example instead" in page


def test_support_staff_land_on_the_support_workspace_not_a_403(client, db_factory, demo_org):
    sign_in(client, db_factory, "lead@regulator.example")
    assert client.get("/").headers["location"] == "/support"
    refused = client.get("/dashboard")
    assert refused.status_code == 403 and 'href="/">Go to your home page' in refused.text
