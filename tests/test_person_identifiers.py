"""People who use services are identified by the provider's own identifier: the question kind's rules, the
index kept with each save, support's search by it, and a notification's other notifications about the person."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
from sqlalchemy import select, text

from portal.db import make_engine, transaction
from portal.migrate import alembic_config
from portal.models import Location, Notification, NotificationIdentifier
from portal.notifications import people
from portal.notifications.answers import validate_answer
from portal.notifications.definitions import Question
from portal.notifications.examples import example_fields
from portal.notifications.identifiers import search_key
from portal.notifications.registry import definitions

from .conftest import DATABASES, ROOT, _fresh_postgres_database, add_member, count_queries, make_organisation, post_form
from .drafting import start_notification, version_on
from .journey import act

IDENTIFIER = Question(
    "person_identifier",
    "person_identifier",
    "Your unique identifier for the person",
    rules={"required_message": "Enter your unique identifier for the person", "max_length": 50},
)
OPTIONAL_IDENTIFIER = Question("person_identifier", "person_identifier", "Identifier", required=False, rules={})


# The answer's rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("CR-00123", "CR-00123"),
        ("  cr-00123  ", "cr-00123"),
        ("943   476\t5919", "943 476 5919"),
        # Typed through an input method: full-width letters, digits and hyphen fold to plain ones.
        ("ＣＲ－００１２３", "CR-00123"),
        ("ward 3/bed 12", "ward 3/bed 12"),
        # Eight digits running together are a plausible record number, not an obvious date.
        ("12031950", "12031950"),
    ],
)
def test_an_identifier_is_kept_as_typed_tidied(typed, stored):
    assert validate_answer(IDENTIFIER, typed) == (stored, None)


def test_case_and_spaces_do_not_change_the_search_key():
    assert search_key("CR-00123") == search_key(" cr-00123 ") == search_key("Cr-00123")
    assert search_key("943 476 5919") == search_key("9434765919")
    assert search_key("ＣＲ－００１２３") == search_key("cr-00123")
    # Punctuation is part of many providers' numbering: "CR-00123" and "CR00123" are kept apart.
    assert search_key("CR-00123") != search_key("CR00123")


@pytest.mark.parametrize(
    "date_of_birth",
    [
        "12/03/1950",
        "12.3.1950",
        "1950-03-12",
        "12 March 1950",
        "March 12th 1950",
        "12-Mar-50",
        "DOB 01/02/1950",
        "3/25/61",
    ],
)
def test_a_date_of_birth_is_refused_with_the_reason(date_of_birth):
    value, error = validate_answer(IDENTIFIER, date_of_birth)
    assert error == (
        "Do not use the person’s date of birth. Enter the identifier your service uses for them in its own "
        "records, for example a care record number"
    )
    assert value is not None, "the person's words are shown back so they can correct them"


@pytest.mark.parametrize("typed", ["Smith, John", "CR#00123", "ΑΒ-123", "CR-0012\u200b3", "<b>1</b>"])
def test_characters_outside_a_record_number_are_refused_in_words(typed):
    assert validate_answer(IDENTIFIER, typed)[1] == (
        "Your unique identifier for the person must only include letters, numbers, spaces, hyphens (-), "
        "full stops (.), slashes (/) and underscores (_)"
    )


@pytest.mark.parametrize("typed", ["John Smith", "Mrs Jane Smith", "-", "/", "..", "JS", "room b"])
def test_a_name_or_punctuation_alone_is_refused_because_it_holds_no_number(typed):
    """Unrelated people would be filed together under one "identifier" that is a name or a dash."""
    assert validate_answer(IDENTIFIER, typed)[1] == (
        "Enter the record number your service uses for the person, not their name. "
        "Your unique identifier for the person must include at least one number"
    )


@pytest.mark.parametrize("typed", ["CR-00123", "9434765919", "943 476 5919", "room 4b", "RX 77", "ward 3/bed 12"])
def test_record_numbers_and_codes_hold_a_number_and_are_accepted(typed):
    assert validate_answer(IDENTIFIER, typed)[1] is None


def test_length_and_required():
    assert validate_answer(IDENTIFIER, "A" * 49 + "1") == ("A" * 49 + "1", None)
    assert (
        validate_answer(IDENTIFIER, "A" * 51)[1]
        == "Your unique identifier for the person must be 50 characters or fewer"
    )
    for empty in (None, "", "   ", "\u200b"):
        assert validate_answer(IDENTIFIER, empty)[1] == "Enter your unique identifier for the person"
    assert validate_answer(OPTIONAL_IDENTIFIER, "  ") == (None, None)


@pytest.mark.parametrize("raw", [["CR-1"], {"day": "1"}, 12, b"CR-1"])
def test_a_tampered_answer_gets_a_message_never_an_exception(raw):
    value, error = validate_answer(IDENTIFIER, raw)
    assert error == "Your unique identifier for the person must be text"


def test_every_type_about_a_person_asks_for_the_identifier_as_its_own_kind():
    about_a_person = [kind for kind in definitions().values() if any(s.key == "person" for s in kind.sections)]
    assert len(about_a_person) == 9
    for kind in about_a_person:
        assert kind.question("person_identifier").kind == "person_identifier", kind.key
        assert [q.kind for q in kind.all_questions()].count("person_identifier") == 1, kind.key


def test_the_migration_keys_answers_as_the_portal_does():
    """The migration carries its own copy of search_key, frozen at its revision: if search_key ever changes,
    this fails, and the change needs a migration that keys the index again."""
    path = ROOT / "portal" / "migrations" / "versions" / "0011_person_identifiers.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for typed in ["CR-00123", " cr  00123 ", "ＣＲ－００１２３", "Straße 12", "ﬁle 1", "x" * 300, "INC 2024/17"]:
        assert migration._search_key(typed) == search_key(typed), typed


# The index, kept with each save ------------------------------------------------------------------


def fill(client, notification_id: int, section_key: str, type_key: str, location: str, **answers):
    """Saves one section through its form with example answers, some of them replaced."""
    section = next(s for s in definitions()[type_key].sections if s.key == section_key)
    path = f"/notifications/{notification_id}/sections/{section_key}"
    data: dict = {"action": "continue", "version": version_on(client.get(path).text)}
    for question in section.questions:
        data.update(example_fields(question))
    data.update(answers)
    pairs = [(name, each) for name, value in data.items() for each in (value if isinstance(value, list) else [value])]
    return post_form(client, path, pairs, from_page=path)


def index_of(db_factory, notification_id: int) -> dict[str, tuple[str, str]]:
    with db_factory() as db:
        rows = db.scalars(
            select(NotificationIdentifier).where(NotificationIdentifier.notification_id == notification_id)
        )
        return {row.question_key: (row.kind, row.search_key) for row in rows}


def test_the_index_follows_each_save_of_the_identifier_and_the_provider_reference(drafter, location_id, db_factory):
    notification = start_notification(drafter, "serious_injury", location_id)
    assert index_of(db_factory, notification) == {}

    fill(drafter, notification, "person", "serious_injury", "1-201000001", person_identifier="  cr-00123 ")
    fill(drafter, notification, "about_you", "serious_injury", "1-201000001", provider_reference="INC 2024/17")
    assert index_of(db_factory, notification) == {
        "person_identifier": ("person", "cr-00123"),
        "provider_reference": ("provider_reference", "inc2024/17"),
    }
    with db_factory() as db:
        saved = db.get(Notification, notification).sections
        assert {d.section_key: d.answers.get("person_identifier") for d in saved}["person"] == "cr-00123"

    # Changed: the old key goes, the new one comes, in the same save.
    fill(drafter, notification, "person", "serious_injury", "1-201000001", person_identifier="RX 77")
    assert index_of(db_factory, notification)["person_identifier"] == ("person", "rx77")

    # Refused (a date of birth) or cleared: the index holds nothing the answers do not.
    response = fill(drafter, notification, "person", "serious_injury", "1-201000001", person_identifier="1/2/1950")
    assert response.status_code == 400 and "date of birth" in response.text
    fill(drafter, notification, "about_you", "serious_injury", "1-201000001", provider_reference="")
    assert index_of(db_factory, notification) == {}


def test_the_index_is_written_only_under_the_notifications_lock(db_factory, demo_org, location_id, drafter):
    notification_id = start_notification(drafter, "serious_injury", location_id)
    kind = definitions()["serious_injury"]
    with transaction(db_factory) as db:
        notification = db.get(Notification, notification_id)
        with pytest.raises(RuntimeError, match="lock"):
            people.index_section(db, notification, kind.sections[1], {"person_identifier": "CR-1"})


# Support's search -------------------------------------------------------------------------------


@pytest.fixture
def other_provider(db_factory, as_person):
    """A second organisation with a drafter, a reviewer and a submitter of its own."""
    organisation = make_organisation(
        db_factory,
        "Hilltop Homes",
        "1-555000111",
        [
            ("drafter@hilltop.example", "drafter"),
            ("reviewer@hilltop.example", "reviewer"),
            ("submitter@hilltop.example", "submitter"),
        ],
    )
    with db_factory() as db:
        location = db.scalar(select(Location).where(Location.organisation_id == organisation["id"]))
        place = (location.id, location.regulator_location_id)
    return {
        "id": organisation["id"],
        "location": place,
        "drafter": as_person("drafter@hilltop.example"),
        "reviewer": as_person("reviewer@hilltop.example"),
        "submitter": as_person("submitter@hilltop.example"),
    }


def complete(client, type_key: str, location_id: int, regulator_location_id: str, **answers) -> int:
    notification = start_notification(client, type_key, location_id)
    for section in definitions()[type_key].sections:
        wanted = {key: value for key, value in answers.items() if key in {q.key for q in section.questions}}
        response = fill(client, notification, section.key, type_key, regulator_location_id, **wanted)
        assert response.status_code == 303, response.text[-1500:]
    return notification


def send(drafter, reviewer, submitter, notification: int) -> None:
    assert act(drafter, notification, "request-review").status_code == 303
    assert act(reviewer, notification, "approve").status_code == 303
    assert act(submitter, notification, "submit", {"declaration": "yes"}).status_code == 303


def found_links(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/support/notifications/(\d+)"', page)}


def test_support_finds_sent_notifications_by_identifier_and_provider_reference_across_organisations(
    as_role, agent, location_id, other_provider
):
    ours = as_role("drafter"), as_role("reviewer"), as_role("submitter")
    theirs = other_provider["drafter"], other_provider["reviewer"], other_provider["submitter"]
    sent_ours = complete(ours[0], "serious_injury", location_id, "1-201000001", person_identifier="CR-00123")
    send(*ours, sent_ours)
    their_place, their_regulator_id = other_provider["location"]
    sent_theirs = complete(theirs[0], "dols_outcome", their_place, their_regulator_id, person_identifier="cr-00123")
    send(*theirs, sent_theirs)
    referenced = complete(
        theirs[0], "police_incident", their_place, their_regulator_id, provider_reference="INC 2024/17"
    )
    send(*theirs, referenced)
    # A draft is the provider's own until it is sent or asked about: support's search does not find it.
    draft = complete(ours[0], "serious_injury", location_id, "1-201000001", person_identifier="CR-00123")

    by_identifier = agent.get("/support/search", params={"q": " Cr-00123 "})
    assert by_identifier.status_code == 200
    assert found_links(by_identifier.text) == {sent_ours, sent_theirs}
    assert draft not in found_links(by_identifier.text)
    assert "Riverside Care" in by_identifier.text and "Hilltop Homes" in by_identifier.text
    assert "Identifier for the person" in by_identifier.text
    assert "Serious injury" in by_identifier.text and "Submitted" in by_identifier.text

    by_reference = agent.get("/support/search", params={"q": "inc2024/17"})
    assert found_links(by_reference.text) == {referenced}
    assert "Provider’s own reference" in by_reference.text

    for opened in (sent_ours, sent_theirs, referenced):
        assert agent.get(f"/support/notifications/{opened}").status_code == 200


def test_a_search_that_matches_no_identifier_finds_nothing(agent, demo_org):
    page = agent.get("/support/search", params={"q": "CR-99999"})
    assert page.status_code == 200 and "0 results" in page.text


# Other notifications about the same person -------------------------------------------------------


def other_section(page: str) -> str:
    found = re.search(r'<section[^>]*id="same-person".*?</section>', page, re.S)
    return found.group(0) if found else ""


def test_a_notification_lists_the_organisations_others_about_the_person_as_the_viewer_may_see_them(
    as_role, as_person, db_factory, demo_org, other_provider
):
    (house, _), (meadow, _) = demo_org["locations"][:2]
    drafter = as_role("drafter")
    first = complete(drafter, "serious_injury", house, "1-201000001", person_identifier="CR-00123")
    at_house = complete(drafter, "abuse_or_allegation", house, "1-201000001", person_identifier="cr-00123")
    at_meadow = complete(drafter, "dols_outcome", meadow, "1-201000001", person_identifier="CR-00123 ")
    someone_else = complete(drafter, "serious_injury", house, "1-201000001", person_identifier="CR-00124")
    their_place, their_regulator_id = other_provider["location"]
    theirs = complete(other_provider["drafter"], "serious_injury", their_place, their_regulator_id)  # CR-00123 too

    listed = other_section(drafter.get(f"/notifications/{first}").text)
    assert "Other notifications about this person" in listed and "CR-00123" in listed
    links = {int(n) for n in re.findall(r'href="/notifications/(\d+)"', listed)}
    assert links == {at_house, at_meadow}
    assert someone_else not in links and theirs not in links and first not in links
    assert "Abuse or allegation of abuse" in listed and "Meadow View" in listed and "Draft" in listed

    # Someone who may see one location sees only that location's.
    add_member(db_factory, demo_org["id"], "carer@riverside.example", [("drafter", house)])
    carer = as_person("carer@riverside.example")
    listed = other_section(carer.get(f"/notifications/{first}").text)
    assert {int(n) for n in re.findall(r'href="/notifications/(\d+)"', listed)} == {at_house}

    # The other organisation's drafter never sees Riverside's, though their notification names CR-00123 too.
    assert other_section(other_provider["drafter"].get(f"/notifications/{theirs}").text) == ""

    # The whole document and the review page list them too.
    assert at_meadow in {
        int(n)
        for n in re.findall(
            r'href="/notifications/(\d+)"', other_section(drafter.get(f"/notifications/{first}/document").text)
        )
    }
    assert act(drafter, first, "request-review").status_code == 303
    review = as_role("reviewer").get(f"/notifications/{first}/review").text
    assert {int(n) for n in re.findall(r'href="/notifications/(\d+)"', other_section(review))} == {at_house, at_meadow}


def test_a_notification_naming_nobody_yet_shows_no_section(drafter, location_id):
    notification = start_notification(drafter, "serious_injury", location_id)
    assert "Other notifications about this person" not in drafter.get(f"/notifications/{notification}").text


def test_the_list_of_others_takes_the_same_statements_however_many_there_are(app, drafter, location_id):
    first = complete(drafter, "serious_injury", location_id, "1-201000001", person_identifier="CR-00123")
    complete(drafter, "dols_outcome", location_id, "1-201000001", person_identifier="CR-00123")

    def statements_for_the_page() -> int:
        statements, stop = count_queries(app.state.engine)
        page = drafter.get(f"/notifications/{first}")
        stop()
        assert page.status_code == 200
        return len(statements)

    few = statements_for_the_page()
    for _ in range(people.OTHERS_SHOWN + 2):
        complete(drafter, "abuse_or_allegation", location_id, "1-201000001", person_identifier="cr-00123")
    many = statements_for_the_page()
    page = other_section(drafter.get(f"/notifications/{first}").text)
    assert len(re.findall(r'href="/notifications/(\d+)"', page)) == people.OTHERS_SHOWN
    assert "Only the 10 most recent are shown" in page
    assert few == many, f"{few} statements with one other notification, {many} with {people.OTHERS_SHOWN + 3}"


# The migration's backfill ------------------------------------------------------------------------


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    """A database of its own, not the suite's shared one, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    url, drop = _fresh_postgres_database()
    yield url
    drop()


