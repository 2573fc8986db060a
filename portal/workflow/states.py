"""The one state machine for notifications. Any move not listed here is refused, with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from ..permissions import Permission


@dataclass(frozen=True)
class Move:
    name: str
    sources: tuple[str, ...]
    target: str
    permission: Permission
    words: str  # what the move does, for messages


MOVES: dict[str, Move] = {
    move.name: move
    for move in [
        Move(
            "request_review",
            ("draft", "changes_requested"),
            "in_review",
            Permission.NOTIFICATION_DRAFT,
            "send it for review",
        ),
        Move("request_changes", ("in_review",), "changes_requested", Permission.NOTIFICATION_REVIEW, "ask for changes"),
        Move("approve", ("in_review",), "approved", Permission.NOTIFICATION_REVIEW, "approve it"),
        Move("submit", ("approved",), "submitted", Permission.NOTIFICATION_SUBMIT, "submit it"),
        Move(
            "withdraw",
            ("draft", "in_review", "changes_requested", "approved"),
            "withdrawn",
            Permission.NOTIFICATION_DRAFT,
            "withdraw it",
        ),
        # Editing an approved notification sends it back to draft: its approval no longer holds.
        Move("edit_after_approval", ("approved",), "draft", Permission.NOTIFICATION_DRAFT, "change it"),
    ]
}

STATUS_WORDS = {
    "draft": "a draft",
    "in_review": "in review",
    "changes_requested": "waiting for changes",
    "approved": "approved",
    "submitted": "submitted",
    "withdrawn": "withdrawn",
}


class MoveRefused(Exception):
    """The message is written for the person to read."""


def check(move_name: str, status: str, holds_permission: bool) -> Move:
    move = MOVES.get(move_name)
    if move is None:
        raise MoveRefused("That is not something you can do to a notification")
    if status not in move.sources:
        raise MoveRefused(f"You cannot {move.words} while it is {STATUS_WORDS.get(status, status)}")
    if not holds_permission:
        raise MoveRefused(f"Your roles at this location do not let you {move.words}")
    return move
