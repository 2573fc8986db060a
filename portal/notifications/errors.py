"""What the notification services refuse with. Each message is written for the person to read."""

from __future__ import annotations

from ..rules import RuleBroken


class NotAllowed(Exception):
    """The person may not do this at all (the pages answer 403)."""


class WorkflowError(RuleBroken):
    """Not now, or not like this; `field` names the form field it is about, if any."""
