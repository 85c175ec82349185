"""Rasa's HTTP API secret (bot/server.py): read from the environment, never on the command line
`ps` shows; the API answers only JWTs signed with it; a secret on the command line or an API
without one is refused before Rasa starts."""
from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from bot import server
from devtools.stack import Stack, http


def signed(secret: str, role: str = "admin", username: str = "notifier", expires_in: float = 60) -> dict[str, str]:
    token = jwt.encode({"user": {"username": username, "role": role}, "exp": int(time.time() + expires_in)},
                       secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def test_the_secret_is_not_on_rasas_command_line(stack: Stack):
    secret = stack.env["RASA_JWT_SECRET"]
    cmdline = Path(f"/proc/{stack.pid('rasa')}/cmdline").read_bytes().decode()
    assert "bot.server" in cmdline  # the right process
    assert secret not in cmdline and "--jwt-secret" not in cmdline and "--auth-token" not in cmdline


def test_the_api_answers_only_a_fresh_jwt_signed_with_the_secret(stack: Stack):
    secret, sender = stack.env["RASA_JWT_SECRET"], "web:t2001"
    url = f"http://127.0.0.1:{stack.ports['rasa']}/conversations/{sender}/tracker"
    refused = {
        "no token": {},
        "another secret": signed("another-secret-that-is-long-enough-" * 2),
        "expired beyond Rasa's leeway": signed(secret, expires_in=-600),
        "the secret itself": {"Authorization": f"Bearer {secret}"},
    }
    for case, headers in refused.items():
        status, answer = http("GET", url, headers=headers)
        assert status == 401, (case, answer)
    assert http("GET", f"{url}?token={secret}")[0] == 401  # nothing in URLs
    status, answer = http("GET", url, headers=signed(secret, role="user", username="web:t2101"))
    assert status == 403, answer  # a user role reaches only its own conversation
    status, tracker = http("GET", url, headers=signed(secret))
    assert status == 200 and tracker["sender_id"] == sender


def run_arguments(*argv: str):
    from rasa.__main__ import create_argument_parser

    return create_argument_parser().parse_args(["run", *argv])


SECRET = "s" * 32
REFUSED = [
    (["--auth-token", "x"], {}, "--auth-token"),
    (["-t", "x"], {"RASA_JWT_SECRET": SECRET}, "--auth-token"),
    (["--auth", "x"], {}, "--auth-token"),  # argparse takes abbreviations
    (["--jwt-secret", SECRET], {}, "--jwt-secret"),
    (["--enable-api"], {}, "would open Rasa's HTTP API"),
    ([], {"RASA_JWT_SECRET": "short"}, "only 5 characters"),
    ([], {"RASA_JWT_SECRET": SECRET, "WEBCHAT_TOKEN_SECRET": SECRET}, "must differ from WEBCHAT_TOKEN_SECRET"),
]


@pytest.mark.parametrize("argv, env, says", REFUSED)
def test_secrets_on_the_command_line_or_an_open_api_are_refused(argv, env, says):
    with pytest.raises(server.RefusedArguments, match=says):
        server.secure_api(run_arguments(*argv), env)


def test_the_api_is_on_behind_the_secret_only_when_it_is_set():
    args = server.secure_api(run_arguments(), {"RASA_JWT_SECRET": SECRET})
    assert (args.enable_api, args.jwt_secret, args.jwt_method, args.auth_token) == (True, SECRET, "HS256", None)
    args = server.secure_api(run_arguments(), {})
    assert (args.enable_api, args.jwt_secret) == (False, None)
