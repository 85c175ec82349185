"""A small browser for page tests: its own cookie jar, real HTTP to the running test
server, forms posted the way a browser posts them (with the page's CSRF token)."""
from __future__ import annotations

import io
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any, Optional

import aiohttp

from .databases import DEMO_PASSWORD

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
FORM_TOKEN = re.compile(r'<input type="hidden" name="submit_token" value="([^"]*)">')


VOID = {"input", "meta", "link", "br", "img", "hr", "source", "area", "col", "wbr"}


class _TestIds(HTMLParser):
    """The text and attributes of every element with a given data-testid."""

    def __init__(self, testid: str):
        super().__init__(convert_charrefs=True)
        self.testid = testid
        self.found: list[dict[str, Any]] = []
        self._depth = 0
        self._open: list[tuple[int, dict[str, Any]]] = []  # (depth it opened at, entry)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("data-testid") == self.testid:
            entry = {"tag": tag, "attrs": attributes, "text": ""}
            self.found.append(entry)
            if tag not in VOID:
                self._open.append((self._depth, entry))
        if tag not in VOID:
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        self._depth -= 1
        self._open = [(depth, entry) for depth, entry in self._open if depth < self._depth]

    def handle_data(self, data):
        for _, entry in self._open:
            entry["text"] += data


def by_testid(html: str, testid: str) -> list[dict[str, Any]]:
    parser = _TestIds(testid)
    parser.feed(html)
    for entry in parser.found:
        entry["text"] = " ".join(entry["text"].split())
    return parser.found


def text_of(html: str, testid: str) -> str:
    found = by_testid(html, testid)
    assert found, f"no element with data-testid={testid!r}"
    return found[0]["text"]


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.html = ""
        self.status = 0
        self.url = ""
        self.headers: Any = {}

    async def close(self) -> None:
        await self.session.close()

    async def _record(self, response: aiohttp.ClientResponse) -> "Browser":
        self.status, self.url, self.headers = response.status, str(response.url), response.headers
        self.html = await response.text()
        return self

    async def get(self, path: str, *, follow: bool = True) -> "Browser":
        async with self.session.get(self.base_url + path, allow_redirects=follow) as response:
            return await self._record(response)

    @property
    def csrf(self) -> str:
        found = CSRF_META.search(self.html)
        assert found, "the page has no CSRF token"
        return unescape(found.group(1))

    async def post(self, path: str, fields: list[tuple[str, str]], *, csrf: Optional[str] = "page",
                   headers: Optional[dict[str, str]] = None, follow: bool = True,
                   files: Optional[list[tuple[str, str, bytes]]] = None) -> "Browser":
        """``files`` (field, file name, bytes): sent as a multipart form, like a file input."""
        data: Any = list(fields)
        # Like a browser submitting the page's form: its one-time submit token goes along.
        form_token = FORM_TOKEN.search(self.html)
        if form_token and not any(name == "submit_token" for name, _ in data):
            data.append(("submit_token", unescape(form_token.group(1))))
        if csrf == "page":
            data.append(("csrf_token", self.csrf))
        elif csrf is not None:
            data.append(("csrf_token", csrf))
        if files is not None:
            form = aiohttp.FormData(default_to_multipart=True)
            for name, value in data:
                form.add_field(name, value)
            for name, filename, content in files:
                form.add_field(name, io.BytesIO(content), filename=filename, content_type="application/octet-stream")
            data = form
        async with self.session.post(self.base_url + path, data=data, headers=headers or {},
                                     allow_redirects=follow) as response:
            return await self._record(response)

    async def login(self, username: str, password: str = DEMO_PASSWORD) -> "Browser":
        await self.get("/login")
        return await self.post("/login", [("username", username), ("password", password), ("next", "/")])

    def cookie(self, name: str) -> Optional[str]:
        found = [c for c in self.session.cookie_jar if c.key == name]
        return found[0].value if found else None
