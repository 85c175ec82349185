"""Whole conversations against the real stack (see devtools/stack.py)."""
from __future__ import annotations

from typing import Any

from devtools.stack import MODEL, RASA_BIN, ROOT  # noqa: F401 (re-exported for the tests)

# The stack itself (fixture ``stack``) is tests/conftest.py's, shared with the other suites.


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def buttons_of(replies: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for r in replies for b in r.get("buttons", [])]
