"""Permissions are named through one enum, so a misspelt name fails instead of silently meaning "no"."""

import pytest
from jinja2 import nodes

from portal.accounts.sessions import Auth
from portal.permissions import Permission
from portal.web.routing import Routes
from portal.web.templating import TEMPLATES_DIR, make_templates


def permission_names_in(template_name, env):
    source = (TEMPLATES_DIR / template_name).read_text()
    tree = env.parse(source)
    for call in tree.find_all(nodes.Call):
        callee = call.node
        if isinstance(callee, nodes.Getattr) and callee.attr == "has":
            for argument in call.args[:1]:
                yield template_name, argument


def every_has_call_in_the_templates():
    env = make_templates().env
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        yield from permission_names_in(str(path.relative_to(TEMPLATES_DIR)), env)


def test_every_template_names_a_permission_that_exists():
    calls = list(every_has_call_in_the_templates())
    assert len(calls) >= 5  # the scan finds the calls: a parse that found none would pass vacuously
    for template_name, argument in calls:
        assert isinstance(argument, nodes.Getattr), f"{template_name}: has() takes P.NAME, not {argument}"
        assert isinstance(argument.node, nodes.Name) and argument.node.name == "P", template_name
        assert argument.attr in Permission.__members__, f"{template_name}: no permission P.{argument.attr}"


def test_a_bare_string_is_refused_by_has_and_by_a_route():
    auth = Auth(user=None, session=None, grants=[(Permission.NOTIFICATION_VIEW, None)])
    assert auth.has(Permission.NOTIFICATION_VIEW)
    with pytest.raises(TypeError):
        auth.has("notification:veiw")
    with pytest.raises(TypeError):
        Routes("example").get("/x", permission="notification:view")


def test_a_misspelt_template_permission_fails_to_render():
    env = make_templates().env
    template = env.from_string("{{ auth.has(P.NOTIFICATION_VEIW) }}")
    auth = Auth(user=None, session=None)
    with pytest.raises(Exception):  # noqa: B017 - StrictUndefined or has()'s TypeError, either way not "no"
        template.render(auth=auth)
