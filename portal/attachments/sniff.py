"""What a file is, from its own bytes: only the kinds on the allowlist get a type.

The filename's extension is never trusted; it only tells CSV from other text, which are equally safe.
"""

from __future__ import annotations

import codecs
import struct
import zipfile
from typing import BinaryIO

HEAD_BYTES = 8 * 1024
# An Office file has dozens of parts; a zip claiming many thousands would make zipfile build a
# record for each one, so it is refused before zipfile reads the directory.
MAX_ZIP_ENTRIES = 5_000

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SIGNATURES = [
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG image"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG image"),
    (b"GIF87a", "image/gif", "GIF image"),
    (b"GIF89a", "image/gif", "GIF image"),
]
OOXML = [
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel spreadsheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint presentation"),
]
OPENDOCUMENT = {
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
}
# OLE2 also holds installers (.msi) and Outlook messages, so the stream names decide.
OLE_STREAMS = [
    ({"WordDocument"}, "application/msword", "Word document"),
    ({"Workbook", "Book"}, "application/vnd.ms-excel", "Excel spreadsheet"),
    ({"PowerPoint Document"}, "application/vnd.ms-powerpoint", "PowerPoint presentation"),
]


def sniff(file: BinaryIO, filename: str = "") -> tuple[str, str] | None:
    """(content type, friendly name) for an allowed kind of file, else None. `file` must be seekable."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    for magic, content_type, name in SIGNATURES:
        if head.startswith(magic):
            return content_type, name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "WebP image"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(file)
    if head.startswith(OLE2):
        return _ole_kind(file)
    if _is_text(head, whole=len(head) < HEAD_BYTES):
        if filename.lower().endswith(".csv"):
            return "text/csv; charset=utf-8", "CSV file"
        return "text/plain; charset=utf-8", "Text file"
    return None


def _is_text(head: bytes, *, whole: bool) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        # Not final unless this is the whole file: the 8 KiB cut may split a character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)
    except UnicodeDecodeError:
        return False
    return True


def _zip_kind(file: BinaryIO) -> tuple[str, str] | None:
    entries = _zip_entry_count(file)
    if entries is None or entries > MAX_ZIP_ENTRIES:
        return None
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                with archive.open("mimetype") as part:
                    mimetype = part.read(100).decode("ascii", "replace").strip()
                name = OPENDOCUMENT.get(mimetype)
                return (mimetype, name) if name else None
    # A malformed archive can fail inside zipfile in many ways; every one means "not an Office file".
    except Exception:
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(part.lower().endswith("vbaproject.bin") for part in names):
        return None  # macro-enabled: not on the allowlist
    for prefix, content_type, name in OOXML:
        if any(part.startswith(prefix) for part in names):
            return content_type, name
    return None


def _zip_entry_count(file: BinaryIO) -> int | None:
    file.seek(0, 2)
    end = file.tell()
    start = max(0, end - (22 + 0xFFFF))  # the end record plus the longest possible comment
    file.seek(start)
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    count = int.from_bytes(tail[at + 10 : at + 12], "little")
    return None if count == 0xFFFF else count  # 0xFFFF means ZIP64, which no Office file needs


def _ole_kind(file: BinaryIO) -> tuple[str, str] | None:
    streams = _ole_stream_names(file)
    for wanted, content_type, name in OLE_STREAMS:
        if streams & wanted:
            return content_type, name
    return None


END_OF_CHAIN = 0xFFFFFFFA  # this and above are markers, not sector numbers
MAX_DIRECTORY_SECTORS = 256  # bounded, so a crafted loop in the sector chain cannot spin forever


def _ole_stream_names(file: BinaryIO) -> set[str]:
    """The stream names in a compound file's directory (MS-CFB), following its sector chain."""
    file.seek(0)
    header = file.read(512)
    if len(header) < 512:
        return set()
    shift = int.from_bytes(header[0x1E:0x20], "little")
    if shift not in (9, 12):
        return set()
    size = 1 << shift
    per_fat_sector = size // 4
    fat_sectors = struct.unpack("<109I", header[0x4C:0x200])

    def read_sector(number: int) -> bytes:
        file.seek((number + 1) * size)
        return file.read(size)

    def next_sector(number: int) -> int:
        index = number // per_fat_sector
        if index >= len(fat_sectors) or fat_sectors[index] >= END_OF_CHAIN:
            return END_OF_CHAIN
        fat = read_sector(fat_sectors[index])
        offset = (number % per_fat_sector) * 4
        return int.from_bytes(fat[offset : offset + 4], "little") if len(fat) == size else END_OF_CHAIN

    names: set[str] = set()
    sector = int.from_bytes(header[0x30:0x34], "little")
    for _ in range(MAX_DIRECTORY_SECTORS):
        if sector >= END_OF_CHAIN:
            break
        data = read_sector(sector)
        if len(data) < size:
            break
        for offset in range(0, size, 128):
            entry = data[offset : offset + 128]
            length = int.from_bytes(entry[64:66], "little")
            if entry[66] == 2 and 2 <= length <= 64:  # 2: a stream
                names.add(entry[: length - 2].decode("utf-16-le", "replace"))
        sector = next_sector(sector)
    return names
