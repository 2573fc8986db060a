"""The header's menu: each section shown to those who may use it, the current one marked."""

from types import SimpleNamespace

from portal.accounts.sessions import Auth
from portal.permissions import Permission
from portal.web.navigation import navigation

PATHS = {
    "dashboard.dashboard": "/dashboard",
    "notifications.notification_list": "/notifications",
    "members.members": "/members",
    "members.history": "/history",
    "locations.locations_list": "/locations",
    "queries.list_queries": "/queries",
    "support.workspace": "/support",
    "accounts.choose_organisation": "/organisations",
    "accounts.account": "/account",
    "accounts.sign_in": "/sign-in",
}


def menu(auth, current_path):
    return [(item["text"], item["active"]) for item in navigation(PATHS.__getitem__, auth, current_path)]


def person(kind: str, *permissions: Permission) -> Auth:
    organisation = SimpleNamespace(kind=kind)
    return Auth(user=None, session=None, organisation=organisation, grants=[(p, None) for p in permissions])


def test_signed_out_people_see_only_sign_in():
    assert menu(None, "/sign-in/check-email") == [("Sign in", True)]


def test_a_provider_sees_the_sections_their_roles_allow_and_where_they_are():
    drafter = person("provider", Permission.NOTIFICATION_VIEW, Permission.QUERY_ASK)
    assert menu(drafter, "/notifications/7") == [
        ("Home", False),
        ("Notifications", True),
        ("Questions", False),
        ("Organisations", False),
        ("Your account", False),
    ]


def test_one_page_sections_are_active_on_that_page_only():
    admin = person("provider", Permission.MEMBERS_VIEW, Permission.AUDIT_VIEW)
    assert ("History", True) in menu(admin, "/history")
    assert ("Home", False) in menu(admin, "/dashboard/extra")
    assert ("Members", True) in menu(admin, "/members/3/remove")


def test_an_organisation_admin_finds_the_locations_after_the_members():
    admin = person("provider", Permission.MEMBERS_VIEW, Permission.LOCATIONS_MANAGE)
    assert [text for text, _ in menu(admin, "/locations/4/close")][1:3] == ["Members", "Locations"]
    assert ("Locations", True) in menu(admin, "/locations/4/close")


def test_the_regulator_sees_the_support_workspace():
    assert [text for text, _ in menu(person("regulator"), "/support")] == [
        "Support workspace",
        "Organisations",
        "Your account",
    ]
