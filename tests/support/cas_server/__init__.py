"""A real CAS server for the tests: django-mama-cas (CAS 2.0/3.0, single logout) in a small
Django project (``settings.py``, ``urls.py``), run as ``python -m tests.support.cas_server``
on a free loopback port. Not a hand-written imitation: its login form, tickets, validation
and logout requests are the package's."""
from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

from devtools.stack import ROOT, free_port, stop_process, wait_for

from ..pages import Browser

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


class CasServer:
    def __init__(self, data_dir: Path, users: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/cas"
        self.log = data_dir / "cas_server.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.cas_server", str(self.port), str(data_dir),
                 *(f"{name}:{password}" for name, password in users.items())],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(f"{self.url}/login", self.process, self.log, seconds=60)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.process, grace=10)


async def submit_cas_login(browser: Browser, username: str, password: str, *, follow: bool = True) -> Browser:
    """Fill in and post the CAS login page the browser is on (its own form, its Django CSRF token)."""
    token = CSRF_FIELD.search(browser.html)
    assert token, f"not the CAS login page: {browser.url}"
    fields = [("csrfmiddlewaretoken", unescape(token.group(1))), ("username", username), ("password", password)]
    async with browser.session.post(browser.url, data=fields, allow_redirects=follow) as response:
        return await browser._record(response)
