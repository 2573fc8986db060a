"""A section's words kept after the person's session ended (portal/accounts/kept_input.py), as the form
shows them again: from the section form, or from the conflict page's choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..accounts import kept_input
from ..models import SectionDraft
from ..numbers import parse_id, parse_number
from .definitions import Section
from .form_input import kept_answers, merge_choices, section_raw


@dataclass(frozen=True)
class KeptSection:
    # Raw input by question key, as the form shows it.
    values: dict[str, Any]
    # The version the words started from: the form sends it back, so a save after someone else's meets
    # the version check and its conflict page, never overwriting theirs.
    version: int
    signed_out_at: datetime
    # Someone saved the section after the words were started.
    changed_since: bool


def kept_section(db: Session, user_id: int, page: str, section: Section, draft: SectionDraft) -> KeptSection | None:
    kept = kept_input.find(db, user_id, page)
    if kept is None:
        return None
    mine = kept.get("mine")
    if mine is None:
        values = section_raw(section, kept)
    else:
        # Posted from the conflict page: their own answers and, for each, which one they chose to keep.
        answers = kept_answers(mine, section)
        if answers is None:
            return None
        choices = {
            name.removeprefix("choice-"): value for name, value in kept.multi_items() if name.startswith("choice-")
        }
        values = merge_choices(section, answers, choices, draft.answers, draft.raw)
    version = parse_number(kept.get("version") or "")
    # Without a version nobody can tell what the words started from: -1 makes any save meet the conflict page.
    started_from = -1 if version is None else version
    return KeptSection(
        values=values,
        version=started_from,
        signed_out_at=kept.signed_out_at,
        changed_since=started_from != draft.version,
    )


def forget(db: Session, user_id: int, page: str) -> None:
    kept_input.forget(db, user_id, page)


# Comments and a reviewer's request for changes, posted after the session ended: offered back on the page
# they were written on, and shown in words on that page too, so they survive the notification moving on.


@dataclass(frozen=True)
class KeptComment:
    section_key: str
    # The comment replied to; None for a new comment on the section.
    parent_id: int | None
    body: str
    signed_out_at: datetime

    @property
    def words(self) -> str:
        return self.body

    @property
    def box(self) -> str:
        """The comment box's fragment on the page: the thread's reply box, or the section's new comment box."""
        return f"#reply-{self.parent_id}" if self.parent_id is not None else f"#comment-{self.section_key}"

    def body_for(self, section_key: str, parent_id: int | None = None) -> str:
        """The kept words for the comment box of that section (and thread), "" for every other box."""
        return self.body if (section_key, parent_id) == (self.section_key, self.parent_id) else ""


def kept_comment(db: Session, user_id: int, page: str) -> KeptComment | None:
    kept = kept_input.find(db, user_id, page)
    body = (kept.get("body") or "") if kept is not None else ""
    if kept is None or not body.strip():
        return None
    return KeptComment(
        section_key=kept.get("section") or "",
        parent_id=parse_id(kept.get("parent_id") or ""),
        body=body,
        signed_out_at=kept.signed_out_at,
    )


@dataclass(frozen=True)
class KeptReview:
    summary: str
    sections: list[str]
    signed_out_at: datetime

    @property
    def words(self) -> str:
        return self.summary


def kept_review(db: Session, user_id: int, page: str) -> KeptReview | None:
    kept = kept_input.find(db, user_id, page)
    if kept is None or not ((kept.get("summary") or "").strip() or kept.getlist("sections")):
        return None
    return KeptReview(
        summary=kept.get("summary") or "", sections=kept.getlist("sections"), signed_out_at=kept.signed_out_at
    )
