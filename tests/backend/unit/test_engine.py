"""The workflow engine's handlers against an in-memory repository: the rules of each
command, without a database (the integration and e2e tests run the same on real ones)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from backend.db.rows import FileRow, MatterRow
from backend.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from backend.workflow import transitions as t
from backend.workflow.commands import (
    AddSigners,
    Approve,
    CarbonCopy,
    Command,
    Comment,
    Delegate,
    Remind,
    RemoveSigners,
    Resubmit,
    Return,
    Sign,
    Submit,
    Terminate,
    Timeout,
    Transfer,
    Withdraw,
)
from backend.workflow.engine import HANDLERS, Workflow

from tests.support.workflow_fakes import HEAD_ROLE, FakeOrg, FakeRepository, Member

COLLEGE, OFFICE, MUSIC = 1, 2, 3
NOTE = [{"key": "note", "label": "说明", "type": "text", "required": True}]
HANDOVER = [{"key": "handover", "label": "工作交接人", "type": "person"}]
PROOF = [{"key": "proof", "label": "证明材料", "type": "attachment"}]


def node(key: str, approvers: dict, mode: str = "any") -> dict:
    return {"key": key, "name": f"{key}审核", "mode": mode, "approvers": approvers}


MATTERS = [
    MatterRow(1, "leave", "请假", NOTE, [node("head", {"rule": "department_head"}),
                                       node("office", {"rule": "role", "role": "印章管理员", "department": "dzb"})]),
    MatterRow(2, "review", "评审", NOTE, [node("panel", {"rule": "users", "users": ["li", "wang"]}, mode="all")]),
    MatterRow(3, "seal", "用印", NOTE, [node("leader", {"rule": "applicant_choice",
                                                      "candidates": {"rule": "users", "users": ["li", "wang"]}})]),
    MatterRow(4, "nobody", "无人审核", NOTE, [node("desk", {"rule": "role", "role": "印章管理员", "department": "jwc"})]),
    MatterRow(5, "handover", "交接", HANDOVER, [node("head", {"rule": "department_head"})]),
    MatterRow(6, "copied", "抄送", NOTE, [{**node("head", {"rule": "department_head"}),
                                         "cc": {"rule": "users", "users": ["qian", "zhang"]}}]),
    MatterRow(7, "ruled", "规则", NOTE, [
        {**node("self", {"rule": "users", "users": ["zhang", "sun"]}), "if_applicant_approves": "skip"},
        {**node("nobody", {"rule": "role", "role": "印章管理员", "department": "jwc"}), "if_no_approver": "skip"},
        {**node("admin", {"rule": "role", "role": "印章管理员", "department": "jwc"}), "if_no_approver": "admin",
         "admin": "li"},
        {**node("head", {"rule": "department_head"}), "timeout": {"hours": 24, "action": "approve"}},
        {**node("office", {"rule": "role", "role": "印章管理员", "department": "dzb"}),
         "timeout": {"hours": 48, "action": "return"}},
    ]),
    MatterRow(8, "nudged", "提醒", NOTE, [{**node("head", {"rule": "department_head"}),
                                         "timeout": {"hours": 8, "action": "remind"}}]),
    MatterRow(9, "sick", "病假", NOTE + PROOF, [node("head", {"rule": "department_head"})]),
]


def college() -> FakeRepository:
    people = [Member(1, "zhang", "张同学", MUSIC), Member(2, "zhao", "赵主任", MUSIC), Member(3, "qian", "钱老师", OFFICE),
              Member(4, "li", "李校长", COLLEGE), Member(5, "wang", "王校长", COLLEGE), Member(6, "sun", "孙老师", MUSIC)]
    org = FakeOrg(people, roles={"zhao": {HEAD_ROLE}, "qian": {"印章管理员"}},
                  departments={"xy": COLLEGE, "dzb": OFFICE, "yyx": MUSIC})
    return FakeRepository(org, MATTERS)


class College:
    """The engine on a fake repository, a clock at 01:00 on 1 December in Shanghai."""

    def __init__(self) -> None:
        self.repository = college()
        self.now = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)  # five pm UTC
        self.workflow = Workflow(ZoneInfo("Asia/Shanghai"), now=lambda: self.now)

    async def do(self, username: str, command: Command):
        try:
            return await self.workflow.handle(self.repository, self.repository.org.member(username), command)
        finally:
            self.repository.rollback()

    async def submitted(self, matter: str = "leave", username: str = "zhang", **approvers: str) -> int:
        return (await self.do(username, Submit(matter, {"note": "事由"}, approvers))).id

    def open_tasks(self, username: str) -> list[int]:
        return [x.id for x in self.repository.tasks.values()
                if x.assignee.username == username and x.status in t.OPEN_TASK_STATES]

    def task_of(self, username: str) -> int:
        [task_id] = self.open_tasks(username)
        return task_id

    def status(self, application_id: int) -> str:
        return self.repository.applications[application_id].status

    def events(self) -> list[tuple[str, int]]:
        return [(row["event"], row["recipient_id"]) for row in self.repository.outbox]


@pytest.fixture
def hall() -> College:
    return College()


def test_every_command_has_one_handler():
    assert set(HANDLERS) == {Submit, Resubmit, Approve, Return, AddSigners, Sign, Terminate,
                             Transfer, Delegate, Withdraw, Comment, Remind, RemoveSigners, Timeout, CarbonCopy}


async def test_submitting_gives_the_first_node_to_the_applicants_department_head(hall):
    application_id = await hall.submitted()
    application = hall.repository.applications[application_id]
    assert (application.status, application.current_node, application.round) == (t.RUNNING, 0, 1)
    assert hall.open_tasks("zhao") and [r["action"] for r in hall.repository.records] == ["submit"]
    assert hall.events() == [("task_assigned", 2)]


async def test_applications_are_numbered_by_the_day_in_the_colleges_timezone(hall):
    first, second = await hall.submitted(), await hall.submitted()
    numbers = [hall.repository.applications[i].number for i in (first, second)]
    assert numbers == ["SW20261201-0001", "SW20261201-0002"]


async def test_approving_a_node_hands_the_application_to_the_next_one(hall):
    application_id = await hall.submitted()
    await hall.do("zhao", Approve(hall.task_of("zhao"), "同意"))
    assert hall.repository.applications[application_id].current_node == 1 and hall.open_tasks("qian")
    assert ("application_progressed", 1) in hall.events()


async def test_approving_the_last_node_completes_the_application(hall):
    application_id = await hall.submitted()
    await hall.do("zhao", Approve(hall.task_of("zhao")))
    await hall.do("qian", Approve(hall.task_of("qian"), "已盖章"))
    application = hall.repository.applications[application_id]
    assert (application.status, application.current_node) == (t.APPROVED, None)
    assert application.finished_at is not None and hall.events()[-1] == ("application_approved", 1)


async def test_a_countersigned_node_waits_for_every_approver(hall):
    application_id = await hall.submitted("review")
    await hall.do("li", Approve(hall.task_of("li")))
    assert hall.status(application_id) == t.RUNNING and hall.open_tasks("wang")
    await hall.do("wang", Approve(hall.task_of("wang")))
    assert hall.status(application_id) == t.APPROVED


async def test_the_applicant_chooses_the_approver_among_the_candidates(hall):
    await hall.submitted("seal", leader="wang")
    assert hall.open_tasks("wang") and not hall.open_tasks("li")
    with pytest.raises(InvalidInput) as refused:
        await hall.submitted("seal", leader="sun")
    assert refused.value.code == "approver_invalid"


async def test_a_submission_nobody_can_approve_is_refused_and_writes_nothing(hall):
    with pytest.raises(InvalidInput) as refused:
        await hall.submitted("nobody")
    assert refused.value.code == "no_approver"
    assert not hall.repository.applications and not hall.repository.outbox


async def test_a_person_named_in_the_form_must_exist(hall):
    with pytest.raises(InvalidInput) as refused:
        await hall.do("zhang", Submit("handover", {"handover": "ghost"}, {}))
    assert refused.value.details["fields"] == {"handover": "没有找到该人员"}


async def test_an_unknown_matter_is_not_found(hall):
    with pytest.raises(NotFound):
        await hall.do("zhang", Submit("flying", {"note": "x"}, {}))


async def test_returning_cancels_the_open_tasks_and_tells_the_applicant(hall):
    application_id = await hall.submitted("review")
    await hall.do("li", Return(hall.task_of("li"), "请补充材料"))
    assert hall.status(application_id) == t.RETURNED and not hall.open_tasks("wang")
    assert hall.events()[-1] == ("application_returned", 1)


async def test_resubmitting_starts_a_new_round_at_the_first_node(hall):
    application_id = await hall.submitted()
    await hall.do("zhao", Return(hall.task_of("zhao"), "请补充"))
    await hall.do("zhang", Resubmit(application_id, {"note": "补充了"}))
    application = hall.repository.applications[application_id]
    assert (application.status, application.round, application.form) == (t.RUNNING, 2, {"note": "补充了"})
    assert len(hall.open_tasks("zhao")) == 1


async def returned_sick_leave(hall, *names: str) -> tuple[int, list[int]]:
    """Zhang's sick leave with his files ``names``, returned by Zhao."""
    files = [hall.repository.upload("zhang", name) for name in names]
    application_id = (await hall.do("zhang", Submit("sick", {"note": "发烧", "proof": files}, {}))).id
    await hall.do("zhao", Return(hall.task_of("zhao"), "请补充"))
    return application_id, files


