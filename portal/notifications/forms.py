"""Starting a notification: which type, at which location. The choices are set per request."""

from __future__ import annotations

from ..web.forms import Chosen, Form
from ..web.govuk_fields import GovukRadios


class NewNotificationForm(Form):
    type = GovukRadios(
        "What are you telling us about?",
        validate_choice=False,
        validators=[Chosen("Select what you are telling us about")],
    )
    location = GovukRadios(
        "Which location is it about?",
        description="Only locations where you can draft notifications are shown.",
        validate_choice=False,
        validators=[Chosen("Select the location where it happened")],
    )

    def __init__(self, formdata=None, *, types, locations, **kwargs):
        super().__init__(formdata, **kwargs)
        self.type.choices = [(kind.key, kind.title) for kind in types]
        self.location.choices = [(str(location.id), location.name) for location in locations]
