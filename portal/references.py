"""The shape of a submission's reference, shared by the notifications that give one and the API that reads one."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read aloud over the phone is typed right first time.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_LENGTH = 8


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
