"""The production path on this machine: deploy/nginx's site rendered with test ports and a
self-signed certificate, Debian's nginx in front of the backend started as
campus-backend.service starts it (production env files, a fresh PostgreSQL database,
migrated and imported like a college's) and of the WeCom gateway."""
from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import aiohttp
import pytest
import yaml

from tests.support.installation import ROOT, env_files, free_port, process

NGINX = Path("/usr/sbin/nginx")
SERVER_NAME = "campus.test"
PASSWORD = "Prod-Path-2026"
NO_NGINX = "/usr/sbin/nginx is missing: install Debian's nginx (apt-get install -y nginx)"
if not NGINX.exists() and os.environ.get("REQUIRE_NGINX"):
    raise RuntimeError(NO_NGINX + "; REQUIRE_NGINX is set (CI), so this is an error, not a skip")
pytestmark = pytest.mark.skipif(not NGINX.exists(), reason=NO_NGINX)


def wait_until_listening(port: int, what: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{what} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)


def certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(cert), "-subj", f"/CN={SERVER_NAME}",
                    "-addext", f"subjectAltName=DNS:{SERVER_NAME},IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def nginx_conf(directory: Path, site: Path) -> Path:
    temp = {name: directory / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    conf = directory / "nginx.conf"
    conf.write_text(f"""
{"user root root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    access_log {directory}/access.log;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site};
}}
""")
    return conf


class Production:
    def __init__(self, tmp: Path, database_url: str):
        self.tmp = tmp
        self.files = env_files(database_url)
        self.ports = {name: free_port() for name in ("backend", "gateway", "http", "https")}
        self.processes: list[subprocess.Popen] = []
        self.cert, self.key = certificate(tmp)

    def start(self, name: str, command: list[str], env: dict, port: int, cwd: Path = ROOT) -> None:
        log = self.tmp / f"{name}.log"
        with open(log, "wb") as out:
            started = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(started)
        wait_until_listening(port, name, started, log)

    def install(self) -> None:
        """What the IT office does once: migrate, import the college's people."""
        for unit in ("campus-migrate.service", "campus-import-faq.service"):
            command, env = process(unit, self.files)
            result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr
        assert "FAQ answers:" in result.stdout and " 0 added" not in result.stdout, result.stdout
        org = self.tmp / "org.yml"
        org.write_text(yaml.safe_dump({"college": "测试学院", "departments": [{"code": "office", "name": "办公室"}],
                                       "users": [{"username": "it0001", "name": "信息中心", "department": "office"}]},
                                      allow_unicode=True), encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "backend", "import-org", str(org)], cwd=ROOT,
                                env={**env, "INITIAL_PASSWORD": PASSWORD}, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr

    def run(self) -> None:
        command, env = process("campus-backend.service", self.files, BACKEND_PORT=str(self.ports["backend"]))
        self.start("backend", command, env, self.ports["backend"])
        command, env = process("campus-wecom-gateway.service", self.files)
        command[command.index("--port") + 1] = str(self.ports["gateway"])
        self.start("gateway", command, env, self.ports["gateway"])
        site = self.tmp / "campus-assistant.conf"
        rendered = subprocess.run(
            [sys.executable, str(ROOT / "deploy/nginx/render_site.py"), "--server-name", SERVER_NAME,
             "--certificate", str(self.cert), "--certificate-key", str(self.key),
             "--http-port", str(self.ports["http"]), "--https-port", str(self.ports["https"]),
             "--backend", f"127.0.0.1:{self.ports['backend']}",
             "--wecom-gateway", f"127.0.0.1:{self.ports['gateway']}"],
            capture_output=True, text=True, check=True, timeout=30)
        site.write_text(rendered.stdout)
        conf = nginx_conf(self.tmp, site)
        nginx = [str(NGINX), "-p", str(self.tmp), "-e", str(self.tmp / "error.log"), "-c", str(conf)]
        checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.start("nginx", [*nginx, "-g", "daemon off;"], dict(os.environ), self.ports["https"])

    def stop(self) -> None:
        for started in reversed(self.processes):
            started.terminate()
        for started in self.processes:
            try:
                started.wait(timeout=15)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()

    def https(self, path: str) -> str:
        return f"https://127.0.0.1:{self.ports['https']}{path}"


@pytest.fixture
def production(tmp_path, fresh_postgres_url) -> Iterator[Production]:
    deployed = Production(tmp_path, fresh_postgres_url)
    try:
        deployed.install()
        deployed.run()
        yield deployed
    finally:
        deployed.stop()


def client(production: Production) -> aiohttp.ClientSession:
    # A connection per request: none is left mid TLS shutdown when the event loop ends.
    trust = ssl.create_default_context(cafile=str(production.cert))  # the test's self-signed certificate
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust, force_close=True),
                                 cookie_jar=aiohttp.CookieJar(unsafe=True))