def attached_to(hall, files: list[int]) -> list:
    return [hall.repository.uploads[i].application_id for i in files]


async def test_a_resubmitted_form_detaches_the_files_it_no_longer_names(hall):
    application_id, (kept, dropped) = await returned_sick_leave(hall, "诊断证明.pdf", "旧病历.png")
    assert attached_to(hall, [kept, dropped]) == [application_id, application_id]
    added = hall.repository.upload("zhang", "新病历.png")
    await hall.do("zhang", Resubmit(application_id, {"note": "补充了", "proof": [kept, added]}))
    assert attached_to(hall, [kept, dropped, added]) == [application_id, None, application_id]
    # unattached, it is Zhang's to attach again
    again = (await hall.do("zhang", Submit("sick", {"note": "复查", "proof": [dropped]}, {}))).id
    assert attached_to(hall, [kept, dropped]) == [application_id, again]


async def test_a_resubmitted_form_naming_no_file_detaches_them_all_and_no_form_keeps_them(hall):
    application_id, files = await returned_sick_leave(hall, "诊断证明.pdf", "旧病历.png")
    await hall.do("zhang", Resubmit(application_id))  # the form as it was
    assert attached_to(hall, files) == [application_id, application_id]
    await hall.do("zhao", Return(hall.task_of("zhao"), "不需要附件"))
    await hall.do("zhang", Resubmit(application_id, {"note": "无附件"}))
    assert attached_to(hall, files) == [None, None]


