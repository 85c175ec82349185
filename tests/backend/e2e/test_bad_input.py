"""Bad input gets a clear error and changes nothing."""
import pytest
from sqlalchemy import func, select

from backend.db.models import Application, FlowRecord

from tests.support.backend_api import pending_task
from tests.support.forms import SEAL, staff_leave, submission

POSTS = ["/applications", "/applications/terminate", "/tasks/1/approve", "/tasks/1/return", "/tasks/1/add-signers",
         "/tasks/1/sign", "/applications/1/resubmit", "/matters/seal_usage/validate", "/auth/login"]


async def rows(database, model):
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'])
async def test_malformed_json_is_refused(api, path, raw):
    user = None if path == "/auth/login" else "t2001"
    status, body = await api.call("POST", path, user, data=raw, headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "bad_json"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
async def test_numbers_that_are_not_finite_are_refused_and_write_nothing(api, database, number):
    raw = b'{"matter": "staff_leave", "form": {"days": ' + number + b'}}'
    status, body = await api.call("POST", "/applications", "t2001", data=raw,
                                  headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "number_not_finite"
    assert await rows(database, Application) == 0


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e999"])
async def test_a_number_field_refuses_nan_and_infinity_typed_as_text(api, database, text):
    status, body = await api.call("POST", "/applications", "t2001",
                                  json=submission("staff_leave", staff_leave(days=text)))
    assert status == 400 and body["error"]["code"] == "form_invalid" and "days" in body["error"]["details"]["fields"]
    assert await rows(database, Application) == 0


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("levels", [17, 30_000])  # 30 000: past Python's recursion limit, under 64 KB
async def test_deeply_nested_bodies_are_refused_even_unauthenticated(api, path, levels):
    user = None if path == "/auth/login" else "t2001"
    raw = b'{"a":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"
    status, body = await api.call("POST", path, user, data=raw, headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "too_deep"


async def test_oversized_bodies_are_refused_and_write_nothing(api, database):
    huge = SEAL(purpose="很" * 40_000)
    status, body = await api.call("POST", "/applications", "t2001", json=huge)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    assert await rows(database, Application) == 0


async def test_unknown_ids_and_routes(api):
    for path in ["/tasks/999999", "/applications/999999"]:
        status, body = await api.call("GET", path, "t2001")
        assert status == 404 and body["error"]["code"].endswith("not_found")
    status, body = await api.call("GET", "/tasks/abc", "t2001")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await api.call("DELETE", "/tasks/1", "t2001")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("query", ["/tasks?status=later", "/tasks?limit=0", "/tasks?limit=x",
                                   "/applications?status=lost", "/applications?mine=0", "/applications?offset=-1"])
async def test_bad_query_parameters(api, query):
    status, body = await api.call("GET", query, "t2001")
    assert status == 400 and body["error"]["code"] == "bad_query"


async def test_acting_on_someone_elses_task_is_not_found_and_changes_nothing(api, database):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(api, "t0002", app["number"])
    for user in ["t0001", "t2001"]:  # another leader; the applicant
        status, body = await api.call("POST", f"/tasks/{task['id']}/approve", user, json={})
        assert status == 404 and body["error"]["code"] == "task_not_found"
        status, _ = await api.call("GET", f"/tasks/{task['id']}", user)
        assert status == 404
    assert await rows(database, FlowRecord) == 1


async def test_a_decided_task_cannot_be_decided_again(api, database):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(api, "t0002", app["number"])
    await api.post(f"/tasks/{task['id']}/approve", "t0002", json={})
    for move, body in [("approve", {}), ("return", {"opinion": "不行"}), ("add-signers", {"users": ["t1203"]})]:
        status, error = await api.call("POST", f"/tasks/{task['id']}/{move}", "t0002", json=body)
        assert status == 409 and error["error"]["code"] == "task_state", move
        assert "已经办理过" in error["error"]["message"]
    assert await rows(database, FlowRecord) == 2


@pytest.mark.parametrize("matter", [None, "", 5, ["seal_usage"]])
async def test_submitting_needs_a_matter_code(api, database, matter):
    body = {**SEAL(), "matter": matter}
    status, error = await api.call("POST", "/applications", "t2001", json=body)
    assert (status, error["error"]["code"]) == (400, "matter_required")
    assert await rows(database, Application) == 0


@pytest.mark.parametrize("body,code", [
    ({"opinion": 5}, "opinion_invalid"), ({"opinion": "字" * 2001}, "opinion_too_long"), ({}, "opinion_required"),
    ({"opinion": "   "}, "opinion_required"),
])
async def test_return_needs_a_proper_opinion(api, database, body, code):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(api, "t0002", app["number"])
    status, error = await api.call("POST", f"/tasks/{task['id']}/return", "t0002", json=body)
    assert (status, error["error"]["code"]) == (400, code)
    assert (await api.get(f"/applications/{app['id']}", "t2001"))["status"] == "running"


@pytest.mark.parametrize("body,code", [({}, "ids_required"), ({"ids": "1"}, "ids_required"),
                                       ({"ids": [True]}, "ids_required"), ({"ids": list(range(101))}, "too_many_ids")])
async def test_terminate_needs_a_list_of_ids(api, body, code):
    status, error = await api.call("POST", "/applications/terminate", "t2001", json=body)
    assert (status, error["error"]["code"]) == (400, code)


async def test_unknown_application_in_terminate_changes_nothing(api):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    status, error = await api.call("POST", "/applications/terminate", "t2001", json={"ids": [app["id"], 999999]})
    assert (status, error["error"]["code"]) == (404, "application_not_found")
    assert (await api.get(f"/applications/{app['id']}", "t2001"))["status"] == "running"


@pytest.mark.parametrize("path", ["/applications/2147483648", "/tasks/999999999999999999"])
async def test_ids_past_the_largest_a_row_can_have_are_not_found(api, path):
    status, body = await api.call("GET", path, "t2001")
    assert status == 404 and body["error"]["code"].endswith("not_found")
    status, body = await api.call("POST", "/applications/terminate", "t2001", json={"ids": [2**31]})
    assert (status, body["error"]["code"]) == (404, "application_not_found")


async def test_marking_notices_read_up_to_a_number_past_every_id_marks_them_all(api):
    assert await api.post("/notifications/read", "t2001", json={"up_to": 10**30}) == {"marked": 0}


@pytest.mark.parametrize("raw", [b'{"matter": "seal_usage", "form": {"purpose": "\\u0000"}}',
                                 b'{"matter": "seal_usage", "form": {"\\ud800": "x"}}'], ids=["nul", "lone-surrogate"])
async def test_text_no_database_keeps_is_refused(api, database, raw):
    status, body = await api.call("POST", "/applications", "t2001", data=raw,
                                  headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "bad_text"
    assert await rows(database, Application) == 0


@pytest.mark.parametrize("path, status, code", [
    ("/org/users?department=%00", 400, "bad_query"), ("/matters?q=a%00", 400, "bad_query"),
    ("/matters/seal%00usage", 404, "matter_not_found")])
async def test_a_nul_in_a_query_or_a_path_is_refused(api, path, status, code):
    answer, body = await api.call("GET", path, "t2001")
    assert (answer, body["error"]["code"]) == (status, code)
