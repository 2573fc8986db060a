"""What the regulator's side may see: never anything of a practice organisation.

A practice copy (Organisation.practice_of_id) lets a provider's members try every notification type,
submission included, exactly as the live service works. So its submissions are real rows, and every read
made for the regulator (the API, the webhook, support's search, lists and pages, reports) passes through
`for_regulator` here, rather than each remembering an if of its own. tests/test_practice.py checks each
of those views after a practice submission.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from .models import Organisation


def practice_organisation_ids():
    return select(Organisation.id).where(Organisation.practice_of_id.is_not(None))


def for_regulator(organisation_id_column) -> ColumnElement[bool]:
    """A condition on a row's organisation: true unless the organisation is a practice copy.

    NOT IN over the practice copies (few, and their ids never null) rather than IN over every real
    organisation, so the feed and the reports keep reading their own indexes first.
    """
    return organisation_id_column.not_in(practice_organisation_ids())


def is_practice(organisation: Organisation | None) -> bool:
    return organisation is not None and organisation.practice_of_id is not None
