"""CAS single sign-on (统一身份认证), protocol 2.0 / 3.0: the URLs we send people to, the
ticket validation call, and the two XML documents CAS sends us.

Our service URL is ``BACKEND_PUBLIC_URL/login`` (with ``?next=…`` when there is somewhere to
go), built from configuration — a request's Host header is the client's to forge. CAS sends
the browser back there with ``ticket=ST-…``, and its single-logout POST (a SAML
``LogoutRequest`` naming that ticket as ``SessionIndex``) to the same URL.

XML is parsed with defusedxml: no entity expansion, no external entities, no DTDs.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote, urlencode
from xml.etree.ElementTree import ParseError

import aiohttp
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..config import Settings

CAS = "{http://www.yale.edu/tp/cas}"
SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
VALIDATE_PATHS = {"3.0": "/p3/serviceValidate", "2.0": "/serviceValidate"}
TIMEOUT = aiohttp.ClientTimeout(total=10)
MAX_RESPONSE_BYTES = 64 * 1024


class TicketRefused(Exception):
    """CAS said no (a forged, reused or expired ticket, another service's), or answered nonsense."""


class CasUnavailable(Exception):
    """CAS could not be reached or answered with an HTTP error."""


def enabled(settings: Settings) -> bool:
    return bool(settings.cas_server_url and settings.public_url)


def service_url(settings: Settings, next_path: str) -> str:
    """``next_path`` must already be safe (``safe_next``); the same string is sent on login and validation."""
    base = f"{settings.public_url}/login"
    return base if next_path == "/" else f"{base}?next={quote(next_path, safe='')}"


def login_url(settings: Settings, next_path: str) -> str:
    return f"{settings.cas_server_url}/login?" + urlencode({"service": service_url(settings, next_path)})


def logout_url(settings: Settings) -> str:
    """CAS ends its single sign-on session, then sends the browser back to our login page."""
    return f"{settings.cas_server_url}/logout?" + urlencode({"service": service_url(settings, "/")})


def username_from_validation(body: bytes) -> str:
    """``cas:user`` of a ``cas:serviceResponse``; raises TicketRefused on a failure or anything unexpected."""
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise TicketRefused(f"unreadable validation response: {error}") from None
    if root.tag != CAS + "serviceResponse":
        raise TicketRefused(f"unexpected validation response <{root.tag}>")
    failure = root.find(CAS + "authenticationFailure")
    if failure is not None:
        raise TicketRefused(f"{failure.get('code', '')}: {(failure.text or '').strip()}")
    user = root.find(f"{CAS}authenticationSuccess/{CAS}user")
    username = (user.text or "").strip() if user is not None else ""
    if not username:
        raise TicketRefused("validation response without cas:user")
    return username


async def validate(settings: Settings, ticket: str, service: str) -> str:
    """The username CAS vouches for with ``ticket`` issued to ``service``."""
    url = settings.cas_server_url + VALIDATE_PATHS[settings.cas_protocol]
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
            async with client.get(url, params={"ticket": ticket, "service": service},
                                  allow_redirects=False) as response:
                if response.status != 200:
                    raise CasUnavailable(f"{url} answered {response.status}")
                body = await response.content.read(MAX_RESPONSE_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise CasUnavailable(f"{url}: {error!r}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise TicketRefused("validation response too large")
    return username_from_validation(body)


def logout_request_ticket(xml: str) -> Optional[str]:
    """The ``SessionIndex`` (the service ticket) of a single-logout ``LogoutRequest``, if readable."""
    try:
        root = fromstring(xml.encode())
    except (ParseError, DefusedXmlException, ValueError):
        return None
    if root.tag != SAMLP + "LogoutRequest":
        return None
    index = root.find(SAMLP + "SessionIndex")
    ticket = (index.text or "").strip() if index is not None else ""
    return ticket or None
