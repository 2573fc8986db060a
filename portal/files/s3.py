"""Uploaded files in an S3 bucket (PORTAL_STORAGE=s3), shared by every instance of the portal.

The same promises as LocalStorage: an object appears whole under its key or not at all (a single PUT, or
a multipart upload that only becomes an object when completed), memory stays at one part whatever the
file's size, and a copy cut off part-way (an incomplete multipart upload) is found for the sweep.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .storage import CHUNK, KEY_PATTERN, Missing, Stored, TooLarge, Unavailable

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

log = logging.getLogger("portal.attachments")

# S3's smallest part but the last is 5 MiB. 8 MiB keeps a 50 MB file to seven requests while one part, the
# only thing held in memory, stays small (bench/upload_memory.py measures a 500 MB upload).
PART = 8 * 1024 * 1024
# "Not there" as S3 and S3-compatible stores say it, for an object and for a multipart upload.
NOT_THERE = {"NoSuchKey", "404", "NotFound", "NoSuchUpload"}


class S3Storage:
    _shared: dict[tuple[Any, ...], S3Storage] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls, *, bucket: str, endpoint_url: str = "", region: str = "", prefix: str = "") -> S3Storage:
        """One per configuration per process: a client costs far more to make than a request, and boto3's
        clients are safe to share between threads."""
        config = (bucket, endpoint_url, region, prefix)
        with cls._shared_lock:
            found = cls._shared.get(config)
            if found is None:
                found = cls(bucket=bucket, endpoint_url=endpoint_url, region=region, prefix=prefix)
                cls._shared[config] = found
            return found

    def __init__(self, *, bucket: str, endpoint_url: str = "", region: str = "", prefix: str = ""):
        self.bucket = bucket
        self.prefix = prefix
        # A session of its own: boto3's default session is not safe to make clients from in several threads.
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=Config(
                retries={"mode": "standard", "max_attempts": 5},
                # As many connections as the threads that may use the client at once (uploads and downloads
                # run on the request thread pool), so none waits for another's connection.
                max_pool_connections=50,
            ),
        )

    def _name(self, key: str) -> str:
        # Keys come from our own database, but a bad one must still never name another object.
        if not KEY_PATTERN.fullmatch(key):
            raise KeyError(key)
        return self.prefix + key

    def save(self, stream: BinaryIO, *, max_bytes: int) -> Stored:
        try:
            return self._save(stream, max_bytes=max_bytes)
        except (ClientError, BotoCoreError) as error:
            raise Unavailable(str(error)) from error

    def _save(self, stream: BinaryIO, *, max_bytes: int) -> Stored:
        key = secrets.token_hex(16)
        name = self._name(key)
        digest = hashlib.sha256()
        size = 0

        # One buffer for every part, filled again once its part is sent: the only copy of the file in memory.
        buffer = bytearray(PART)

        def next_part() -> bytearray | bytes:
            """The next part: the whole buffer, or the file's short last piece (a copy, at most one part)."""
            nonlocal size
            view = memoryview(buffer)
            length = 0
            while length < PART and (chunk := stream.read(min(CHUNK, PART - length))):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge()
                digest.update(chunk)
                view[length : length + len(chunk)] = chunk
                length += len(chunk)
            return buffer if length == PART else bytes(view[:length])

        part = next_part()
        if len(part) < PART:
            # The whole file in one part, as most are: one request, and S3 writes it whole or not at all.
            self.client.put_object(Bucket=self.bucket, Key=name, Body=cast(bytes, part))  # short: always bytes
            return Stored(key=key, size=size, sha256=digest.hexdigest())
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            while part:
                number = len(parts) + 1
                # botocore takes a bytearray as it takes bytes (its stubs say only bytes), sent without a copy.
                answer = self.client.upload_part(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=cast(bytes, part)
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                if len(part) < PART:
                    break  # that was the short last piece
                part = next_part()
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": cast(Any, parts)}
            )
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            except Exception:
                # The store is unreachable: the sweep aborts the upload later (files_older_than finds it).
                log.exception("could not abort the multipart upload of %s", key)
            raise
        return Stored(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except ClientError as error:
            if _code(error) in NOT_THERE:
                raise Missing(key) from None
            raise Unavailable(str(error)) from error
        except BotoCoreError as error:
            raise Unavailable(str(error)) from error
        # botocore's StreamingBody reads in pieces from the connection: nothing is fetched whole.
        return cast(BinaryIO, body)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _code(error) in NOT_THERE:
                return False
            raise Unavailable(str(error)) from error
        except BotoCoreError as error:
            raise Unavailable(str(error)) from error
        return True

    def delete(self, key: str) -> None:
        # S3 answers a delete of a missing key with success, as LocalStorage's unlink(missing_ok=True) does.
        name = self._name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except (ClientError, BotoCoreError) as error:
            raise Unavailable(str(error)) from error

    def files_older_than(self, cutoff: float) -> tuple[list[str], list[str]]:
        keys: list[str] = []
        temporary: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if KEY_PATTERN.fullmatch(key) and item["LastModified"].timestamp() < cutoff:
                    keys.append(key)
        # A multipart upload never completed nor aborted (the process killed mid-copy) keeps its parts, and
        # the bill for them, until someone aborts it: these are the part-written copies.
        uploads = self.client.get_paginator("list_multipart_uploads")
        for listing in uploads.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in listing.get("Uploads", []):
                key = upload["Key"][len(self.prefix) :]
                if KEY_PATTERN.fullmatch(key) and upload["Initiated"].timestamp() < cutoff:
                    temporary.append(f"{key}:{upload['UploadId']}")
        return keys, temporary

    def delete_temporary(self, name: str) -> None:
        key, _, upload_id = name.partition(":")
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._name(key), UploadId=upload_id)
        except ClientError as error:
            if _code(error) not in NOT_THERE:
                raise Unavailable(str(error)) from error
        except BotoCoreError as error:
            raise Unavailable(str(error)) from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
