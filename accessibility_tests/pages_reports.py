"""Page states for reports."""

from __future__ import annotations

STATES_REPORTS: list = []
