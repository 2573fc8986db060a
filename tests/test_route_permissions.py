"""Every route declares a permission; the roles name only permissions the portal knows."""

import pytest
from starlette.routing import Mount

from portal import permissions
from portal.app import all_endpoints
from portal.roles import ROLES
from portal.web.routing import Routes

# Mounted apps serve files, not pages: declared public here, with the reason.
PUBLIC_MOUNTS = {"/static": "hashed CSS, JS and images, the same for everyone"}


def test_every_route_in_the_table_declares_a_known_permission(app):
    undeclared = []
    for route in app.routes:
        if isinstance(route, Mount):
            if route.path not in PUBLIC_MOUNTS:
                undeclared.append(route.path)
            continue
        endpoint = getattr(route.endpoint, "portal_endpoint", None)
        if endpoint is None or endpoint.permission not in permissions.KNOWN:
            undeclared.append(route.path)
    assert undeclared == [], f"routes without a declared permission: {undeclared}"
    assert len(app.routes) > 20


def test_a_state_change_is_never_a_get():
    for endpoint in all_endpoints():
        name = endpoint.handler.__name__
        if "GET" in endpoint.methods:
            assert not name.endswith("_post"), endpoint.path


def test_roles_grant_only_known_permissions_and_every_permission_is_granted_somewhere():
    # API permissions are left out: API tokens hold them, and no role may.
    granted = set()
    for role in ROLES.values():
        assert role.permissions <= set(permissions.PERMISSIONS), role.name
        assert not role.permissions & permissions.API_PERMISSIONS, role.name
        granted |= role.permissions
    assert granted == set(permissions.PERMISSIONS)
    assert permissions.API_PERMISSIONS <= permissions.KNOWN
    assert not permissions.API_PERMISSIONS & set(permissions.PERMISSIONS)


def test_the_provider_and_regulator_roles_exist():
    provider = {name for name, role in ROLES.items() if role.scope == "provider"}
    regulator = {name for name, role in ROLES.items() if role.scope == "regulator"}
    assert provider == {"drafter", "reviewer", "submitter", "organisation_admin"}
    assert regulator == {"support_agent", "support_lead"}


def test_no_provider_role_reaches_the_support_workspace():
    for role in ROLES.values():
        if role.scope == "provider":
            assert not any(p.startswith(("support:", "signup:", "reports:", "api_tokens:")) for p in role.permissions)


def test_only_the_back_channel_logout_takes_a_post_without_csrf_and_it_acts_for_nobody_by_cookie():
    exempt = [endpoint for endpoint in all_endpoints() if endpoint.csrf_exempt]
    assert [endpoint.path for endpoint in exempt] == ["/sign-in/one-login/back-channel-logout"]
    for endpoint in exempt:
        assert endpoint.permission == permissions.PUBLIC and not endpoint.load_auth


@pytest.mark.parametrize(
    "options",
    [
        {"permission": permissions.Permission.SIGNED_IN, "load_auth": False},
        {"permission": permissions.PUBLIC},  # would load the session a cookie names
    ],
)
def test_a_route_without_csrf_must_be_public_and_load_no_session(options):
    with pytest.raises(TypeError, match="without CSRF"):
        Routes("x").post("/x", csrf_exempt="a reason", **options)
