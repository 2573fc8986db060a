"""A sweep built from the route table: every route, as every kind of person, with hostile ids, query values and
form text. Not one answer may be a 500, on SQLite or PostgreSQL.

Nothing here lists routes or fields by hand. Routes come from the app's registered endpoints, so a new route is
swept the day it is added; form fields from the forms the pages render (each POST route's own form, seen by
whoever could open it) and, for a route no page renders a form for, from every WTForms class the portal defines;
query names from the source's query reads and the links and GET forms on the pages. The counts are printed in
the run's summary (conftest's SUMMARY), so CI shows how big the sweep was.

One test per database: the world (two notifications, a question, an invitation, a sign-up request, an API token,
people with roles for one location) is built once, and the sweep's requests all go to one in-process app.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from html import unescape
from itertools import chain
from urllib.parse import quote

import wtforms
from sqlalchemy import func, select
from starlette.routing import Match
from starlette.testclient import TestClient
from wtforms.fields.core import UnboundField

from portal.accounts import invitations
from portal.accounts import organisations as orgs
from portal.api import service as api_service
from portal.app import all_endpoints
from portal.db import transaction
from portal.models import Attachment, Comment, Membership, OutboxMessage, SignupRequest, User
from portal.notifications.registry import definitions
from portal.permissions import API_PERMISSIONS, PUBLIC, SIGNED_IN
from portal.roles import ROLES, permissions_at

from .conftest import ROOT, SUMMARY, add_member, ask_question, post_form, sign_in
from .drafting import start_notification
from .journey import submitted

HOSTILE_IDS = ["0", "-1", str(2**31), str(2**63), str(10**30), "abc", "\u0663", "1\x00"]
# What each form field is sent. The lone surrogate cannot be put in a URL-encoded body (a client encodes text
# as UTF-8, and %ED%A0%80 decodes to three U+FFFD): it goes as multipart in a charset the sender names,
# raw_unicode_escape, which turns the six characters \ud800 into one.
HOSTILE_TEXT = {
    "NUL": "a\x00b",
    "lone surrogate": "\\ud800",
    "control characters": "a\x01\x07\x1b\x7f\x85b",
    "over-long": "x" * 1_000_001,
}
SURROGATE = "lone surrogate"
OVER_LONG = "over-long"
# Over-long text is no refused character, so a route that ignores its fields does its work: these would end the
# sweeping person's session or membership, and the rest of the sweep would run as nobody.
ENDS_THE_SWEEPER = {"accounts.sign_out", "members.leave_post"}

DRAFT_TYPE = "serious_injury"
LOCATION_ROLES = {
    "location admin": ("manager.a@riverside.example", "organisation_admin"),
    "location member": ("drafter.a@riverside.example", "drafter"),
}
PEOPLE = {
    "drafter": "drafter@riverside.example",
    "reviewer": "reviewer@riverside.example",
    "submitter": "submitter@riverside.example",
    "organisation admin": "admin@riverside.example",
    "location admin": "manager.a@riverside.example",
    "location member": "drafter.a@riverside.example",
    "support agent": "support@regulator.example",
    "support lead": "lead@regulator.example",
}
# What each sweeping person holds, as the central check asks (a grant for one location: no organisation-wide
# permission). Where the check refuses, the handler never reads the ids, query or fields: those pairs get a
# sample of the hostile values, which is what keeps the sweep to a few minutes.
HOLDS = {
    "drafter": ROLES["drafter"].permissions,
    "reviewer": ROLES["reviewer"].permissions,
    "submitter": ROLES["submitter"].permissions,
    "organisation admin": ROLES["organisation_admin"].permissions,
    "location admin": permissions_at("organisation_admin", 1),
    "location member": permissions_at("drafter", 1),
    "support agent": ROLES["support_agent"].permissions,
    "support lead": ROLES["support_lead"].permissions,
}
SAMPLE_IDS = [str(2**63), "1\x00"]
# Who the support pages act on: somebody no sweeping person is, so deactivating them changes nobody's sweep.
BYSTANDER = "bystander@riverside.example"

PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTRIBUTE = re.compile(r'([a-zA-Z_:-]+)="([^"]*)"')
CONTROL = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.I)
OPTION = re.compile(r'<option\b[^>]*value="([^"]*)"', re.I)
LINK_QUERY = re.compile(r'href="[^"?]*\?([^"#]+)"')
SOURCE_QUERY = re.compile(r'(?:query|params|query_params)\.get\(\s*"([a-z_]+)"')


def test_no_input_gets_a_500_on_any_route_as_anyone(app, db_factory, demo_org, record_property):
    world = build_world(app, db_factory, demo_org)
    endpoints = [e for e in all_endpoints() if e.path != "/dev/outbox"]
    sweep = Sweep(app, world)
    clients = sweep.sign_everyone_in(db_factory)
    try:
        with sweep.phase("pages"):
            for role, client in clients.items():
                sweep.pages(role, client, endpoints)
        query_names = sweep.query_names()
        with sweep.phase("path ids"):
            for role, client in clients.items():
                sweep.path_ids(role, client, endpoints)
        with sweep.phase("queries"):
            for role, client in clients.items():
                sweep.queries(role, client, endpoints, query_names)
        form_fields = sweep.form_fields(endpoints)
        for kind in HOSTILE_TEXT:  # over-long last: it is the one that can change the world
            with sweep.phase(kind):
                for role, client in clients.items():
                    sweep.forms(role, client, endpoints, form_fields, kind)
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)

    id_params = {name for e in endpoints for name in PARAM.findall(e.path)}
    line = (
        f"input sweep ({world['database']}): {len(endpoints)} routes, {len(id_params)} path parameters, "
        f"{len(query_names)} query names, {sum(map(len, form_fields.values()))} form fields on "
        f"{len(form_fields)} POST routes, {len(HOSTILE_IDS)} hostile ids, {len(HOSTILE_TEXT)} hostile texts, "
        f"{len(clients)} roles, {sweep.requests} requests, statuses {dict(sorted(sweep.statuses.items()))}; "
        f"phases {sweep.timings}; forms from pages {sum(owner is not None for owner, _ in form_fields.values())}"
    )
    record_property(SUMMARY, line)
    print(line)
    assert sweep.failures == [], f"{len(sweep.failures)} answers of 500, the first: {sweep.failures[:20]}"


# The world ---------------------------------------------------------------------------------------------------


def build_world(app, db_factory, demo_org) -> dict:
    place_a = demo_org["locations"][0][0]
    for email, granted in LOCATION_ROLES.values():
        add_member(db_factory, demo_org["id"], email, [(granted, place_a)])
    bystander_member = add_member(db_factory, demo_org["id"], BYSTANDER, [("drafter", place_a)])
    with transaction(db_factory) as db:
        admin = db.scalar(select(User).where(User.email == PEOPLE["organisation admin"]))
        invitation = invitations.invite(
            db,
            demo_org["id"],
            email="new@riverside.example",
            grants=[orgs.Grant("drafter", place_a)],
            actor=admin,
            base_url="http://testserver",
        )
        lead = db.scalar(select(User).where(User.email == PEOPLE["support lead"]))
        token, secret = api_service.create_token(db, name="Sweep", actor_id=lead.id, organisation_id=None)
        ids = {"invitation_id": invitation.id, "token_id": token.id, "api_secret": secret}

    with (
        TestClient(app, base_url="http://testserver", follow_redirects=False) as drafter,
        TestClient(app, base_url="http://testserver", follow_redirects=False) as reviewer,
        TestClient(app, base_url="http://testserver", follow_redirects=False) as submitter,
    ):
        sign_in(drafter, db_factory, PEOPLE["drafter"])
        sign_in(reviewer, db_factory, PEOPLE["reviewer"])
        sign_in(submitter, db_factory, PEOPLE["submitter"])
        sent, reference = submitted(drafter, reviewer, submitter, DRAFT_TYPE, place_a)
        draft = start_notification(drafter, DRAFT_TYPE, place_a)
        query_id = ask_question(drafter, "About the draft", "Please", notification=str(draft))
        path = f"/notifications/{draft}/comments"
        post_form(drafter, path, {"section": "about_you", "body": "A comment"}, from_page=f"/notifications/{draft}")
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as newcomer:
        sign_in(newcomer, db_factory, "newcomer@example.com")
        form = {"organisation_name": "Newcomer Care", "provider_id": "1-109999999"}
        post_form(newcomer, "/organisations/request", form, from_page="/organisations/request")

    file_question = next(
        question.key
        for section in definitions()[DRAFT_TYPE].sections
        for question in section.questions
        if question.kind == "file"
    )
    with db_factory() as db:
        values = {
            "notification_id": draft,
            "attachment_id": db.scalar(select(Attachment.id).where(Attachment.notification_id == sent)),
            "comment_id": db.scalar(select(func.max(Comment.id))),
            "member_id": bystander_member,
            "user_id": db.scalar(select(User.id).where(User.email == BYSTANDER)),
            "organisation_id": demo_org["id"],
            "location_id": place_a,
            "query_id": query_id,
            "request_id": db.scalar(select(func.max(SignupRequest.id))),
            "message_id": db.scalar(select(func.max(OutboxMessage.id))),
            "invitation_id": ids["invitation_id"],
            "token_id": ids["token_id"],
            "reference": reference,
            "section_key": "about_you",
            "question_key": file_question,
            "token": "not-a-real-token-000000",
        }
        assert db.get(Membership, bystander_member) is not None
    database = "postgresql" if app.state.settings.database_url.startswith("postgresql") else "sqlite"
    return {"values": values, "api_secret": ids["api_secret"], "database": database}


# The sweep ---------------------------------------------------------------------------------------------------


class Sweep:
    def __init__(self, app, world: dict):
        self.app = app
        self.values = world["values"]
        self.api_secret = world["api_secret"]
        self.requests = 0
        self.statuses: Counter = Counter()
        self.failures: list[tuple] = []
        self.tokens: dict[str, str] = {}
        # action path -> (the role that saw the form, {field name: the value the page filled in})
        self.rendered_forms: dict[str, tuple[str, dict[str, str]]] = {}
        self.seen_query_names: set[str] = set()
        self.timings: dict[str, str] = {}

    @contextmanager
    def phase(self, name: str):
        started, before = time.perf_counter(), self.requests
        yield
        self.timings[name] = f"{self.requests - before} in {time.perf_counter() - started:.0f}s"

    def client(self) -> TestClient:
        client = TestClient(
            self.app, base_url="http://testserver", follow_redirects=False, raise_server_exceptions=False
        )
        client.__enter__()
        return client

    def sign_everyone_in(self, db_factory) -> dict[str, TestClient]:
        clients = {"anonymous": self.client()}
        for role, email in PEOPLE.items():
            clients[role] = self.client()
            sign_in(clients[role], db_factory, email)
        api = self.client()
        api.headers["authorization"] = f"Bearer {self.api_secret}"
        clients["API client"] = api
        for role, client in clients.items():
            page = client.get("/sign-in" if role in ("anonymous", "API client") else "/help").text
            self.tokens[role] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return clients

    def send(self, role: str, client: TestClient, method: str, path: str, **kwargs):
        if method == "POST":
            kwargs.setdefault("data", {})
            if "content" not in kwargs:
                kwargs["data"] = {**kwargs["data"], "csrf_token": self.tokens[role]}
        response = client.request(method, path, **kwargs)
        self.requests += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append((role, method, path[:120], kwargs.get("params"), response.status_code))
        return response

    def concrete(self, path: str, **override: str) -> str:
        # Percent-encoded, as a browser sends them: the client refuses a NUL written into a URL.
        return PARAM.sub(
            lambda m: quote(str(override.get(m.group(1), self.values.get(m.group(1), "1"))), safe=""), path
        )

    # Pages: each GET route as it is, and what its page offers (forms, links with query strings).

    def pages(self, role: str, client: TestClient, endpoints) -> None:
        for endpoint in endpoints:
            if "GET" not in endpoint.methods:
                continue
            response = self.send(role, client, "GET", self.concrete(endpoint.path))
            if "html" in response.headers.get("content-type", ""):
                self.read_page(role, response.text)

    def read_page(self, role: str, html: str) -> None:
        for attributes, body in FORM.findall(html):
            attrs = dict(ATTRIBUTE.findall(attributes))
            fields: dict[str, str] = {}
            for tag, control in CONTROL.findall(body):
                control_attrs = dict(ATTRIBUTE.findall(control))
                name = control_attrs.get("name")
                if not name or name == "csrf_token":
                    continue
                value = control_attrs.get("value", "")
                if tag.lower() == "select":
                    options = OPTION.findall(body.split(control, 1)[1])
                    value = next((option for option in options if option), "")
                if control_attrs.get("type") in ("radio", "checkbox") and name in fields:
                    continue
                fields.setdefault(unescape(name), unescape(value))
            if attrs.get("method", "get").lower() == "post":
                action = unescape(attrs.get("action", "")).split("?")[0]
                if action and action not in self.rendered_forms:
                    self.rendered_forms[action] = (role, fields)
            else:
                self.seen_query_names.update(fields)
        for query in LINK_QUERY.findall(html):
            self.seen_query_names.update(part.split("=", 1)[0] for part in unescape(query).split("&") if part)

    def query_names(self) -> list[str]:
        source = chain.from_iterable(SOURCE_QUERY.findall(path.read_text()) for path in (ROOT / "portal").rglob("*.py"))
        return sorted(self.seen_query_names | set(source))

    # Hostile values where ids go: each path parameter in turn, then every query name at once.

    def path_ids(self, role: str, client: TestClient, endpoints) -> None:
        for endpoint in endpoints:
            values = HOSTILE_IDS if reaches(role, endpoint) else SAMPLE_IDS
            for name in PARAM.findall(endpoint.path):
                for value in values:
                    path = self.concrete(endpoint.path, **{name: value})
                    for method in endpoint.methods:
                        self.send(role, client, method, path)

    def queries(self, role: str, client: TestClient, endpoints, names: list[str]) -> None:
        for endpoint in endpoints:
            if "GET" not in endpoint.methods:
                continue
            path = self.concrete(endpoint.path)
            for value in HOSTILE_IDS if reaches(role, endpoint) else SAMPLE_IDS:
                self.send(role, client, "GET", path, params={name: value for name in names})
            if endpoint.path == "/api/v1/submissions" and reaches(role, endpoint):
                for value in HOSTILE_IDS:
                    self.send(role, client, "GET", path, params={"since": f"v1:{value}"})

    # Forms: every field of every POST route, each hostile text in turn.

    def form_fields(self, endpoints) -> dict[str, tuple[str | None, dict[str, str]]]:
        """POST route name -> (the role whose page showed its form, or None; {field: the page's value})."""
        every_wtforms_field = {name: "" for form in wtforms_classes() for name in field_names(form)}
        found = {}
        for endpoint in endpoints:
            if "POST" not in endpoint.methods:
                continue
            rendered = [
                seen for action, seen in self.rendered_forms.items() if matches(self.app, endpoint.path, action)
            ]
            found[endpoint.name] = rendered[0] if rendered else (None, every_wtforms_field)
        return found

    def forms(self, role: str, client: TestClient, endpoints, form_fields, kind: str) -> None:
        hostile = HOSTILE_TEXT[kind]
        for endpoint in endpoints:
            if "POST" not in endpoint.methods or (kind == OVER_LONG and endpoint.name in ENDS_THE_SWEEPER):
                continue
            owner, fields = form_fields[endpoint.name]
            path = self.concrete(endpoint.path)
            if role == owner:
                # The person whose page has the form: one field hostile, the others as the page filled them in.
                for name in fields:
                    self.post(role, client, path, {**fields, name: hostile}, kind)
                if kind != OVER_LONG:
                    # And a field the form does not have: the refusal must not assume which field it is on.
                    self.post(role, client, path, {**fields, "not_a_field": hostile}, kind)
            elif kind != OVER_LONG:
                self.post(role, client, path, {name: hostile for name in fields}, kind)
            elif reaches(role, endpoint) and fields:
                # Every field a megabyte long passes the body limit (a 413); one is what a person could send.
                first = next(iter(fields))
                self.post(role, client, path, {**fields, first: hostile}, kind)

    def post(self, role: str, client: TestClient, path: str, fields: dict[str, str], kind: str) -> None:
        if kind != SURROGATE:
            self.send(role, client, "POST", path, data=fields)
            return
        boundary = uuid.uuid4().hex
        parts = {**fields, "csrf_token": self.tokens[role]}
        body = (
            b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + value.encode("utf-8", "backslashreplace")
                + b"\r\n"
                for name, value in parts.items()
            )
            + f"--{boundary}--\r\n".encode()
        )
        content_type = f"multipart/form-data; charset=raw_unicode_escape; boundary={boundary}"
        self.send(role, client, "POST", path, content=body, headers={"content-type": content_type})


def reaches(role: str, endpoint) -> bool:
    """Whether the central check lets this role through to the route's handler."""
    if endpoint.permission == PUBLIC:
        return True
    if endpoint.permission in API_PERMISSIONS or role == "API client":
        return endpoint.permission in API_PERMISSIONS and role == "API client"
    if role == "anonymous":
        return False
    return endpoint.permission == SIGNED_IN or endpoint.permission in HOLDS[role]


def matches(app, route_path: str, action: str) -> bool:
    route = next(r for r in app.routes if getattr(r, "path", None) == route_path and "POST" in (r.methods or ()))
    scope = {"type": "http", "method": "POST", "path": action, "root_path": ""}
    return route.matches(scope)[0] == Match.FULL


def field_names(form: type) -> list[str]:
    return [name for name in dir(form) if isinstance(getattr(form, name), UnboundField)]


def wtforms_classes() -> list[type]:
    import importlib
    import pkgutil

    import portal

    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if "migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type] = []
    pending = list(wtforms.Form.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        if form.__module__.startswith("portal."):
            found.append(form)
    return found
