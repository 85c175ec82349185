"""Attachments over HTTP on SQLite and PostgreSQL: uploading (limits, kinds, nothing kept on
refusal), attaching at submit (only one's own files, once), detaching at a resubmission those
its form no longer names, and who may download them."""
from __future__ import annotations

import hashlib
from typing import Optional

import pytest
from sqlalchemy import func, select, update

from backend.db.models import AuditEvent, UploadedFile
from backend.db.repository import Repository

from tests.support.backend_api import pending_task
from tests.support.files import PDF, PNG, PROGRAM, form, upload
from tests.support.forms import SEAL, staff_leave, submission

APPLICANT, HEAD, ATTENDANCE = "t2001", "t2101", "t1402"  # 张伟, 韩松涛 (音乐系负责人), 人事处考勤专员
WANG, LI, OTHER = "t1203", "t1204", "t1202"


async def kept(database, settings) -> tuple[int, int]:
    """Rows and stored files: what a refusal must leave alone."""
    async with database.read() as session:
        rows = await session.scalar(select(func.count(UploadedFile.id)))
    directory = settings.files.directory
    return rows, len([p for p in directory.rglob("*") if p.is_file()]) if directory.exists() else 0


async def download(api, file_id: int, user: str):
    headers = {"Authorization": f"Bearer {await api.token(user)}"}
    response = await api.client.get(f"/api/v1/files/{file_id}", headers=headers)
    return response.status, await response.read(), response.headers


async def leave_with_proof(api, *files) -> tuple[dict, list[dict]]:
    stored = await upload(api, APPLICANT, *files)
    app = await api.post("/applications", APPLICANT, expect=201, json=submission(
        "staff_leave", staff_leave(leave_type="病假", proof=[f["id"] for f in stored])))
    return app, stored


