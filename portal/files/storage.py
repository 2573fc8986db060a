"""Uploaded files under random keys, on local disk or in an S3 bucket (PORTAL_STORAGE).

Keys never come from what people send, so a filename cannot choose where a file lands. Both backends
keep the same promises (the Storage protocol below): a file is stored whole under its key or not at all,
memory stays flat whatever its size, and what an interrupted copy leaves is found by files_older_than
for the sweep.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from .. import metrics

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger("portal.attachments")

CHUNK = 64 * 1024
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
TEMP_PREFIX = ".upload-"
# mkstemp's names: the prefix, then letters, digits and underscores.
TEMP_PATTERN = re.compile(re.escape(TEMP_PREFIX) + r"[A-Za-z0-9_]+")


class TooLarge(Exception):
    pass


class Missing(LookupError):
    """No file is stored under the key."""


class Unavailable(OSError):
    """The store could not be reached or refused the request. An OSError, like a local disk's failures, so
    every caller that copes with one (a clean-up logged and left to the sweep) copes with the other."""


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def save(self, stream: BinaryIO, *, max_bytes: int) -> Stored: ...

    def open(self, key: str) -> BinaryIO:
        """The stored bytes, to read from the start; raises Missing."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Deleting a key that is not there is not an error: two clean-ups may race."""
        ...

    def files_older_than(self, cutoff: float) -> tuple[list[str], list[str]]:
        """(keys, names of part-written copies) last written before `cutoff`, a time.time() value."""
        ...

    def delete_temporary(self, name: str) -> None: ...


def storage_for(settings: Settings) -> Storage:
    """The configured backend. The S3 one keeps one client per process: making a client costs far more
    than a request, and boto3's clients are safe to share between threads."""
    store = settings.object_store
    if store.kind == "s3":
        from .s3 import S3Storage

        return S3Storage.shared(
            bucket=store.bucket, endpoint_url=store.endpoint_url, region=store.region, prefix=store.prefix
        )
    return LocalStorage(settings.storage_dir)


class LocalStorage:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def save(self, stream: BinaryIO, *, max_bytes: int) -> Stored:
        """Copies in chunks, so memory stays flat whatever the size; raises TooLarge past max_bytes."""
        self.root.mkdir(parents=True, exist_ok=True)
        # Same directory as the final file, so the rename is atomic: a worker killed mid-copy
        # leaves only a dot-file, never a half file under a real key.
        handle, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge()
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = secrets.token_hex(16)
            os.replace(temp_name, self.root / key)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return Stored(key=key, size=size, sha256=digest.hexdigest())

    def path(self, key: str) -> Path:
        # Keys come from our own database, but a bad one must still never reach outside the root.
        if not KEY_PATTERN.fullmatch(key):
            raise KeyError(key)
        return self.root / key

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise Missing(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def files_older_than(self, cutoff: float) -> tuple[list[str], list[str]]:
        """(keys, temporary names) of the files last written before `cutoff` (a time.time() value)."""
        keys: list[str] = []
        temporary: list[str] = []
        if not self.root.is_dir():
            return keys, temporary
        with os.scandir(self.root) as entries:
            for entry in entries:
                try:
                    if not entry.is_file(follow_symlinks=False) or entry.stat().st_mtime >= cutoff:
                        continue
                except FileNotFoundError:
                    continue  # deleted while we looked
                if KEY_PATTERN.fullmatch(entry.name):
                    keys.append(entry.name)
                elif TEMP_PATTERN.fullmatch(entry.name):
                    temporary.append(entry.name)
        return keys, temporary

    def delete_temporary(self, name: str) -> None:
        if not TEMP_PATTERN.fullmatch(name):
            raise KeyError(name)
        (self.root / name).unlink(missing_ok=True)


class Corrupt(Exception):
    """The stored bytes are not the ones recorded: their size or SHA-256 differs."""


def verified_chunks(file: BinaryIO, *, key: str, size: int, sha256: str) -> Iterator[bytes]:
    """The file's bytes, checked against the record's size and SHA-256 while they stream.

    A whole file cannot be checked before its first byte is sent without reading it twice (or holding it),
    so every chunk but the last is sent as it is read and the last is held back until the digest of the
    whole is known. A mismatch raises instead of sending it: the response, whose Content-Length is the
    recorded size, is cut off short, so the reader's client reports a failed download rather than keeping
    a file that differs from the one uploaded. It is logged as an error for the operators to alert on.
    """
    digest = hashlib.sha256()
    seen = 0
    held: bytes | None = None
    try:
        while chunk := file.read(CHUNK):
            if held is not None:
                yield held
            digest.update(chunk)
            seen += len(chunk)
            held = chunk
            if seen > size:
                break
        if seen != size or digest.hexdigest() != sha256:
            log.error("stored file does not match its record key=%s size=%s recorded_size=%s", key, seen, size)
            metrics.STORED_FILE_MISMATCHES.inc()
            raise Corrupt(key)
        if held is not None:
            yield held
    finally:
        file.close()
