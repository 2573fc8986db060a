"""Organisation admins add, change and close their locations; a closed location takes no new notifications."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Location, Notification, Organisation

from .conftest import (
    DATABASES,
    _fresh_postgres_database,
    add_member,
    audit_events,
    count_queries,
    make_organisation,
    membership_id,
    post_form,
    sign_in,
)
from .drafting import start_notification

ADMIN = "admin@riverside.example"
HOUSE = {
    "name": "Willow Court",
    "regulator_location_id": "1-301000001",
    "address_line_1": "12 Willow Lane",
    "address_line_2": "",
    "town": "Riverside",
    "postcode": "rv1 2ab",
}


def add_location(client, **changes):
    return post_form(client, "/locations/new", {**HOUSE, **changes}, from_page="/locations/new")


def location_named(db_factory, regulator_location_id: str) -> Location:
    with db_factory() as db:
        return db.scalar(select(Location).where(Location.regulator_location_id == regulator_location_id))


def card(page: str, regulator_location_id: str) -> str:
    """One location's summary card on the locations page."""
    return re.search(rf'data-location="{regulator_location_id}">(.*?)</dl>', page, re.S).group(1)


def history_of(client) -> str:
    return client.get("/history").text


def test_an_admin_adds_a_location_and_sees_it_listed_and_in_the_history(as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    assert admin.get("/locations/new").status_code == 200
    response = add_location(admin, regulator_location_id=" 1-301000001 ")
    assert response.status_code == 303 and response.headers["location"] == "/locations"
    page = admin.get("/locations").text
    assert "Willow Court added." in page
    row = card(page, "1-301000001")
    assert "12 Willow Lane, Riverside, RV1 2AB" in row and "Open" in row
    added = location_named(db_factory, "1-301000001")
    assert (added.organisation_id, added.postcode, added.closed_at) == (demo_org["id"], "RV1 2AB", None)
    [event] = audit_events(db_factory, "location:added")
    assert event.organisation_id == demo_org["id"]
    assert "Added the location Willow Court (1-301000001) at 12 Willow Lane, Riverside, RV1 2AB" in history_of(admin)


def test_an_admin_renames_a_location_and_changes_its_address_each_recorded(as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    add_location(admin)
    location = location_named(db_factory, "1-301000001")
    path = f"/locations/{location.id}/change"
    form = admin.get(path).text
    assert 'value="Willow Court"' in form and 'value="12 Willow Lane"' in form
    response = post_form(admin, path, {**HOUSE, "name": "Willow Court Care Home"}, from_page=path)
    assert response.status_code == 303
    assert [e.data for e in audit_events(db_factory, "location:renamed")] == [
        {"before": "Willow Court", "after": "Willow Court Care Home", "location_id": "1-301000001"}
    ]
    assert audit_events(db_factory, "location:address_changed") == []
    moved = {**HOUSE, "name": "Willow Court Care Home", "address_line_1": "14 Willow Lane", "postcode": "RV1 2AC"}
    post_form(admin, path, moved, from_page=path)
    [event] = audit_events(db_factory, "location:address_changed")
    assert event.data["after"] == "14 Willow Lane, Riverside, RV1 2AC"
    history = history_of(admin)
    assert "Renamed the location Willow Court (1-301000001) to Willow Court Care Home" in history
    assert "Changed the address of Willow Court Care Home from 12 Willow Lane" in history
    # The location ID is fixed once added: a posted one is ignored.
    post_form(admin, path, {**moved, "regulator_location_id": "1-999999999"}, from_page=path)
    assert location_named(db_factory, "1-301000001").name == "Willow Court Care Home"


def test_a_malformed_location_id_is_refused_with_what_was_typed_kept(as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    response = add_location(admin, regulator_location_id="RXX-12", address_line_1="", postcode="nonsense")
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert "Enter a location ID in the correct format, like 1-123456789" in response.text
    assert 'href="#regulator_location_id"' in response.text
    assert "Enter address line 1, typically the building and street" in response.text
    assert "Enter a full UK postcode" in response.text
    assert 'value="RXX-12"' in response.text and 'value="Willow Court"' in response.text
    assert 'value="nonsense"' in response.text
    # The summary lists errors in page order: the location ID before the address.
    assert response.text.index('href="#regulator_location_id"') < response.text.index('href="#address_line_1"')
    empty = add_location(admin, regulator_location_id="", name="")
    assert "Enter the location ID" in empty.text and "Enter the location name" in empty.text
    assert location_named(db_factory, "RXX-12") is None and audit_events(db_factory, "location:added") == []


def test_a_location_id_already_in_use_is_refused_here_or_in_another_organisation(as_person, db_factory, demo_org):
    make_organisation(db_factory, "Hilltop Homes", "1-102000002", [], locations=[("Hilltop House", "1-302000002")])
    admin = as_person(ADMIN)
    own = add_location(admin, regulator_location_id="1-201000001")
    assert own.status_code == 400
    assert "Riverside House already has the location ID 1-201000001" in own.text
    theirs = add_location(admin, regulator_location_id="1-302000002")
    assert theirs.status_code == 400
    assert "Another organisation&#39;s location has the location ID 1-302000002" in theirs.text
    assert "Hilltop" not in theirs.text  # their location's name is theirs
    with db_factory() as db:
        assert (
            db.scalar(select(Location.organisation_id).where(Location.regulator_location_id == "1-302000002"))
            != (demo_org["id"])
        )


def test_the_location_id_format_comes_from_settings(settings, db_factory, demo_org):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from portal.app import create_app

    app = create_app(replace(settings, location_id_pattern=r"LOC[0-9]{4}", location_id_example="LOC1234"))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as admin:
        sign_in(admin, db_factory, ADMIN)
        assert "like LOC1234" in admin.get("/locations/new").text
        refused = add_location(admin, regulator_location_id="1-301000001")
        assert refused.status_code == 400 and "Enter a location ID in the correct format, like LOC1234" in refused.text
        assert add_location(admin, regulator_location_id="LOC0042").status_code == 303


def test_a_closed_location_is_shown_closed_offered_nowhere_and_refused_when_tampered(as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    drafter = as_person("drafter@riverside.example")
    (house, _), (meadow, _) = demo_org["locations"]
    earlier = start_notification(drafter, "serious_injury", house)
    confirm = admin.get(f"/locations/{house}/close")
    assert confirm.status_code == 200 and "Close Riverside House?" in confirm.text
    response = post_form(admin, f"/locations/{house}/close", from_page=f"/locations/{house}/close")
    assert response.status_code == 303
    page = admin.get("/locations").text
    assert "Riverside House is closed. It takes no new notifications." in page
    row = card(page, "1-201000001")
    assert "Closed" in row and f"/locations/{house}/change" not in row
    assert "Closed the location Riverside House (1-201000001)" in history_of(admin)
    # Roles there stay grantable (its drafts may still need reviewing and sending), and say it is closed.
    assert "Riverside House (closed)" in admin.get("/members/invite").text

    start_page = drafter.get("/notifications/new").text
    assert f'value="{house}"' not in start_page and f'value="{meadow}"' in start_page
    tampered = post_form(
        drafter,
        "/notifications/new",
        {"type": "serious_injury", "location": str(house)},
        from_page="/notifications/new",
    )
    assert tampered.status_code == 400
    assert "Select the location where it happened" in tampered.text and 'href="#location"' in tampered.text
    with db_factory() as db:
        assert (
            db.scalar(select(Notification.id).where(Notification.location_id == house)) == earlier
        )  # only the earlier
    # Its history stays: the earlier draft is still there, and can still be worked on.
    assert drafter.get(f"/notifications/{earlier}").status_code == 200

    # Closed is final: no changing it, no closing it twice.
    assert "Riverside House is closed" in admin.get(f"/locations/{house}/change").text
    again = post_form(admin, f"/locations/{house}/close", from_page="/locations")
    changed = post_form(admin, f"/locations/{house}/change", {**HOUSE}, from_page="/locations")
    assert (again.status_code, changed.status_code) == (409, 409)
    assert len(audit_events(db_factory, "location:closed")) == 1
    assert location_named(db_factory, "1-201000001").name == "Riverside House"


def test_another_organisations_location_answers_404_and_changes_nothing(as_person, db_factory, demo_org):
    make_organisation(db_factory, "Hilltop Homes", "1-102000002", [("admin@hilltop.example", "organisation_admin")])
    theirs = as_person("admin@hilltop.example")
    house = demo_org["locations"][0][0]
    for path in (f"/locations/{house}/change", f"/locations/{house}/close"):
        assert theirs.get(path).status_code == 404
        assert post_form(theirs, path, HOUSE, from_page="/locations").status_code == 404
    assert "Riverside House" not in theirs.get("/locations").text
    assert location_named(db_factory, "1-201000001").closed_at is None
    assert audit_events(db_factory, "location:closed") == audit_events(db_factory, "location:renamed") == []


def test_a_drafter_cannot_manage_locations(as_person, db_factory, demo_org):
    drafter = as_person("drafter@riverside.example")
    house = demo_org["locations"][0][0]
    for path in ("/locations", "/locations/new", f"/locations/{house}/change", f"/locations/{house}/close"):
        assert drafter.get(path).status_code == 403, path
    assert add_location(drafter).status_code == 403
    assert post_form(drafter, f"/locations/{house}/close", from_page="/help").status_code == 403
    assert 'href="/locations"' not in drafter.get("/dashboard").text
    assert location_named(db_factory, "1-301000001") is None


def test_an_admin_for_one_location_manages_no_locations(as_person, db_factory, demo_org):
    house = demo_org["locations"][0][0]
    add_member(db_factory, demo_org["id"], "manager@riverside.example", [("organisation_admin", house)])
    manager = as_person("manager@riverside.example")
    assert manager.get("/locations").status_code == 403
    assert add_location(manager).status_code == 403
    assert post_form(manager, f"/locations/{house}/close", from_page="/help").status_code == 403
    assert location_named(db_factory, "1-201000001").closed_at is None


def test_a_new_organisations_admin_adds_a_location_and_starts_a_notification_there(client, as_role, db_factory):
    sign_in(client, db_factory, "founder@newhome.example")
    post_form(
        client,
        "/organisations/request",
        {"organisation_name": "New Home Ltd", "provider_id": "1-106000006"},
        from_page="/organisations/request",
    )
    agent = as_role("support_agent")
    request_id = agent.get("/support").text.split("/support/signups/")[1].split("/decide")[0]
    post_form(agent, f"/support/signups/{request_id}/decide", {"decision": "approve"}, from_page="/support")
    with db_factory() as db:
        organisation_id = db.scalar(select(Organisation.id).where(Organisation.name == "New Home Ltd"))
    post_form(client, "/organisations/switch", {"organisation_id": organisation_id}, from_page="/organisations")

    # A dead end no more: the dashboard says there are no locations and leads to adding one.
    dashboard = client.get("/dashboard").text
    assert "Your organisation has no locations yet" in dashboard and 'href="/locations"' in dashboard
    assert add_location(client, regulator_location_id="1-306000006", name="New Home").status_code == 303
    # The founder is an admin; to draft they give themselves the drafter role, as the members page offers.
    me = membership_id(db_factory, "founder@newhome.example", organisation_id)
    post_form(
        client,
        f"/members/{me}/roles",
        [("grants", "organisation_admin:all"), ("grants", "drafter:all")],
        from_page=f"/members/{me}",
    )
    place = location_named(db_factory, "1-306000006")
    assert "New Home" in client.get("/notifications/new").text
    notification_id = start_notification(client, "serious_injury", place.id)
    with db_factory() as db:
        notification = db.get(Notification, notification_id)
        assert (notification.organisation_id, notification.location_id) == (organisation_id, place.id)
        events = set(db.scalars(select(AuditEvent.event_type).where(AuditEvent.organisation_id == organisation_id)))
    assert {"location:added", "notification:started"} <= events


def test_the_locations_page_takes_the_same_queries_however_many_locations(app, as_person, db_factory, demo_org):
    admin = as_person(ADMIN)
    statements, stop = count_queries(app.state.engine)
    admin.get("/locations")
    few = len(statements)
    stop()
    for n in range(12):
        add_location(admin, regulator_location_id=f"1-3010000{n:02d}", name=f"Place {n}")
    house = demo_org["locations"][0][0]
    post_form(admin, f"/locations/{house}/close", from_page="/locations")
    statements, stop = count_queries(app.state.engine)
    page = admin.get("/locations")
    many = len(statements)
    stop()
    assert page.text.count("data-location=") == 14
    assert few == many, f"{few} queries for 2 locations, {many} for 14"


def test_a_notification_sent_before_its_location_closed_can_still_have_a_follow_up(as_person, as_role, demo_org):
    from .journey import submitted

    house = demo_org["locations"][0][0]
    drafter = as_role("drafter")
    first, _ = submitted(drafter, as_role("reviewer"), as_role("submitter"), "manager_absence_emergency", house)
    admin = as_person(ADMIN)
    assert post_form(admin, f"/locations/{house}/close", from_page="/locations").status_code == 303
    response = post_form(
        drafter, f"/notifications/{first}/follow-up", {"type": "manager_return"}, from_page=f"/notifications/{first}"
    )
    assert response.status_code == 303, response.text[-1500:]
    # A follow-up reports more about what happened while it was open; a new notification there is refused.
    assert f'value="{house}"' not in drafter.get("/notifications/new").text


def test_the_support_team_sees_a_closed_location_and_its_history(as_person, as_role, demo_org):
    admin = as_person(ADMIN)
    house = demo_org["locations"][0][0]
    add_location(admin)
    post_form(admin, f"/locations/{house}/close", from_page="/locations")
    page = as_role("support_agent").get(f"/support/organisations/{demo_org['id']}").text
    assert "Riverside House (closed)" in page and "Willow Court" in page
    assert "Closed the location Riverside House (1-201000001)" in page
    assert "Added the location Willow Court (1-301000001)" in page


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    """A database of its own, not the suite's shared one, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    url, drop = _fresh_postgres_database()
    yield url
    drop()


def test_the_migration_stops_on_locations_sharing_an_id_and_changes_nothing(empty_database):
    from alembic import command
    from sqlalchemy import text

    from portal.db import make_engine
    from portal.migrate import alembic_config, upgrade

    engine = make_engine(empty_database)
    config = alembic_config(empty_database)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, kind, name, provider_id, separation_of_duties, created_at)"
                " VALUES (1, 'provider', 'A', '1-1', true, '2026-01-01 00:00:00+00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO locations (organisation_id, name, regulator_location_id)"
                " VALUES (1, 'One', '1-5'), (1, 'Two', '1-5')"
            )
        )
    with pytest.raises(RuntimeError, match="share a regulator location ID, which must now be unique: 1-5"):
        upgrade(engine)
    with engine.begin() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0006"
        connection.execute(text("UPDATE locations SET regulator_location_id = '1-6' WHERE name = 'Two'"))
    with engine.begin() as connection:  # corrected, it runs (to 0007 itself: later revisions are not its test)
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0007"
        assert connection.execute(text("SELECT name, town, closed_at FROM locations ORDER BY name")).all() == [
            ("One", "", None),
            ("Two", "", None),
        ]
    engine.dispose()
