"""Roles are data: roles/*.toml. Each names the permissions it grants."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .permissions import ORGANISATION_WIDE, PERMISSIONS, Permission

ROLES_DIR = Path(__file__).resolve().parent.parent / "roles"


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    scope: str  # "provider" or "regulator"
    description: str
    permissions: frozenset[Permission]


class RoleDefinitionError(ValueError):
    pass


def load_roles(directory: Path = ROLES_DIR) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as error:
            raise RoleDefinitionError(f"{path.name}: {error}") from None
        for key in ("name", "title", "scope", "description", "permissions"):
            if key not in data:
                raise RoleDefinitionError(f"{path.name}: missing {key!r}")
        unknown = set(data["permissions"]) - set(PERMISSIONS)
        if unknown:
            raise RoleDefinitionError(f"{path.name}: unknown permissions {sorted(unknown)}")
        if data["scope"] not in ("provider", "regulator"):
            raise RoleDefinitionError(f"{path.name}: scope must be provider or regulator")
        roles[data["name"]] = Role(
            name=data["name"],
            title=data["title"],
            scope=data["scope"],
            description=data["description"],
            permissions=frozenset(Permission(name) for name in data["permissions"]),
        )
    return roles


ROLES = load_roles()
PROVIDER_ROLES = [role for role in ROLES.values() if role.scope == "provider"]


def roles_granting(permission: Permission) -> frozenset[str]:
    """The names of the roles that grant a permission."""
    return frozenset(name for name, role in ROLES.items() if permission in role.permissions)


def permissions_at(role: str, location_id: int | None) -> frozenset[Permission]:
    """What a role grants where it is granted: for some locations, all but the organisation-wide permissions.

    An unknown role (one removed from roles/ while grants of it remain) grants nothing.
    """
    found = ROLES.get(role)
    if found is None:
        return frozenset()
    return found.permissions if location_id is None else found.permissions - ORGANISATION_WIDE
