"""Behind a TLS-terminating proxy (nginx): who the client is and whether it used https.

X-Forwarded-For / X-Forwarded-Proto are believed only when the TCP peer is one of
TRUSTED_PROXIES; from anyone else they are ignored (anyone can send the headers). With
https established that way the session cookies get ``Secure`` (they follow
``request.secure``) and every response carries HSTS.

Not aiohttp-remotes' XForwardedStrict: it answers 400 to any peer outside the trusted
list instead of ignoring its headers, and takes the client-supplied first proto.
"""
from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Iterable, Optional, Union

from aiohttp import web

from .keys import SETTINGS

Network = Union[IPv4Network, IPv6Network]


def _is_trusted(address: Optional[str], trusted: Iterable[Network]) -> bool:
    if not address:
        return False
    try:
        ip = ip_address(address)
    except ValueError:  # a unix socket peer or garbage in a header
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The nearest address in the chain peer ← X-Forwarded-For that is not a trusted proxy.

    Proxies append, so reading from the right stops at the first hop we cannot vouch for;
    anything left of it could have been typed by the client."""
    address = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not _is_trusted(address, trusted):
            break
        address = hop
    return address


@web.middleware
async def forwarded_middleware(request: web.Request, handler):
    trusted = request.app[SETTINGS].trusted_proxies
    peer = request.remote
    if not trusted or not _is_trusted(peer, trusted):
        return await handler(request)  # forwarded headers from an untrusted peer are not believed
    overrides: dict[str, str] = {}
    forwarded_for = ",".join(request.headers.getall("X-Forwarded-For", []))
    if forwarded_for:
        overrides["remote"] = client_address(peer or "", forwarded_for, trusted)
    # Our nginx sets (not appends) the proto it received; the last value is the one the proxy wrote.
    protos = ",".join(request.headers.getall("X-Forwarded-Proto", [])).split(",")
    proto = protos[-1].strip().lower()
    if proto in ("http", "https"):
        overrides["scheme"] = proto
    return await handler(request.clone(**overrides) if overrides else request)


@web.middleware
async def hsts_middleware(request: web.Request, handler):
    """HSTS on responses to https requests (direct TLS or through a trusted proxy)."""
    try:
        response = await handler(request)
    except web.HTTPException as redirect_or_error:  # raised responses (303 to the login page …) too
        if request.secure:
            redirect_or_error.headers["Strict-Transport-Security"] = _hsts(request)
        raise
    if request.secure:
        response.headers["Strict-Transport-Security"] = _hsts(request)
    return response


def _hsts(request: web.Request) -> str:
    return f"max-age={request.app[SETTINGS].hsts_max_age_seconds}"
