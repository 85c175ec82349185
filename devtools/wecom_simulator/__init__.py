"""A protocol-true stand-in for the WeChat Work (企业微信) server.

It serves the parts of WeCom's API the project uses under ``/cgi-bin/`` (same JSON,
same errcodes, token expiry, the per-member rate limit) and plays WeCom's side of an
app's callback: it encrypts a user's message or card click with the app's Token and
EncodingAESKey and POSTs it to the callback URL with WeCom's 5 s timeout and retries.
A control API under ``/_sim/`` (JSON) drives it from tests; ``/_sim/`` is a small web
page to chat as any demo user. Run it with ``python -m devtools.wecom_simulator``.
"""
from typing import Any

__all__ = ["create_app", "SimulatorConfig"]


def __getattr__(name: str) -> Any:
    # Lazy, so ``devtools.wecom_simulator.config`` (stdlib only) imports in the Rasa venv too.
    if name == "create_app":
        from .app import create_app
        return create_app
    if name == "SimulatorConfig":
        from .config import SimulatorConfig
        return SimulatorConfig
    raise AttributeError(name)
