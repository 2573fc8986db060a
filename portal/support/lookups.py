"""The objects the support workspace acts on. Support staff may see any organisation and any person;
notifications only once they are submitted, or once the provider has asked about them."""

from __future__ import annotations

from ..models import Notification, Organisation, SignupRequest, User
from ..web.routing import Ctx, Loader
from . import service


def _organisation(ctx: Ctx, organisation_id: int) -> Organisation | None:
    return service.organisation(ctx.db, organisation_id)


def _person(ctx: Ctx, user_id: int) -> User | None:
    return service.person(ctx.db, user_id)


def _signup_request(ctx: Ctx, request_id: int) -> SignupRequest | None:
    return service.signup_request(ctx.db, request_id)


def _notification(ctx: Ctx, notification_id: int) -> Notification | None:
    return service.visible_notification(ctx.db, notification_id)


ORGANISATION = Loader("organisation_id", _organisation)
PERSON = Loader("user_id", _person)
NOTIFICATION = Loader("notification_id", _notification)
SIGNUP_REQUEST = Loader("request_id", _signup_request)
