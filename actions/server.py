"""The action server, answering only Rasa: rasa_sdk's endpoint behind a shared token.

  ACTION_SERVER_TOKEN=… .venv/rasa/bin/python -m actions.server --port 5055

Takes rasa_sdk's arguments (``--actions`` defaults to our ``actions`` package). Every
request except ``GET /health`` must carry ``Authorization: Bearer <ACTION_SERVER_TOKEN>``
(Rasa sends it from bot/endpoints.yml); anything else gets 401 before an action runs,
because a POSTed tracker names its own sender and the actions act as that sender.

The actions' settings (actions/settings.py: backend URL and token, help-desk number,
college name and time zone) are read from the environment here, once, before any action
runs; nothing else in ``actions/`` reads the environment.
"""
from __future__ import annotations

import hmac
import logging
import os
import sys
import warnings
from typing import Mapping, Optional

with warnings.catch_warnings():  # the filters as they were once these imports are done
    # Sanic's import turns on every DeprecationWarning (filterwarnings("once")), and the imports below
    # then print third-party ones (sanic_cors' distutils) that are not ours to fix.
    from sanic import Sanic, response
    from sanic.request import Request

    warnings.simplefilter("ignore", DeprecationWarning)
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
    from rasa_sdk.plugin import plugin_manager

from actions.backend_client import BackendClient
from actions.settings import BadSetting, Settings
from actions.wiring import Services, configure, process_services

TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"
MIN_TOKEN_LENGTH = 32
OPEN_PATHS = frozenset({"/health"})  # liveness probes carry no secret

log = logging.getLogger(__name__)


class MissingToken(Exception):
    """The action server refuses to start without a usable shared token."""


def token_from(env: Mapping[str, str]) -> str:
    token = env.get(TOKEN_VARIABLE, "")
    if len(token) < MIN_TOKEN_LENGTH:
        problem = "is not set" if not token else f"is only {len(token)} characters long"
        raise MissingToken(
            f"{TOKEN_VARIABLE} {problem}. The action server answers only callers that send it "
            f"(Rasa does, from bot/endpoints.yml); set it to at least {MIN_TOKEN_LENGTH} random characters, "
            "the same value for Rasa and the action server (`make env` writes one to .env)."
        )
    return token


def bearer_matches(header: Optional[str], token: str) -> bool:
    expected = f"Bearer {token}".encode()
    return header is not None and hmac.compare_digest(header.encode(), expected)


def require_token(app: Sanic, token: str) -> Sanic:
    """Answer 401, running nothing, to any request without the token (except OPEN_PATHS)."""

    @app.middleware("request")
    async def check_token(request: Request):  # returning a response skips the handler
        if request.path in OPEN_PATHS or bearer_matches(request.headers.get("Authorization"), token):
            return None
        log.warning("refused %s %s from %s: missing or wrong token", request.method, request.path, request.ip)
        return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})

    return app


def wire(env: Mapping[str, str]) -> Services:
    """The settings, read once from ``env``, and the one backend client, for every action."""
    settings = Settings.from_environment(env)
    services = Services(settings, BackendClient.from_settings(settings))
    configure(services)
    return services


async def close_backend_client(_app: Sanic, _loop) -> None:
    """The actions' connection pool to the backend, closed on shutdown (else asyncio logs an error)."""
    await process_services().backend.close()


def main(argv: Optional[list[str]] = None) -> None:
    parser = create_argument_parser()
    parser.set_defaults(actions="actions")
    args = parser.parse_args(argv)
    token = token_from(os.environ)
    wire(os.environ)

    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    # One INFO line per registered action (18) is start-up noise; problems are still logged.
    logging.getLogger("rasa_sdk.executor").setLevel(max(logging.WARNING, logging.getLogger().level))

    # As rasa_sdk.endpoint.run, with the token check added to the app.
    app = require_token(create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload), token)
    app.register_listener(close_backend_client, "after_server_stop")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    log.info("Action server (token required) on %s://%s:%s", "https" if ssl_context else "http", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    try:
        main()
    except (MissingToken, BadSetting) as refusal:
        print(refusal, file=sys.stderr)
        sys.exit(2)
