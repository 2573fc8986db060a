"""Page states for queries."""

from __future__ import annotations

STATES_QUERIES: list = []