async def test_a_refused_resubmission_detaches_nothing(hall, monkeypatch):
    application_id, (kept, dropped) = await returned_sick_leave(hall, "诊断证明.pdf", "旧病历.png")
    with pytest.raises(InvalidInput):  # a bad field
        await hall.do("zhang", Resubmit(application_id, {"proof": [kept]}))
    taken = hall.repository.upload("zhang", "新病历.png")
    other = hall.repository.uploads[taken]
    files = hall.repository.files

    async def read_then_taken(ids: list[int]) -> dict[int, FileRow]:
        found = await files(ids)
        other.application_id = 99  # another submission attaches it after it was read
        return found

    monkeypatch.setattr(hall.repository, "files", read_then_taken)
    with pytest.raises(Conflict) as refused:  # refused at the write, after the detaching was decided
        await hall.do("zhang", Resubmit(application_id, {"note": "补充了", "proof": [kept, taken]}))
    assert refused.value.code == "attachment_taken"
    assert attached_to(hall, [kept, dropped]) == [application_id, application_id]
    assert hall.status(application_id) == t.RETURNED


async def test_only_the_applicant_may_resubmit_or_terminate(hall):
    application_id = await hall.submitted()  # zhang's leave; zhao, the head, holds its task
    for command in (Resubmit(application_id), Terminate((application_id,))):
        with pytest.raises(Forbidden):
            await hall.do("zhao", command)


async def test_someone_elses_application_is_not_found_like_a_missing_one(hall):
    application_id = await hall.submitted()
    for command in (Resubmit(application_id), Terminate((application_id,)), Resubmit(999), Terminate((999,))):
        with pytest.raises(NotFound) as refused:
            await hall.do("sun", command)  # sun sees nothing of zhang's leave
        assert refused.value.code == "application_not_found"


async def test_a_running_application_cannot_be_resubmitted(hall):
    application_id = await hall.submitted()
    with pytest.raises(Conflict) as refused:
        await hall.do("zhang", Resubmit(application_id))
    assert refused.value.code == "application_state"


