"""Two workers, fifty people saving the same section at once: every save is either applied or
answered with the conflict page carrying that person's words, and nothing is lost.

The real portal runs in a subprocess (`portal serve --workers 2`) against the test database, so
the saves race across two processes and the database's own locking decides, as in production.
"""

from __future__ import annotations

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Location, SectionDraft, User

from .conftest import make_organisation
from .drafting import start_notification, version_on
from .live_server import LiveServer, client_for, sign_in

PEOPLE = 50
SECTION = "about_you"
CONFLICT = "Someone else changed this section"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
MINE_RE = re.compile(r'name="mine" value="([^"]*)"')


@pytest.fixture
def server(database_url, migrated, tmp_path):
    live = LiveServer(database_url, tmp_path / "portal", workers=2).start()
    yield live
    live.stop()


@pytest.fixture
def people(server, db_factory):
    """Fifty drafters of one organisation, each signed in through the sign-in link in their own client."""
    emails = [f"drafter{n:02d}@concurrent.example" for n in range(PEOPLE)]
    organisation = make_organisation(
        db_factory,
        "Concurrent Care Ltd",
        "1-103000003",
        [(email, "drafter") for email in emails],
        locations=[("Concurrent House", "1-203000003")],
    )
    # Sign-in links are limited to 30 an address in 15 minutes (portal/accounts/email_link.py), so the
    # fifty come from two loopback addresses, as fifty people would come from more than one network.
    clients = [client_for(server, source_ip=f"127.0.0.{2 + n // 25}") for n in range(PEOPLE)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda pair: sign_in(pair[0], db_factory, pair[1]), zip(clients, emails, strict=False)))
    yield {"clients": clients, "emails": emails, "organisation": organisation}
    for client in clients:
        client.close()


def test_fifty_saves_of_one_section_across_two_workers_are_applied_or_answered_with_the_conflict_page(
    server, people, db_factory
):
    clients, emails = people["clients"], people["emails"]
    with db_factory() as db:
        location_id = db.scalar(select(Location.id).where(Location.organisation_id == people["organisation"]["id"]))
    notification = start_notification(clients[0], "dols_outcome", location_id)
    path = f"/notifications/{notification}/sections/{SECTION}"
    texts = [f"Written by person {n:02d}" for n in range(PEOPLE)]

    # Everyone opens the section first, so all fifty saves start from the same version.
    def open_section(client):
        page = client.get(path)
        assert page.status_code == 200, page.text[-2000:]
        return version_on(page.text), CSRF_RE.search(page.text).group(1)

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        opened = list(pool.map(open_section, clients))
    base_version = opened[0][0]
    assert {version for version, _ in opened} == {base_version}

    barrier = threading.Barrier(PEOPLE)

    def save(n):
        version, token = opened[n]
        barrier.wait()  # all fifty requests leave together
        return clients[n].post(
            path, data={"csrf_token": token, "version": version, "action": "later", "completed_by_name": texts[n]}
        )

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        responses = list(pool.map(save, range(PEOPLE)))
    # The race really was between two processes: the connections (still open, kept alive) belong to both workers.
    ports = [response.extensions["network_stream"].get_extra_info("client_addr")[1] for response in responses]
    assert len({server.serving_pid(port) for port in ports} - {None}) == 2

    applied = [n for n, response in enumerate(responses) if response.status_code == 303]
    conflicts = [n for n, response in enumerate(responses) if response.status_code == 409]
    others = {
        n: (responses[n].status_code, responses[n].text[-500:])
        for n in range(PEOPLE)
        if n not in applied and n not in conflicts
    }
    assert others == {}, "every save is either applied (303) or answered with the conflict page (409)"
    # Optimistic locking: of saves from one version, exactly one applies.
    assert len(applied) == 1
    winner = applied[0]
    with db_factory() as db:
        draft = db.scalar(
            select(SectionDraft).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == SECTION
            )
        )
        assert draft.answers["completed_by_name"] == texts[winner]
        assert draft.version == int(base_version) + 1
    for n in conflicts:
        page = responses[n].text
        assert CONFLICT in page
        # Nothing lost: the page shows this person's words beside the winner's, and carries them in its form.
        assert f">{texts[n]}</td>" in page and f">{texts[winner]}</td>" in page
        assert texts[n] in html.unescape(MINE_RE.search(page).group(1))

    # Then each of the 49 does what the conflict page offers, "Keep your answer", posting back exactly
    # what the page holds (its version and their words), again and again while others keep winning.
    def keep_mine_until_applied(n):
        response = responses[n]
        while response.status_code == 409:
            page = response.text
            mine = html.unescape(MINE_RE.search(page).group(1))
            assert texts[n] in mine, "the conflict page lost this person's words"
            response = clients[n].post(
                f"{path}/resolve",
                data={
                    "csrf_token": CSRF_RE.search(page).group(1),
                    "version": version_on(page),
                    "mine": mine,
                    "choice-completed_by_name": "mine",
                },
            )
        assert response.status_code == 303, (response.status_code, response.text[-500:])

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        list(pool.map(keep_mine_until_applied, conflicts))

    with db_factory() as db:
        draft = db.scalar(
            select(SectionDraft).where(
                SectionDraft.notification_id == notification, SectionDraft.section_key == SECTION
            )
        )
        saves = db.execute(
            select(AuditEvent.actor_id, func.count())
            .where(AuditEvent.notification_id == notification, AuditEvent.event_type == "notification:section_saved")
            .group_by(AuditEvent.actor_id)
        ).all()
        last_saver = db.scalar(select(User.email).where(User.id == draft.updated_by_id))
    # Every one of the fifty saves was applied exactly once, by its own person: fifty version steps and
    # one "section saved" event each. The section keeps only its latest answer (there is no per-answer
    # history in the model), so the words kept are those of the person who saved last.
    assert draft.version == int(base_version) + PEOPLE
    assert len(saves) == PEOPLE and all(count == 1 for _, count in saves)
    assert draft.answers["completed_by_name"] == texts[emails.index(last_saver)]
