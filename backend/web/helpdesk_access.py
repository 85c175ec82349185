"""Who may work the help desk: people holding the role 服务台 (the console's pages and its API,
the queue and tickets as well as the unanswered-question loop)."""
from __future__ import annotations

from aiohttp import web

from ..db import accounts
from ..db.models import User
from ..errors import Forbidden
from .auth import actor
from .keys import DATABASE

HELPDESK_ROLE = "服务台"
# Set for the hall's pages (the session middleware): the nav shows the console's link to 服务台 only.
HELPDESK_NAV = web.RequestKey("helpdesk_nav", bool)


async def is_helpdesk(request: web.Request, user: User) -> bool:
    return await accounts.holds_role(request.app[DATABASE], user.id, HELPDESK_ROLE)


async def require_helpdesk(request: web.Request) -> User:
    """The calling user if they hold 服务台; otherwise Forbidden (code ``helpdesk_only``)."""
    user = actor(request)
    if not await is_helpdesk(request, user):
        raise Forbidden("helpdesk_only", "仅服务台人员可使用服务台")
    return user
