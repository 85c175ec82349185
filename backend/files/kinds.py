"""What an uploaded file is: its kind from the extension, confirmed by its first bytes (a
renamed program is not a PDF), and the content type it is served with. Pure functions."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional
from urllib.parse import unquote

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old Office formats (.doc, .xls, .ppt)
ZIP = b"PK\x03\x04"  # zip, and the Office Open XML formats inside one

# extension → (content type, the ways its bytes may begin)
KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "doc": ("application/msword", (OLE,)),
    "xls": ("application/vnd.ms-excel", (OLE,)),
    "ppt": ("application/vnd.ms-powerpoint", (OLE,)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (ZIP,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP,)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (ZIP,)),
    "zip": ("application/zip", (ZIP, b"PK\x05\x06")),
}
MAX_NAME = 200


def extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def content_type(name: str, head: bytes, allowed: tuple[str, ...]) -> Optional[str]:
    """The content type of a file named ``name`` whose bytes begin with ``head``, or None
    when its kind is not allowed or its bytes are not of that kind."""
    kind = extension(name)
    if kind not in allowed or kind not in KINDS:
        return None
    served, magics = KINDS[kind]
    if not any(head.startswith(magic) for magic in magics):
        return None
    if kind == "webp" and head[8:12] != b"WEBP":
        return None
    return served


def clean_name(name: str) -> str:
    """A person's file name as kept for showing and downloading: the last path part, no
    control characters, at most MAX_NAME characters (the extension kept)."""
    if name.isascii() and re.search(r"%[0-9A-Fa-f]{2}", name):  # sent as RFC 5987 filename*= by some clients
        name = unquote(name, errors="strict") if _utf8(name) else name
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip() or "附件"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name


def _utf8(quoted: str) -> bool:
    try:
        unquote(quoted, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def describe_types(allowed: tuple[str, ...]) -> str:
    """For people: PDF、JPG、PNG…"""
    return "、".join(kind.upper() for kind in allowed)
