from __future__ import annotations

from wtforms.validators import DataRequired, Email, Length

from ..accounts.organisations import Grant
from ..roles import PROVIDER_ROLES
from ..web.forms import Form
from ..web.govuk_fields import GovukCheckboxes, GovukEmail


def grant_choices(locations, *, whole_organisation: bool = True) -> dict[str, list[tuple[str, str]]]:
    """Per role: the whole organisation (for those who may grant there), or chosen locations."""
    return {
        role.name: ([(f"{role.name}:all", "All locations")] if whole_organisation else [])
        # A closed location's drafts may still need finishing, reviewing and sending: roles there stay grantable.
        + [
            (f"{role.name}:{location.id}", location.name + (" (closed)" if location.is_closed else ""))
            for location in locations
        ]
        for role in PROVIDER_ROLES
    }


def flat_choices(locations) -> list[tuple[str, str]]:
    return [choice for choices in grant_choices(locations).values() for choice in choices]


class RolesForm(Form):
    """Any role at any of the organisation's locations is well formed; whether this person may grant it is
    the service's to say (accounts/grants.py), so its refusal names where they may."""

    grants = GovukCheckboxes("Roles", choices=[], validate_choice=True)
    # Changing roles may leave none at the chooser's locations while roles elsewhere remain: the service decides.
    requires_one = False

    def __init__(self, formdata=None, *, locations, **kwargs):
        super().__init__(formdata, **kwargs)
        self.grants.choices = flat_choices(locations)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.grants.errors:
            self.grants.errors = ["Choose roles from the list"]
        elif self.requires_one and not self.grants.data:
            self.grants.errors = ["Choose at least one role"]
            valid = False
        return valid

    def parsed(self) -> list[Grant]:
        # None when the form was built without form data: nothing was chosen.
        chosen = [Grant.parse(value) for value in self.grants.data or []]
        # A whole-organisation grant makes the same role at one location redundant.
        whole = {grant.role for grant in chosen if grant.location_id is None}
        return [grant for grant in chosen if grant.location_id is None or grant.role not in whole]


class InviteForm(RolesForm):
    email = GovukEmail(
        "Email address",
        description="They must sign in with this address to accept",
        validators=[
            DataRequired("Enter the email address of the person you are inviting"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.com", check_deliverability=False),
        ],
    )
    # Declared again so it follows email: the error summary lists errors in page order.
    grants = GovukCheckboxes("Roles", choices=[], validate_choice=True)
    requires_one = True
