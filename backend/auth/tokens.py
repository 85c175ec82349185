"""Signed bearer tokens (JWT, HS256) for logged-in users.

Stateless, so checking one costs no database round trip; they are short-lived. Each
carries the account's credentials version (``ver``): a password change bumps it, and the
request's one lookup of the account refuses tokens issued before the change.
"""
from __future__ import annotations

import time
from typing import NamedTuple, Optional

import jwt

ALGORITHM = "HS256"
ISSUER = "campus-affairs"


class Claims(NamedTuple):
    user_id: int
    version: int  # the credentials version the token was issued under


def issue_token(secret: str, user_id: int, username: str, ttl_seconds: int, audience: str = "api",
                version: int = 0) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "usr": username, "iat": now, "exp": now + ttl_seconds,
              "iss": ISSUER, "aud": audience, "ver": version}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_claims(secret: str, token: str, audience: str = "api") -> Optional[Claims]:
    """Who a valid token names, or None for anything forged, expired or malformed."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=audience, issuer=ISSUER,
                            options={"require": ["exp", "sub", "aud", "iss"]})
        version = claims.get("ver", 0)
        return Claims(int(claims["sub"]), version) if isinstance(version, int) else None
    except (jwt.PyJWTError, ValueError):
        return None


def read_token(secret: str, token: str, audience: str = "api") -> Optional[int]:
    """The user id in a valid token, or None for anything forged, expired or malformed."""
    claims = read_claims(secret, token, audience)
    return claims.user_id if claims else None
