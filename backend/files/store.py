"""Where an attachment's bytes are kept.

``FileStore`` is the interface: bytes in under a key the caller chose (random, never a
person's file name), bytes out, gone. ``LocalFileStore`` keeps them in a directory
(FILES_DIR), one file per key in a two-level fan-out, written to a temporary name first so
a reader never sees half a file. ``S3FileStore`` keeps them in an S3-compatible bucket
(AWS S3, MinIO, Ceph …) that several machines share (FILES_STORE=s3). ``file_store`` builds
the one the settings name.
"""
from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Any, Optional, Protocol

from ..config import FileSettings

_KEY = re.compile(r"^[0-9a-f]{32}$")


class FileMissing(Exception):
    """The store has nothing under the key (deleted, or never written)."""


class FileStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def open(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


def new_key() -> str:
    """A random storage key: 128 bits, lower-case hex."""
    return secrets.token_hex(16)


class LocalFileStore:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):  # keys are ours; anything else could walk the file system
            raise ValueError(f"not a storage key: {key!r}")
        return self.directory / key[:2] / key

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{key}.{secrets.token_hex(4)}.part")
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)

    def _open(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise FileMissing(key) from None

    def _delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def open(self, key: str) -> bytes:
        return await asyncio.to_thread(self._open, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)


class S3FileStore:
    """An S3-compatible bucket: objects ``<prefix><key>``. Credentials come the usual AWS way
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role); the endpoint
    (FILES_S3_ENDPOINT_URL) names a MinIO or another S3-compatible service. boto3 blocks:
    each call runs in a thread."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: Optional[str] = None,
                 region: Optional[str] = None, client: Any = None):
        if client is None:
            import boto3  # only a deployment that stores in S3 needs it

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def _object(self, key: str) -> str:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.prefix + key

    def _open(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except self.client.exceptions.NoSuchKey:
            raise FileMissing(key) from None
        with answer["Body"] as body:
            return body.read()

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=self._object(key), Body=data)

    async def open(self, key: str) -> bytes:
        return await asyncio.to_thread(self._open, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._object(key))


def file_store(settings: FileSettings) -> FileStore:
    """The store FILES_STORE names: ``local`` (FILES_DIR) or ``s3`` (FILES_S3_*)."""
    if settings.store == "s3":
        return S3FileStore(settings.s3_bucket or "", settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    return LocalFileStore(settings.directory)
