"""Matters a test adds to the demo catalog (a test centre, one text field, one node of its
choosing), and an application of such a matter."""
from __future__ import annotations

from typing import Any

from backend.catalog.loader import import_catalog

from .backend_api import Api
from .forms import submission


async def one_node_matter(database: Any, code: str, name: str, node: dict) -> None:
    """A matter of the test centre with one text field (note) and the one node given."""
    async with database.write() as session:
        await import_catalog(session, {"centers": [{"code": "test_c", "name": "测试中心", "matters": [{
            "code": code, "name": name, "form": [{"key": "note", "label": "说明", "type": "text"}],
            "process": [node]}]}]})


async def submit_or_sign(api: Api, database: Any) -> dict:
    """An application of a one-node matter that either of t1203 and t1204 may approve."""
    await one_node_matter(database, "test_or", "或签测试", {
        "key": "desk", "name": "教务处审核", "mode": "any", "approvers": {"rule": "users", "users": ["t1203", "t1204"]}})
    return await api.post("/applications", "t2001", json=submission("test_or", {"note": "x"}), expect=201)
