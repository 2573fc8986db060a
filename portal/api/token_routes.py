"""Support leads create and revoke the API tokens the regulator's intake systems use."""

from __future__ import annotations

from wtforms.validators import DataRequired, Length

from ..permissions import Permission
from ..web.forms import Form
from ..web.govuk_fields import GovukTextInput
from ..web.routing import Ctx, NotFound, Routes
from . import service

routes = Routes("api_tokens")


class TokenForm(Form):
    name = GovukTextInput(
        "Name",
        description="Say which system will use it, so you know what breaks if you revoke it",
        filters=[service.clean_token_name],
        validators=[
            DataRequired("Enter a name for the token"),
            Length(max=service.MAX_TOKEN_NAME, message="Name must be 100 characters or fewer"),
        ],
    )


def _page(ctx: Ctx, form: TokenForm, status: int = 200):
    return ctx.render("api/tokens.html", status=status, form=form, tokens=service.all_tokens(ctx.db))


@routes.get("/support/api-tokens", permission=Permission.API_TOKENS_MANAGE)
def tokens(ctx: Ctx):
    return _page(ctx, TokenForm())


@routes.post("/support/api-tokens", permission=Permission.API_TOKENS_MANAGE)
def create_post(ctx: Ctx):
    form = TokenForm(ctx.form)
    if not form.validate():
        return _page(ctx, form, status=400)
    token, secret = service.create_token(
        ctx.db,
        name=form.name.data or "",
        actor_id=ctx.auth.user.id,
        organisation_id=ctx.auth.organisation.id,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    # Shown in this response and nowhere else: only its hash is kept, and no-store keeps it out of
    # the browser's cache and history.
    response = ctx.render("api/token_created.html", token=token, secret=secret)
    response.headers["cache-control"] = "no-store"
    return response


@routes.post("/support/api-tokens/{token_id}/revoke", permission=Permission.API_TOKENS_MANAGE)
def revoke_post(ctx: Ctx):
    token = service.revoke_token(
        ctx.db,
        ctx.param_int("token_id"),
        actor_id=ctx.auth.user.id,
        organisation_id=ctx.auth.organisation.id,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )
    if token is None:
        raise NotFound()
    return ctx.redirect_to(
        "api_tokens.tokens", flash="API token revoked. Systems using it can no longer read submissions."
    )
