"""Notification types as data: the shipped definitions, the strict loader, and answers to every kind of question."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.notifications.answers import validate_answer
from portal.notifications.definitions import (
    AGE_BANDS,
    KINDS,
    DefinitionError,
    Question,
    load_definitions,
)

SHIPPED = load_definitions()
NOW = datetime(2025, 6, 15, 12, 0)
NO_NAMES = "Do not enter the names of people using the service."

EXPECTED_TYPES = {
    "death_of_person_using_service": ("Regulation 16", "without delay after the death", "without_delay", None),
    "death_of_detained_person": ("Regulation 17", "without delay after the death", "without_delay", None),
    "unauthorised_absence_detained": ("Regulation 17", "without delay after the absence starts", "without_delay", None),
    "return_of_detained_person": ("Regulation 17", "without delay after the person returns", "without_delay", None),
    "serious_injury": ("Regulation 18(2)(a) and (b)", "without delay after the injury", "without_delay", None),
    "abuse_or_allegation": ("Regulation 18(2)(e)", "without delay after you become aware of it", "without_delay", None),
    "police_incident": ("Regulation 18(2)(f)", "as soon as possible after the incident", "as_soon_as_possible", None),
    "event_stopping_service": (
        "Regulation 18(2)(g)",
        "as soon as possible after the event starts",
        "as_soon_as_possible",
        None,
    ),
    "dols_outcome": (
        "Regulation 18",
        "as soon as the outcome is known (not when applying)",
        "as_soon_as_possible",
        None,
    ),
    "manager_absence_planned": ("Regulation 14", "no later than 28 days before the absence starts", "days_before", 28),
    "manager_absence_emergency": (
        "Regulation 14",
        "within 5 working days of the start of the absence",
        "working_days_after",
        5,
    ),
    "manager_return": ("Regulation 14(5)", "within 7 days of the manager's return", "days_after", 7),
    "provider_absence_planned": (
        "Regulation 14(1)(a) and (2)",
        "no later than 28 days before the absence starts",
        "days_before",
        28,
    ),
    "provider_absence_emergency": (
        "Regulation 14(1)(a) and (3)",
        "within 5 working days of the start of the absence",
        "working_days_after",
        5,
    ),
    "provider_return": ("Regulation 14(5)", "within 7 days of the provider's return", "days_after", 7),
    "provider_details_change": (
        "Regulation 15(1)(c) and (e)",
        "as soon as reasonably practicable, before or after the change",
        "as_soon_as_possible",
        None,
    ),
    "statement_of_purpose_change": ("Regulation 12(3)", "within 28 days of the revision", "days_after", 28),
    "registered_people_change": (
        "Regulation 15(1)(a), (b), (d) and (e)",
        "as soon as reasonably practicable, before or after the change",
        "as_soon_as_possible",
        None,
    ),
    "insolvency": (
        "Regulation 15(1)(f) and (g)",
        "as soon as reasonably practicable, before or after the event",
        "as_soon_as_possible",
        None,
    ),
    "liquidator_plans": ("Regulation 22(1)", "within 28 days of the appointment", "days_after", 28),
    "stopping_regulated_activity": (
        "Regulation 15(1)(b)",
        "as soon as reasonably practicable, before the change",
        "as_soon_as_possible",
        None,
    ),
    "death_of_registered_provider": (
        "Regulation 21(1) and (2)",
        "without delay after the death",
        "without_delay",
        None,
    ),
    "child_in_adult_psychiatric_unit": (
        "Regulation 18(2)(h)",
        "without delay after the admission",
        "without_delay",
        None,
    ),
    "dols_court_of_protection": (
        "Regulation 18(4A)(b) and (4B)",
        "as soon as the outcome is known (not when applying)",
        "as_soon_as_possible",
        None,
    ),
}
ABOUT_A_PERSON = {
    "death_of_person_using_service",
    "death_of_detained_person",
    "unauthorised_absence_detained",
    "return_of_detained_person",
    "serious_injury",
    "abuse_or_allegation",
    "dols_outcome",
    "child_in_adult_psychiatric_unit",
    "dols_court_of_protection",
}


def shipped_questions():
    return [(key, question) for key, kind in SHIPPED.items() for question in kind.all_questions()]


def answer(question, raw):
    return validate_answer(question, raw, now=NOW)


# --- The shipped definitions -------------------------------------------------------------------


def test_every_type_is_shipped_with_its_legal_basis_and_deadline():
    assert set(SHIPPED) == set(EXPECTED_TYPES)
    for key, (basis, wording, deadline_kind, days) in EXPECTED_TYPES.items():
        notification_type = SHIPPED[key]
        assert notification_type.legal_basis.startswith(basis + ","), key
        assert notification_type.deadline_wording == wording
        assert (notification_type.deadline_kind, notification_type.deadline_days) == (deadline_kind, days)
        assert notification_type.version >= 1


def test_every_kind_of_question_is_used_somewhere():
    assert {question.kind for _, question in shipped_questions()} == set(KINDS)


def test_follow_up_types_follow_the_absences():
    assert SHIPPED["return_of_detained_person"].follow_up_of == ("unauthorised_absence_detained",)
    assert set(SHIPPED["manager_return"].follow_up_of) == {"manager_absence_planned", "manager_absence_emergency"}
    assert set(SHIPPED["provider_return"].follow_up_of) == {"provider_absence_planned", "provider_absence_emergency"}


def test_every_type_starts_with_the_same_about_you_section():
    first = SHIPPED["serious_injury"].sections[0]
    assert first.key == "about_you"
    assert [q.key for q in first.questions] == [
        "completed_by_name",
        "completed_by_job_title",
        "contact_email",
        "contact_phone",
        "contact_is_you",
        "provider_reference",
    ]
    for notification_type in SHIPPED.values():
        assert notification_type.sections[0] == first, notification_type.key


def test_people_using_the_service_are_identified_by_identifier_and_age_band_only():
    for key in ABOUT_A_PERSON:
        person = SHIPPED[key].sections[1]
        questions = {q.key: q for q in person.questions}
        assert person.key == "person"
        assert questions["person_identifier"].kind == "person_identifier"
        assert "Do not use their name" in questions["person_identifier"].hint
        assert "date of birth" in questions["person_identifier"].hint
        assert questions["person_age_band"].kind == "age_band"


def test_no_section_asks_for_the_location_which_is_chosen_once_when_the_notification_is_started():
    # Two answers to "where" could disagree; the notification's own location is the one the regulator gets.
    for key, notification_type in SHIPPED.items():
        assert not any("location" in q.key for q in notification_type.all_questions()), key
        assert notification_type.location_hint.endswith("."), key


def test_a_location_question_is_refused_in_a_definition(tmp_path):
    (tmp_path / "sample.toml").write_text(sample(**{'kind = "long_text"': 'kind = "location"'}))
    with pytest.raises(DefinitionError) as raised:
        load_definitions(tmp_path)
    assert "unknown kind 'location'" in str(raised.value)


def test_long_text_asks_for_no_names_and_has_a_generous_limit():
    for key, question in shipped_questions():
        if question.kind == "long_text":
            assert NO_NAMES in question.hint, (key, question.key)
            assert "initials and job title" in question.hint, (key, question.key)
            assert question.rules["max_length"] >= 10_000, (key, question.key)


def test_every_shipped_question_reads_well_when_left_empty():
    for key, question in shipped_questions():
        if question.kind == "file" or not question.required:
            continue
        value, error = answer(question, None)
        assert error and "?" not in error, (key, question.key, error)
        assert re.match(r"(Enter|Select|Describe) ", error), (key, question.key, error)


def good_raw(question):
    """A raw form answer that each shipped question should accept."""
    return {
        "short_text": "x@example.com" if question.rules.get("format") == "email" else "01632 960 001",
        "long_text": "Found on the floor of the lounge by RN (night nurse).",
        "radios": question.options[0][0] if question.options else "",
        "checkboxes": [question.options[0][0]] if question.options else [],
        "yes_no": "yes",
        "date": {"day": "15", "month": "6", "year": "2025"},
        "time": "14:30",
        "datetime": {"day": "15", "month": "6", "year": "2025", "time": "09:00"},
        "number": "3",
        "age_band": "85-94",
        "file": [],
        "person_identifier": "CR-00123",
    }[question.kind]


def test_every_shipped_question_accepts_a_good_answer():
    for key, question in shipped_questions():
        value, error = answer(question, good_raw(question))
        assert error is None, (key, question.key, error)
        if question.follow_up is not None:
            assert isinstance(question.shows_follow_up(value), bool)


# --- Broken definitions ------------------------------------------------------------------------

VALID = """
key = "sample"
version = 1
title = "Sample"
legal_basis = "Regulation 18"
who_must_notify = "The registered person"
deadline_wording = "without delay"
deadline_kind = "without_delay"
guidance = "Tell us."
{extra_top}

