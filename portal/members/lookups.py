"""The objects the members routes act on, found only within the signed-in person's reach."""

from __future__ import annotations

from ..accounts import invitations
from ..accounts import organisations as orgs
from ..models import Invitation, Membership
from ..web.routing import Ctx, Loader


def _member(ctx: Ctx, membership_id: int) -> Membership | None:
    return orgs.member(ctx.db, ctx.auth.organisation.id, membership_id)


def _invitation(ctx: Ctx, invitation_id: int) -> Invitation | None:
    return invitations.invitation(ctx.db, ctx.auth.organisation.id, invitation_id)


def _my_invitation(ctx: Ctx, invitation_id: int) -> Invitation | None:
    return invitations.invitation_for(ctx.db, ctx.auth.user, invitation_id)


# A member of the organisation in use.
MEMBER = Loader("member_id", _member)
# An invitation the organisation in use has sent.
INVITATION = Loader("invitation_id", _invitation)
# An invitation sent to the signed-in person, from any organisation.
MY_INVITATION = Loader("invitation_id", _my_invitation)