async def test_a_decided_task_cannot_be_decided_again(hall):
    await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", Approve(task_id))
    with pytest.raises(Conflict) as refused:
        await hall.do("zhao", Return(task_id, "不行"))
    assert refused.value.code == "task_state"


async def test_someone_elses_task_is_not_found(hall):
    await hall.submitted()
    with pytest.raises(NotFound) as refused:
        await hall.do("qian", Approve(hall.task_of("zhao")))
    assert refused.value.code == "task_not_found"


async def test_added_signers_hold_the_task_until_the_last_one_gives_an_opinion(hall):
    await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", AddSigners(task_id, ("sun", "qian"), "请给意见"))
    assert hall.repository.tasks[task_id].status == t.WAITING
    await hall.do("sun", Sign(hall.task_of("sun"), "同意", agree=True))
    assert hall.repository.tasks[task_id].status == t.WAITING
    await hall.do("qian", Sign(hall.task_of("qian"), "不同意", agree=False))
    assert hall.repository.tasks[task_id].status == t.PENDING
    assert hall.events()[-1] == ("signer_opinions_ready", 2)


@pytest.mark.parametrize("usernames,code", [(("zhang",), "signer_is_applicant"), (("zhao",), "signer_is_self"),
                                            (("ghost",), "user_not_found")])
async def test_who_may_be_asked_to_sign(hall, usernames, code):
    await hall.submitted()
    with pytest.raises(InvalidInput) as refused:
        await hall.do("zhao", AddSigners(hall.task_of("zhao"), usernames))
    assert refused.value.code == code and hall.open_tasks("zhao")


async def test_a_signer_cannot_ask_for_more_signers(hall):
    await hall.submitted()
    await hall.do("zhao", AddSigners(hall.task_of("zhao"), ("sun",)))
    with pytest.raises(InvalidInput) as refused:
        await hall.do("sun", AddSigners(hall.task_of("sun"), ("qian",)))
    assert refused.value.code == "nested_signers"


async def test_terminating_cancels_the_open_tasks_and_tells_their_holders(hall):
    application_id = await hall.submitted("review")
    await hall.do("zhang", Terminate((application_id,), "不办了"))
    assert hall.status(application_id) == t.TERMINATED and not hall.open_tasks("li") and not hall.open_tasks("wang")
    assert sorted(hall.events()[-2:]) == [("application_terminated", 4), ("application_terminated", 5)]


async def test_a_command_that_fails_half_way_changes_nothing(hall):
    application_id = await hall.submitted()
    records = len(hall.repository.records)
    with pytest.raises(AppError):
        await hall.do("zhang", Terminate((application_id, 999)))
    assert hall.status(application_id) == t.RUNNING and len(hall.repository.records) == records


# ------------------------------------------------------------ the approval moves (issue 15)

def actions(hall: College) -> list[str]:
    return [r["action"] for r in hall.repository.records]


async def test_withdrawing_before_anyone_decided_gives_the_application_back_to_edit(hall):
    application_id = await hall.submitted("review")
    await hall.do("zhang", Withdraw(application_id, "写错了"))
    assert hall.status(application_id) == t.RETURNED and not hall.open_tasks("li") and not hall.open_tasks("wang")
    assert actions(hall)[-1] == "withdraw" and sorted(hall.events()[-2:]) == [
        ("application_withdrawn", 4), ("application_withdrawn", 5)]
    await hall.do("zhang", Resubmit(application_id, {"note": "改好了"}))
    assert hall.status(application_id) == t.RUNNING and hall.open_tasks("li")


async def test_withdrawing_after_an_approver_agreed_at_the_node_is_refused(hall):
    application_id = await hall.submitted("review")
    await hall.do("li", Approve(hall.task_of("li")))
    with pytest.raises(Conflict) as refused:
        await hall.do("zhang", Withdraw(application_id))
    assert refused.value.code == "already_decided" and hall.open_tasks("wang") and actions(hall)[-1] == "approve"


async def test_withdrawing_at_a_later_node_no_one_decided_yet_is_allowed(hall):
    application_id = await hall.submitted()
    await hall.do("zhao", Approve(hall.task_of("zhao")))
    await hall.do("zhang", Withdraw(application_id))
    assert hall.status(application_id) == t.RETURNED and not hall.open_tasks("qian")


