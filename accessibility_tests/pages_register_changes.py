"""Page states of registered people and of a register import's changes: the locations page's banner, and the
registered manager and nominated individual fields (saved, and refused).

An organisation of their own, made in the server's database with the register's rows for its provider and then
followed to the register as `portal register import` does: the demo's register differs from its locations on
purpose (portal/demo.py), and following it would close a location the other states start notifications at.
"""

from __future__ import annotations

import uuid

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState


def _organisation_changed_by_the_register(page, base, new_page) -> None:
    """A new organisation whose admin (this page, signed in) has one location the register now shows dormant,
    and lacks one it lists: the import adds one and closes the other. Ends on the locations page."""
    from portal.db import make_engine, make_session_factory, transaction
    from portal.models import Location, Membership, Organisation, RoleGrant, User
    from portal.organisation.register_sync import follow_the_register
    from portal.register.importing import import_rows
    from portal.register.reading import rows

    from .conftest import RUNNING, sign_in_through_pages

    number = uuid.uuid4().int % 10**8
    provider_id, email = f"1-6{number:08d}", f"admin.{number}@oakfield.example"
    columns = (
        "Location ID,Location Name,Dormant (Y/N),Registered manager,Location Street Address,Location Address Line 2,"
    )
    columns += "Location City,Location County,Location Postal Code,Provider ID,Provider Name,"
    columns += "Provider Nominated Individual Name"
    oak = f"{provider_id},Oakfield Care,Nia Oak"
    lines = [
        columns,
        f"1-61{number:08d},Oakfield House,N,Olu Manager,1 Oak Road,,Oakfield,,OK1 1AA,{oak}",
        f"1-62{number:08d},Oakfield Lodge,Y,,2 Oak Road,,Oakfield,,OK1 1AB,{oak}",
    ]
    engine = make_engine(RUNNING["database_url"])
    factory = make_session_factory(engine)
    with transaction(factory) as db:
        organisation = Organisation(name=f"Oakfield Care {number}", provider_id=provider_id)
        organisation.locations.append(Location(name="Oakfield Lodge", regulator_location_id=f"1-62{number:08d}"))
        user = User(email=email, display_name="Olu Manager")
        db.add_all([organisation, user])
        db.flush()
        membership = Membership(user_id=user.id, organisation_id=organisation.id)
        membership.grants.append(RoleGrant(role="organisation_admin", location_id=None))
        db.add(membership)
    with transaction(factory) as db:
        report = import_rows(db, rows(lines, r"1-[0-9]+"), full=False)
        assert report.imported, report.lines()
        follow_the_register(db, base_url=base)
    engine.dispose()
    sign_in_through_pages(page, base, email)
    page.goto(base + "/locations")


def _registered_manager_saved(page, base, new_page):
    _organisation_changed_by_the_register(page, base, new_page)
    page.click("div[data-location^='1-61'] a:has-text('Change')")
    page.wait_for_load_state()
    page.get_by_label("Olu Manager").check()
    page.click("main form button:has-text('Save registered manager')")
    page.wait_for_load_state()


def _registered_manager_refused(page, base, new_page):
    """A member removed while the page was open: their choice is refused in words. No page offers another
    organisation's member, so the radio's value is changed as a stale page would send it."""
    _organisation_changed_by_the_register(page, base, new_page)
    page.click("div[data-location^='1-61'] a:has-text('Change')")
    page.wait_for_load_state()
    page.eval_on_selector(
        "input[name='registered_manager']", "radio => { radio.value = '999999999'; radio.checked = true; }"
    )
    page.click("main form button:has-text('Save registered manager')")
    page.wait_for_load_state()


def _nominated_individual_saved(page, base, new_page):
    _organisation_changed_by_the_register(page, base, new_page)
    page.goto(base + "/organisation/settings")
    page.get_by_label("Olu Manager").check()
    page.click("main form button:has-text('Save nominated individual')")
    page.wait_for_load_state()


STATES_REGISTER_CHANGES: list = [
    PageState(
        "locations, changes from the regulator's register", "/locations", None, _organisation_changed_by_the_register
    ),
    PageState(
        "change a location, registered manager saved",
        "/locations/{location_id}/change",
        None,
        _registered_manager_saved,
    ),
    PageState(
        "change a location, registered manager refused",
        "/locations/{location_id}/change",
        None,
        _registered_manager_refused,
    ),
    PageState(
        "organisation settings, nominated individual saved", "/organisation/settings", None, _nominated_individual_saved
    ),
]