[[sections]]
key = "event"
title = "The event"

[[sections.questions]]
key = "what_happened"
kind = "long_text"
label = "What happened"
rules = {{ max_length = 20000 }}
{extra_question}
"""


def sample(extra_top="", extra_question="", **replace):
    text = VALID.format(extra_top=extra_top, extra_question=extra_question)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


BROKEN = [
    pytest.param(
        "sample.toml",
        sample(**{'kind = "long_text"': 'kind = "essay"'}),
        "sample.toml: type sample, question what_happened: unknown kind 'essay'",
        id="unknown kind",
    ),
    pytest.param(
        "sample.toml",
        sample(
            extra_question='[[sections]]\nkey = "more"\ntitle = "More"\n[[sections.questions]]\n'
            'key = "what_happened"\nkind = "short_text"\nlabel = "Again"\n'
        ),
        "sample.toml: type sample, question what_happened: question key is used more than once",
        id="duplicate question key",
    ),
    pytest.param(
        "sample.toml",
        sample(extra_question='[[sections.questions]]\nkey = "injury_category"\nkind = "radios"\nlabel = "Category"\n'),
        "sample.toml: type sample, question injury_category: radios needs options",
        id="radios without options",
    ),
    pytest.param(
        "sample.toml",
        sample(**{"max_length = 20000": "max_length = 20000, max_chars = 10"}),
        "sample.toml: type sample, question what_happened: unknown rule 'max_chars' for long_text",
        id="unknown rule",
    ),
    pytest.param(
        "sample.toml",
        sample(
            extra_question='[[sections.questions]]\nkey = "category"\nkind = "radios"\nlabel = "Category"\n'
            'options = [{ value = "a", label = "A" }, { value = "b", label = "B" }]\n'
            'follow_up_when = "c"\n[sections.questions.follow_up]\nkey = "c_details"\n'
            'kind = "short_text"\nlabel = "Details"\n'
        ),
        "sample.toml: type sample, question category: follow_up_when 'c' is not one of a, b",
        id="bad follow_up_when",
    ),
    pytest.param(
        "other.toml",
        sample(),
        "other.toml: type sample: type key must match the file name",
        id="file stem mismatch",
    ),
    pytest.param(
        "sample.toml",
        sample(extra_top='follow_up_of = ["nowhere"]'),
        "sample.toml: type sample: follow_up_of names unknown type 'nowhere'",
        id="unknown follow_up_of",
    ),
    pytest.param("sample.toml", sample() + "\nkey = [unclosed\n", "sample.toml: not valid TOML", id="TOML syntax"),
    pytest.param(
        "sample.toml",
        sample(**{"rules = { max_length = 20000 }": ""}),
        "sample.toml: type sample, question what_happened: long_text needs a max_length rule",
        id="long text without a limit",
    ),
    pytest.param(
        "sample.toml",
        sample(**{"max_length = 20000": "max_length = 2000"}),
        "sample.toml: type sample, question what_happened: long_text max_length must be between 5,000",
        id="long text capped at 2000",
    ),
    pytest.param(
        "sample.toml",
        sample(**{'label = "What happened"': 'label = "What happened?"'}),
        "question what_happened: a label that is a question needs a required_message rule",
        id="question label without its own message",
    ),
    pytest.param(
        "sample.toml",
        sample(extra_question='[[sections.questions]]\nkey = "count"\nkind = "number"\nlabel = "Count"\n'),
        "sample.toml: type sample, question count: number needs min and max rules",
        id="number without bounds",
    ),
    pytest.param(
        "sample.toml",
        sample(extra_question='[[sections.questions]]\nkey = "Bad-Key"\nkind = "short_text"\nlabel = "X"\n'),
        "sample.toml: type sample, question Bad-Key: question key 'Bad-Key' must match",
        id="bad key format",
    ),
    pytest.param(
        "sample.toml",
        sample(**{"version = 1": "version = 0"}),
        "sample.toml: type sample: version must be a positive integer",
        id="version zero",
    ),
    pytest.param(
        "sample.toml",
        sample(**{"version = 1": "version = true"}),
        "sample.toml: type sample: version must be an integer",
        id="version boolean",
    ),
    pytest.param(
        "sample.toml",
        sample(**{'deadline_kind = "without_delay"': 'deadline_kind = "days_before"'}),
        "sample.toml: type sample: deadline_kind days_before needs deadline_days",
        id="days without a count",
    ),
    pytest.param(
        "sample.toml",
        sample(**{'deadline_kind = "without_delay"': 'deadline_kind = "soonish"'}),
        "sample.toml: type sample: unknown deadline_kind 'soonish'",
        id="unknown deadline kind",
    ),
    pytest.param(
        "sample.toml",
        sample(**{'guidance = "Tell us."': ""}),
        "sample.toml: type sample: missing required field 'guidance'",
        id="missing top-level key",
    ),
    pytest.param(
        "sample.toml",
        sample(
            extra_question='[[sections]]\nkey = "event"\ntitle = "Again"\n[[sections.questions]]\n'
            'key = "other"\nkind = "short_text"\nlabel = "Other"\n'
        ),
        "sample.toml: type sample, section event: section key is used more than once",
        id="duplicate section key",
    ),
    pytest.param(
        "sample.toml",
        sample(
            extra_question='[[sections.questions]]\nkey = "kinds"\nkind = "checkboxes"\nlabel = "Kinds"\n'
            'options = [{ value = "a", label = "A" }, { value = "a", label = "Also A" }]\n'
        ),
        "sample.toml: type sample, question kinds: option value 'a' is used more than once",
        id="duplicate option value",
    ),
    pytest.param(
        "sample.toml",
        sample(
            extra_question='[[sections.questions]]\nkey = "when"\nkind = "date"\nlabel = "When"\n'
            'follow_up_when = "yes"\n[sections.questions.follow_up]\nkey = "why"\n'
            'kind = "short_text"\nlabel = "Why"\n'
        ),
        "sample.toml: type sample, question when: only radios, checkboxes, yes_no questions can have a follow-up",
        id="follow-up on a date",
    ),
]


@pytest.mark.parametrize(("filename", "text", "message"), BROKEN)
def test_broken_definitions_are_refused_with_a_message_that_finds_the_mistake(tmp_path, filename, text, message):
    (tmp_path / filename).write_text(text)
    with pytest.raises(DefinitionError) as raised:
        load_definitions(tmp_path)
    assert message in str(raised.value)


def test_the_sample_itself_is_valid(tmp_path):
    (tmp_path / "sample.toml").write_text(sample())
    later = sample(**{'key = "sample"': 'key = "later"'}, extra_top='follow_up_of = ["sample"]')
    (tmp_path / "later.toml").write_text(later)
    loaded = load_definitions(tmp_path)
    assert loaded["later"].follow_up_of == ("sample",)
    assert loaded["sample"].question("what_happened").rules == {"max_length": 20000}
    assert loaded["sample"].location_hint == ""


def test_yes_no_follow_up_shows_on_yes_unless_told_otherwise():
    about_you = SHIPPED["serious_injury"].sections[0]
    contact = next(q for q in about_you.questions if q.key == "contact_is_you")
    assert contact.shows_follow_up("no") and not contact.shows_follow_up("yes")
    hospital = SHIPPED["serious_injury"].question("hospital_treatment")
    assert hospital.follow_up_when == "yes" and hospital.shows_follow_up("yes")
    informed = SHIPPED["death_of_person_using_service"].question("others_informed")
    assert informed.shows_follow_up(["coroner", "other"]) and not informed.shows_follow_up(["coroner"])


# --- Answers -----------------------------------------------------------------------------------

NAME = Question("completed_by_name", "short_text", "Your full name", rules={"required_message": "Enter your full name"})
DESCRIPTION = Question("description", "long_text", "Description", rules={"max_length": 20000})
DATE_OF_DEATH = SHIPPED["death_of_person_using_service"].question("date_of_death")
PEOPLE = SHIPPED["event_stopping_service"].question("people_affected")
CATEGORY = SHIPPED["serious_injury"].question("injury_category")
INFORMED = SHIPPED["death_of_person_using_service"].question("others_informed")
ABSENCE_STARTED = SHIPPED["unauthorised_absence_detained"].question("absence_started")


def test_short_text_is_cleaned_and_required():
    assert answer(NAME, "  Jo Bloggs\x00 ") == ("Jo Bloggs", None)
    assert answer(NAME, "") == (None, "Enter your full name")
    assert answer(NAME, "   \x00") == (None, "Enter your full name")
    # Invisible characters alone read as blank on every page, so they answer nothing.
    assert answer(NAME, "\u200b\u200d\ufeff \u2060") == (None, "Enter your full name")
    assert answer(NAME, "Zo\u00eb\u200d") == ("Zo\u00eb\u200d", None)
    assert answer(Question("job", "short_text", "Job title"), None) == (None, "Enter job title")
    assert answer(Question("nhs", "short_text", "NHS number"), None) == (None, "Enter NHS number")
    assert answer(Question("ref", "short_text", "Reference", required=False), "") == (None, None)
    assert answer(NAME, "x" * 201) == ("x" * 201, "Your full name must be 200 characters or fewer")


def test_email_and_telephone_formats():
    email = SHIPPED["police_incident"].question("contact_email")
    phone = SHIPPED["police_incident"].question("contact_phone")
    assert answer(email, " sam@example.org ") == ("sam@example.org", None)
    assert answer(email, "sam at example")[1] == "Enter an email address in the correct format, like name@example.com"
    assert answer(phone, "+44 808 157 0192") == ("+44 808 157 0192", None)
    assert answer(phone, "call me")[1].startswith("Enter a telephone number, like 01632 960 001")


def test_long_text_limit_is_the_questions_own_and_generous():
    assert answer(DESCRIPTION, "a" * 15_000) == ("a" * 15_000, None)
    assert answer(DESCRIPTION, "a" * 20_000)[1] is None
    assert answer(DESCRIPTION, "a" * 20_001)[1] == "Description must be 20,000 characters or fewer"
    assert answer(DESCRIPTION, "line one\r\nline two\x00") == ("line one\nline two", None)
    assert answer(DESCRIPTION, "") == (None, "Enter description")


def test_radios_accept_only_their_options():
    assert answer(CATEGORY, "fracture") == ("fracture", None)
    assert answer(CATEGORY, "") == (None, "Select what kind of injury it is")
    assert answer(CATEGORY, "broken_heart") == (None, "Select kind of injury from the list")
    assert answer(CATEGORY, 7) == (None, "Select kind of injury from the list")


def test_checkboxes_give_option_values_in_order():
    assert answer(INFORMED, ["police", "coroner", "police"]) == (["coroner", "police"], None)
    assert answer(INFORMED, []) == (None, "Select who you have told about the death")
    assert answer(INFORMED, ["coroner", "aliens"]) == ([], "Select who you have told from the list")
    assert answer(INFORMED, ["coroner", "none"])[1] == (
        'Select who you have told about the death, or select "None of these"'
    )
    assert answer(INFORMED, "coroner")[1] == "Select who you have told from the list"
    optional = SHIPPED["event_stopping_service"].question("others_informed")
    assert answer(optional, None) == ([], None)


def test_yes_no():
    question = SHIPPED["serious_injury"].question("known_risk")
    assert answer(question, "Yes") == ("yes", None)
    assert answer(question, "no") == ("no", None)
    assert answer(question, "") == (None, "Select yes if the person was known to be at risk of this kind of injury")
    assert answer(question, "maybe") == (None, "Select yes or no")


def test_dates_become_iso_and_are_checked():
    def day(d, m, y):
        return answer(DATE_OF_DEATH, {"day": d, "month": m, "year": y})

    assert day("3", "6", "2025") == ("2025-06-03", None)
    assert day(" 03 ", "Jun", "2025") == ("2025-06-03", None)
    assert day("15", "6", "2025") == ("2025-06-15", None)
    assert day("", "", "") == (None, "Enter the date of death")
    assert answer(DATE_OF_DEATH, None) == (None, "Enter the date of death")
    assert day("31", "2", "2025")[1] == "Date of death must be a real date"
    assert day("3", "13", "2025")[1] == "Date of death must be a real date"
    assert day("3", "6", "25")[1] == "Date of death must be a real date"
    assert day("3", "", "2025")[1] == "Date of death must include a month"
    assert day("", "6", "")[1] == "Date of death must include a day and year"
    assert day("16", "6", "2025")[1] == "Date of death must be today or in the past"


def test_date_rules_for_the_future_and_a_window():
    start = SHIPPED["manager_absence_planned"].question("absence_start")
    assert answer(start, {"day": "14", "month": "6", "year": "2025"})[1] == (
        "Date the absence will begin must be today or in the future"
    )
    recent = Question("seen", "date", "Date last seen", rules={"not_before_days": 30})
    assert answer(recent, {"day": "15", "month": "5", "year": "2025"})[1] == (
        "Date last seen must be on or after 16 May 2025"
    )
    assert answer(recent, {"day": "16", "month": "5", "year": "2025"}) == ("2025-05-16", None)


def test_times():
    time = SHIPPED["serious_injury"].question("injury_time")
    assert answer(time, "9:05") == ("09:05", None)
    assert answer(time, "14:30") == ("14:30", None)
    assert answer(time, "") == (None, None)
    for bad in ("25:00", "14:60", "9.05", "2pm", "1430"):
        assert answer(time, bad)[1] == "Enter a time like 14:30"


def test_datetimes():
    def at(d, m, y, t):
        return answer(ABSENCE_STARTED, {"day": d, "month": m, "year": y, "time": t})

    assert at("15", "6", "2025", "9:30") == ("2025-06-15T09:30", None)
    assert at("15", "6", "2025", "")[1] == "Date and time the absence began must include a time"
    assert at("15", "6", "2025", "noon")[1] == "Enter a time like 14:30"
    assert at("15", "6", "2025", "12:01")[1] == "Date and time the absence began must be now or in the past"
    assert at("30", "2", "2025", "10:00")[1] == "Date and time the absence began must be a real date"
    assert at("", "", "", "") == (None, "Enter the date and time the absence began")


def test_numbers():
    assert answer(PEOPLE, "12") == (12, None)
    assert answer(PEOPLE, "1,200") == (1200, None)
    assert answer(PEOPLE, "1,5") == ("1,5", "Number of people affected must be a number")
    assert answer(PEOPLE, "2.5") == ("2.5", "Number of people affected must be a whole number")
    assert answer(PEOPLE, "lots") == ("lots", "Number of people affected must be a number")
    assert answer(PEOPLE, "-1") == ("-1", "Number of people affected must be between 0 and 100,000")
    assert answer(PEOPLE, "") == (None, "Enter the number of people affected")
    assert answer(PEOPLE, "9" * 5000)[1] == "Number of people affected must be between 0 and 100,000"
    hours = Question("hours", "number", "Hours without power", rules={"min": 0, "max": 72})
    assert answer(hours, "3.5") == (3.5, None)
    assert answer(hours, "nan")[1] == "Hours without power must be a number"


def test_age_band_and_file():
    age = SHIPPED["serious_injury"].question("person_age_band")
    files = SHIPPED["serious_injury"].question("supporting_documents")
    assert [value for value, _ in AGE_BANDS][:5] == ["under_1", "1-4", "5-11", "12-15", "16-17"]
    # A band no longer offered is refused as a new answer, but an answer given under it still reads as words.
    assert answer(age, "0-4") == (None, "Select the person's age from the list")
    assert age.labels()["0-4"] == "0 to 4"
    assert answer(age, "85-94") == ("85-94", None)
    assert answer(age, "") == (None, "Select the person's age")
    assert answer(age, "102") == (None, "Select the person's age from the list")
    uploads = [object()]
    assert answer(files, uploads) == (uploads, None)


@pytest.mark.parametrize(
    ("question", "raw", "message"),
    [
        (NAME, ["Jo", "Bloggs"], "Your full name must be text"),
        (DESCRIPTION, {"text": "x"}, "Description must be text"),
        (PEOPLE, {"value": "3"}, "Number of people affected must be a number"),
        (DATE_OF_DEATH, ["3", "6", "2025"], "Date of death must be a real date"),
        (DATE_OF_DEATH, {"day": ["3"], "month": "6", "year": "2025"}, "Date of death must be a real date"),
        (INFORMED, [1, 2], "Select who you have told from the list"),
        (ABSENCE_STARTED, "2025-06-15T09:30", "Date and time the absence began must be a real date"),
    ],
)
def test_wrong_shapes_of_input_give_messages_not_exceptions(question, raw, message):
    assert answer(question, raw)[1] == message


# --- Whatever arrives, validate_answer answers ---------------------------------------------------

texts = st.one_of(st.text(max_size=40), st.text(alphabet="0123456789:.,-+ \x00", max_size=12))
scalars = st.one_of(st.none(), texts, st.integers(), st.floats(), st.booleans())
raw_inputs = st.one_of(
    scalars,
    st.lists(st.one_of(texts, st.sampled_from(["other", "none", "yes", "police", "fracture"]), scalars), max_size=5),
    st.dictionaries(st.sampled_from(["day", "month", "year", "time"]) | texts, scalars | st.lists(texts, max_size=2)),
)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(shipped_questions()), raw_inputs)
def test_validate_answer_never_raises_whatever_it_is_given(typed_question, raw):
    _, question = typed_question
    result = validate_answer(question, raw)
    assert isinstance(result, tuple) and len(result) == 2
    value, error = result
    if error is None:
        if question.kind != "file":
            json.dumps(value)
    else:
        assert isinstance(error, str) and error