async def test_only_the_applicant_may_withdraw_and_only_a_running_application(hall):
    application_id = await hall.submitted()
    with pytest.raises(Forbidden):
        await hall.do("zhao", Withdraw(application_id))
    with pytest.raises(NotFound):
        await hall.do("sun", Withdraw(application_id))
    await hall.do("zhang", Withdraw(application_id))
    with pytest.raises(Conflict) as refused:
        await hall.do("zhang", Withdraw(application_id))
    assert refused.value.code == "application_state"


async def test_a_comment_is_a_flow_record_for_the_others_and_changes_nothing(hall):
    application_id = await hall.submitted()
    version = hall.repository.applications[application_id].version
    await hall.do("zhang", Comment(application_id, "原件明天送到"))
    await hall.do("zhao", Comment(application_id, "收到"))
    assert hall.repository.applications[application_id].version == version and hall.open_tasks("zhao")
    assert [(r["action"], r["opinion"]) for r in hall.repository.records[-2:]] == [
        ("comment", "原件明天送到"), ("comment", "收到")]
    assert hall.events()[-2:] == [("application_commented", 2), ("application_commented", 1)]


async def test_outsiders_cannot_comment_nor_anyone_on_a_finished_application(hall):
    application_id = await hall.submitted()
    with pytest.raises(NotFound):
        await hall.do("sun", Comment(application_id, "路过"))
    await hall.do("zhang", Terminate((application_id,)))
    with pytest.raises(Conflict):
        await hall.do("zhang", Comment(application_id, "晚了"))


async def test_transferring_hands_the_task_to_someone_else_and_keeps_it_done_for_the_first(hall):
    application_id = await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", Transfer(task_id, "sun", "请孙老师处理"))
    transferred = hall.repository.tasks[task_id]
    assert (transferred.status, transferred.decision) == (t.DONE, "transfer") and hall.open_tasks("sun")
    assert actions(hall)[-1] == "transfer" and hall.events()[-1] == ("task_assigned", 6)
    await hall.do("sun", Approve(hall.task_of("sun")))
    assert hall.repository.applications[application_id].current_node == 1


async def test_a_countersign_waits_for_whom_a_task_was_transferred_to(hall):
    application_id = await hall.submitted("review")
    await hall.do("li", Transfer(hall.task_of("li"), "sun"))
    await hall.do("wang", Approve(hall.task_of("wang")))
    assert hall.status(application_id) == t.RUNNING
    await hall.do("sun", Approve(hall.task_of("sun")))
    assert hall.status(application_id) == t.APPROVED


@pytest.mark.parametrize("move", [Transfer, Delegate])
@pytest.mark.parametrize("to,code", [("zhang", "to_is_applicant"), ("zhao", "to_is_self"),
                                     ("ghost", "user_not_found")])
async def test_who_a_task_may_be_handed_to(hall, move, to, code):
    await hall.submitted()
    with pytest.raises(InvalidInput) as refused:
        await hall.do("zhao", move(hall.task_of("zhao"), to))
    assert refused.value.code == code and hall.open_tasks("zhao") and actions(hall) == ["submit"]


async def test_a_task_cannot_be_handed_to_a_fellow_approver_of_the_node(hall):
    await hall.submitted("review")
    with pytest.raises(InvalidInput) as refused:
        await hall.do("li", Transfer(hall.task_of("li"), "wang"))
    assert refused.value.code == "already_assignee"


async def test_a_decided_task_cannot_be_transferred_or_delegated(hall):
    await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", Transfer(task_id, "sun"))
    for move in (Transfer(task_id, "qian"), Delegate(task_id, "qian")):
        with pytest.raises(Conflict):
            await hall.do("zhao", move)


async def test_a_delegated_task_comes_back_to_the_delegator_to_decide(hall):
    application_id = await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", Delegate(task_id, "sun", "请先看看"))
    assert hall.repository.tasks[task_id].status == t.WAITING
    with pytest.raises(Conflict):
        await hall.do("zhao", Approve(task_id))
    delegated = hall.task_of("sun")
    assert hall.repository.tasks[delegated].kind == t.DELEGATE
    with pytest.raises(Conflict):
        await hall.do("sun", Approve(delegated))  # the delegate gives an opinion, the delegator decides
    await hall.do("sun", Sign(delegated, "材料齐全", agree=True))
    assert hall.repository.tasks[task_id].status == t.PENDING and hall.events()[-1] == ("delegate_done", 2)
    assert actions(hall)[-2:] == ["delegate", "delegate_opinion"]
    await hall.do("zhao", Approve(task_id))
    assert hall.repository.applications[application_id].current_node == 1


