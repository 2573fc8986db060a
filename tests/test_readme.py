"""The README is checked by tests, so it stays true."""

import re

from portal.cli import build_parser

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_every_setting_the_portal_reads_is_documented():
    source = (ROOT / "portal" / "settings.py").read_text()
    variables = set(re.findall(r'"(PORTAL_[A-Z_]+)"', source))
    documented = set(re.findall(r"`(PORTAL_[A-Z_]+)`", README))
    assert variables - documented == set()


def test_the_readme_has_exactly_the_two_set_up_commands_and_ci_calls_the_test_one():
    blocks = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    assert [block.strip() for block in blocks] == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.strip().splitlines()[-1] == "make test"


def test_every_portal_command_is_documented():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name in commands:
        assert f"`portal {name}" in README, name


def test_the_docs_name_only_files_inside_the_repository_and_those_files_exist():
    docs = {"README.md": README, "CONTRIBUTING.md": (ROOT / "CONTRIBUTING.md").read_text()}
    docs.update({f"docs/{path.name}": path.read_text() for path in (ROOT / "docs").glob("*.md")})
    assert {"docs/architecture.md", "docs/operations.md"} <= set(docs)
    for name, text in docs.items():
        assert "../" not in text, f"{name} points outside the repository"
        base = (ROOT / name).parent
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (base / target).exists(), f"{name} links to {target}, which is not there"


def test_the_architecture_names_modules_and_tests_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for path in re.findall(r"`((?:portal|tests|accessibility_tests)/[\w/]+\.py)`", text):
        assert (ROOT / path).exists(), path
    for name in re.findall(r"^  (\w+)/ ", text, re.MULTILINE):
        assert (ROOT / "portal" / name).is_dir(), name