def test_the_migration_indexes_the_answers_already_saved(empty_database):
    from alembic import command

    engine = make_engine(empty_database)
    config = alembic_config(empty_database)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
    when = "'2026-01-01 00:00:00+00'"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, kind, name, provider_id, separation_of_duties, created_at)"
                f" VALUES (1, 'provider', 'A', '1-1', true, {when}), (2, 'provider', 'B', '1-2', true, {when})"
            )
        )
        connection.execute(
            text(
                "INSERT INTO locations (id, organisation_id, name, regulator_location_id)"
                " VALUES (1, 1, 'One', '1-5'), (2, 2, 'Two', '1-6')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO notifications (id, organisation_id, location_id, type_key, type_version, status,"
                f" created_at, updated_at) VALUES (1, 1, 1, 'serious_injury', 1, 'draft', {when}, {when}),"
                f" (2, 2, 2, 'police_incident', 1, 'draft', {when}, {when})"
            )
        )
        sections = [
            (1, "about_you", {"completed_by_name": "A B", "provider_reference": " INC 2024/17 "}),
            (1, "person", {"person_identifier": "CR-00123", "person_age_band": "85-94"}),
            (1, "injury", {"what_happened": "CR-00999 is not indexed: it is not the identifier question"}),
            (2, "about_you", {"provider_reference": ""}),
        ]
        for notification_id, key, answers in sections:
            connection.execute(
                text(
                    "INSERT INTO notification_sections (notification_id, section_key, answers, raw, status, version)"
                    " VALUES (:n, :key, :answers, '{}', 'completed', 1)"
                ),
                {"n": notification_id, "key": key, "answers": json.dumps(answers)},
            )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT notification_id, organisation_id, question_key, kind, search_key"
                " FROM notification_identifiers ORDER BY question_key"
            )
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        (1, 1, "person_identifier", "person", "cr-00123"),
        (1, 1, "provider_reference", "provider_reference", "inc2024/17"),
    ]
