"""Small real files of the kinds the hall accepts (their first bytes are what is checked),
and uploading them over the API."""
from __future__ import annotations

import io

import aiohttp

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64  # a Windows program


def form(*files: tuple[str, bytes], field: str = "files") -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    for name, content in files:
        data.add_field(field, io.BytesIO(content), filename=name, content_type="application/octet-stream")
    return data


async def upload(api, user: str, *files: tuple[str, bytes], expect: int = 201):
    """POST /files as ``user``; the stored files (201) or the error body."""
    status, body = await api.call("POST", "/files", user, data=form(*files))
    assert status == expect, body
    return body["items"] if status == 201 else body
