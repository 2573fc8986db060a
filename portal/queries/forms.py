"""The question and reply forms. What a message may be is checked here; whom it may concern, in the service."""

from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from ..web.forms import Form
from ..web.govuk_fields import GovukBoolean, GovukSelect, GovukTextarea, GovukTextInput
from .service import MAX_MESSAGE, MAX_SUBJECT, clean_text


def _message(label: str, description: str = "") -> GovukTextarea:
    return GovukTextarea(
        label,
        description=description,
        max_length=MAX_MESSAGE,
        filters=[clean_text],
        validators=[
            DataRequired("Enter your message"),
            Length(max=MAX_MESSAGE, message=f"Message must be {MAX_MESSAGE:,} characters or fewer"),
        ],
    )


class QuestionForm(Form):
    subject = GovukTextInput(
        "Summary of your question",
        description="A few words, for example ‘Which form for a death during a hospital stay?’",
        filters=[clean_text],
        validators=[
            DataRequired("Enter a short summary of your question"),
            Length(max=MAX_SUBJECT, message=f"Summary must be {MAX_SUBJECT} characters or fewer"),
        ],
    )
    # The service checks the person may see the notification chosen; the choices are only what to show.
    notification = GovukSelect("Which notification is it about?", choices=[], validate_choice=False)
    message = _message(
        "Your question",
        "Say what you were trying to do and what happened. Do not include "
        "anyone’s medical details unless the support team needs them.",
    )
    # Its label names it in a refusal: the page the question was asked from, sent by the form itself.
    asked_from = HiddenField("The page you asked from")


class ReplyForm(Form):
    message = _message("Your reply")


class SupportReplyForm(Form):
    message = _message("Your reply")
    resolve = GovukBoolean("This answers the question: mark it as resolved")


class AssignForm(Form):
    # Who may be assigned only the service knows (active agents), so it refuses anyone else.
    assignee = GovukSelect("Assigned to", choices=[], validate_choice=False)