async def test_returning_to_a_passed_node_runs_the_application_again_from_there(hall):
    application_id = await hall.submitted()
    await hall.do("zhao", Approve(hall.task_of("zhao")))
    task_id = hall.task_of("qian")
    await hall.do("qian", Return(task_id, "请部门负责人再核实", to_node="head"))
    application = hall.repository.applications[application_id]
    assert (application.status, application.current_node, application.round) == (t.RUNNING, 0, 1)
    assert hall.open_tasks("zhao") and not hall.open_tasks("qian")
    assert hall.repository.records[-1]["detail"] == {"to_node": "head", "to_node_name": "head审核"}
    assert ("application_sent_back", 1) in hall.events()
    await hall.do("zhang", Withdraw(application_id))  # nobody decided since it came back
    assert hall.status(application_id) == t.RETURNED


@pytest.mark.parametrize("to_node", ["office", "nowhere"])
async def test_only_a_passed_node_can_be_returned_to(hall, to_node):
    await hall.submitted()
    await hall.do("zhao", Approve(hall.task_of("zhao")))
    with pytest.raises(InvalidInput) as refused:
        await hall.do("qian", Return(hall.task_of("qian"), "退回", to_node=to_node))
    assert refused.value.code == "node_not_passed" and hall.open_tasks("qian")


async def test_reminding_tells_the_current_assignees_at_most_once_per_node_in_four_hours(hall):
    application_id = await hall.submitted("review")
    await hall.do("zhang", Remind(application_id))
    assert sorted(hall.events()[-2:]) == [("task_reminded", 4), ("task_reminded", 5)]
    hall.now += timedelta(hours=3, minutes=59)
    with pytest.raises(Conflict) as refused:
        await hall.do("zhang", Remind(application_id))
    assert refused.value.code == "remind_too_soon" and "4 小时" in refused.value.message
    hall.now += timedelta(minutes=1)
    await hall.do("zhang", Remind(application_id))
    assert actions(hall).count("remind") == 2


async def test_reminding_is_the_applicants_and_only_while_running(hall):
    application_id = await hall.submitted()
    with pytest.raises(Forbidden):
        await hall.do("zhao", Remind(application_id))
    await hall.do("zhang", Withdraw(application_id))
    with pytest.raises(Conflict):
        await hall.do("zhang", Remind(application_id))


async def test_the_applicant_copies_people_at_submit(hall):
    application_id = await hall.do("zhang", Submit("leave", {"note": "事由"}, {}, ("sun", "zhang", "sun")))
    application_id = application_id.id
    assert set(hall.repository.cc) == {(application_id, 6)}  # never the applicant's own
    assert ("application_cc", 6) in hall.events() and actions(hall) == ["submit", "cc"]
    with pytest.raises(InvalidInput) as refused:
        await hall.do("zhang", Submit("leave", {"note": "事由"}, {}, ("ghost",)))
    assert refused.value.code == "user_not_found"


async def test_an_approver_copies_people_when_approving_and_a_node_its_configured_people_when_passed(hall):
    application_id = await hall.submitted("copied")
    await hall.do("zhao", Approve(hall.task_of("zhao"), "同意", ("sun",)))
    assert set(hall.repository.cc) == {(application_id, 6), (application_id, 3)}  # sun, and qian from the node
    assert hall.status(application_id) == t.APPROVED
    record = next(r for r in hall.repository.records if r["action"] == "cc")
    assert record["detail"]["users"] == ["sun", "qian"] and record["node_key"] == "head"


async def test_after_signers_approve_the_node_after_the_approver(hall):
    application_id = await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", AddSigners(task_id, ("sun", "li"), "同意,请孙老师和李校长再看", when="after"))
    assert (hall.repository.tasks[task_id].status, hall.repository.tasks[task_id].decision) == (t.DONE, "approve")
    assert hall.repository.applications[application_id].current_node == 0
    await hall.do("sun", Approve(hall.task_of("sun")))
    assert hall.repository.applications[application_id].current_node == 0  # li still to approve
    await hall.do("li", Approve(hall.task_of("li")))
    assert hall.repository.applications[application_id].current_node == 1 and hall.open_tasks("qian")
    assert actions(hall)[1] == "add_signers_after"


