"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified when the username is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str, hasher: PasswordHasher = _hasher) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
