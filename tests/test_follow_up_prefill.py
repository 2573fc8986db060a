"""A follow-up starts with the original's answers, and its reviewers see what it changes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import Notification, NotificationIdentifier, SectionDraft
from portal.notifications.registry import definition

from .conftest import post_form
from .drafting import version_on
from .journey import act, submitted


@pytest.fixture
def people(as_role):
    return {role: as_role(role) for role in ("drafter", "reviewer", "submitter")}


def start_follow_up(client, original: int, type_key: str) -> int:
    page = f"/notifications/{original}/follow-up"
    response = post_form(client, page, {"type": type_key}, from_page=page)
    assert response.status_code == 303, response.text[-2000:]
    return int(response.headers["location"].rsplit("/", 1)[1])


def sections_of(db_factory, notification_id: int) -> dict[str, SectionDraft]:
    with db_factory() as db:
        rows = db.scalars(select(SectionDraft).where(SectionDraft.notification_id == notification_id)).all()
        return {row.section_key: row for row in rows}


def test_a_follow_up_of_the_same_type_starts_with_every_answer_and_each_section_to_check(
    people, location_id, db_factory
):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    original, reference = submitted(drafter, reviewer, submitter, "serious_injury", location_id)
    follow_up = start_follow_up(drafter, original, "serious_injury")

    before, after = sections_of(db_factory, original), sections_of(db_factory, follow_up)
    files = {q.key for s in definition("serious_injury").sections for q in s.questions if q.kind == "file"}
    for key, section in before.items():
        assert after[key].answers == {k: v for k, v in section.answers.items() if k not in files}
        # Started, not complete: what was true then is read and saved again before it counts.
        assert after[key].status == ("in_progress" if after[key].answers else "not_started")
        assert after[key].version == 0
    assert "In progress" in drafter.get(f"/notifications/{follow_up}").text
    # Answers written outside the section save are in the identifier index all the same.
    with db_factory() as db:
        indexed = set(
            db.scalars(
                select(NotificationIdentifier.search_key).where(NotificationIdentifier.notification_id == follow_up)
            )
        )
        original_indexed = set(
            db.scalars(
                select(NotificationIdentifier.search_key).where(NotificationIdentifier.notification_id == original)
            )
        )
    assert indexed and indexed == original_indexed

    # The reviewer sees no difference yet, then the one answer the drafter changes, in words.
    section = definition("serious_injury").sections[-1]
    question = next(q for q in section.questions if q.kind == "long_text")
    path = f"/notifications/{follow_up}/sections/{section.key}"
    page = drafter.get(path).text
    old = after[section.key].answers[question.key]
    assert old in page, "the original's answer is on the section page"
    pairs = [("action", "continue"), ("version", version_on(page))]
    for key, value in after[section.key].answers.items():
        for each in value if isinstance(value, list) else [value]:
            pairs.append((key, each))
    pairs = [(k, "The bruising has gone down." if k == question.key else v) for k, v in pairs]
    assert post_form(drafter, path, pairs, from_page=path).status_code == 303
    review = reviewer.get(f"/notifications/{follow_up}/review").text
    assert "What this follow-up changes" in review and reference[:4] + " " + reference[4:] in review
    assert re.search(
        rf"{re.escape(question.label)}</dt>\s*<dd[^>]*><strong>Changed</strong> from “{re.escape(old)}” to “The bruising has gone down.”",
        review,
    )


def test_a_follow_up_of_another_type_takes_the_questions_they_share(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    original, reference = submitted(drafter, reviewer, submitter, "unauthorised_absence_detained", location_id)
    follow_up = start_follow_up(drafter, original, "return_of_detained_person")
    before, after = sections_of(db_factory, original), sections_of(db_factory, follow_up)
    assert after["about_you"].answers == before["about_you"].answers
    assert after["person"].answers["person_identifier"] == before["person"].answers["person_identifier"]
    assert after["about_you"].status == "in_progress"
    assert after["return"].answers == {} and after["return"].status == "not_started"
    with db_factory() as db:
        assert db.scalar(
            select(NotificationIdentifier.search_key).where(
                NotificationIdentifier.notification_id == follow_up, NotificationIdentifier.kind == "person"
            )
        )
    # Its own questions read as added, once answered.
    from .drafting import fill_section

    for section in definition("return_of_detained_person").sections:
        assert fill_section(drafter, follow_up, section).status_code == 303
    review = reviewer.get(f"/notifications/{follow_up}/review").text
    assert "the questions the two ask in common" in review
    assert "<strong>Added:</strong>" in review


def test_an_ordinary_notification_shows_no_differences(people, location_id):
    from .journey import draft_complete

    notification = draft_complete(people["drafter"], "dols_outcome", location_id, with_files=False)
    act(people["drafter"], notification, "request-review")
    assert "What this follow-up changes" not in people["reviewer"].get(f"/notifications/{notification}/review").text


def test_a_follow_up_is_still_one_draft_per_press(people, location_id, db_factory):
    drafter, reviewer, submitter = people["drafter"], people["reviewer"], people["submitter"]
    original, _ = submitted(drafter, reviewer, submitter, "serious_injury", location_id)
    first = start_follow_up(drafter, original, "serious_injury")
    assert start_follow_up(drafter, original, "serious_injury") == first
    with db_factory() as db:
        assert db.get(Notification, first).parent_id == original
