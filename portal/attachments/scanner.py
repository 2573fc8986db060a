"""Virus scanning: clamd over its Unix socket in production, nothing in development."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""


class ScannerUnavailable(Exception):
    """The scanner could not give a verdict; the file must then be refused, not let through."""


class Scanner(Protocol):
    def scan(self, file: BinaryIO) -> Verdict: ...


class NoScanner:
    """Development only: every file is clean."""

    def scan(self, file: BinaryIO) -> Verdict:
        return Verdict(clean=True)


class ClamdScanner:
    """clamd's INSTREAM command: length-prefixed chunks, a zero-length end, one reply line."""

    def __init__(self, socket_path: str, timeout: float = 60.0):
        self.socket_path = socket_path
        self.timeout = timeout

    def scan(self, file: BinaryIO) -> Verdict:
        file.seek(0)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(self.timeout)
                connection.connect(self.socket_path)
                try:
                    connection.sendall(b"zINSTREAM\0")
                    while chunk := file.read(CHUNK):
                        connection.sendall(len(chunk).to_bytes(4, "big") + chunk)
                    connection.sendall(b"\0\0\0\0")
                except BrokenPipeError:
                    pass  # clamd hangs up early when a stream passes its StreamMaxLength; its reply says so
                reply = _read_reply(connection)
        except OSError as error:
            raise ScannerUnavailable(f"clamd at {self.socket_path}: {error}") from error
        return _verdict(reply)


def _read_reply(connection: socket.socket) -> str:
    data = b""
    while b"\0" not in data and len(data) < 4096:
        part = connection.recv(1024)
        if not part:
            break
        data += part
    return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def _verdict(reply: str) -> Verdict:
    # "stream: OK", "stream: Eicar-Signature FOUND", or "... ERROR" (for example the size limit).
    if reply.endswith(" OK"):
        return Verdict(clean=True)
    if reply.endswith(" FOUND"):
        signature = reply.removesuffix(" FOUND").split(": ", 1)[-1]
        return Verdict(clean=False, signature=signature)
    raise ScannerUnavailable(f"clamd answered {reply!r}")


def scanner_for(settings) -> Scanner:
    if settings.clamd_socket:
        return ClamdScanner(settings.clamd_socket)
    return NoScanner()
