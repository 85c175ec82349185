"""`rasa run` with our fixes to Rasa 3.6 applied first; takes exactly `rasa`'s arguments.

  .venv/rasa/bin/python -m bot.server run --model models --endpoints bot/endpoints.yml …

Before Rasa starts: the process's settings are read (bot/settings.py) and Rasa's internals are
fixed (bot/rasa_patches.py: action responses validated by a validator built once, user turns in
arrival order a few at a time, event classes resolved by name, models loaded for prediction
only, SQLite without an fsync per turn, past states carried on, the FAQ's selector only where its
answer may be used, connections to the action server kept, the loaded model frozen out of the
garbage collector, predictions through the traced TensorFlow function). On a Rasa other than 3.6.x, or one lacking a name a fix
replaces, or with a bad setting, the server refuses to start with one line saying what to do
(exit status 2).

The HTTP API's secret comes from the environment, never from the command line (which `ps`
shows to every user): with RASA_JWT_SECRET set, `run` enables the API behind JWT (HS256)
auth; without it the API stays off. --auth-token, --jwt-secret and an --enable-api without
the secret are refused.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from typing import Callable, Mapping

from . import rasa_patches, settings
from .rasa_patches import IncompatibleRasa
from .settings import SettingsError


# ------------------------------------------------------------------ the API's secret
JWT_SECRET_VARIABLE = "RASA_JWT_SECRET"
MIN_JWT_SECRET_LENGTH = 32  # HS256 wants a key of at least its 256 bits


class RefusedArguments(Exception):
    """`rasa run` would expose a secret on its command line or run its API unprotected."""


def secure_api(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> argparse.Namespace:
    """`rasa run`'s parsed arguments with the API enabled behind the environment's JWT secret,
    or disabled without one. Checked after parsing, so abbreviations (-t, --auth) count too."""
    if args.auth_token or args.jwt_secret or args.jwt_private_key:
        raise RefusedArguments(
            "Secrets on the command line are visible to every user of the machine (ps). Do not pass "
            f"--auth-token or --jwt-secret: set {JWT_SECRET_VARIABLE} in Rasa's environment instead.")
    secret = env.get(JWT_SECRET_VARIABLE, "")
    if not secret:
        if args.enable_api:
            raise RefusedArguments(
                f"--enable-api without {JWT_SECRET_VARIABLE} would open Rasa's HTTP API to anyone who can reach "
                f"it. Set {JWT_SECRET_VARIABLE} (at least {MIN_JWT_SECRET_LENGTH} random characters; `make env` "
                "writes one to .env): the API is then enabled behind JWT auth.")
        return args
    if len(secret) < MIN_JWT_SECRET_LENGTH:
        raise RefusedArguments(f"{JWT_SECRET_VARIABLE} is only {len(secret)} characters long; use at least "
                               f"{MIN_JWT_SECRET_LENGTH} random characters.")
    if secret == env.get("WEBCHAT_TOKEN_SECRET"):
        raise RefusedArguments(f"{JWT_SECRET_VARIABLE} must differ from WEBCHAT_TOKEN_SECRET: a web chat token "
                               "must never open Rasa's HTTP API.")
    args.enable_api, args.jwt_secret, args.jwt_method = True, secret, "HS256"
    return args


def securing_api(run: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    @functools.wraps(run)
    def run_with_secure_api(args: argparse.Namespace) -> None:
        try:
            secured = secure_api(args)
        except RefusedArguments as refusal:
            print(refusal, file=sys.stderr)
            sys.exit(2)
        run(secured)

    return run_with_secure_api


def main() -> None:
    try:
        rasa_patches.apply(settings.current().turns_at_once)
    except (SettingsError, IncompatibleRasa) as refusal:
        print(f"bot.server: not started. {refusal}", file=sys.stderr)
        sys.exit(2)
    import rasa.cli.run

    # Before Rasa builds its parser, which binds `rasa run` to this module attribute.
    rasa.cli.run.run = securing_api(rasa.cli.run.run)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
