"""placeholder"""

from __future__ import annotations

from ..web.routing import Routes

routes = Routes()
