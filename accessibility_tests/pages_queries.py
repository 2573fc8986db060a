"""Page states for providers' questions to the support team, on both sides of the thread."""

from __future__ import annotations

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState, press, submit_empty, then, visit


def _asked(page, base, new_page):
    from .journeys import post

    form = {"subject": "How do I add a second location?", "message": "We opened a new home last week."}
    # Opened by the page itself, as after sending the form, so it shows the "Question sent" banner.
    page.goto(post(page, base, "/queries", form, follow=False))


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


def _draft_asked_about(page, base, new_page):
    from .journeys import post, start

    drafter = new_page("drafter")
    draft = start(drafter, base, "serious_injury")
    post(
        drafter,
        base,
        "/queries",
        {"subject": "Is this the right form?", "message": "Please look at my draft.", "notification": str(draft)},
    )
    page.goto(f"{base}/support/notifications/{draft}")


def _email_given_up(page, base, new_page):
    """The server here runs no outbox worker, so the newest queued email is marked as the worker leaves
    one it has given up on: this page state is only reachable after a mail server refuses an address."""
    from sqlalchemy import create_engine, text

    from .conftest import RUNNING

    engine = create_engine(RUNNING["database_url"])
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE outbox_messages SET attempts = 8, last_error = "
                "'SMTPRecipientsRefused: 550 mailbox unavailable' "
                "WHERE id = (SELECT MAX(id) FROM outbox_messages)"
            )
        )
    engine.dispose()
    page.goto(f"{base}/support")


STATES_QUERIES: list = [
    PageState("questions list", "/queries", "reviewer", then(_asked, visit("/queries"))),
    PageState("ask a question", "/queries/new", "drafter", visit("/queries/new?from=/dashboard")),
    PageState("ask a question, errors", "/queries/new", "drafter", submit_empty("/queries/new")),
    PageState("question, just asked", "/queries/{query_id}", "drafter", _asked),
    PageState("question, reply missing", "/queries/{query_id}", "drafter", then(_asked, press("Send reply"))),
    PageState("question, answered", "/queries/{query_id}", "drafter", _answered(resolve=False)),
    PageState("question, resolved", "/queries/{query_id}", "submitter", _answered(resolve=True)),
    PageState(
        "dashboard, a support reply waiting",
        "/dashboard",
        "drafter",
        then(_answered(resolve=False), visit("/dashboard")),
    ),
    PageState("support queue", "/support/queries", "support_agent", _in_the_queue),
    PageState(
        "support queue, nothing matches",
        "/support/queries",
        "support_agent",
        visit("/support/queries?status=new&assigned=me"),
    ),
    PageState("support question", "/support/queries/{query_id}", "support_agent", _support_sees),
    PageState(
        "support question, reply missing",
        "/support/queries/{query_id}",
        "support_agent",
        then(_support_sees, press("Send reply")),
    ),
    PageState(
        "support notification, a draft asked about",
        "/support/notifications/{notification_id}",
        "support_agent",
        _draft_asked_about,
    ),
    PageState("support workspace, an email given up on", "/support", "support_agent", _email_given_up),
    PageState(
        "support workspace, sending again without a reason",
        "/support",
        "support_agent",
        then(_email_given_up, press("Send it again")),
    ),
    PageState("support question, as the lead", "/support/queries/{query_id}", "support_lead", _support_sees),
]
