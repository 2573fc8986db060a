"""The timeout warning's server side: the seconds left on every signed-in answer, and "Stay signed in"."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.models import UserSession, utcnow
from portal.settings import ConfigurationError, Settings

from .conftest import csrf_from, post_form, sign_in
from .drafting import start_notification

IDLE_SECONDS = 30 * 60
SECONDS_LEFT_RE = re.compile(r'data-session-seconds-left="([0-9]+)"')


def last_seen(db_factory):
    with db_factory() as db:
        return db.scalar(select(UserSession.last_seen_at).where(UserSession.ended_at.is_(None)))


def move_session(db_factory, **ago: timedelta) -> None:
    """Pretends the session was last seen (or started) that long ago."""
    now = utcnow()
    with db_factory() as db, db.begin():
        db.execute(update(UserSession).values({column: now - delta for column, delta in ago.items()}))


def keep_alive(client, token: str | None):
    return client.post("/session/keep-alive", headers={"X-CSRF-Token": token} if token else {})


def test_stay_signed_in_starts_the_idle_clock_again(drafter, db_factory):
    token = csrf_from(drafter, "/dashboard")
    # Under a minute ago: an ordinary request leaves last_seen_at alone (TOUCH_EVERY); this one must not.
    move_session(db_factory, last_seen_at=timedelta(seconds=50))
    before = last_seen(db_factory)
    response = keep_alive(drafter, token)
    assert response.status_code == 200, response.text
    assert response.json() == {"seconds_left": IDLE_SECONDS}
    assert response.headers["cache-control"] == "no-store"
    assert last_seen(db_factory) > before + timedelta(seconds=49)


def test_stay_signed_in_never_goes_past_the_absolute_limit(drafter, db_factory):
    token = csrf_from(drafter, "/dashboard")
    move_session(db_factory, created_at=timedelta(hours=12) - timedelta(seconds=100))
    seconds = keep_alive(drafter, token).json()["seconds_left"]
    assert 0 < seconds <= 100


def test_stay_signed_in_is_refused_without_the_csrf_token(drafter, db_factory):
    token = csrf_from(drafter, "/dashboard")
    move_session(db_factory, last_seen_at=timedelta(seconds=50))
    before = last_seen(db_factory)
    assert keep_alive(drafter, None).status_code == 403
    assert keep_alive(drafter, "0" * len(token)).status_code == 403
    assert drafter.post("/session/keep-alive", data={"csrf_token": "forged"}).status_code == 403
    assert last_seen(db_factory) == before


def test_stay_signed_in_after_the_session_ended_says_so(drafter, db_factory):
    token = csrf_from(drafter, "/dashboard")
    move_session(db_factory, last_seen_at=timedelta(minutes=31))
    response = keep_alive(drafter, token)
    # The page's script does not follow this redirect: a redirect is its word for "signed out".
    assert response.status_code == 303 and response.headers["location"] == "/signed-out?reason=idle"
    with db_factory() as db:
        assert db.scalar(select(UserSession.ended_reason)) == "idle"
    # Ended, it stays ended: a second try does not bring it back.
    assert keep_alive(drafter, token).headers["location"].startswith("/sign-in")


def test_stay_signed_in_after_signing_out_is_no_use(client, db_factory, demo_org):
    sign_in(client, db_factory, "drafter@riverside.example")
    token = csrf_from(client, "/dashboard")
    cookie = client.cookies.get("portal_session")
    post_form(client, "/sign-out", from_page="/dashboard")
    client.cookies.set("portal_session", cookie, domain="testserver.local")
    response = keep_alive(client, token)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
    with db_factory() as db:
        assert db.scalar(select(UserSession.ended_reason)) == "signed out"


def test_signed_in_pages_carry_the_seconds_left_and_the_warning(drafter, db_factory):
    csrf_from(drafter, "/dashboard")
    move_session(db_factory, last_seen_at=timedelta(seconds=50))
    page = drafter.get("/dashboard")
    left = int(SECONDS_LEFT_RE.search(page.text).group(1))
    # 50 s gone and not touched again (under TOUCH_EVERY): the page counts from the server's clock, not from now.
    assert IDLE_SECONDS - 60 < left <= IDLE_SECONDS - 50
    assert page.headers["x-session-seconds-left"] == str(left)
    assert 'data-session-warning-seconds="120"' in page.text
    assert '<dialog class="portal-timeout" id="session-timeout"' in page.text
    assert 'data-keep-alive-url="/session/keep-alive"' in page.text
    assert re.search(r'<script type="module" src="/static/session_timeout\.[0-9a-f]+\.js">', page.text)


def test_htmx_answers_carry_the_seconds_left(drafter, demo_org):
    notification = start_notification(drafter, "dols_outcome", demo_org["locations"][0][0])
    path = f"/notifications/{notification}/sections/about_you"
    token = csrf_from(drafter, path)
    version = re.search(r'name="version" value="([0-9]+)"', drafter.get(path).text).group(1)
    answer = drafter.post(
        f"{path}/autosave",
        data={"version": version, "completed_by_name": "Sam"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    assert "<body" not in answer.text
    # Its value is the server's count (tested above); here, that htmx answers carry it at all.
    assert 0 < int(answer.headers["x-session-seconds-left"]) <= IDLE_SECONDS


def test_pages_for_people_not_signed_in_have_no_warning(client, demo_org):
    page = client.get("/sign-in")
    assert "data-session-seconds-left" not in page.text and "session-timeout" not in page.text
    assert "x-session-seconds-left" not in page.headers


def test_pages_where_people_type_say_the_limit_without_javascript(drafter, demo_org):
    notification = start_notification(drafter, "dols_outcome", demo_org["locations"][0][0])
    statement = "We will sign you out if you do not save or open another page for 30 minutes."
    for path in [f"/notifications/{notification}/sections/about_you", "/queries/new"]:
        text = drafter.get(path).text
        assert re.search(r"<noscript>\s*<div[^>]*>" + re.escape(statement), text), path
    assert statement not in drafter.get("/dashboard").text


def test_the_warning_setting_is_read_and_checked():
    env = {"PORTAL_SECRET_KEY": "s" * 40}
    assert Settings.from_env(env).session_warning_seconds == 120
    assert Settings.from_env({**env, "PORTAL_SESSION_WARNING_SECONDS": "55"}).session_warning_seconds == 55
    for bad in [
        {"PORTAL_SESSION_WARNING_SECONDS": "0"},
        {"PORTAL_SESSION_WARNING_SECONDS": "1800"},
        {"PORTAL_SESSION_IDLE_MINUTES": "1", "PORTAL_SESSION_WARNING_SECONDS": "60"},
        {"PORTAL_SESSION_WARNING_SECONDS": "two minutes"},
    ]:
        with pytest.raises(ConfigurationError, match="PORTAL_SESSION_"):
            Settings.from_env({**env, **bad})
