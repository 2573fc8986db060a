"""Content hashes and references."""

from __future__ import annotations

import hashlib
import json
import secrets

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read aloud over the phone is typed right first time.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_LENGTH = 8


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def content_hash(answers_by_section: dict[str, dict], attachment_hashes: list[str]) -> str:
    canonical = json.dumps(
        {"answers": answers_by_section, "attachments": sorted(attachment_hashes)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
