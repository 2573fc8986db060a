"""Which notification do I need: every path of the tree ends at existing types (or says why none), and the
pages walk it with no JavaScript and no session state."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest

from portal.notifications import triage
from portal.notifications.registry import definition


def every_path(tree: triage.Tree) -> list[list[tuple[str, str]]]:
    """Every sequence of answers from the first question to an ending; fails on a question asked twice."""
    paths: list[list[tuple[str, str]]] = []

    def follow(key: str, so_far: list[tuple[str, str]]) -> None:
        assert key not in [k for k, _ in so_far], f"the tree asks {key} twice on one path: {so_far}"
        for option in tree.questions[key].options:
            here = [*so_far, (key, option.value)]
            if option.next is None:
                paths.append(here)
            else:
                follow(option.next, here)

    follow(tree.first, [])
    return paths


PATHS = every_path(triage.tree())


def test_every_path_ends_at_existing_types_or_says_why_none():
    assert len(PATHS) > 20
    for path in PATHS:
        place = triage.walk(dict(path))
        assert place.question is None, path
        assert [(step.question.key, step.option.value) for step in place.answered] == path
        assert all(definition(key) is not None for key in place.types), path
        assert place.types or place.ending, f"{path} ends naming no type and saying nothing"


def test_every_question_can_be_reached():
    reached = {key for path in PATHS for key, _ in path}
    assert reached == set(triage.tree().questions)


def test_today_s_types_can_all_be_reached():
    from portal.notifications.registry import definitions

    found = {key for path in PATHS for key in triage.walk(dict(path)).types}
    assert found == set(definitions())


@pytest.mark.parametrize(
    ("answers", "types"),
    [
        (
            {"what": "died", "death_scope": "yes", "death_detained": "no", "death_abuse": "yes"},
            ["death_of_person_using_service", "abuse_or_allegation"],
        ),
        (
            {"what": "police", "police_whom": "injured", "injury_scope": "yes", "injury_abuse": "no"},
            ["serious_injury"],
        ),
        ({"what": "police", "police_whom": "no"}, ["police_incident"]),
        (
            {"what": "detained_absent", "secure_service": "yes", "absence_stage": "returned_not_told"},
            ["unauthorised_absence_detained", "return_of_detained_person"],
        ),
        ({"what": "manager", "away_who": "manager", "manager_stage": "short"}, []),
    ],
)
def test_one_event_can_need_several_notifications(answers, types):
    assert triage.walk(answers).types == types


def test_a_load_refuses_a_tree_naming_an_unknown_type(tmp_path):
    broken = tmp_path / "triage.toml"
    broken.write_text(
        '[[questions]]\nkey = "what"\nquestion = "What?"\n'
        '[[questions.options]]\nvalue = "x"\nlabel = "X"\nadds = ["no_such_type"]\n'
    )
    with pytest.raises(ValueError, match="no_such_type"):
        triage.load_tree(broken)


def test_answers_off_the_path_are_ignored_and_a_changed_answer_is_asked_again():
    place = triage.walk({"what": "service", "death_abuse": "yes"})
    assert place.question is None and place.types == ["event_stopping_service"]
    place = triage.walk({"what": "not-an-option"})
    assert place.question is not None and place.question.key == "what" and place.invalid


def _continue(client, page: str, choice: str | None) -> tuple[str, str]:
    """Submits the page's GET form as a browser does: its hidden fields, then the chosen radio."""
    form = re.search(r'<form method="get" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    fields = [
        (unescape(n), unescape(v)) for n, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form[2])
    ]
    name = re.search(r'class="govuk-radios__input" id="[^"]+" name="([^"]+)"', form[2])[1]
    if choice is not None:
        fields.append((name, choice))
    address = f"{form[1]}?{urlencode(fields)}"
    response = client.get(address)
    return address, response


def test_the_pages_walk_to_two_notifications_and_start_each_one(drafter):
    client = drafter
    assert 'href="/notifications/which"' in client.get("/dashboard").text
    page = client.get("/notifications/new").text
    assert 'href="/notifications/which"' in page
    first = client.get("/notifications/which")
    assert first.status_code == 200 and "What happened?" in first.text
    _, empty = _continue(client, first.text, None)
    assert empty.status_code == 400 and "Select an answer" in empty.text and "What happened?" in empty.text
    response = first
    for choice in ("died", "yes", "no", "yes"):
        _, response = _continue(client, response.text, choice)
        assert response.status_code == 200
    text = response.text
    assert "You need to send 2 notifications" in text
    assert "Death of a person using the service" in text and "Abuse or allegation of abuse" in text
    starts = re.findall(r'href="(/notifications/new\?type=[a-z_]+)"', text)
    assert starts == [
        "/notifications/new?type=death_of_person_using_service",
        "/notifications/new?type=abuse_or_allegation",
    ]
    chosen = client.get(starts[1]).text
    assert re.search(r'name="type" type="radio" value="abuse_or_allegation" checked', chosen) or re.search(
        r'value="abuse_or_allegation"[^>]*checked', chosen
    )
    # Back takes off the last answer; Change goes to that question with the answers before it.
    assert 'href="/notifications/which?what=died&amp;death_scope=yes&amp;death_detained=no"' in text


def test_an_ending_with_nothing_to_send_says_why(drafter):
    client = drafter
    page = client.get("/notifications/which?what=manager&away_who=manager&manager_stage=short")
    assert page.status_code == 200
    assert "You do not need to send a notification" in page.text and "less than 28 days" in page.text
