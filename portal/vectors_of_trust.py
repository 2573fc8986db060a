"""Vectors of trust (RFC 8485) as GOV.UK One Login uses them: `vtr` asks, the id token's `vot` answers.

A vector is components joined by dots, such as "Cl.Cm": "C" components say how the person
authenticated (Cl a password, Cm a second factor as well), a "P" component how well their identity
was proved. `vtr` is a JSON list of acceptable vectors. One Login's id token names in `vot` the
authentication it achieved; the identity level travels in an identity claim the portal never asks for,
so only the authentication (C) components are compared.
"""

from __future__ import annotations

import json
import re

COMPONENT = re.compile(r"C[a-z]{1,2}|P[0-9]")


class BadVector(ValueError):
    pass


def components(vector: str) -> frozenset[str]:
    parts = vector.split(".")
    if not vector or not all(COMPONENT.fullmatch(part) for part in parts):
        raise BadVector(f'{vector!r} is not a vector of trust such as "Cl.Cm"')
    return frozenset(parts)


def requested(vtr: str) -> list[frozenset[str]]:
    """The vectors a `vtr` setting asks for. Raises BadVector, saying why, for anything else."""
    try:
        vectors = json.loads(vtr)
    except ValueError:
        raise BadVector(f'{vtr!r} is not JSON; write it as a list, such as ["Cl.Cm"]') from None
    if not isinstance(vectors, list) or not vectors or not all(isinstance(vector, str) for vector in vectors):
        raise BadVector(f'{vtr!r} is not a JSON list of vectors, such as ["Cl.Cm"]')
    parsed = [components(vector) for vector in vectors]
    if not all(_authentication(vector) for vector in parsed):
        raise BadVector(f"{vtr!r} has a vector without an authentication level (Cl, Cl.Cm)")
    return parsed


def _authentication(vector: frozenset[str]) -> frozenset[str]:
    return frozenset(part for part in vector if part.startswith("C"))


def satisfies(vot: object, vtr: str) -> bool:
    """True when the achieved `vot` includes every authentication component of one requested vector."""
    if not isinstance(vot, str):
        return False
    try:
        achieved = _authentication(components(vot))
    except BadVector:
        return False
    return any(_authentication(vector) <= achieved for vector in requested(vtr))
