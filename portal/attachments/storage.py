"""Uploaded files on local disk, under random keys.

Keys never come from what people send, so a filename cannot choose where a file lands.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 64 * 1024
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
TEMP_PREFIX = ".upload-"
# mkstemp's names: the prefix, then letters, digits and underscores.
TEMP_PATTERN = re.compile(re.escape(TEMP_PREFIX) + r"[A-Za-z0-9_]+")


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


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
        return open(self.path(key), "rb")

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
