"""The content hash: what approval and submission pin down, answers and files together."""

from __future__ import annotations

import hashlib
import json


def content_hash(answers_by_section: dict[str, dict], attachment_hashes: list[str]) -> str:
    canonical = json.dumps(
        {"answers": answers_by_section, "attachments": sorted(attachment_hashes)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
