"""How a route finds the notification in its path: only one the signed-in person may see, else 404.

A POST may change it, so for a POST the notification's lock is taken before it is read (locking.py):
what the handler decides on is then what it changes, whoever else is pressing a button at that moment.
A Prepare's early check takes none: it changes nothing, and the handler checks again under the lock.
"""

from __future__ import annotations

from ..web.routing import UNSAFE, Ctx, Loader
from .locking import lock
from .reading import visible


def _notification(ctx: Ctx, notification_id: int):
    if ctx.request.method in UNSAFE and not ctx.checking and ctx.auth is not None and ctx.auth.organisation is not None:
        lock(ctx.db, notification_id, organisation_id=ctx.auth.organisation.id)
    return visible(ctx.db, ctx.auth, notification_id)


NOTIFICATION = Loader("notification_id", _notification)
