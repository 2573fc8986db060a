"""The S3-compatible server the suite starts, and a look behind each storage backend's back.

moto's standalone server speaks the S3 API over HTTP, so the portal's S3 backend talks to it exactly as to
AWS: real requests, real multipart uploads, real listings. No real S3-compatible server installs from the
package registries this project uses (see the README's PORTAL_S3_ENDPOINT_URL).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from portal.settings import ObjectStore, Settings

from .ports import free_port

REGION = "eu-west-2"
# moto takes any credentials; the portal's boto3 finds these where it finds real ones, in the environment.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "portal-tests", "AWS_SECRET_ACCESS_KEY": "portal-tests-secret"}
STORES = ["local", "s3"]


@dataclass
class S3Server:
    endpoint_url: str
    _server: object

    @classmethod
    def start(cls) -> S3Server:
        from moto.server import ThreadedMotoServer

        for name, value in CREDENTIALS.items():
            os.environ.setdefault(name, value)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        return cls(endpoint_url=f"http://127.0.0.1:{port}", _server=server)

    def stop(self) -> None:
        self._server.stop()

    def client(self):
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def new_store(self) -> ObjectStore:
        """A bucket of its own, so tests never see each other's objects."""
        bucket = f"portal-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        return ObjectStore(kind="s3", bucket=bucket, endpoint_url=self.endpoint_url, region=REGION)


@pytest.fixture(params=STORES)
def either_store(request) -> ObjectStore:
    """Every test using it runs on local files and on S3. A module turns it on for its whole `settings`
    with `object_store = either_store` beside its imports."""
    if request.param == "local":
        return ObjectStore()
    return request.getfixturevalue("s3_server").new_store()


class Behind:
    """What is really stored, read and changed without the portal's storage code."""

    def __init__(self, settings: Settings, server: S3Server | None):
        self.settings = settings
        self.store = settings.object_store
        self.s3 = server.client() if self.store.kind == "s3" and server is not None else None

    @property
    def root(self) -> Path:
        return self.settings.storage_dir

    def keys(self) -> list[str]:
        """Every stored file's key: whole files only."""
        if self.s3 is None:
            if not self.root.exists():
                return []
            return sorted(path.name for path in self.root.iterdir() if not path.name.startswith("."))
        listing = self.s3.list_objects_v2(Bucket=self.store.bucket, Prefix=self.store.prefix)
        return sorted(item["Key"][len(self.store.prefix) :] for item in listing.get("Contents", []))

    def part_written(self) -> list[str]:
        """Copies begun and never finished: temporary files, or multipart uploads neither completed nor aborted."""
        if self.s3 is None:
            if not self.root.exists():
                return []
            return sorted(path.name for path in self.root.iterdir() if path.name.startswith("."))
        listing = self.s3.list_multipart_uploads(Bucket=self.store.bucket, Prefix=self.store.prefix)
        return sorted(upload["Key"] for upload in listing.get("Uploads", []))

    def write(self, key: str, content: bytes) -> None:
        """Puts bytes under a key, as a disk fault or a hand in the bucket would."""
        if self.s3 is None:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / key).write_bytes(content)
        else:
            self.s3.put_object(Bucket=self.store.bucket, Key=self.store.prefix + key, Body=content)

    def begin_part_written(self, key: str) -> None:
        """What a process killed mid-copy leaves behind."""
        if self.s3 is None:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / ".upload-killed_mid_copy").write_bytes(b"%PDF-1.4 half")
        else:
            name = self.store.prefix + key
            upload = self.s3.create_multipart_upload(Bucket=self.store.bucket, Key=name)
            self.s3.upload_part(
                Bucket=self.store.bucket, Key=name, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024
            )
