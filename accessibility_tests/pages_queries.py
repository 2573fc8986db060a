"""Page states for providers' questions to the support team, on both sides of the thread."""

from __future__ import annotations

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, press, submit_empty, then, visit


def _asked(page, base, new_page):
    from .journeys import asked_question

    page.goto(f"{base}/queries/{asked_question(page, base)}?asked=1")


def _answered(resolve: bool):
    def go(page, base, new_page):
        from .journeys import answered_question

        page.goto(f"{base}/queries/{answered_question(new_page, base, resolve=resolve)}")
    return go


def _in_the_queue(page, base, new_page):
    from .journeys import asked_question

    asked_question(new_page("drafter"), base, subject="Where is the receipt for my last notification?")
    page.goto(f"{base}/support/queries")


def _support_sees(page, base, new_page):
    from .journeys import answered_question

    page.goto(f"{base}/support/queries/{answered_question(new_page, base)}")


STATES_QUERIES: list = [
    PageState("questions list", "/queries", "reviewer", then(_asked, visit("/queries"))),
    PageState("ask a question", "/queries/new", "drafter", visit("/queries/new?from=/dashboard")),
    PageState("ask a question, errors", "/queries/new", "drafter", submit_empty("/queries/new")),
    PageState("question, just asked", "/queries/{query_id}", "drafter", _asked),
    PageState("question, reply missing", "/queries/{query_id}", "drafter", then(_asked, press("Send reply"))),
    PageState("question, answered", "/queries/{query_id}", "drafter", _answered(resolve=False)),
    PageState("question, resolved", "/queries/{query_id}", "submitter", _answered(resolve=True)),
    PageState("support queue", "/support/queries", "support_agent", _in_the_queue),
    PageState("support queue, nothing matches", "/support/queries", "support_agent",
              visit("/support/queries?status=new&assigned=me")),
    PageState("support question", "/support/queries/{query_id}", "support_agent", _support_sees),
    PageState("support question, reply missing", "/support/queries/{query_id}", "support_agent",
              then(_support_sees, press("Send reply"))),
    PageState("support question, as the lead", "/support/queries/{query_id}", "support_lead", _support_sees),
]
