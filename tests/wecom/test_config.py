"""WECOM_* settings: what the channel, the gateway, the notifier and the simulator all parse."""
import base64
import secrets

import pytest

from wecom_api.config import DEFAULT_API_BASE, WeComConfig, WeComConfigError

ENV = {"WECOM_CORP_ID": "wwcorp", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s3cret",
       "WECOM_TOKEN": "tok", "WECOM_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode()[:43]}


def test_a_complete_environment_is_read_with_defaults():
    config = WeComConfig.from_env(ENV)
    assert (config.corp_id, config.agent_id, config.api_base, config.redis_url) == (
        "wwcorp", 1000002, DEFAULT_API_BASE, None)
    assert WeComConfig.from_env({**ENV, "WECOM_API_BASE": "http://127.0.0.1:9/cgi-bin"}).api_base.endswith("/cgi-bin/")


@pytest.mark.parametrize("change,reason", [
    ({"WECOM_CORP_ID": ""}, "WECOM_CORP_ID"),
    ({"WECOM_AGENT_ID": "abc"}, "integer"),
    ({"WECOM_AES_KEY": "short"}, "43 base64"),
    ({"WECOM_AES_KEY": "!" * 43}, "43 base64"),  # right length, not base64
])
def test_bad_settings_are_refused_with_the_reason(change, reason):
    with pytest.raises(WeComConfigError, match=reason):
        WeComConfig.from_env({**ENV, **change})


def test_api_only_processes_need_no_callback_secrets():
    env = {k: v for k, v in ENV.items() if k not in ("WECOM_TOKEN", "WECOM_AES_KEY")}
    assert WeComConfig.from_env(env, callbacks=False).corp_id == "wwcorp"
    with pytest.raises(WeComConfigError, match="WECOM_TOKEN"):
        WeComConfig.from_env(env)


def test_a_callback_only_process_needs_no_app_secret():
    from wecom_api import WeComConfig, WeComConfigError

    aes = "a" * 43
    callbacks = {"WECOM_CORP_ID": "wwcorp", "WECOM_TOKEN": "tok", "WECOM_AES_KEY": aes}
    config = WeComConfig.from_env(callbacks, api=False)
    assert (config.corp_id, config.token, config.secret) == ("wwcorp", "tok", "")
    try:
        WeComConfig.from_env(callbacks)  # a process that calls the API does need it
    except WeComConfigError as error:
        assert "WECOM_AGENT_ID" in str(error) and "WECOM_SECRET" in str(error)
    else:
        raise AssertionError("the API settings were not required")
    try:
        WeComConfig.from_env({"WECOM_TOKEN": "tok", "WECOM_AES_KEY": aes}, api=False)
    except WeComConfigError as error:
        assert "WECOM_CORP_ID" in str(error)
    else:
        raise AssertionError("the corp id was not required")
