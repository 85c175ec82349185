"""Where an attachment's bytes are kept.

``FileStore`` is the interface: bytes in under a key the caller chose (random, never a
person's file name), bytes out, gone. ``LocalFileStore`` keeps them in a directory
(FILES_DIR), one file per key in a two-level fan-out, written to a temporary name first so
a reader never sees half a file. Another store (an S3-compatible bucket for several
machines) implements the same three methods; none is built in yet (FILES_STORE=local only).
"""
from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

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
