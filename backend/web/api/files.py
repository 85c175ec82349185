"""Attachments: upload (one or several files, multipart field ``files``) and download (only
for someone who may see the application it is attached to, or its uploader). The pages use
the same handlers with the session: /web/files and /files/{id}."""
from __future__ import annotations

import asyncio
from urllib.parse import quote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField

from ...config import FileSettings
from ...db import files
from ...errors import InvalidInput, NotFound
from ...files.store import FileMissing
from ...files.uploads import Incoming, accept, check
from ..auth import actor
from ..jsonio import json_response, path_id
from ..keys import DATABASE, FILE_STORE, SETTINGS

UPLOAD_FIELDS = ("files", "file")
INLINE = {"image/jpeg", "image/png", "image/gif", "image/webp"}  # shown in the browser; others downloaded


def _read(field: FileField) -> Incoming:
    with field.file:
        return Incoming(field.filename or "附件", field.file.read())


async def posted_files(fields: list[FileField]) -> list[Incoming]:
    """A page form's posted files (spooled by aiohttp), read off the event loop and closed."""
    return [await asyncio.to_thread(_read, field) for field in fields]


async def streamed_files(request: web.Request, limits: FileSettings) -> list[Incoming]:
    """The files of an upload, read part by part: one too many or too large refuses the
    upload there, before the rest is read."""
    if request.content_type != "multipart/form-data":
        raise InvalidInput("multipart_required", "请以 multipart/form-data 上传文件(字段 files)")
    try:
        return await _parts(await request.multipart(), limits)
    except (ValueError, HttpProcessingError):  # a body that is not well-formed multipart
        raise InvalidInput("multipart_invalid", "上传的内容格式有误,请重新选择文件上传") from None


async def _parts(reader: MultipartReader, limits: FileSettings) -> list[Incoming]:
    found: list[Incoming] = []
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name not in UPLOAD_FIELDS or not part.filename:
            await part.release()
            continue
        if len(found) == limits.max_files:
            raise InvalidInput("too_many_files", f"一次最多上传 {limits.max_files} 个文件")
        data = bytearray()
        while chunk := await part.read_chunk():
            data.extend(chunk)
            if len(data) > limits.max_bytes:
                check([Incoming(part.filename, bytes(data))], limits)  # raises file_too_large
        found.append(Incoming(part.filename, bytes(data)))
    return found


async def upload_files(request: web.Request) -> web.Response:
    app = request.app
    limits = app[SETTINGS].files
    incoming = await streamed_files(request, limits)
    stored = await accept(app[DATABASE], app[FILE_STORE], limits, actor(request), incoming)
    return json_response({"items": stored}, status=201)


def _disposition(name: str, inline: bool) -> str:
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def download_file(request: web.Request) -> web.Response:
    file_id = path_id(request, "file_not_found", "没有找到附件")
    async with request.app[DATABASE].read() as session:
        row = await files.visible(session, actor(request), file_id)
    if row is None:  # not there and not yours to see look the same
        raise NotFound("file_not_found", f"没有找到附件 {file_id}")
    try:
        data = await request.app[FILE_STORE].open(row.storage_key)
    except FileMissing:
        raise NotFound("file_missing", f"附件「{row.original_name}」的文件已不在存储中,请联系管理员") from None
    return web.Response(body=data, content_type=row.content_type, headers={
        "Content-Disposition": _disposition(row.original_name, row.content_type in INLINE),
        "Cache-Control": "private, no-store",
    })
