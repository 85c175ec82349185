"""Taking uploads: every file of one upload is checked (count, size, kind by extension and
content) before any is kept, so a refused upload stores nothing; then the bytes go to the
file store and the rows to the database, in one transaction (the bytes are removed again if
the rows cannot be written)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..config import FileSettings
from ..db import files
from ..db.database import Database
from ..db.models import User
from ..errors import AppError, InvalidInput
from . import kinds
from .store import FileStore, new_key


class FileTooLarge(AppError):
    status = 413


@dataclass(frozen=True)
class Incoming:
    """One file of an upload, read: the name the person gave it and its bytes."""

    name: str
    data: bytes


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


def check(incoming: list[Incoming], limits: FileSettings) -> list[tuple[Incoming, str, str]]:
    """Each file with its kept name and content type; the first problem refuses them all."""
    if not incoming:
        raise InvalidInput("files_required", "请选择要上传的文件(字段 files)")
    if len(incoming) > limits.max_files:
        raise InvalidInput("too_many_files", f"一次最多上传 {limits.max_files} 个文件")
    accepted = []
    for item in incoming:
        name = kinds.clean_name(item.name)
        if len(item.data) > limits.max_bytes:
            raise FileTooLarge("file_too_large", f"文件「{name}」超过 {_megabytes(limits.max_bytes)},请压缩后再上传",
                               {"file": name, "max_bytes": limits.max_bytes})
        if not item.data:
            raise InvalidInput("file_empty", f"文件「{name}」是空的")
        content_type = kinds.content_type(name, item.data[:16], limits.types)
        if content_type is None:
            raise InvalidInput("file_type", f"文件「{name}」的类型不支持,可上传:{kinds.describe_types(limits.types)}",
                               {"file": name, "allowed": list(limits.types)})
        accepted.append((item, name, content_type))
    return accepted


async def accept(database: Database, store: FileStore, limits: FileSettings, owner: User,
                 incoming: list[Incoming]) -> list[dict[str, Any]]:
    """Keep the files of one upload as ``owner``'s; what each is, with its id."""
    accepted = check(incoming, limits)
    keys = []
    try:
        for item, _, _ in accepted:
            keys.append(new_key())
            await store.put(keys[-1], item.data)
        async with database.write() as session:
            rows = [await files.add(session, owner, name, content_type, len(item.data),
                                    hashlib.sha256(item.data).hexdigest(), key)
                    for (item, name, content_type), key in zip(accepted, keys)]
            return [files.shown(row) for row in rows]
    except BaseException:
        for key in keys:
            await store.delete(key)
        raise


async def prune(database: Database, store: FileStore, before: datetime) -> int:
    """Forget uploads not attached to an application and older than ``before`` (a form left
    unsubmitted, a file sent and replaced, one a resubmitted form dropped): rows first, then
    their bytes. How many."""
    async with database.write() as session:
        keys = await files.take_unattached(session, before)
    for key in keys:
        await store.delete(key)
    return len(keys)
