"""Page states for the support leads' reports."""

from __future__ import annotations

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, visit


def _with_data(path: str):
    """A submitted notification and an open question first, so the charts have bars and the tables figures."""

    def go(page, base, new_page):
        from .journeys import asked_question, submitted

        submitted(new_page, base, "dols_outcome")
        asked_question(new_page("drafter"), base, subject="Which type do I use for a fall?")
        page.goto(base + path)

    return go


STATES_REPORTS: list = [
    # Run alone (-k report), this is the empty state: the demo data has no submissions or questions.
    PageState("reports", "/support/reports", "support_lead", visit("/support/reports")),
    PageState("reports, with data", "/support/reports", "support_lead", _with_data("/support/reports")),
    PageState(
        "reports by type",
        "/support/reports/submissions-by-type",
        "support_lead",
        _with_data("/support/reports/submissions-by-type"),
    ),
]
