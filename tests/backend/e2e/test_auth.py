import time

import jwt
import pytest

from tests.support.backend_api import SECRET
from tests.support.databases import DEMO_PASSWORD


async def test_login_returns_a_token_that_identifies_the_user(api):
    status, body = await api.call("POST", "/auth/login", json={"username": "t2001", "password": DEMO_PASSWORD})
    assert status == 200 and body["token_type"] == "Bearer"
    me = await api.get("/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert (me["username"], me["name"], me["department"]) == ("t2001", "张伟", "音乐系")


@pytest.mark.parametrize("credentials", [
    {"username": "t2001", "password": "wrong"},
    {"username": "nobody", "password": DEMO_PASSWORD},
])
async def test_wrong_credentials_are_refused_alike(api, credentials):
    status, body = await api.call("POST", "/auth/login", json=credentials)
    assert status == 401 and body["error"]["code"] == "login_failed"


@pytest.mark.parametrize("payload", [{}, {"username": "t2001"}, {"username": 1, "password": 2}])
async def test_login_without_credentials_is_a_bad_request(api, payload):
    status, body = await api.call("POST", "/auth/login", json=payload)
    assert status == 400 and body["error"]["code"] == "credentials_required"


async def test_protected_routes_need_a_token(api):
    status, body = await api.call("GET", "/me")
    assert status == 401 and body["error"]["code"] == "not_authenticated"


def _forge(secret, **claims):
    now = int(time.time())
    base = {"sub": "1", "iat": now, "exp": now + 60, "iss": "campus-affairs", "aud": "api"}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


@pytest.mark.parametrize("token", [
    _forge("another-secret-that-is-long-enough-to-sign-things"),
    _forge(SECRET, exp=int(time.time()) - 10),
    _forge(SECRET, aud="chat"),
    "not-a-jwt",
], ids=["another-secret", "expired", "chat-audience", "not-a-jwt"])  # stable ids: the tokens carry the time
async def test_forged_or_expired_tokens_are_refused(api, token):
    status, body = await api.call("GET", "/me", headers={"Authorization": f"Bearer {token}"})
    assert status == 401 and body["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("identity,username", [("wecom:zhangwei", "t2001"), ("web:t1002", "t1002"),
                                               ("t0001", "t0001")])
async def test_service_token_acts_for_the_named_channel_identity(api, service_headers, identity, username):
    me = await api.get("/me", headers=service_headers(identity))
    assert me["username"] == username


async def test_service_calls_for_unbound_identities_get_no_data(api, service_headers):
    status, body = await api.call("GET", "/tasks", headers=service_headers("wecom:stranger"))
    assert status == 403 and body["error"]["code"] == "identity_not_bound"
    assert "87150044" in body["error"]["message"]


async def test_service_calls_must_name_an_identity(api, service_headers):
    headers = service_headers("")
    status, body = await api.call("GET", "/me", headers=headers)
    assert status == 403 and body["error"]["code"] == "identity_required"


async def test_a_wrong_service_token_is_refused(api):
    status, _ = await api.call("GET", "/me", headers={"Authorization": "Bearer " + "x" * 64,
                                                      "X-On-Behalf-Of": "wecom:zhangwei"})
    assert status == 401
