"""Fixtures: a real database (SQLite always, PostgreSQL when PORTAL_TEST_POSTGRES_URL is set),
the real app over HTTP, and actors who sign in the way people do.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select, text
from starlette.testclient import TestClient

from portal import demo
from portal.app import create_app
from portal.db import make_engine, make_session_factory, transaction
from portal.migrate import upgrade
from portal.models import Base, OutboxMessage
from portal.settings import ObjectStore, Settings

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
# A test's record_property(SUMMARY, line) shows the line at the end of the run's output.
SUMMARY = "summary"


def pytest_terminal_summary(terminalreporter):
    # Reports, with their user_properties, travel from pytest-xdist's workers to the process that prints,
    # so this works with `-n` too, where a worker's own output is never shown.
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == SUMMARY
    ]
    if lines:
        terminalreporter.write_sep("-", "summaries")
        for line in sorted(lines):
            terminalreporter.write_line(line)


def _fresh_postgres_database() -> tuple[str, callable]:
    """A database of its own per test run, dropped at the end."""
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin_url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_URL.rpartition("/")
    url = f"{base}/{name}"

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"
        return
    url, drop = _fresh_postgres_database()
    yield url
    drop()


@pytest.fixture(scope="session")
def migrated(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def object_store():
    """Local files, the portal's default. A module whose tests run on both backends overrides this with
    tests/object_storage.py's either_store."""
    return ObjectStore()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server, speaking S3 over HTTP on a port of its own, for this test process."""
    from .object_storage import S3Server

    server = S3Server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(database_url, tmp_path, object_store):
    return Settings(
        env="development",
        database_url=database_url,
        secret_key="test-secret-" + "x" * 40,
        base_url="http://testserver",
        data_dir=tmp_path,
        seed_demo=False,
        object_store=object_store,
    )


@pytest.fixture
def db_factory(migrated):
    factory = make_session_factory(migrated)
    yield factory
    # Empty every table after each test, children first, so tests never see each other's rows.
    with migrated.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def db(db_factory):
    with transaction(db_factory) as session:
        yield session


@pytest.fixture
def app(settings, db_factory):
    return create_app(settings)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def demo_org(db_factory):
    with transaction(db_factory) as session:
        organisation = demo.seed(session)
        return {"id": organisation.id, "locations": [(place.id, place.name) for place in organisation.locations]}


# Acting as people ----------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, path: str = "/sign-in") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict | list | None = None, *, from_page: str = "/sign-in"):
    token = csrf_from(client, from_page)
    if isinstance(data, list):
        # Repeated names (checkboxes) as pairs: httpx takes them as a dict of lists.
        body: dict = {"csrf_token": token}
        for name, value in data:
            body.setdefault(name, []).append(value)
    else:
        body = {**(data or {}), "csrf_token": token}
    return client.post(path, data=body)


def latest_email(db_factory, recipient: str) -> OutboxMessage:
    with db_factory() as session:
        message = session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient == recipient).order_by(OutboxMessage.id.desc())
        )
        assert message is not None, f"no email to {recipient}"
        return message


def link_in(message: OutboxMessage, pattern: str) -> str:
    match = re.search(rf"http://testserver({pattern}\S*)", message.body)
    assert match, f"no link like {pattern} in: {message.body}"
    return match.group(1)


def sign_in(client: TestClient, db_factory, email: str):
    """Signs in exactly as a person does: ask for a link, open the email, press the button."""
    response = post_form(client, "/sign-in", {"email": email})
    assert response.status_code == 303, response.text
    path = link_in(latest_email(db_factory, email), "/sign-in/link/")
    response = post_form(client, path, from_page=path)
    assert response.status_code == 303, response.text
    return response


@pytest.fixture
def as_person(app, db_factory):
    """as_person("drafter@riverside.example") -> a signed-in TestClient of their own."""
    clients = []

    def make(email: str) -> TestClient:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        sign_in(client, db_factory, email)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def as_role(as_person, demo_org):
    """as_role("reviewer") -> a client signed in as the demo organisation's reviewer."""
    emails = {role: email for email, _, role in demo.DEMO_PEOPLE + demo.DEMO_SUPPORT}
    return lambda role: as_person(emails[role])


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def drafter(as_role):
    return as_role("drafter")


@pytest.fixture
def agent(as_role):
    return as_role("support_agent")


@pytest.fixture
def lead(as_role):
    return as_role("support_lead")


@pytest.fixture
def location_id(demo_org):
    """The demo organisation's first location."""
    return demo_org["locations"][0][0]


# Factories ------------------------------------------------------------------------------------


def make_organisation(
    db_factory,
    name: str,
    provider_id: str,
    members: list[tuple[str, str]],
    locations: list[tuple[str, str]] | None = None,
) -> dict:
    """members: (email, role) pairs, each role for the whole organisation.

    locations: (name, regulator location ID) pairs; by default one "Main site", its ID made from the provider
    ID, since a regulator location ID is unique across the portal and a test may make several organisations."""
    from portal.models import Location, Membership, Organisation, RoleGrant, User

    if locations is None:
        locations = [("Main site", "1-9" + re.sub(r"[^0-9]", "", provider_id))]

    with transaction(db_factory) as session:
        organisation = Organisation(name=name, provider_id=provider_id)
        session.add(organisation)
        session.flush()
        for location_name, location_id in locations:
            session.add(
                Location(organisation_id=organisation.id, name=location_name, regulator_location_id=location_id)
            )
        ids = {}
        for email, role in members:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(email=email)
                session.add(user)
                session.flush()
            membership = Membership(user_id=user.id, organisation_id=organisation.id)
            membership.grants.append(RoleGrant(role=role, location_id=None))
            session.add(membership)
            session.flush()
            ids[email] = membership.id
        return {"id": organisation.id, "members": ids}


def membership_id(db_factory, email: str, organisation_id: int) -> int:
    from portal.models import Membership, User

    with db_factory() as session:
        return session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.organisation_id == organisation_id)
        )


def count_queries(engine):
    """count_queries(engine) -> (the SQL statements run from now, a function that stops counting)."""
    from sqlalchemy import event

    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    return statements, lambda: event.remove(engine, "before_cursor_execute", before)


def audit_events(db_factory, event_type: str) -> list:
    """Every recorded audit event of one type, oldest first."""
    from portal.models import AuditEvent

    with db_factory() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id))
        )


def ask_question(client: TestClient, subject: str = "A question", message: str = "Details", **fields) -> int:
    """Asks the support team through the form, as a provider does; returns the question's id."""
    response = post_form(
        client, "/queries", {"subject": subject, "message": message, **fields}, from_page="/queries/new"
    )
    assert response.status_code == 303, response.text
    return int(re.search(r"/queries/([0-9]+)", response.headers["location"]).group(1))


def add_member(db_factory, organisation_id: int, email: str, grants: list[tuple[str, int | None]]) -> int:
    """A member with roles at chosen locations: (role, location id, or None for all locations) pairs.

    Returns the membership's id."""
    from portal.models import Membership, RoleGrant, User

    with transaction(db_factory) as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email)
            session.add(user)
            session.flush()
        membership = Membership(user_id=user.id, organisation_id=organisation_id)
        for role, location_id in grants:
            membership.grants.append(RoleGrant(role=role, location_id=location_id))
        session.add(membership)
        session.flush()
        return membership.id
