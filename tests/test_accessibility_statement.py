"""The accessibility statement says only what the suite checks, and the page says all of it."""

import ast

from portal.pages.statement import CHECKS

from .conftest import ROOT


def test_every_claim_names_a_test_that_exists():
    for claim, test_id in CHECKS:
        path, name = test_id.split("::")
        tree = ast.parse((ROOT / path).read_text())
        functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert name in functions, f"the statement claims “{claim}”, but {test_id} does not exist"


def test_the_statement_page_lists_every_check_and_the_regulations(client):
    page = client.get("/accessibility").text
    for claim, _ in CHECKS:
        assert claim.replace("'", "&#39;") in page or claim in page, claim
    for required in [
        "Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018",
        "Enforcement procedure",
        "Compliance status",
        "Feedback and contact information",
        "Preparation of this accessibility statement",
    ]:
        assert required in page
