"""The one error a service raises when the person asked for something its rules refuse.

A service validates nothing the form already checks; it raises RuleBroken for what only it can know
(a notification that is not theirs, a name already taken, a move the workflow forbids). The message
is written for the person to read; `field` names the form field it is about, or None when it is
about the whole request. Handlers put it onto their form with portal.web.forms.show_rule_broken.
"""

from __future__ import annotations


class RuleBroken(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
