"""The shipped definitions, loaded once per process and checked at start-up."""

from __future__ import annotations

from functools import lru_cache

from .definitions import NotificationType, load_definitions


@lru_cache(maxsize=1)
def definitions() -> dict[str, NotificationType]:
    return load_definitions()


def definition(key: str) -> NotificationType | None:
    return definitions().get(key)


def sorted_types() -> list[NotificationType]:
    return sorted(definitions().values(), key=lambda kind: kind.title)
