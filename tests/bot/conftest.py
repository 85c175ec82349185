"""Whole conversations against the real stack (see devtools/stack.py)."""
from __future__ import annotations

# The stack itself (fixture ``stack``) is tests/conftest.py's, shared with the other suites;
# helpers for talking to it are in tests/support/chat.py.