async def test_removing_undecided_signers_lets_the_approver_decide_or_the_node_pass(hall):
    application_id = await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", AddSigners(task_id, ("sun", "qian")))
    await hall.do("sun", Sign(hall.task_of("sun"), "同意", agree=True))
    with pytest.raises(Conflict) as refused:
        await hall.do("zhao", RemoveSigners(task_id, ("sun",)))  # sun has given an opinion
    assert refused.value.code == "signer_decided"
    with pytest.raises(InvalidInput) as refused:
        await hall.do("zhao", RemoveSigners(task_id, ("li",)))
    assert refused.value.code == "not_a_signer"
    await hall.do("zhao", RemoveSigners(task_id, ("qian",)))
    assert hall.repository.tasks[task_id].status == t.PENDING and not hall.open_tasks("qian")
    await hall.do("zhao", AddSigners(task_id, ("sun",), when="after"))
    await hall.do("zhao", RemoveSigners(task_id, ("sun",)))
    assert hall.repository.applications[application_id].current_node == 1 and hall.open_tasks("qian")
    assert ("signer_removed", 6) in hall.events()


async def test_only_the_one_who_added_them_removes_signers(hall):
    await hall.submitted()
    task_id = hall.task_of("zhao")
    await hall.do("zhao", AddSigners(task_id, ("sun",)))
    with pytest.raises(NotFound):
        await hall.do("qian", RemoveSigners(task_id, ("sun",)))


# ------------------------------------------------------------ per-node rules

async def test_nodes_are_skipped_or_given_to_the_admin_by_their_rules(hall):
    application_id = await hall.submitted("ruled")
    # 1: the applicant is among its approvers → skipped; 2: nobody → skipped; 3: nobody → the admin
    assert hall.repository.applications[application_id].current_node == 2 and hall.open_tasks("li")
    skips = [(r["node_key"], r["detail"]) for r in hall.repository.records if r["action"] == "skip"]
    assert skips == [("self", {"reason": "applicant", "system": True}), ("nobody", {"reason": "no_approver",
                                                                                   "system": True})]


async def test_a_timeout_approves_or_returns_for_the_holder_as_the_system_only_once_due(hall):
    application_id = await hall.submitted("ruled")
    await hall.do("li", Approve(hall.task_of("li")))
    head_task = hall.task_of("zhao")
    hall.now += timedelta(hours=23)
    with pytest.raises(Conflict) as refused:
        await hall.do("zhao", Timeout(head_task))
    assert refused.value.code == "not_due"
    hall.now += timedelta(hours=1)
    await hall.do("zhao", Timeout(head_task))
    record = next(r for r in hall.repository.records if r["task_id"] == head_task)
    assert record["action"] == "approve" and record["detail"] == {"system": True}
    assert "系统自动同意" in record["opinion"] and hall.open_tasks("qian")
    hall.now += timedelta(hours=48)
    await hall.do("qian", Timeout(hall.task_of("qian")))
    assert hall.status(application_id) == t.RETURNED


async def test_a_remind_timeout_reminds_once_per_period(hall):
    await hall.submitted("nudged")
    task_id = hall.task_of("zhao")
    hall.now += timedelta(hours=8)
    await hall.do("zhao", Timeout(task_id))
    with pytest.raises(Conflict):
        await hall.do("zhao", Timeout(task_id))
    hall.now += timedelta(hours=8)
    await hall.do("zhao", Timeout(task_id))
    assert hall.events().count(("task_reminded", 2)) == 2 and hall.open_tasks("zhao")


async def test_the_applicant_or_an_approver_copies_people_while_it_runs(hall):
    application_id = await hall.submitted()
    await hall.do("zhao", CarbonCopy(application_id, ("sun",)))
    assert set(hall.repository.cc) == {(application_id, 6)}
    with pytest.raises(InvalidInput) as refused:
        await hall.do("zhang", CarbonCopy(application_id, ("zhang",)))
    assert refused.value.code == "cc_nobody"
    with pytest.raises(NotFound):
        await hall.do("sun", CarbonCopy(application_id, ("li",)))  # copied is not taking part
    await hall.do("zhang", Terminate((application_id,)))
    with pytest.raises(Conflict):
        await hall.do("zhang", CarbonCopy(application_id, ("li",)))
