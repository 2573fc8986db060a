"""The one state machine for notifications. Any move not listed here is refused, with a reason.

allowed_moves() answers "what may this person do to this notification now" for the services that
enforce it and for the pages that offer it, so no page restates the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..accounts.sessions import Auth
from ..models import Notification
from ..permissions import Permission
from .errors import WorkflowError

STATUSES = ("draft", "in_review", "changes_requested", "approved", "submitted", "withdrawn")
OPEN_STATUSES = ("draft", "in_review", "changes_requested", "approved")


@dataclass(frozen=True)
class Action:
    """Something a person may do while the notification is in one of `sources`."""

    name: str
    sources: tuple[str, ...]
    permission: Permission
    words: str  # what it does, for messages


@dataclass(frozen=True)
class Move(Action):
    """An action that moves the notification to another status."""

    target: str


MOVES: dict[str, Move] = {
    move.name: move
    for move in [
        Move(
            "request_review",
            ("draft", "changes_requested"),
            Permission.NOTIFICATION_DRAFT,
            "send it for review",
            target="in_review",
        ),
        Move("request_changes", ("in_review",), Permission.NOTIFICATION_REVIEW, "ask for changes", "changes_requested"),
        Move("approve", ("in_review",), Permission.NOTIFICATION_REVIEW, "approve it", target="approved"),
        Move("submit", ("approved",), Permission.NOTIFICATION_SUBMIT, "submit it", target="submitted"),
        Move("withdraw", OPEN_STATUSES, Permission.NOTIFICATION_DRAFT, "withdraw it", target="withdrawn"),
        # Editing an approved notification sends it back to draft: its approval no longer holds.
        Move("edit_after_approval", ("approved",), Permission.NOTIFICATION_DRAFT, "change it", target="draft"),
    ]
}

# Actions that leave the status as it is.
ACTIONS: dict[str, Action] = {
    action.name: action
    for action in [
        # Approved stays editable: the edit then withdraws the approval (edit_after_approval).
        Action("edit", ("draft", "changes_requested", "approved"), Permission.NOTIFICATION_DRAFT, "change it"),
        Action("follow_up", ("submitted",), Permission.NOTIFICATION_DRAFT, "send a follow-up"),
        Action("comment", STATUSES, Permission.NOTIFICATION_COMMENT, "comment on it"),
    ]
}
_EVERYTHING: dict[str, Action] = {**MOVES, **ACTIONS}

# For "You cannot approve it while it is a draft".
STATUS_PHRASES = {
    "draft": "a draft",
    "in_review": "in review",
    "changes_requested": "waiting for changes",
    "approved": "approved",
    "submitted": "submitted",
    "withdrawn": "withdrawn",
}


class MoveRefused(WorkflowError):
    """The message is written for the person to read."""


def check(move_name: str, status: str, holds_permission: bool) -> Action:
    move = _EVERYTHING.get(move_name)
    if move is None:
        raise MoveRefused("That is not something you can do to a notification")
    if status not in move.sources:
        raise MoveRefused(f"You cannot {move.words} while it is {STATUS_PHRASES.get(status, status)}")
    if not holds_permission:
        raise MoveRefused(f"Your roles at this location do not let you {move.words}")
    return move


def require(auth: Auth, notification: Notification, name: str) -> Action:
    """The action, if this person may take it now; else MoveRefused saying why."""
    action = _EVERYTHING.get(name)
    holds = action is not None and auth.has(action.permission, notification.location_id)
    return check(name, notification.status, holds)


def require_move(auth: Auth, notification: Notification, name: str) -> Move:
    require(auth, notification, name)
    return MOVES[name]


def allowed_moves(auth: Auth, notification: Notification) -> frozenset[str]:
    """The names of the moves and actions this person may take on this notification now."""
    return frozenset(
        action.name
        for action in _EVERYTHING.values()
        if notification.status in action.sources and auth.has(action.permission, notification.location_id)
    )
