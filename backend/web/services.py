"""How handlers reach the layers below: ``view`` opens a read view on a session, ``handle``
runs a workflow command on a unit of work's session."""
from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import User
from ..db.repository import Repository
from ..errors import AppError
from ..read.base import View
from ..workflow.commands import Command, R
from .keys import SETTINGS, WORKFLOW

V = TypeVar("V", bound=View)


def view(request: web.Request, session: AsyncSession, kind: type[V]) -> V:
    """``kind`` (CatalogView, ApplicationsView, TasksView, PeopleView) over ``session``."""
    return kind(session, request.app[SETTINGS].timezone)


async def handle(request: web.Request, session: AsyncSession, user: User, command: Command[R]) -> R:
    """``command`` given by ``user``, inside the unit of work ``session`` belongs to (the caller commits)."""
    try:
        return await request.app[WORKFLOW].handle(await Repository.of(session), user, command)
    except AppError as error:
        raise error.with_helpdesk_phone(request.app[SETTINGS].helpdesk_phone)
