"""The one way handlers open a read view: on the request's session, in the college's timezone."""
from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ..read.base import View
from .keys import SETTINGS

V = TypeVar("V", bound=View)


def view(request: web.Request, session: AsyncSession, kind: type[V]) -> V:
    """``kind`` (CatalogView, ApplicationsView, TasksView, PeopleView) over ``session``."""
    return kind(session, request.app[SETTINGS].timezone)
