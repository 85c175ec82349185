"""Signed bearer tokens (JWT, HS256) for logged-in users.

Stateless, so checking one costs no database round trip; they are short-lived.
"""
from __future__ import annotations

import time
from typing import Optional

import jwt

ALGORITHM = "HS256"
ISSUER = "campus-affairs"


def issue_token(secret: str, user_id: int, username: str, ttl_seconds: int, audience: str = "api") -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "usr": username, "iat": now, "exp": now + ttl_seconds,
              "iss": ISSUER, "aud": audience}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str, audience: str = "api") -> Optional[int]:
    """The user id in a valid token, or None for anything forged, expired or malformed."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=audience, issuer=ISSUER,
                            options={"require": ["exp", "sub", "aud", "iss"]})
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
