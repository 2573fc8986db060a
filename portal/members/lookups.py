"""The objects the members routes act on, found only within the signed-in person's reach (accounts/grants.py)."""

from __future__ import annotations

from ..accounts import invitations
from ..accounts import organisations as orgs
from ..accounts.grants import Reach
from ..models import Invitation, Membership
from ..permissions import Permission
from ..web.routing import Ctx, Loader


def seeing(ctx: Ctx) -> Reach:
    """Whose membership this person sees: everyone's, or that of those holding a role at their locations."""
    return Reach.of_places(ctx.auth.locations_with(Permission.MEMBERS_VIEW))


def managing(ctx: Ctx) -> Reach:
    """Where this person may change members and grant roles."""
    return Reach.of_places(ctx.auth.locations_with(Permission.MEMBERS_MANAGE))


def _member(ctx: Ctx, membership_id: int) -> Membership | None:
    return orgs.member(ctx.db, ctx.auth.organisation.id, membership_id, within=seeing(ctx))


def _invitation(ctx: Ctx, invitation_id: int) -> Invitation | None:
    return invitations.invitation(ctx.db, ctx.auth.organisation.id, invitation_id, within=managing(ctx))


def _my_invitation(ctx: Ctx, invitation_id: int) -> Invitation | None:
    return invitations.invitation_for(ctx.db, ctx.auth.user, invitation_id)


# A member of the organisation in use, within the person's reach.
MEMBER = Loader("member_id", _member)
# An invitation the organisation in use has sent, every role of it within the person's reach.
INVITATION = Loader("invitation_id", _invitation)
# An invitation sent to the signed-in person, from any organisation.
MY_INVITATION = Loader("invitation_id", _my_invitation)
