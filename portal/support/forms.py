"""The help actions' forms: each asks for a written reason; correcting an organisation, for its details too."""

from __future__ import annotations

from wtforms.validators import AnyOf, DataRequired, Length

from ..web.forms import Form, rule
from ..web.govuk_fields import GovukRadios, GovukTextarea, GovukTextInput
from .service import NAME_MAX, PROVIDER_ID_MAX, check_reason, clean_name, clean_provider_id, clean_reason


def _reason() -> GovukTextarea:
    return GovukTextarea("Reason", filters=[clean_reason], validators=[rule(check_reason)])


class SignupDecisionForm(Form):
    # Sent by the approve and reject buttons (never rendered as radios), so only a tampered form fails it.
    decision = GovukRadios(
        "Decision",
        validate_choice=False,
        validators=[AnyOf(["approve", "reject"], message="Choose whether to approve or reject the request")],
    )


class ReasonForm(Form):
    reason = _reason()


class CorrectionForm(Form):
    name = GovukTextInput(
        "Name",
        filters=[clean_name],
        validators=[
            DataRequired("Enter the organisation’s name"),
            Length(max=NAME_MAX, message=f"The name must be {NAME_MAX} characters or fewer"),
        ],
    )
    provider_id = GovukTextInput(
        "Provider ID",
        filters=[clean_provider_id],
        validators=[
            DataRequired("Enter the provider ID"),
            Length(max=PROVIDER_ID_MAX, message=f"The provider ID must be {PROVIDER_ID_MAX} characters or fewer"),
        ],
    )
    reason = _reason()
