"""Who the registered people are in the portal: one of the organisation's members, or not a member here.

The choices are the organisation's members, set per request, and "not a member of this portal"."""

from __future__ import annotations

from ..models import Membership
from ..web.forms import Chosen, Form
from ..web.govuk_fields import GovukRadios
from .registered_people import NOT_A_MEMBER, member_words


def _choices(members: list[Membership]) -> list[tuple[str, str]]:
    return [(str(member.id), member_words(member)) for member in members] + [
        (NOT_A_MEMBER, "Not a member of this portal")
    ]


def _current(formdata, name: str, current: Membership | None) -> dict | None:
    """What is recorded, checked on the page as drawn; a posted form shows only what was posted, so a post that
    chose nothing is told to choose rather than saving what was there."""
    if formdata is not None:
        return None
    return {name: str(current.id) if current is not None else NOT_A_MEMBER}


class RegisteredManagerForm(Form):
    registered_manager = GovukRadios(
        "Who is the registered manager in this portal?",
        validate_choice=False,
        validators=[Chosen("Select who the registered manager is, or that they are not a member of this portal")],
    )

    def __init__(self, formdata=None, *, members: list[Membership], current: Membership | None, registered: str):
        super().__init__(formdata, data=_current(formdata, "registered_manager", current))
        self.registered_manager.choices = _choices(members)
        self.registered_manager.description = (
            f"The regulator’s register names {registered} as this location’s registered manager."
            if registered
            else "The regulator’s register names no registered manager for this location."
        ) + " Notifications about the registered manager start with their name filled in."


class NominatedIndividualForm(Form):
    nominated_individual = GovukRadios(
        "Who is the nominated individual in this portal?",
        validate_choice=False,
        validators=[Chosen("Select who the nominated individual is, or that they are not a member of this portal")],
    )

    def __init__(self, formdata=None, *, members: list[Membership], current: Membership | None, registered: str):
        super().__init__(formdata, data=_current(formdata, "nominated_individual", current))
        self.nominated_individual.choices = _choices(members)
        self.nominated_individual.description = (
            f"The regulator’s register names {registered} as your nominated individual."
            if registered
            else "The regulator’s register names no nominated individual for your provider ID."
        )
