"""Page states for the regulator API's token pages in the support workspace."""

from __future__ import annotations

STATES_API: list = []
