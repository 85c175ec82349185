"""Typed application keys: the resources the app factory builds and handlers use."""
from aiohttp import web

from ..config import Settings
from ..db.database import Database
from ..db.models import User
from ..files.store import FileStore
from ..workflow.engine import Workflow

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
WORKFLOW = web.AppKey("workflow", Workflow)
FILE_STORE = web.AppKey("file_store", FileStore)

# The authenticated user of the current request (set by the auth middleware).
ACTOR = web.RequestKey("actor", User)
