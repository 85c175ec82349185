"""Whole conversations against the real stack (see devtools/stack.py)."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from devtools.stack import MODEL, RASA_BIN, ROOT, Stack  # noqa: F401 (re-exported for the tests)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        yield running.up()
    finally:
        running.down()


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def buttons_of(replies: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for r in replies for b in r.get("buttons", [])]
