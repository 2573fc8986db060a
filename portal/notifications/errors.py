"""What the notification services refuse with. Each message is written for the person to read."""

from __future__ import annotations


class NotAllowed(Exception):
    """The person may not do this at all (the pages answer 403)."""


class WorkflowError(Exception):
    """Not now, or not like this; `field` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