def non_loopback_address() -> Optional[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent; the kernel picks the outgoing address
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def check_the_hall_behind_nginx(production: Production) -> None:
    async with client(production) as session:
        # The hall answers over https, with one HSTS header (nginx's).
        async with session.get(production.https("/login")) as response:
            assert response.status == 200
            assert response.headers.getall("Strict-Transport-Security") == ["max-age=31536000"]
            csrf = re.search(r'<meta name="csrf-token" content="([^"]*)">', await response.text()).group(1)
        # Logging in over https: the session cookie is Secure (the backend believed nginx's X-Forwarded-Proto).
        async with session.post(production.https("/login"), allow_redirects=False,
                                headers={"Origin": f"https://127.0.0.1:{production.ports['https']}"},
                                data={"username": "it0001", "password": PASSWORD, "next": "/",
                                      "csrf_token": csrf}) as response:
            assert response.status == 303, await response.text()
            cookie = [c for c in response.headers.getall("Set-Cookie") if c.startswith("campus_session=")]
            assert len(cookie) == 1 and "Secure" in cookie[0].split("; "), response.headers
        # An imported account's initial password must be changed first: the hall sends the person there.
        async with session.get(production.https("/")) as response:
            assert response.status == 200 and str(response.url) == production.https("/password?next=/")
            csrf = re.search(r'<meta name="csrf-token" content="([^"]*)">', await response.text()).group(1)
        async with session.post(production.https("/password"), allow_redirects=False,
                                headers={"Origin": f"https://127.0.0.1:{production.ports['https']}"},
                                data={"current_password": PASSWORD, "new_password": "Deploy#Changed9",
                                      "confirm": "Deploy#Changed9", "next": "/", "csrf_token": csrf}) as response:
            assert response.status == 303, await response.text()
        async with session.get(production.https("/")) as response:
            assert response.status == 200 and str(response.url) == production.https("/")
        # The API for integrators.
        async with session.get(production.https("/api/v1/health")) as response:
            assert response.status == 200 and await response.json() == {"status": "ok"}

        # Plain http is redirected to https, to the configured name, path and query kept.
        async with session.get(f"http://127.0.0.1:{production.ports['http']}/tasks?tab=done",
                               allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"] == f"https://{SERVER_NAME}:{production.ports['https']}/tasks?tab=done"

        # Rasa's and the action server's paths are forwarded nowhere.
        for method, path in (("POST", "/webhooks/rest/webhook"), ("GET", "/conversations/web:it0001/tracker"),
                             ("POST", "/conversations/web:it0001/trigger_intent"), ("POST", "/model/parse"),
                             ("POST", "/webhook"), ("GET", "/health"), ("GET", "/status"),
                             ("POST", "/webhooks/webchat/webhook")):
            async with session.request(method, production.https(path), json={"sender": "web:t2101",
                                                                              "message": "同意"}) as response:
                assert response.status == 404, (method, path, response.status)

        # The WeCom callback reaches the gateway, which refuses an unsigned one (the backend would send 303).
        async with session.get(production.https("/webhooks/wecom/webhook?msg_signature=x&timestamp=1&nonce=1"
                                                "&echostr=x"), allow_redirects=False) as response:
            assert response.status == 403, await response.text()

        # Bodies beyond what the hall accepts stop at nginx.
        async with session.post(production.https("/api/v1/auth/login"), data=b"x" * 200_000,
                                headers={"Content-Type": "application/json"}) as response:
            assert response.status == 413


def test_nginx_in_front_of_the_production_backend(production: Production):
    asyncio.run(check_the_hall_behind_nginx(production))

    # nginx exposes its own ports; the backend listens on loopback only.
    assert production.ports["backend"] not in (production.ports["http"], production.ports["https"])
    address = non_loopback_address()
    if address is not None:
        socket.create_connection((address, production.ports["https"]), timeout=3).close()
        with pytest.raises(OSError):
            socket.create_connection((address, production.ports["backend"]), timeout=3).close()
