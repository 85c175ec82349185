"""WeCom (企业微信) server API, shared by the Rasa channel (bot/channels) and the backend's notifier.

Depends only on aiohttp and the standard library, so it imports in both virtualenvs.
"""
from .client import Media, WeComClient, WeComError, WeComUnavailable, authorize_url
from .config import DEFAULT_API_BASE, DEFAULT_AUTHORIZE_URL, WeComConfig, WeComConfigError

__all__ = ["DEFAULT_API_BASE", "DEFAULT_AUTHORIZE_URL", "Media", "WeComClient", "WeComConfig", "WeComConfigError",
           "WeComError", "WeComUnavailable", "authorize_url"]
