"""Page states of people identified by the provider's identifier: support's search finding notifications by it,
and a notification's other notifications about the same person, on the task list, the whole notification and
the review page. Every example answer names the person "CR-00123", so notifications made here share one."""

from __future__ import annotations

# pages.py imports this module only after it has defined PageState and its helpers, so these names exist.
from .pages import PageState


def _found_by_identifier(page, base, new_page):
    from . import journeys

    journeys.submitted(new_page, base, "serious_injury")
    page.goto(f"{base}/support/search?q=cr-00123")


def _another_about_the_same_person(suffix: str, stage: str = "complete"):
    """A finished draft about CR-00123, then another notification about them opened at one of its pages."""

    def go(page, base, new_page):
        from . import journeys

        journeys.complete(new_page("drafter"), base, "serious_injury")
        if stage == "complete":
            notification = journeys.complete(page, base, "dols_outcome")
        else:
            notification = getattr(journeys, stage)(new_page, base, "dols_outcome")
        page.goto(f"{base}/notifications/{notification}{suffix}")

    return go


STATES_PEOPLE: list = [
    PageState(
        "support search, notifications found by a person's identifier",
        "/support/search",
        "support_agent",
        _found_by_identifier,
    ),
    PageState(
        "task list, other notifications about this person",
        "/notifications/{notification_id}",
        "drafter",
        _another_about_the_same_person(""),
    ),
    PageState(
        "whole notification, other notifications about this person",
        "/notifications/{notification_id}/document",
        "drafter",
        _another_about_the_same_person("/document"),
    ),
    PageState(
        "review, other notifications about this person",
        "/notifications/{notification_id}/review",
        "reviewer",
        _another_about_the_same_person("/review", stage="sent_for_review"),
    ),
]
