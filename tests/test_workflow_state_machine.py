"""Four people of one organisation drive notifications through random interleavings of every operation,
over HTTP, and after every step the database must agree with a model of what should have happened.

Two drafters, a reviewer and a submitter each have a TestClient of their own, so every step goes through
the routes, the central permission check, CSRF and the services, as a person's browser would. Hypothesis
chooses the steps (tests/test_workflow.py walks the paths people usually take; this walks the others):
starting, saving sections from versions that may have gone stale, settling the conflicts, files, every
move of the state machine (portal/notifications/states.py) by people who may and may not make it,
follow-ups, comments and assignment.

The model says, before each step, what the step must do: an allowed move lands on its target status; a
refused one, a save from a stale version, or anything by someone without the permission changes
nothing. After each step, `invariants.broken` must be empty for every notification, a submitted one must
still be exactly what was submitted, and no response may be a 500.
"""

from __future__ import annotations

import html
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, note, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from portal.models import Attachment, Comment, Location, Notification, SectionDraft, Submission, User
from portal.notifications import invariants, states
from portal.notifications.content import content_hash
from portal.notifications.definitions import Question, Section
from portal.notifications.drafting import answers_carried_over, follow_up_types
from portal.notifications.examples import example_fields
from portal.notifications.reading import answers_of, attachments_of
from portal.notifications.registry import definition

from .conftest import CSRF_RE, SUMMARY, make_organisation

