"""Headers for files sent to be saved, shared by the people's downloads and the regulator API's."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(filename: str) -> str:
    """Both forms (RFC 6266): a plain ASCII name for old clients, the exact name in filename*."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
