"""Who may apply to a matter: the catalogue's rule checked at import, and the engine refusing
a submission from anyone else before anything is written."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from backend.catalog.loader import check_catalog
from backend.db.rows import MatterRow
from backend.errors import Forbidden
from backend.workflow.applicants import audience, check_applicants, may_apply
from backend.workflow.commands import Submit
from backend.workflow.engine import Workflow

from tests.support.workflow_fakes import HEAD_ROLE, FakeOrg, FakeRepository, Member

NOTE = [{"key": "note", "label": "说明", "type": "text", "required": True}]
HEAD = [{"key": "head", "name": "负责人审核", "mode": "any", "approvers": {"rule": "department_head"}}]
MUSIC = 1


def test_an_absent_rule_is_everyone_and_both_keys_must_hold():
    assert may_apply(None, "student") and may_apply({}, "staff")
    assert may_apply({"kinds": ["staff"]}, "staff") and not may_apply({"kinds": ["staff"]}, "student")
    assert may_apply({"kinds": ["staff", "student"]}, "student")
    counsellors = {"kinds": ["staff"], "roles": ["辅导员", "部门负责人"]}
    assert may_apply(counsellors, "staff", ["辅导员"]) and not may_apply(counsellors, "staff", ["印章管理员"])
    assert not may_apply(counsellors, "student", ["辅导员"])
    assert may_apply({"roles": ["学生干部"]}, "student", ["学生干部"])


def test_the_refusal_says_who_may_apply():
    assert audience({"kinds": ["staff"]}) == "教职工"
    assert audience({"kinds": ["staff"], "roles": ["辅导员"]}) == "教职工(辅导员)"


@pytest.mark.parametrize("rule", [
    "staff", {"kinds": "staff"}, {"kinds": []}, {"kinds": ["teacher"]}, {"roles": [""]}, {"kind": ["staff"]},
])
def test_a_malformed_rule_is_refused_at_import(rule):
    with pytest.raises(ValueError, match="applicants"):
        check_applicants(rule, "matter 'x'")
    catalogue = {"centers": [{"code": "c", "name": "中心", "matters": [
        {"code": "x", "name": "事项", "form": NOTE, "process": HEAD, "applicants": rule}]}]}
    with pytest.raises(ValueError, match="matter 'x'"):
        check_catalog(catalogue)


def test_a_well_formed_rule_is_stored_as_given_and_none_for_everyone():
    assert check_applicants({"kinds": ["student"]}, "m") == {"kinds": ["student"]}
    assert check_applicants(None, "m") is None and check_applicants({}, "m") is None


class College:
    def __init__(self) -> None:
        people = [Member(1, "zhang", "张同学", MUSIC, kind="student"), Member(2, "zhao", "赵主任", MUSIC),
                  Member(3, "sun", "孙老师", MUSIC)]
        org = FakeOrg(people, roles={"zhao": {HEAD_ROLE}, "sun": {"辅导员"}})
        self.repository = FakeRepository(org, [
            MatterRow(1, "staff_only", "教职工请假", NOTE, HEAD, {"kinds": ["staff"]}),
            MatterRow(2, "counsellors", "辅导员事项", NOTE, HEAD, {"kinds": ["staff"], "roles": ["辅导员"]}),
        ])
        self.workflow = Workflow(ZoneInfo("Asia/Shanghai"), now=lambda: datetime(2026, 12, 1, 2, tzinfo=timezone.utc))

    async def submit(self, username: str, matter: str):
        try:
            return await self.workflow.handle(self.repository, self.repository.org.member(username),
                                              Submit(matter, {"note": "事由"}, {}))
        finally:
            self.repository.rollback()


async def test_the_engine_refuses_someone_the_matter_is_not_for_and_writes_nothing():
    college = College()
    with pytest.raises(Forbidden) as refused:
        await college.submit("zhang", "staff_only")
    assert refused.value.code == "not_an_applicant" and "仅限教职工" in refused.value.message
    with pytest.raises(Forbidden):
        await college.submit("zhao", "counsellors")  # staff, but not a 辅导员
    assert college.repository.applications == {} and college.repository.outbox == []
    assert (await college.submit("sun", "counsellors")).status == "running"
