"""Sizes, counts, articles, dates and references read the same on every page and in every message."""

from datetime import UTC, date, datetime

import pytest

from portal.emails import render
from portal.notifications.registry import sorted_types
from portal.references import new_reference
from portal.text import (
    article,
    byte_size,
    count_of,
    date_time_words,
    date_words,
    plural,
    reference_groups,
    reference_spelt,
    time_of_day,
    with_article,
)
from portal.web.templating import format_datetime, spoken_reference


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (1536, "2 KB"),
        (2560, "3 KB"),
        (100 * 1024, "100 KB"),
        (1024 * 1024 - 1, "1 MB"),
        (1024 * 1024, "1 MB"),
        (1258291, "1.2 MB"),
        (50 * 1024 * 1024, "50 MB"),
    ],
)
def test_sizes_round_half_up_in_whole_kilobytes_and_tenths_of_a_megabyte(size, words):
    assert byte_size(size) == words


def test_templates_use_the_same_words(app):
    assert app.state.templates.env.filters["filesize"](2560) == byte_size(2560)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Abuse or allegation of abuse", "an Abuse or allegation of abuse"),
        ("Event that stops the service running safely", "an Event that stops the service running safely"),
        ("Incident reported to or investigated by the police", "an Incident reported to or investigated by the police"),
        ("Unauthorised absence of a detained person", "an Unauthorised absence of a detained person"),
        ("Serious injury", "a Serious injury"),
        ("Death of a person using the service", "a Death of a person using the service"),
        ("user", "a user"),
        ("one-off", "a one-off"),
        ("hour", "an hour"),
        ("MHA form", "an MHA form"),
        ("NHS body", "an NHS body"),
        ("DoLS outcome", "a DoLS outcome"),
        ("", "a "),
    ],
)
def test_the_article_follows_the_first_sound(phrase, expected):
    assert with_article(phrase) == expected


def test_no_type_title_reads_a_before_a_vowel():
    for kind in sorted_types():
        words = with_article(kind.title)
        assert not (words.startswith("a ") and kind.title[0].lower() in "aeiou"), words
        assert article(kind.title) in ("a", "an")


@pytest.mark.parametrize(
    ("count", "singular", "plural_form", "expected"),
    [
        (0, "minute", None, "0 minutes"),
        (1, "minute", None, "1 minute"),
        (2, "minute", None, "2 minutes"),
        (1, "person", "people", "1 person"),
        (3, "person", "people", "3 people"),
    ],
)
def test_counts_agree_with_their_nouns(count, singular, plural_form, expected):
    assert count_of(count, singular, plural_form) == expected
    assert plural(count, singular, plural_form) == expected.split(" ", 1)[1]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 12, 2, 8, 48), "8:48am on 2 December 2026"),
        (datetime(2026, 12, 2, 8, 0), "8am on 2 December 2026"),
        (datetime(2026, 12, 2, 15, 5), "3:05pm on 2 December 2026"),
        (datetime(2026, 12, 2, 12, 0), "midday on 2 December 2026"),
        (datetime(2026, 12, 2, 0, 0), "midnight on 2 December 2026"),
        (datetime(2026, 1, 9, 12, 30), "12:30pm on 9 January 2026"),
        (datetime(2026, 1, 9, 0, 30), "12:30am on 9 January 2026"),
    ],
)
def test_dates_and_times_in_gov_uk_style(moment, expected):
    assert date_time_words(moment) == expected
    assert time_of_day(moment) == expected.split(" on ")[0]


def test_dates_have_no_leading_zero():
    assert date_words(date(2026, 3, 4)) == "4 March 2026"


def test_the_page_filter_shows_a_stored_time_in_gov_uk_style():
    assert " on 2 December 2026" in format_datetime(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    assert format_datetime(None) == ""


def test_a_reference_is_grouped_and_spelt_for_reading_aloud():
    assert reference_groups("ABCD3467") == "ABCD 3467"
    assert reference_spelt("AB3") == "A for Alpha, B for Bravo, 3"
    reference = new_reference()
    shown = spoken_reference(reference)
    assert reference_groups(reference) in shown and 'class="govuk-visually-hidden"' in shown
    assert all(char in reference_spelt(reference) for char in reference)


def test_review_emails_read_an_before_a_vowel():
    subject, body = render(
        "approved",
        approved_by="R. Reviewer",
        notification_type="Abuse or allegation of abuse",
        location_name="Riverside House",
        location_id="1-100",
        link="https://example/",
    )
    assert "has approved an Abuse or allegation of abuse notification" in body