async def test_several_files_are_uploaded_and_kept_with_their_names_types_sizes_and_hashes(api, database, settings):
    stored = await upload(api, APPLICANT, ("诊断证明.pdf", PDF), ("病历.PNG", PNG))
    assert [(f["name"], f["content_type"], f["size"], f["sha256"], f["attached"]) for f in stored] == [
        ("诊断证明.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest(), False),
        ("病历.PNG", "image/png", len(PNG), hashlib.sha256(PNG).hexdigest(), False)]
    assert await kept(database, settings) == (2, 2)
    async with database.read() as session:
        keys = list(await session.scalars(select(UploadedFile.storage_key)))
    assert all("诊断" not in key and len(key) == 32 for key in keys)  # never the person's file name
    status, body, headers = await download(api, stored[0]["id"], APPLICANT)  # the uploader opens it
    assert (status, body, headers["Content-Type"]) == (200, PDF, "application/pdf")
    assert "attachment" in headers["Content-Disposition"] and "%E8%AF%8A" in headers["Content-Disposition"]


@pytest.mark.parametrize("files, status, code", [
    ([("大文件.pdf", PDF + b"0" * (1024 * 1024))], 413, "file_too_large"),
    ([("好的.pdf", PDF), ("程序.pdf", PROGRAM)], 400, "file_type"),  # a program renamed: refused by its bytes
    ([("脚本.exe", PROGRAM)], 400, "file_type"),
    ([("空的.pdf", b"")], 400, "file_empty"),
    ([("1.pdf", PDF), ("2.pdf", PDF), ("3.pdf", PDF), ("4.pdf", PDF)], 400, "too_many_files"),
    ([], 400, "files_required"),
])
async def test_a_refused_upload_keeps_nothing(api, database, settings, files, status, code):
    body = await upload(api, APPLICANT, *files, expect=status)
    assert body["error"]["code"] == code and body["error"]["message"], body
    assert await kept(database, settings) == (0, 0)


async def test_an_upload_past_every_limit_at_once_is_refused_before_reading_it_all(api, database, settings):
    huge = [(f"{i}.pdf", PDF + b"0" * (1024 * 1024)) for i in range(5)]  # more than max_files × max_bytes
    status, body = await api.call("POST", "/files", APPLICANT, data=form(*huge))
    assert status == 413 and body["error"]["code"] == "file_too_large" and "0.pdf" in body["error"]["message"]
    assert await kept(database, settings) == (0, 0)


async def test_uploading_needs_a_login_and_a_multipart_body(api, database, settings):
    status, _ = await api.call("POST", "/files", None, data=form(("a.pdf", PDF)))
    assert status == 401
    status, body = await api.call("POST", "/files", APPLICANT, json={"files": ["a.pdf"]})
    assert status == 400 and body["error"]["code"] == "multipart_required"
    assert await kept(database, settings) == (0, 0)


async def test_submitting_attaches_the_files_and_the_detail_lists_them(api, database):
    app, stored = await leave_with_proof(api, ("诊断证明.pdf", PDF), ("病历.png", PNG))
    detail = await api.get(f"/applications/{app['id']}", APPLICANT)
    assert detail["form"]["proof"] == [f["id"] for f in stored]
    assert [(a["field"], a["name"], a["url"]) for a in detail["attachments"]] == [
        ("proof", "诊断证明.pdf", f"/api/v1/files/{stored[0]['id']}"),
        ("proof", "病历.png", f"/api/v1/files/{stored[1]['id']}")]
    async with database.read() as session:
        assert set(await session.scalars(select(UploadedFile.application_id))) == {app["id"]}


async def refused_submission(api, user: str, proof, message: str) -> None:
    before = (await api.get("/applications", user))["items"]
    status, body = await api.call("POST", "/applications", user, json=submission(
        "staff_leave", staff_leave(leave_type="病假", proof=proof)))
    assert status == 400 and body["error"]["code"] == "form_invalid", body
    assert message in body["error"]["details"]["fields"]["proof"]
    assert (await api.get("/applications", user))["items"] == before


async def test_someone_elses_unknown_or_already_attached_files_are_refused_with_nothing_written(api, database):
    theirs = await upload(api, WANG, ("王的文件.pdf", PDF))
    await refused_submission(api, APPLICANT, [theirs[0]["id"]], "没有找到附件")
    await refused_submission(api, APPLICANT, [987654], "没有找到附件")
    app, stored = await leave_with_proof(api, ("诊断证明.pdf", PDF))
    await refused_submission(api, APPLICANT, [stored[0]["id"]], "已用于另一份申请")
    async with database.read() as session:  # nothing changed: Wang's file is still unattached
        assert await session.scalar(select(UploadedFile.application_id).where(
            UploadedFile.id == theirs[0]["id"])) is None


async def test_a_resubmission_keeps_its_own_files_and_may_add_more(api, database):
    app, stored = await leave_with_proof(api, ("诊断证明.pdf", PDF))
    task = await pending_task(api, HEAD, app["number"])
    await api.post(f"/tasks/{task['id']}/return", HEAD, json={"opinion": "请补充病历"})
    more = await upload(api, APPLICANT, ("病历.png", PNG))
    ids = [stored[0]["id"], more[0]["id"]]
    await api.post(f"/applications/{app['id']}/resubmit", APPLICANT, json={"form": staff_leave(
        leave_type="病假", proof=ids)})
    detail = await api.get(f"/applications/{app['id']}", APPLICANT)
    assert [a["id"] for a in detail["attachments"]] == ids


async def returned_leave_with_proof(api, *files) -> tuple[dict, list[int]]:
    app, stored = await leave_with_proof(api, *files)
    task = await pending_task(api, HEAD, app["number"])
    await api.post(f"/tasks/{task['id']}/return", HEAD, json={"opinion": "请补充病历"})
    return app, [f["id"] for f in stored]


async def attached_to(database, *ids: int) -> list[Optional[int]]:
    async with database.read() as session:
        found = dict((await session.execute(select(UploadedFile.id, UploadedFile.application_id)
                                            .where(UploadedFile.id.in_(ids)))).tuples().all())
    return [found[i] for i in ids]


async def test_a_file_the_resubmitted_form_no_longer_names_is_detached_and_its_uploaders_again(api, database):
    app, (kept, dropped) = await returned_leave_with_proof(api, ("诊断证明.pdf", PDF), ("旧病历.png", PNG))
    assert (await download(api, dropped, HEAD))[0] == 200  # the approver's while attached
    await api.post(f"/applications/{app['id']}/resubmit", APPLICANT, json={"form": staff_leave(
        leave_type="病假", proof=[kept])})
    for user in (APPLICANT, HEAD):
        detail = await api.get(f"/applications/{app['id']}", user)
        assert [a["id"] for a in detail["attachments"]] == [kept], user
    assert await attached_to(database, kept, dropped) == [app["id"], None]
    assert (await download(api, dropped, APPLICANT))[:2] == (200, PNG)  # an unattached upload: its uploader's
    assert (await download(api, dropped, HEAD))[0] == 404  # and no one else's
    assert (await download(api, kept, HEAD))[:2] == (200, PDF)
    again = await api.post("/applications", APPLICANT, expect=201, json=submission(
        "staff_leave", staff_leave(leave_type="病假", proof=[dropped])))
    assert await attached_to(database, kept, dropped) == [app["id"], again["id"]]


async def test_a_resubmitted_form_naming_no_file_detaches_them_all(api, database):
    app, ids = await returned_leave_with_proof(api, ("诊断证明.pdf", PDF), ("旧病历.png", PNG))
    await api.post(f"/applications/{app['id']}/resubmit", APPLICANT, json={"form": staff_leave()})
    assert (await api.get(f"/applications/{app['id']}", APPLICANT))["attachments"] == []
    assert await attached_to(database, *ids) == [None, None]


async def test_a_refused_resubmission_detaches_nothing(api, database, monkeypatch):
    app, ids = await returned_leave_with_proof(api, ("诊断证明.pdf", PDF), ("旧病历.png", PNG))
    resubmit = f"/applications/{app['id']}/resubmit"
    status, body = await api.call("POST", resubmit, APPLICANT, json={"form": staff_leave(
        leave_type="病假", days="", proof=ids[:1])})
    assert status == 400 and body["error"]["code"] == "form_invalid", body
    other = await api.post("/applications", APPLICANT, expect=201, json=submission("staff_leave", staff_leave()))
    [taken] = await upload(api, APPLICANT, ("新病历.png", PNG))
    files = Repository.files

    async def read_then_taken(self, wanted):
        found = await files(self, wanted)
        # another submission attaches the new file after it was read: its attaching fails the
        # write, after the detaching statement
        await self.connection.execute(update(UploadedFile.__table__).where(UploadedFile.id == taken["id"])
                                      .values(application_id=other["id"]))
        return found

    monkeypatch.setattr(Repository, "files", read_then_taken)
    status, body = await api.call("POST", resubmit, APPLICANT, json={"form": staff_leave(
        leave_type="病假", proof=[ids[0], taken["id"]])})
    assert status == 409 and body["error"]["code"] == "attachment_taken", body
    assert await attached_to(database, *ids, taken["id"]) == [app["id"], app["id"], None]
    detail = await api.get(f"/applications/{app['id']}", HEAD)
    assert detail["status"] == "returned" and [a["id"] for a in detail["attachments"]] == ids
    assert (await download(api, ids[1], HEAD))[0] == 200


async def test_typed_file_names_are_still_taken_from_clients_that_cannot_upload(api):
    app = await api.post("/applications", APPLICANT, json=SEAL(), expect=201)
    detail = await api.get(f"/applications/{app['id']}", APPLICANT)
    assert detail["form"]["document"] == "合作协议.pdf" and detail["attachments"] == []


async def test_who_may_download_an_attached_file(api, database):
    app, stored = await leave_with_proof(api, ("诊断证明.pdf", PDF))
    file_id = stored[0]["id"]
    task = await pending_task(api, HEAD, app["number"])
    await api.post(f"/applications/{app['id']}/cc", APPLICANT, json={"users": [LI]})
    await api.post(f"/tasks/{task['id']}/delegate", HEAD, json={"to": WANG, "opinion": "请先看看"})
    for user in (APPLICANT, HEAD, WANG, LI):  # applicant, assignee, delegate, cc'd
        status, body, _ = await download(api, file_id, user)
        assert (status, body) == (200, PDF), user
    for user in (OTHER, ATTENDANCE):  # a colleague, the next node's approver (no task yet)
        status, body, _ = await download(api, file_id, user)
        assert status == 404, user
    status, _, _ = await download(api, 999999, APPLICANT)
    assert status == 404
    async with database.read() as session:
        reads = list(await session.scalars(select(AuditEvent.target).where(AuditEvent.target == f"file:{file_id}")))
    assert len(reads) == 4  # each successful download is audited, refusals are not


async def test_transferees_and_added_signers_may_download_too(api):
    app, stored = await leave_with_proof(api, ("诊断证明.pdf", PDF))
    file_id = stored[0]["id"]
    task = await pending_task(api, HEAD, app["number"])
    assert (await download(api, file_id, OTHER))[0] == 404
    await api.post(f"/tasks/{task['id']}/add-signers", HEAD, json={"users": [OTHER], "opinion": "请先看看"})
    assert (await download(api, file_id, OTHER))[0] == 200  # an added signer
    assert (await download(api, file_id, LI))[0] == 404
    signer_task = await pending_task(api, OTHER, app["number"])
    await api.post(f"/tasks/{signer_task['id']}/sign", OTHER, json={"opinion": "属实", "agree": True})
    await api.post(f"/tasks/{task['id']}/transfer", HEAD, json={"to": LI, "opinion": "请李明处理"})
    assert (await download(api, file_id, LI))[0] == 200  # the transferee
    assert (await download(api, file_id, HEAD))[0] == 200  # who held it before still may


async def test_an_unattached_file_is_only_its_uploaders(api):
    stored = await upload(api, APPLICANT, ("草稿.pdf", PDF))
    assert (await download(api, stored[0]["id"], APPLICANT))[0] == 200
    assert (await download(api, stored[0]["id"], HEAD))[0] == 404


async def test_two_submissions_racing_for_one_file_attach_it_once(api, database):
    import asyncio
    stored = await upload(api, APPLICANT, ("诊断证明.pdf", PDF))
    body = submission("staff_leave", staff_leave(leave_type="病假", proof=[stored[0]["id"]]))
    answers = await asyncio.gather(*[api.call("POST", "/applications", APPLICANT, json=body) for _ in range(4)])
    statuses = sorted(status for status, _ in answers)
    assert statuses[0] == 201 and statuses[1:] and all(s in (400, 409) for s in statuses[1:]), answers
    mine = (await api.get("/applications", APPLICANT))["items"]
    assert len(mine) == 1
    async with database.read() as session:
        assert await session.scalar(select(UploadedFile.application_id)) == mine[0]["id"]
