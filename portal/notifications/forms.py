"""Starting a notification: which type, at which location; and changing its location. The choices are set
per request."""

from __future__ import annotations

from wtforms.validators import DataRequired

from ..web.forms import Chosen, Form
from ..web.govuk_fields import GovukRadios

# The location is asked here once, never again inside a section; each type's own words on which to choose
# are on its task list and its change-location page.
LOCATION_HINT = (
    "Where it happened. If it happened away from a registered location, for example in the person's own home, "
    "choose the location that provides their care. If more than one location is affected, start a notification "
    "for each. Only open locations where you can draft notifications are shown."
)


class NewNotificationForm(Form):
    type = GovukRadios(
        "What are you telling us about?",
        validate_choice=False,
        validators=[Chosen("Select what you are telling us about")],
    )
    location = GovukRadios(
        "Which location is it about?",
        description=LOCATION_HINT,
        validate_choice=False,
        validators=[Chosen("Select the location where it happened")],
    )

    def __init__(self, formdata=None, *, types, locations, **kwargs):
        super().__init__(formdata, **kwargs)
        self.type.choices = [(kind.key, kind.title) for kind in types]
        self.location.choices = [(str(location.id), location.name) for location in locations]


class ChangeLocationForm(Form):
    # Any value is taken to the service, not checked against the choices here: a location the person may not
    # act on is another's data (a 404), and a closed one of their own is named in words.
    location = GovukRadios(
        "Which location is it about?",
        validate_choice=False,
        validators=[DataRequired("Select the location the notification is about")],
    )

    def __init__(self, formdata=None, *, locations, hint: str, **kwargs):
        super().__init__(formdata, **kwargs)
        self.location.description = hint or "Only open locations where you can draft notifications are shown."
        self.location.choices = [(str(location.id), location.name) for location in locations]