# CI runs at least this many steps on each database.
STEPS_PER_DATABASE = 2000
# Hypothesis's first examples of a run are full length; after them it mutates what it has seen, and
# those examples end after a few dozen steps. So the steps come in rounds of a few examples each, every
# round with a seed of its own: the same steps on every run and every machine, so a failure in CI is a
# failure here, and `@seed(round)` in Hypothesis's report reproduces it.
ROUND_SETTINGS = settings(
    max_examples=8,
    # About as many steps as fit in the data Hypothesis draws for one example.
    stateful_step_count=90,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAX_ROUNDS = 10
# Two types with a file question (one of them with a follow-up of another type) and one without.
TYPES = ("manager_absence_planned", "event_stopping_service", "manager_return")
FILE_QUESTION = "supporting_documents"
EDITABLE = states.ACTIONS["edit"].sources
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
MINE_RE = re.compile(r'name="mine" value="([^"]*)"')
CHOICE_RE = re.compile(r'name="choice-([a-z0-9_]+)" type="radio" value="(\w+)"')
# Rules pick a notification that fits the step three times in four, and any notification otherwise,
# so most steps do something and the rest check that a move in the wrong state is refused.
AIM = st.sampled_from(["fitting", "fitting", "fitting", "any"])
CHOICE = st.integers(min_value=0, max_value=15)
# The total only bounds the checks after each step: the usual path (see progress) starts a follow-up
# to each submitted notification, and should not run out of room within one example.
MAX_OPEN, MAX_NOTIFICATIONS = 3, 16


# The people ------------------------------------------------------------------------------------


@dataclass
class Person:
    name: str
    role: str
    email: str
    user_id: int
    client: Any
    csrf_token: str = ""


@dataclass
class World:
    """What every example shares: one organisation and its four signed-in people."""

    people: dict[str, Person]
    db_factory: Any
    organisation_id: int
    location_id: int
    regulator_location_id: str
    # Both locations by database id: notifications start at the first, and may be moved to either.
    locations: dict[int, str] = field(default_factory=dict)
    steps: int = 0
    outcomes: Counter = field(default_factory=Counter)


@pytest.fixture
def world(as_person, db_factory) -> World:
    # Sign-in links are rate-limited per address, so each run has people of its own.
    tag = uuid.uuid4().hex[:8]
    roles = {"drafter A": "drafter", "drafter B": "drafter", "reviewer": "reviewer", "submitter": "submitter"}
    emails = {name: f"{name.replace(' ', '-').lower()}-{tag}@workflow.example" for name in roles}
    organisation = make_organisation(
        db_factory,
        f"Workflow {tag}",
        f"1-{int(tag, 16) % 10**9:09d}",
        [(emails[name], role) for name, role in roles.items()],
        locations=[("Main site", f"1-8{int(tag, 16) % 10**8:08d}"), ("Second site", f"1-7{int(tag, 16) % 10**8:08d}")],
    )
    with db_factory() as db:
        places = db.scalars(select(Location).where(Location.organisation_id == organisation["id"])).all()
        location = next(place for place in places if place.name == "Main site")
        locations = {place.id: place.regulator_location_id for place in places}
        user_ids = {email: db.scalar(select(User.id).where(User.email == email)) for email in emails.values()}
        location_id, regulator_id = location.id, location.regulator_location_id
    people = {}
    for name, role in roles.items():
        client = as_person(emails[name])
        token = CSRF_RE.search(client.get("/account").text)
        assert token, "no CSRF token on /account"
        people[name] = Person(name, role, emails[name], user_ids[emails[name]], client, token.group(1))
    return World(people, db_factory, organisation["id"], location_id, regulator_id, locations)


# The model -------------------------------------------------------------------------------------


@dataclass
class SectionModel:
    version: int = 0
    status: str = "not_started"
    answers: dict = field(default_factory=dict)


@dataclass
class Model:
    """What one notification should be now."""

    label: str
    id: int
    type_key: str
    status: str = "draft"
    sections: dict[str, SectionModel] = field(default_factory=dict)
    attachments: list[int] = field(default_factory=list)
    comments: int = 0
    assignee: int | None = None
    location_id: int = 0
    # For a follow-up: what it follows, and who started it (a second press of Start gives the same draft back).
    parent_id: int | None = None
    created_by: int | None = None

    @property
    def kind(self):
        return definition(self.type_key)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def has_file_question(self) -> bool:
        return any(q.key == FILE_QUESTION for s in self.kind.sections for q in s.questions)

    @property
    def file_limit(self) -> int:
        return self.kind.question(FILE_QUESTION).rules.get("max_files", 1) if self.has_file_question else 0

    def all_completed(self) -> bool:
        return all(section.status == "completed" for section in self.sections.values())

    def section(self, index: int) -> Section:
        sections = self.kind.sections
        return sections[index % len(sections)]


@dataclass
class View:
    """A section page as one drafter opened it: saving it later names the version they saw."""

    person: str
    label: str
    notification_id: int
    section_key: str
    version: int


@dataclass
class Conflict:
    """The conflict page as a drafter was shown it: their answers, and the version they now compare with."""

    person: str
    label: str
    notification_id: int
    section_key: str
    version: int
    mine: str
    choices: dict[str, list[str]]


# Answers as a form sends them ------------------------------------------------------------------

ANSWER_KINDS = ("valid", "changed", "minimal", "empty", "invalid")
TEXT_KINDS = ("short_text", "long_text", "person_identifier")


def _breakable(question: Question) -> dict | None:
    """Form fields giving this question an answer it refuses, if we know one."""
    key, kind, rules = question.key, question.kind, question.rules
    if kind in ("date", "datetime"):
        return {f"{key}-day": "32", f"{key}-month": "13", f"{key}-year": "2020"}
    if kind in ("radios", "yes_no", "age_band"):
        return {key: "not-an-option"}
    if kind == "checkboxes":
        return {key: ["not-an-option"]}
    if kind == "number":
        return {key: "many"}
    if kind == "person_identifier":
        return {key: "12/03/1950"}
    if kind == "short_text" and rules.get("format") == "email":
        return {key: "not an email"}
    if kind == "short_text" and "max_length" in rules:
        return {key: "x" * (rules["max_length"] + 1)}
    return None


def form_answers(section: Section, kind: str, variant: int) -> dict[str, Any]:
    """valid: the examples; changed: their words altered; minimal: required questions only;
    empty: nothing; invalid: the examples with one answer (chosen by variant) refused."""
    if kind == "empty":
        return {}
    fields: dict[str, Any] = {}
    for question in section.questions:
        if kind == "minimal" and not question.required:
            continue
        fields.update(example_fields(question))
        if kind == "changed" and question.kind in TEXT_KINDS and not question.rules.get("format"):
            fields[question.key] = f"{fields[question.key]} {variant}"
    if kind == "invalid":
        breakable = [broken for q in section.questions if (broken := _breakable(q)) is not None]
        fields.update(breakable[variant % len(breakable)])
    return fields


def completes(section: Section, kind: str) -> bool:
    """Whether a save of these answers should leave the section completed."""
    if kind == "empty":
        return not any(q.required and q.kind != "file" for q in section.questions)
    return kind != "invalid"


# What each step looks for ---------------------------------------------------------------------


def can_edit(model: Model) -> bool:
    return model.editable


def has_work_left(model: Model) -> bool:
    # An approved one too: editing it withdraws the approval.
    return model.editable and (not model.all_completed() or model.status == "approved")


def takes_files(model: Model) -> bool:
    return model.editable and model.has_file_question and len(model.attachments) < model.file_limit


def has_files(model: Model) -> bool:
    return model.editable and bool(model.attachments)


def ready_for_review(model: Model) -> bool:
    return model.status in states.MOVES["request_review"].sources and model.all_completed()


def in_status(*statuses: str):
    return lambda model: model.status in statuses


def anything(model: Model) -> bool:
    return True


IN_REVIEW = in_status("in_review")
OPEN = in_status(*states.OPEN_STATUSES)
SUBMITTABLE = in_status("approved", "submitted")
SUBMITTED = in_status("submitted")


def some(fits):
    """A precondition: the step runs only while some notification fits it."""
    return lambda machine: any(fits(model) for model in machine.models.values())


# The machine -----------------------------------------------------------------------------------


class WorkflowMachine(RuleBasedStateMachine):
    views = Bundle("views")
    conflicts = Bundle("conflicts")

    def __init__(self, world: World):
        super().__init__()
        self.world = world
        self.models: dict[int, Model] = {}
        self.checked_once = False
        self.changes = 0

    # Helpers -----------------------------------------------------------------------------------

    def person(self, name: str) -> Person:
        return self.world.people[name]

    def say(self, outcome: str, line: str) -> None:
        """One line of the example as people would tell it; shown when Hypothesis reports a failure."""
        self.world.outcomes[outcome] += 1
        note(f"# {line}")

    def get(self, who: str, path: str):
        response = self.person(who).client.get(path)
        assert response.status_code < 500, f"{who} GET {path}: {response.status_code}\n{response.text[-2000:]}"
        return response

    def post(self, who: str, path: str, data: dict | None = None, files: dict | None = None):
        person = self.person(who)
        response = person.client.post(path, data={**(data or {}), "csrf_token": person.csrf_token}, files=files)
        assert response.status_code < 500, f"{who} POST {path}: {response.status_code}\n{response.text[-2000:]}"
        return response

    def expect_not_saved(self, response, told: str, model: Model, *, autosave: bool = False) -> None:
        """Words sent to a notification that moved on: not saved, and shown back, never a bare refusal."""
        if autosave:
            self.expect(response, 200, told)
            assert response.text.strip().startswith("Not saved"), told
        else:
            self.expect(response, 409, told)
            assert "Your answers were not saved" in response.text, told
        self.say("refused", f"{told}: not saved, it is {model.status}")

    def expect_moved_on(self, response, doing: str, told: str, model: Model) -> None:
        """A drafter's change to a notification that moved on: told why and what changed, not a 403."""
        self.expect(response, 400, told)
        assert f"You cannot {doing} while it is" in response.text, told
        self.say("refused", f"{told}: refused, it is {model.status}")

    def expect(self, response, status: int, what: str) -> None:
        assert response.status_code == status, (
            f"{what}: expected {status}, got {response.status_code}\n{response.text[-1500:]}"
        )

    def pick(self, choice: int, aim: str, fits) -> Model:
        everything = list(self.models.values())
        fitting = [model for model in everything if fits(model)] if aim == "fitting" else []
        pool = fitting or everything
        return pool[choice % len(pool)]

    def read_sections(self, model: Model) -> None:
        """Takes the answers the database now holds into the model, after a save the model allowed."""
        with self.world.db_factory() as db:
            notification = db.get(Notification, model.id)
            for draft in notification.sections:
                model.sections[draft.section_key].answers = dict(draft.answers)

    def content_changed(self, model: Model, before: dict[str, dict]) -> None:
        """An edit to an approved notification that changed its content withdraws the approval."""
        after = {key: section.answers for key, section in model.sections.items()}
        if model.status == "approved" and after != before:
            model.status = states.MOVES["edit_after_approval"].target

    def snapshot_answers(self, model: Model) -> dict[str, dict]:
        return {key: dict(section.answers) for key, section in model.sections.items()}

    def new_model(
        self, notification_id: int, type_key: str, assignee: int, location_id: int, parent_id: int | None = None
    ) -> Model:
        model = Model(
            f"N{len(self.models) + 1}",
            notification_id,
            type_key,
            assignee=assignee,
            location_id=location_id,
            parent_id=parent_id,
            created_by=assignee,
        )
        for section in model.kind.sections:
            model.sections[section.key] = SectionModel()
        self.models[notification_id] = model
        return model

    def room_for_more(self) -> bool:
        # A few open at once keeps every step among them; the total bounds the checks after each step.
        return sum(map(OPEN, self.models.values())) < MAX_OPEN and len(self.models) < MAX_NOTIFICATIONS

    # The usual path ----------------------------------------------------------------------------

    @precondition(lambda self: any(self.on_the_way(model) for model in self.models.values()))
    @rule(choice=CHOICE)
    def progress(self, choice):
        """The next step on the usual path for one notification, so that examples reach every status.

        Hypothesis's first example repeats the first rule with the simplest arguments, and this rule
        (one argument) sorts first: that example is the whole journey, follow-ups included."""
        model = self.pick(choice, "fitting", self.on_the_way)
        unfinished = [s for s in model.kind.sections if model.sections[s.key].status != "completed"]
        if model.editable and unfinished:
            self.save("drafter A", model, unfinished[0], model.sections[unfinished[0].key].version, "valid", 0, "later")
        elif ready_for_review(model):
            self.move("drafter A", model, "request-review", "request_review", allowed=True)
        elif model.status == "in_review":
            self.move("reviewer", model, "approve", "approve", allowed=True)
        elif model.status == "approved":
            self.move("submitter", model, "submit", "submit", {"declaration": "yes"}, allowed=True)
        else:
            self.follow_up("drafter B", choice, "fitting", 0)

    def on_the_way(self, model: Model) -> bool:
        if model.status == "submitted":
            return self.room_for_more()
        return model.status != "withdrawn"

    # Starting ----------------------------------------------------------------------------------

    @precondition(lambda self: self.room_for_more())
    @rule(who=st.sampled_from(["drafter A", "drafter B"]), type_key=st.sampled_from(TYPES))
    def start(self, who, type_key):
        response = self.post(who, "/notifications/new", {"type": type_key, "location": str(self.world.location_id)})
        self.expect(response, 303, f"{who} starts a {type_key}")
        notification_id = int(response.headers["location"].rsplit("/", 1)[1])
        model = self.new_model(notification_id, type_key, self.person(who).user_id, self.world.location_id)
        self.say("changed", f"{who} starts {model.label}, a {type_key} (#{notification_id})")

    # Sections ----------------------------------------------------------------------------------

    @precondition(some(has_work_left))
    @rule(
        who=st.sampled_from(["drafter A", "drafter B"]),
        choice=CHOICE,
        aim=AIM,
        section=st.integers(0, 4),
        next_unfinished=st.booleans(),
        kind=st.sampled_from(["valid", "valid", "changed"]),
        variant=st.integers(0, 3),
    )
    def fill_section(self, who, choice, aim, section, next_unfinished, kind, variant):
        """Saves a section from the version it has now, as most people do: the steady way forward."""
        model = self.pick(choice, aim, has_work_left)
        chosen = model.section(section)
        if next_unfinished:
            unfinished = [s for s in model.kind.sections if model.sections[s.key].status != "completed"]
            chosen = unfinished[0] if unfinished else chosen
        # The page they opened showed the section as it is now (open_section checks that pages do).
        self.save(who, model, chosen, model.sections[chosen.key].version, kind, variant, "later")

    @precondition(some(can_edit))
    @rule(
        target=views,
        who=st.sampled_from(["drafter A", "drafter B", "both drafters"]),
        choice=CHOICE,
        aim=AIM,
        section=st.integers(0, 4),
    )
    def open_section(self, who, choice, aim, section):
        """Opens a section and keeps the page open; a later step saves it, perhaps after others did."""
        model = self.pick(choice, aim, can_edit)
        chosen = model.section(section)
        people = ["drafter A", "drafter B"] if who == "both drafters" else [who]
        opened = []
        for person in people:
            page = self.get(person, f"/notifications/{model.id}/sections/{chosen.key}")
            if not model.editable:
                self.expect(page, 403, f"{person} opens {chosen.key} of {model.label} ({model.status})")
                self.say("refused", f"{person} cannot open {chosen.key} of {model.label}: it is {model.status}")
                continue
            self.expect(page, 200, f"{person} opens {chosen.key} of {model.label}")
            version = int(VERSION_RE.search(page.text).group(1))
            assert version == model.sections[chosen.key].version, f"the page shows version {version}"
            self.say("looked", f"{person} opens {chosen.key} of {model.label} at version {version}")
            opened.append(View(person, model.label, model.id, chosen.key, version))
        return multiple(*opened)

    # Pressing a button on the page leaves it (for the task list, the next section, the conflict page or
    # the form shown again with its errors), so the page is used once.
    @rule(
        target=conflicts,
        view=consumes(views),
        kind=st.sampled_from(ANSWER_KINDS),
        variant=st.integers(0, 7),
        channel=st.sampled_from(["continue", "later"]),
    )
    def save_opened(self, view, kind, variant, channel):
        model = self.models[view.notification_id]
        section = next(s for s in model.kind.sections if s.key == view.section_key)
        result = self.save(view.person, model, section, view.version, kind, variant, channel)
        return result if isinstance(result, Conflict) else multiple()

    @rule(view=views, kind=st.sampled_from(ANSWER_KINDS), variant=st.integers(0, 7))
    def autosave(self, view, kind, variant):
        """htmx saves while they type, and the page carries on from the version it saved."""
        model = self.models[view.notification_id]
        section = next(s for s in model.kind.sections if s.key == view.section_key)
        result = self.save(view.person, model, section, view.version, kind, variant, "autosave")
        if isinstance(result, int):
            view.version = result

    def save(self, who: str, model: Model, section: Section, version: int, kind: str, variant: int, channel: str):
        """Saves from `version` and checks the outcome against the model: Conflict, the page's new version, or None."""
        data = {"version": str(version), **form_answers(section, kind, variant)}
        base = f"/notifications/{model.id}/sections/{section.key}"
        path = f"{base}/autosave" if channel == "autosave" else base
        if channel != "autosave":
            data["action"] = channel
        state = model.sections[section.key]
        told = f"{who} saves {section.key} of {model.label} ({kind}, {channel}) from version {version}"
        response = self.post(who, path, data)
        if not model.editable:
            self.expect_not_saved(response, told, model, autosave=channel == "autosave")
            return None
        if version != state.version:
            # Someone saved since this page was opened: theirs stays, and this person is shown both.
            if channel == "autosave":
                self.expect(response, 200, told)
                assert "Someone else changed this section" in response.text
                self.say("conflict", f"{told}: stale (now {state.version}), autosave says so")
                return None
            self.expect(response, 409, told)
            self.say("conflict", f"{told}: stale (now {state.version}), conflict page")
            return Conflict(
                who,
                model.label,
                model.id,
                section.key,
                int(VERSION_RE.search(response.text).group(1)),
                html.unescape(MINE_RE.search(response.text).group(1)),
                _choices_on(response.text),
            )
        before = self.snapshot_answers(model)
        complete = completes(section, kind)
        expected = 303 if channel == "later" or (channel == "continue" and complete) else 400
        self.expect(response, 200 if channel == "autosave" else expected, told)
        state.version += 1
        state.status = "completed" if complete else "in_progress"
        self.read_sections(model)
        if kind == "empty":
            assert state.answers == {}, f"{told}: an empty save kept {state.answers}"
        was = model.status
        self.content_changed(model, before)
        self.say("changed", f"{told}: saved as version {state.version}, {state.status}; {was} -> {model.status}")
        return state.version if response.status_code != 303 else None

    @rule(target=conflicts, conflict=consumes(conflicts), keep=st.sampled_from(["mine", "theirs", "mixed"]))
    def resolve(self, conflict, keep):
        """Settles a conflict page: each differing answer kept as mine, theirs, or (long text) both."""
        model = self.models[conflict.notification_id]
        state = model.sections[conflict.section_key]
        choices = {}
        for index, (key, offered) in enumerate(sorted(conflict.choices.items())):
            choices[f"choice-{key}"] = {
                "mine": "mine",
                "theirs": "theirs",
                "mixed": offered[index % len(offered)],
            }[keep]
        told = f"{conflict.person} settles {conflict.section_key} of {model.label} keeping {keep}"
        response = self.post(
            conflict.person,
            f"/notifications/{model.id}/sections/{conflict.section_key}/resolve",
            {"version": str(conflict.version), "mine": conflict.mine, **choices},
        )
        if not model.editable:
            self.expect_not_saved(response, told, model)
            return multiple()
        if conflict.version != state.version:
            self.expect(response, 409, told)
            self.say("conflict", f"{told}: stale again (now {state.version})")
            return Conflict(
                conflict.person,
                model.label,
                model.id,
                conflict.section_key,
                int(VERSION_RE.search(response.text).group(1)),
                html.unescape(MINE_RE.search(response.text).group(1)),
                _choices_on(response.text),
            )
        self.expect(response, 303, told)
        before = self.snapshot_answers(model)
        old_status = state.status
        state.version += 1
        self.read_sections(model)
        if keep == "theirs":
            # Keeping theirs everywhere saves what was there: the answers, and whether they were complete.
            assert state.answers == before[conflict.section_key], (
                f"{told}: the answers changed from {before[conflict.section_key]} to {state.answers}"
            )
            state.status = "in_progress" if old_status == "in_progress" else "completed"
        else:
            with self.world.db_factory() as db:
                notification = db.get(Notification, model.id)
                state.status = next(d.status for d in notification.sections if d.section_key == conflict.section_key)
            assert state.status in ("completed", "in_progress"), f"{told}: the section is {state.status}"
        was = model.status
        self.content_changed(model, before)
        self.say("changed", f"{told}: saved as version {state.version}, {state.status}; {was} -> {model.status}")
        return multiple()

    # Files -------------------------------------------------------------------------------------

    @precondition(some(takes_files))
    @rule(who=st.sampled_from(["drafter A", "drafter B"]), choice=CHOICE, aim=AIM, salt=st.integers(0, 3))
    def upload(self, who, choice, aim, salt):
        model = self.pick(choice, aim, takes_files)
        content = PDF + f"% {model.label} {salt}\n".encode()
        told = f"{who} attaches a file to {model.label}"
        response = self.post(
            who,
            f"/notifications/{model.id}/attachments/{FILE_QUESTION}",
            {"back": f"/notifications/{model.id}"},
            files={"file": ("evidence.pdf", content, "application/pdf")},
        )
        if not model.editable:
            self.expect_moved_on(response, "change its files", told, model)
            return
        if not model.has_file_question:
            self.expect(response, 404, told)
            self.say("refused", f"{told}: {model.type_key} has no file question")
            return
        limit = model.file_limit
        if len(model.attachments) >= limit:
            self.expect(response, 400, told)
            self.say("refused", f"{told}: refused, it has {limit} already")
            return
        self.expect(response, 303, told)
        with self.world.db_factory() as db:
            model.attachments = [a.id for a in attachments_of(db, model.id)]
        was = model.status
        if model.status == "approved":
            model.status = states.MOVES["edit_after_approval"].target
        self.say("changed", f"{told}: it has {len(model.attachments)}; {was} -> {model.status}")

    @precondition(some(has_files))
    @rule(who=st.sampled_from(["drafter A", "drafter B"]), choice=CHOICE, aim=AIM, which=st.integers(0, 4))
    def remove_attachment(self, who, choice, aim, which):
        model = self.pick(choice, aim, has_files)
        # None left on this one: a file that is not there, refused like a removed one.
        attachment_id = model.attachments[which % len(model.attachments)] if model.attachments else 10**9
        told = f"{who} removes file {attachment_id} from {model.label}"
        response = self.post(who, f"/notifications/{model.id}/attachments/{attachment_id}/remove")
        # A file that is not there is not found, whatever the notification's status.
        if not model.attachments:
            self.expect(response, 404, told)
            self.say("refused", f"{told}: there is no such file")
            return
        if not model.editable:
            self.expect_moved_on(response, "change its files", told, model)
            return
        self.expect(response, 303, told)
        model.attachments.remove(attachment_id)
        was = model.status
        if model.status == "approved":
            model.status = states.MOVES["edit_after_approval"].target
        self.say("changed", f"{told}: {was} -> {model.status}")

    # Moves -------------------------------------------------------------------------------------

    def move(self, who: str, model: Model, action: str, name: str, data: dict | None = None, *, allowed: bool):
        """Makes a move and checks the model's verdict: the target status if allowed, nothing changed if not."""
        told = f"{who} tries to {name.replace('_', ' ')} {model.label} ({model.status})"
        response = self.post(who, f"/notifications/{model.id}/{action}", data)
        if not allowed:
            self.expect(response, 400, told)
            self.say("refused", f"{told}: refused")
            return False
        self.expect(response, 303, told)
        model.status = states.MOVES[name].target
        self.say("changed", f"{told}: now {model.status}")
        return True

    @precondition(some(ready_for_review))
    @rule(who=st.sampled_from(["drafter A", "drafter B"]), choice=CHOICE, aim=AIM)
    def request_review(self, who, choice, aim):
        model = self.pick(choice, aim, ready_for_review)
        self.move(who, model, "request-review", "request_review", allowed=ready_for_review(model))

    @precondition(some(IN_REVIEW))
    @rule(
        choice=CHOICE,
        aim=AIM,
        summary=st.sampled_from(["Please check the dates", "", "   "]),
        sections=st.lists(st.integers(0, 4), max_size=3, unique=True),
    )
    def request_changes(self, choice, aim, summary, sections):
        model = self.pick(choice, aim, IN_REVIEW)
        chosen = sorted({model.section(index).key for index in sections})
        data = {"summary": summary, "sections": chosen}
        told = f"reviewer asks for changes to {chosen} of {model.label} ({model.status})"
        if model.status not in states.MOVES["request_changes"].sources:
            self.move("reviewer", model, "request-changes", "request_changes", data, allowed=False)
            return
        response = self.post("reviewer", f"/notifications/{model.id}/request-changes", data)
        if not summary.strip() or not chosen:
            self.expect(response, 400, told)
            self.say("refused", f"{told}: refused, no summary or no sections")
            return
        self.expect(response, 303, told)
        model.status = states.MOVES["request_changes"].target
        for key in chosen:
            model.sections[key].status = "needs_attention"
        self.say("changed", f"{told}: now {model.status}")

    @precondition(some(IN_REVIEW))
    @rule(choice=CHOICE, aim=AIM)
    def approve(self, choice, aim):
        model = self.pick(choice, aim, IN_REVIEW)
        self.move("reviewer", model, "approve", "approve", allowed=model.status in states.MOVES["approve"].sources)

    # Never the last open one, so that an example is not left with nothing to do but look.
    @precondition(lambda self: sum(map(OPEN, self.models.values())) >= 2)
    @rule(who=st.sampled_from(["drafter A", "drafter B"]), choice=CHOICE, aim=AIM)
    def withdraw(self, who, choice, aim):
        model = self.pick(choice, aim, OPEN)
        self.move(who, model, "withdraw", "withdraw", allowed=model.status in states.MOVES["withdraw"].sources)

    @precondition(some(SUBMITTABLE))
    @rule(choice=CHOICE, aim=AIM, declared=st.sampled_from([True, True, False]))
    def submit(self, choice, aim, declared):
        model = self.pick(choice, aim, SUBMITTABLE)
        data = {"declaration": "yes"} if declared else {}
        if model.status == "submitted":
            # Pressed again: the one submission there is, and nothing new.
            response = self.post("submitter", f"/notifications/{model.id}/submit", data)
            self.expect(response, 303, f"submitter submits {model.label} again")
            assert response.headers["location"].endswith(f"/notifications/{model.id}/receipt")
            self.say("refused", f"submitter submits {model.label} again: its receipt")
            return
        if model.status == "approved" and not declared:
            response = self.post("submitter", f"/notifications/{model.id}/submit", data)
            self.expect(response, 400, f"submitter submits {model.label} without the declaration")
            assert "Confirm that the information is correct" in response.text
            self.say("refused", f"submitter submits {model.label} without the declaration: refused")
            return
        self.move("submitter", model, "submit", "submit", data, allowed=model.status == "approved")

    @precondition(lambda self: some(SUBMITTED)(self) and self.room_for_more())
    @rule(who=st.sampled_from(["drafter A", "drafter B"]), choice=CHOICE, aim=AIM, which=st.integers(0, 3))
    def follow_up(self, who, choice, aim, which):
        model = self.pick(choice, aim, SUBMITTED)
        kinds = [kind.key for kind in follow_up_types(Notification(type_key=model.type_key))]
        # One in four is a type that may not follow this one: the form's error, nothing started.
        type_key = kinds[which % len(kinds)] if which < 3 else "dols_outcome"
        told = f"{who} starts a follow-up ({type_key}) to {model.label} ({model.status})"
        response = self.post(who, f"/notifications/{model.id}/follow-up", {"type": type_key})
        if model.status != "submitted":
            self.expect(response, 404, told)
            self.say("refused", f"{told}: refused")
            return
        if type_key not in kinds:
            self.expect(response, 400, told)
            self.say("refused", f"{told}: refused, not a follow-up type")
            return
        self.expect(response, 303, told)
        new_id = int(response.headers["location"].rsplit("/", 1)[1])
        starter = self.person(who).user_id
        # The same person's untouched follow-up of this type is a second press of Start: the same draft back.
        again = next(
            (
                other
                for other in self.models.values()
                if other.parent_id == model.id
                and other.type_key == type_key
                and other.created_by == starter
                and other.status == "draft"
                and all(section.version == 0 for section in other.sections.values())
            ),
            None,
        )
        if again is not None:
            assert new_id == again.id, f"{told}: started #{new_id}, not {again.label} (#{again.id}) again"
            self.say("looked", f"{told}: pressed again, {again.label} as before")
            return
        # A follow-up is about the same location as the notification it follows.
        new = self.new_model(new_id, type_key, starter, model.location_id, parent_id=model.id)
        # It starts with the original's answers as the model has them (the rule is drafting's, tested on its own
        # in test_follow_up_prefill.py): those sections are in progress, not yet saved.
        original = Notification(type_key=model.type_key)
        original.sections = [
            SectionDraft(section_key=key, answers=dict(s.answers)) for key, s in model.sections.items()
        ]
        for key, answers in answers_carried_over(original, definition(type_key)).items():
            new.sections[key].answers = dict(answers)
            new.sections[key].status = "in_progress"
        with self.world.db_factory() as db:
            assert db.get(Notification, new_id).parent_id == model.id
        self.say("changed", f"{told}: started {new.label} (#{new_id})")

    # Comments and assignment -------------------------------------------------------------------

    @precondition(lambda self: self.models)
    @rule(
        who=st.sampled_from(["drafter A", "drafter B", "reviewer", "submitter"]),
        choice=CHOICE,
        section=st.integers(0, 4),
        body=st.sampled_from(["Is this date right?", "Please add the time", "Agreed", ""]),
    )
    def comment(self, who, choice, section, body):
        model = self.pick(choice, "any", anything)
        key = model.section(section).key
        told = f"{who} comments on {key} of {model.label} ({model.status})"
        response = self.post(who, f"/notifications/{model.id}/comments", {"section": key, "body": body})
        if not body:
            self.expect(response, 400, told)
            self.say("refused", f"{told}: refused, empty")
            return
        self.expect(response, 303, told)
        model.comments += 1
        self.say("changed", f"{told}: {model.comments} comments")

    @precondition(some(can_edit))
    @rule(
        who=st.sampled_from(["drafter A", "drafter B"]),
        choice=CHOICE,
        aim=AIM,
        to=st.sampled_from(["drafter A", "drafter B", "nobody", "drafter A", "drafter B", "reviewer"]),
    )
    def assign(self, who, choice, aim, to):
        model = self.pick(choice, aim, can_edit)
        assignee = None if to == "nobody" else self.person(to).user_id
        told = f"{who} assigns {model.label} ({model.status}) to {to}"
        response = self.post(who, f"/notifications/{model.id}/assign", {"assignee": str(assignee or "")})
        if not model.editable:
            self.expect_moved_on(response, "change who it is assigned to", told, model)
            return
        if to == "reviewer":
            # The reviewer cannot draft, so cannot be given a draft to finish: only a tampered form asks.
            self.expect(response, 400, told)
            self.say("refused", f"{told}: refused, the reviewer cannot draft")
            return
        self.expect(response, 303, told)
        model.assignee = assignee
        self.say("changed", f"{told}: done")

    @precondition(lambda self: self.models)
    @rule(who=st.sampled_from(["drafter A", "drafter B"]), choice=CHOICE, aim=AIM, which=st.integers(0, 1))
    def change_location(self, who, choice, aim, which):
        """The location is asked once, at the start; this is the one way to change it, and it is content: an
        approval goes, as with any other change."""
        model = self.pick(choice, aim, can_edit)
        to = sorted(self.world.locations)[which]
        told = f"{who} moves {model.label} ({model.status}) to location #{to}"
        response = self.post(who, f"/notifications/{model.id}/location", {"location": str(to)})
        if not model.editable:
            self.expect_moved_on(response, "change its location", told, model)
            return
        self.expect(response, 303, told)
        was = model.status
        if to != model.location_id and model.status == "approved":
            model.status = states.MOVES["edit_after_approval"].target
        model.location_id = to
        self.say("changed", f"{told}: {was} -> {model.status}")

    # People without the permission -------------------------------------------------------------

    @precondition(lambda self: self.models)
    @rule(
        choice=CHOICE,
        attempt=st.sampled_from(
            [
                ("reviewer", "request-review"),
                ("submitter", "approve"),
                ("drafter A", "approve"),
                ("drafter B", "request-changes"),
                ("drafter A", "submit"),
                ("reviewer", "submit"),
                ("submitter", "withdraw"),
                ("reviewer", "assign"),
                ("submitter", "follow-up"),
                ("reviewer", "sections/about_you"),
                ("submitter", f"attachments/{FILE_QUESTION}"),
                ("reviewer", "location"),
            ]
        ),
    )
    def without_permission(self, choice, attempt):
        """Someone presses a button their roles do not give them: the central check refuses, whatever the state."""
        who, action = attempt
        model = self.pick(choice, "any", anything)
        data = {"declaration": "yes", "summary": "Fix it", "sections": "about_you", "version": "0"}
        response = self.post(who, f"/notifications/{model.id}/{action}", data)
        self.expect(response, 403, f"{who} tries {action} on {model.label}")
        self.say("refused", f"{who} tries {action} on {model.label} ({model.status}): 403")

    # After every step --------------------------------------------------------------------------

    @invariant()
    def database_agrees(self):
        if self.checked_once:
            self.world.steps += 1
        self.checked_once = True
        with self.world.db_factory() as db:
            check_notifications(db, self.models)


def _choices_on(page: str) -> dict[str, list[str]]:
    choices: dict[str, list[str]] = {}
    for key, value in CHOICE_RE.findall(page):
        choices.setdefault(key, []).append(value)
    return choices


# Built once: the checks run after every step, and building a statement costs more than running it.
IDS = bindparam("ids", expanding=True)
NOTIFICATIONS = select(Notification).where(Notification.id.in_(IDS)).options(selectinload(Notification.sections))
ATTACHMENTS = (
    select(Attachment)
    .where(Attachment.notification_id.in_(IDS), Attachment.removed_at.is_(None))
    .order_by(Attachment.id)
)
COMMENTS = (
    select(Comment.notification_id, func.count())
    .where(Comment.notification_id.in_(IDS))
    .group_by(Comment.notification_id)
)
SUBMISSIONS = select(Submission).where(Submission.notification_id.in_(IDS))


def check_notifications(db, models: dict[int, Model]) -> None:
    """The rules, and the model, against what the database holds: a few queries for all of them at once."""
    ids = {"ids": list(models)}
    rows = db.scalars(NOTIFICATIONS, ids).all()
    files: dict[int, list[Attachment]] = {}
    for attachment in db.scalars(ATTACHMENTS, ids):
        files.setdefault(attachment.notification_id, []).append(attachment)
    comments: dict[int, int] = dict(db.execute(COMMENTS, ids).all())
    submissions = {s.notification_id: s for s in db.scalars(SUBMISSIONS, ids)}
    assert len(rows) == len(models), "a notification disappeared"
    for notification in rows:
        model = models[notification.id]
        where = f"{model.label} (#{model.id}, {model.type_key})"
        assert notification.status in states.STATUSES, f"{where} is {notification.status!r}"
        problems = invariants.broken(db, notification)
        assert problems == [], f"{where}: {problems}"
        assert notification.status == model.status, f"{where} is {notification.status}, the model says {model.status}"
        for draft in notification.sections:
            expected = model.sections[draft.section_key]
            seen = (draft.version, draft.status, draft.answers)
            assert seen == (expected.version, expected.status, expected.answers), (
                f"{where}, section {draft.section_key}: version {draft.version}, {draft.status}, {draft.answers}; "
                f"the model says version {expected.version}, {expected.status}, {expected.answers}"
            )
        attached = [a.id for a in files.get(notification.id, [])]
        assert attached == model.attachments, f"{where} has files {attached}, the model says {model.attachments}"
        counted = comments.get(notification.id, 0)
        assert counted == model.comments, f"{where} has {counted} comments, the model says {model.comments}"
        assert notification.assigned_to_id == model.assignee, f"{where} is assigned to {notification.assigned_to_id}"
        assert notification.location_id == model.location_id, f"{where} is at location #{notification.location_id}"
        submission = submissions.get(notification.id)
        if notification.status != "submitted":
            assert submission is None, f"{where} is {notification.status} with a submission"
            continue
        assert submission is not None, f"{where} is submitted without a submission"
        answers = answers_of(notification)
        assert submission.snapshot["answers"] == answers, f"{where} differs from its snapshot"
        digest = content_hash(answers, [a.sha256 for a in files.get(notification.id, [])])
        assert submission.content_hash == digest, f"{where} changed after it was submitted"
        assert submission.reference == notification.reference, f"{where} has lost its reference"
        assert submission.snapshot["location"]["location_id"] == notification.location.regulator_location_id, (
            f"{where} was submitted for another location than its own"
        )


def test_random_interleavings_keep_the_workflow_rules(world, database_url, record_property):
    started = time.monotonic()
    rounds = 0
    while world.steps < STEPS_PER_DATABASE and rounds < MAX_ROUNDS:
        run_state_machine_as_test(seed(rounds)(lambda: WorkflowMachine(world)), settings=ROUND_SETTINGS)
        rounds += 1
    seconds = time.monotonic() - started
    database = database_url.split(":", 1)[0]
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in sorted(world.outcomes.items()))
    line = f"workflow state machine on {database}: {world.steps} steps in {seconds:.0f} s ({outcomes})"
    record_property(SUMMARY, line)
    assert world.steps >= STEPS_PER_DATABASE, line
