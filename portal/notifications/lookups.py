"""How a route finds the notification in its path: only one the signed-in person may see, else 404."""

from __future__ import annotations

from ..web.routing import Loader
from .reading import visible

NOTIFICATION = Loader("notification_id", lambda ctx, notification_id: visible(ctx.db, ctx.auth, notification_id))
