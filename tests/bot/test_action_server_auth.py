"""The action server answers only Rasa (actions/server.py): a tracker POSTed without the shared
token gets 401 and nothing runs — checked on the backend's state, through the stack's real
action server and backend. The happy path through Rasa is every conversation test."""
from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from devtools.stack import RASA_BIN, ROOT, Stack, free_port, http

from tests.support.chat import submit_leave


def terminate_call(sender: str, application_id: int) -> dict:
    """What Rasa posts when the user confirmed terminating ``application_id``."""
    return {"next_action": "action_confirm_terminate", "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {"confirm_terminate": [application_id],
                                                       "pending_confirmation": "terminate"},
                        "latest_message": {"text": "/affirm", "intent": {"name": "affirm"}}, "events": [],
                        "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}


def status_of(stack: Stack, username: str, application_id: int) -> str:
    status, detail = stack.api(username, "GET", f"/applications/{application_id}")
    assert status == 200, detail
    return detail["status"]


def test_a_tracker_without_the_right_token_gets_401_and_runs_nothing(stack):
    application = submit_leave(stack, "t2001")
    webhook = f"http://127.0.0.1:{stack.ports['actions']}/webhook"
    call = terminate_call("web:t2001", application["id"])
    token = stack.env["ACTION_SERVER_TOKEN"]
    refused = {
        "no header": {},
        "wrong token": {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
        "token without the scheme": {"Authorization": token},
        "token plus more": {"Authorization": f"Bearer {token}x"},
    }
    for case, headers in refused.items():
        status, answer = http("POST", webhook, call, headers)
        assert status == 401, (case, answer)
    status, answer = http("POST", f"{webhook}?token={token}", call)  # only the header counts
    assert status == 401, answer
    assert status_of(stack, "t2001", application["id"]) == "running"

    # The same call with the token does act: the refusals above were the token's doing.
    status, answer = http("POST", webhook, call, {"Authorization": f"Bearer {token}"})
    assert status == 200 and "已终止" in answer["responses"][0]["text"], answer
    assert status_of(stack, "t2001", application["id"]) == "terminated"


def test_the_action_list_needs_the_token_and_health_does_not(stack):
    base = f"http://127.0.0.1:{stack.ports['actions']}"
    assert http("GET", f"{base}/actions")[0] == 401
    status, actions = http("GET", f"{base}/actions", headers={"Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}"})
    assert status == 200 and {"name": "action_confirm_terminate"} in actions
    assert http("GET", f"{base}/health") == (200, {"status": "ok"})


@pytest.mark.parametrize("token, says", [(None, "is not set"), ("x" * 31, "is only 31 characters long")])
def test_the_action_server_refuses_to_start_without_a_usable_token(token, says):
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    if token is not None:
        env["ACTION_SERVER_TOKEN"] = token
    result = subprocess.run([str(RASA_BIN / "python"), "-m", "actions.server", "--port", str(free_port())], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"ACTION_SERVER_TOKEN {says}" in result.stderr and "at least 32" in result.stderr
