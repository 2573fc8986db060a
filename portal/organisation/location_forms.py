"""The location forms: a name and an address (the GOV.UK address pattern), and on adding, the location ID."""

from __future__ import annotations

from wtforms.validators import DataRequired, Length, StopValidation

from ..rules import RuleBroken
from ..web.forms import Form, rule
from ..web.govuk_fields import GovukTextInput
from .locations import Address, IdFormat, check_postcode, normalise_id


def _strip(value):
    """One line of words: runs of spaces, tabs and line breaks become one space. PostgreSQL refuses NUL in text,
    so it goes too."""
    return " ".join(value.replace("\x00", "").split()) if isinstance(value, str) else value


# Declared here, in page order, and put on the forms below: WTForms orders a form's fields (and so the
# error summary) by when each was declared, and the location ID sits between the name and the address.
_NAME = GovukTextInput(
    "Location name",
    filters=[_strip],
    validators=[
        DataRequired("Enter the location name"),
        Length(max=200, message="Location name must be 200 characters or fewer"),
    ],
)
_LOCATION_ID = GovukTextInput("Location ID", filters=[_strip])
_LINE_1 = GovukTextInput(
    "Address line 1",
    filters=[_strip],
    validators=[
        DataRequired("Enter address line 1, typically the building and street"),
        Length(max=200, message="Address line 1 must be 200 characters or fewer"),
    ],
)
_LINE_2 = GovukTextInput(
    "Address line 2 (optional)",
    filters=[_strip],
    validators=[Length(max=200, message="Address line 2 must be 200 characters or fewer")],
)
_TOWN = GovukTextInput(
    "Town or city",
    filters=[_strip],
    validators=[
        DataRequired("Enter town or city"),
        Length(max=100, message="Town or city must be 100 characters or fewer"),
    ],
)
_POSTCODE = GovukTextInput("Postcode", filters=[_strip], validators=[rule(check_postcode)])


class LocationForm(Form):
    """Renaming and changing the address."""

    name = _NAME
    address_line_1 = _LINE_1
    address_line_2 = _LINE_2
    town = _TOWN
    postcode = _POSTCODE

    def address(self) -> Address:
        return Address(
            self.address_line_1.data or "",
            self.address_line_2.data or "",
            self.town.data or "",
            self.postcode.data or "",
        )


class AddLocationForm(LocationForm):
    """Adding also asks for the regulator's location ID, checked against the configured format."""

    regulator_location_id = _LOCATION_ID

    def __init__(self, formdata=None, *, id_format: IdFormat, **kwargs):
        super().__init__(formdata, **kwargs)
        self.id_format = id_format
        self.regulator_location_id.description = (
            f"The regulator's ID for this location, like {id_format.example}. It is on its registration certificate"
        )

    def validate_regulator_location_id(self, field) -> None:
        try:
            self.id_format.check(normalise_id(field.data or ""))
        except RuleBroken as broken:
            raise StopValidation(broken.message) from None
