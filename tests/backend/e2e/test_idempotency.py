"""Idempotency-Key: a retried POST returns the stored result instead of acting twice."""
from sqlalchemy import func, select

from backend.db.models import Application, FlowRecord

from tests.support.backend_api import pending_task
from tests.support.forms import SEAL


async def count(database, model):
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_retried_submission_creates_one_application(api, database):
    headers = {"Idempotency-Key": "submit-123"}
    first = await api.post("/applications", "t2001", json=SEAL(), headers=headers, expect=201)
    again = await api.post("/applications", "t2001", json=SEAL(), headers=headers, expect=201)
    assert again == first and await count(database, Application) == 1


async def test_a_retried_approval_returns_the_stored_result(api, database):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(api, "t0002", app["number"])
    headers = {"Idempotency-Key": "approve-1"}
    first = await api.post(f"/tasks/{task['id']}/approve", "t0002", json={"opinion": "同意"}, headers=headers)
    again = await api.post(f"/tasks/{task['id']}/approve", "t0002", json={"opinion": "同意"}, headers=headers)
    assert again == first
    assert await count(database, FlowRecord) == 2  # submit + one approval


async def test_a_key_reused_for_another_request_is_refused(api, database):
    headers = {"Idempotency-Key": "k"}
    await api.post("/applications", "t2001", json=SEAL(), headers=headers, expect=201)
    status, body = await api.call("POST", "/applications", "t2001", json=SEAL(copies=9), headers=headers)
    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"
    assert await count(database, Application) == 1


async def test_keys_are_per_user(api, database):
    headers = {"Idempotency-Key": "same"}
    await api.post("/applications", "t2001", json=SEAL(), headers=headers, expect=201)
    await api.post("/applications", "t2103", json=SEAL(), headers=headers, expect=201)
    assert await count(database, Application) == 2


async def test_a_failed_command_stores_nothing_so_a_fixed_retry_runs(api, database):
    headers = {"Idempotency-Key": "fix-me"}
    status, _ = await api.call("POST", "/applications", "t2001", json=SEAL(copies=0), headers=headers)
    assert status == 400
    status, body = await api.call("POST", "/applications", "t2001", json=SEAL(copies=0), headers=headers)
    assert status == 400 and body["error"]["code"] == "form_invalid"
    status, _ = await api.call("POST", "/applications", "t2001", json=SEAL(), headers=headers)
    assert status == 201
    status, _ = await api.call("POST", "/applications", "t2001", json=SEAL(), headers={"Idempotency-Key": ""})
    assert status == 400
