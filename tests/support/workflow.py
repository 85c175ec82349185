"""The workflow engine's commands run on a database session, as the web layer runs them."""
from __future__ import annotations

from typing import Any

from backend.db.repository import Repository
from backend.workflow.commands import Command, R
from backend.workflow.engine import Workflow


async def handle(workflow: Workflow, session: Any, actor: Any, command: Command[R]) -> R:
    """``command`` run by the engine on ``session``'s unit of work, as the web layer runs it."""
    return await workflow.handle(await Repository.of(session), actor, command)
