"""Templates link to routes by name, so renaming a path never leaves a link pointing nowhere."""

import re

from jinja2 import nodes

from portal.app import all_endpoints
from portal.web.templating import TEMPLATES_DIR, make_templates

# A hand-written internal path: an address attribute (href, action, formaction, hx-get…) or a
# component's "href" whose value starts with "/". External links and #fragments are left alone.
HAND_WRITTEN = re.compile(r"""(?:(?:href|action|hx-get|hx-post|hx-put)\s*=|"href"\s*:)\s*["']/""")


def templates():
    return sorted(TEMPLATES_DIR.rglob("*.html"))


def relative(path) -> str:
    return str(path.relative_to(TEMPLATES_DIR.parent))


def hand_written_paths(source: str) -> list[str]:
    return [source[match.start() : source.find("\n", match.start())] for match in HAND_WRITTEN.finditer(source)]


def test_no_template_writes_an_internal_path_by_hand():
    found = {}
    for path in templates():
        lines = hand_written_paths(path.read_text())
        if lines:
            found[relative(path)] = lines
    assert found == {}, "link with url('namespace.name', ...) instead"


def test_the_check_finds_each_kind_of_hand_written_link():
    for source in [
        '<a href="/members">',
        "<form action='/sign-out'>",
        '<button formaction="/x/1/revoke">',
        '<div hx-get="/notifications/1/autosave">',
        '<div hx-post="/a">',
        '<div hx-put = "/a">',
        '{{ govukBackLink({"href": "/support"}) }}',
    ]:
        assert hand_written_paths(source), source
    for source in [
        "<a href=\"{{ url('members.members') }}\">",
        '<a href="https://www.gov.uk/">',
        '<a href="#main-content">',
        '<a href="mailto:help@example.com">',
        '{{ govukBackLink({"href": url("support.workspace")}) }}',
    ]:
        assert not hand_written_paths(source), source


def route_names_used(env, path) -> list[str]:
    tree = env.parse(path.read_text())
    names = []
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "url" and call.args:
            first = call.args[0]
            if isinstance(first, nodes.Const):
                names.append(first.value)
    return names


def test_every_route_named_in_a_template_exists():
    env = make_templates().env
    known = {endpoint.name for endpoint in all_endpoints()}
    used = {relative(path): route_names_used(env, path) for path in templates()}
    assert sum(len(names) for names in used.values()) > 100
    unknown = {template: sorted(set(names) - known) for template, names in used.items() if set(names) - known}
    assert unknown == {}
