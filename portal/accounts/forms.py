from __future__ import annotations

from wtforms.validators import DataRequired, Email, Length, Regexp

from ..web.forms import Chosen, Form
from ..web.govuk_fields import GovukEmail, GovukRadios, GovukTextInput


class SignInForm(Form):
    email = GovukEmail(
        "Email address",
        description="We will email you a link to sign in. It works once, for 15 minutes.",
        validators=[
            DataRequired("Enter your email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.com", check_deliverability=False),
        ],
    )


class SignupRequestForm(Form):
    organisation_name = GovukTextInput(
        "Organisation name",
        description="The provider's name as registered with the regulator",
        validators=[
            DataRequired("Enter the organisation's name"),
            Length(max=200, message="Organisation name must be 200 characters or fewer"),
        ],
    )
    provider_id = GovukTextInput(
        "Regulator provider ID",
        description="For example, 1-101234567",
        validators=[
            DataRequired("Enter the regulator provider ID"),
            Regexp(r"^\s*1-\d{9,10}\s*$", message="Enter a provider ID in the correct format, like 1-101234567"),
        ],
    )


class ReminderSettingsForm(Form):
    reminders = GovukRadios(
        "Do you want reminder emails before a notification is due?",
        description="We email the person a notification is assigned to, and the organisation’s admins, 2 days "
        "before it is due, if it has not been submitted.",
        choices=[("on", "Yes, send me reminders"), ("off", "No, do not send me reminders")],
        validate_choice=False,
        validators=[Chosen("Select whether you want reminder emails")],
    )
