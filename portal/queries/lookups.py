"""The question a route acts on: a provider sees only those service.py lets them, the support team any."""

from __future__ import annotations

from ..models import SupportQuery
from ..web.routing import Ctx, Loader
from . import service


def _organisation_query(ctx: Ctx, query_id: int) -> SupportQuery | None:
    return service.organisation_query(ctx.db, ctx.auth, query_id)


def _any_query(ctx: Ctx, query_id: int) -> SupportQuery | None:
    return service.any_query(ctx.db, query_id)


ORGANISATION_QUERY = Loader("query_id", _organisation_query)
ANY_QUERY = Loader("query_id", _any_query)
